"""The relay: an outbound SMTP compliance relay for healthcare organisations."""

__version__ = "0.1.0"

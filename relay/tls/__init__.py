"""Outbound TLS security: levels, MTA-STS, DANE, reporting; plus dev certificates."""

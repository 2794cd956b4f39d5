"""Loading and validating ``relay.yaml`` into frozen dataclasses (see docs/configuration.md)."""

from relay.config.loader import load_config
from relay.config.schema import Config

__all__ = ["Config", "load_config"]

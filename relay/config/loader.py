"""Placeholder replaced by the loader implementation."""

from __future__ import annotations

from pathlib import Path

from relay.config.schema import Config


def load_config(path: Path) -> Config:
    raise NotImplementedError

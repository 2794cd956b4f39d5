"""How the audit log is configured: one frozen dataclass and the closed sets it uses.

This lives in the audit package until the configuration schema grows an ``audit:`` section;
then the loader builds this object and nothing else changes. Every default is argued next to
its field, and docs/audit.md explains each one for the people who run and inspect the log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from relay.errors import ConfigError
from relay.markers import DURATION, SIZE

MIB = 1024 * 1024


class AddressMode(enum.Enum):
    """What the log keeps of sender and recipient addresses."""

    KEEP = "keep"
    """As given. An address is an identifier, not content; a compliance officer asks by it."""
    HASH = "hash"
    """HMAC-SHA256 with ``hash_key``: equal addresses give equal tokens, so search still works."""
    DROP = "drop"
    """Not recorded at all; search by address is then impossible."""


class SubjectMode(enum.Enum):
    """What the log keeps of the Subject header, which often carries PHI ("Results for J. Doe")."""

    DROP = "drop"
    HASH = "hash"
    KEEP = "keep"


class FsyncPolicy(enum.Enum):
    """When an appended record is forced to disk (see docs/audit.md, "Durability")."""

    EVERY = "every"
    """Before ``append`` returns; concurrent appenders share one fsync (group commit)."""
    SEAL = "seal"
    """Only when a seal is written, at rotation and at close."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditConfig:
    """The ``audit:`` section of the configuration."""

    directory: Path = Path("var/audit")
    """Where the ``audit-*.jsonl`` files, ``audit.head`` and ``audit.lock`` live; one chain per node."""
    signing_key: Path | None = None
    """Ed25519 private key (PEM) that signs seals. Without it the chain still detects careless edits,
    but anyone able to write the files could rewrite them consistently."""
    seal_every_records: int = 1000
    """A seal after this many records: bounds how much of the tail is unsigned at any moment."""
    seal_every_seconds: Annotated[float, DURATION] = 300.0
    """... or after this long, so a quiet node's tail does not stay unsigned for hours."""
    rotate_bytes: Annotated[int, SIZE] = 64 * MIB
    """A new file when the current one reaches this size (files also rotate at UTC midnight).
    64 MiB is about 200,000 records: small enough to copy, archive and verify one at a time."""
    retention_days: int = 2191
    """Files whose last record is older than this are deleted by ``prune``. Six years (HIPAA,
    45 CFR 164.316(b)(2)(i): documentation is retained six years), plus leap days."""
    addresses: AddressMode = AddressMode.KEEP
    subjects: SubjectMode = SubjectMode.DROP
    hash_key: Path | None = None
    """Secret for the ``hash`` modes (at least 32 bytes; ``relay audit keygen --hash-key``)."""
    fsync: FsyncPolicy = FsyncPolicy.EVERY

    def __post_init__(self) -> None:
        if self.seal_every_records < 1:
            raise ConfigError("must be at least 1", key="audit.seal_every_records")
        if self.seal_every_seconds <= 0:
            raise ConfigError("must be more than 0", key="audit.seal_every_seconds")
        if self.rotate_bytes < 64 * 1024:
            raise ConfigError("must be at least 64K", key="audit.rotate_bytes")
        if self.retention_days < 1:
            raise ConfigError("must be at least 1", key="audit.retention_days")
        hashing = self.addresses is AddressMode.HASH or self.subjects is SubjectMode.HASH
        if hashing and self.hash_key is None:
            raise ConfigError("the hash modes need audit.hash_key", key="audit.hash_key")

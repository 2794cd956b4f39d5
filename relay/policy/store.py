"""The active policy, and replacing it only with one that loads cleanly (hot reload).

`PolicyStore` holds the compiled policy the pipeline evaluates against. ``try_reload`` loads the
directory again: a valid set with a different version replaces the active one in a single
reference assignment (a decision in progress keeps the policy object it started with, and every
decision records its version); an invalid set leaves the active one in place and says why. What
triggers a reload (SIGHUP, a file watch) and the log line and metric it produces belong to the
caller; the outcome is a value, not an exception.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from relay.errors import ConfigError
from relay.policy.loader import load_policy
from relay.policy.phi import DEFAULT_ENTITIES
from relay.policy.rules import Policy


class ReloadStatus(enum.Enum):
    RELOADED = "reloaded"
    UNCHANGED = "unchanged"
    """The files hash to the active version; nothing was replaced."""
    INVALID = "invalid"
    """The new files do not load; the active policy stays."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadResult:
    status: ReloadStatus
    version: str
    """The version active after the attempt."""
    previous_version: str
    error: ConfigError | None = None
    """Why the new files were refused (one ``file:line: key: problem`` line)."""


class PolicyStore:
    def __init__(
        self,
        policy: Policy,
        *,
        entities: frozenset[str] = DEFAULT_ENTITIES,
        pools: frozenset[str] = frozenset(),
    ) -> None:
        self._active = policy
        self._entities = entities
        self._pools = pools

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        entities: frozenset[str] = DEFAULT_ENTITIES,
        pools: frozenset[str] = frozenset(),
    ) -> PolicyStore:
        """The store for the relay's start: an invalid policy raises (the relay must not start)."""
        return cls(load_policy(directory, entities=entities, pools=pools), entities=entities, pools=pools)

    @property
    def active(self) -> Policy:
        return self._active

    @property
    def version(self) -> str:
        return self._active.version

    def try_reload(self, directory: Path | None = None) -> ReloadResult:
        """Load ``directory`` (default: the active policy's) and make it active if it is valid."""
        previous = self._active
        try:
            candidate = load_policy(
                directory or previous.directory, entities=self._entities, pools=self._pools
            )
        except ConfigError as exc:
            return ReloadResult(
                status=ReloadStatus.INVALID,
                version=previous.version,
                previous_version=previous.version,
                error=exc,
            )
        if candidate.version == previous.version and candidate.directory == previous.directory:
            return ReloadResult(
                status=ReloadStatus.UNCHANGED, version=previous.version, previous_version=previous.version
            )
        self._active = candidate
        return ReloadResult(
            status=ReloadStatus.RELOADED, version=candidate.version, previous_version=previous.version
        )

"""What the relay learned about recipients' TLS, kept across restarts: TLSA results, capability.

RFC 7672 leaves caching to the resolver, but a relay that restarts (or whose local resolver
restarts with an empty cache) would otherwise ask again for every MX host in the queue at once.
So a DNSSEC-secure or insecure TLSA result is kept for its DNS TTL (capped by
``tlsa_cache_max_ttl``), exactly as long as the resolver itself may keep it; a bogus or failed
lookup is never kept, so a resolver problem is asked about again on the next delivery. The MX
RRset's security (the DANE gate of RFC 7672 section 2.2.1) is not kept: it is asked with every
MX resolution anyway.

The capability of a recipient domain's server (the strongest level a probe reached: none,
encrypted or verified) is what policy rules with ``recipient_tls`` are decided on; it is kept
for ``capability_ttl`` so a domain is probed at most that often. Both tables are bounded; the
entries stored longest ago go first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relay.model import TlsLevel
from relay.tls.levels import DaneState, DaneStatus
from relay.tls.sqlitecache import keep_newest, open_cache
from relay.tls.tlsa import TlsaRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tlsa_results (
    host        TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    records     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    stored_at   REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tlsa_results_age ON tlsa_results (stored_at);
CREATE TABLE IF NOT EXISTS capabilities (
    domain      TEXT PRIMARY KEY,
    level       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    stored_at   REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS capabilities_age ON capabilities (stored_at);
"""

_CACHEABLE = frozenset({DaneStatus.SECURE, DaneStatus.INSECURE})


@dataclass(frozen=True, slots=True, kw_only=True)
class Capability:
    """The TLS a recipient domain's server was seen to offer, and how that was learned."""

    level: TlsLevel
    detail: str


class TlsStateCache:
    def __init__(self, path: Path, *, max_entries: int = 10_000) -> None:
        self._max = max_entries
        self._db = open_cache(path, _SCHEMA, what="TLS state cache", key="outbound_tls.state_path")

    def tlsa(self, host: str, now: float) -> DaneState | None:
        """The stored TLSA result of ``host`` while its TTL lasts."""
        row = self._db.execute(
            "SELECT status, records, detail FROM tlsa_results WHERE host = ? AND expires_at > ?",
            (host, now),
        ).fetchone()
        if row is None:
            return None
        try:
            status = DaneStatus(row[0])
            records = tuple(TlsaRecord.from_text(line) for line in row[1].splitlines())
        except ValueError:  # written by another version: look it up again
            return None
        return DaneState(status=status, records=records, detail=f"{row[2]} (cached)")

    def put_tlsa(self, host: str, state: DaneState, *, now: float, ttl: float) -> None:
        """Keep ``state`` for ``ttl`` seconds; bogus results and a zero TTL are not kept."""
        if state.status not in _CACHEABLE or ttl <= 0:
            return
        records = "\n".join(r.presentation() for r in state.records)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO tlsa_results VALUES (?, ?, ?, ?, ?, ?)",
                (host, state.status.value, records, state.detail, now, now + ttl),
            )
            keep_newest(self._db, "tlsa_results", "host", order="stored_at", limit=self._max)

    def capability(self, domain: str, now: float) -> Capability | None:
        row = self._db.execute(
            "SELECT level, detail FROM capabilities WHERE domain = ? AND expires_at > ?", (domain, now)
        ).fetchone()
        if row is None:
            return None
        try:
            return Capability(level=TlsLevel(row[0]), detail=f"{row[1]} (cached)")
        except ValueError:
            return None

    def put_capability(self, domain: str, capability: Capability, *, now: float, ttl: float) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO capabilities VALUES (?, ?, ?, ?, ?)",
                (domain, capability.level.value, capability.detail, now, now + ttl),
            )
            keep_newest(self._db, "capabilities", "domain", order="stored_at", limit=self._max)

    def close(self) -> None:
        self._db.close()

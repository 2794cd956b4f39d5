"""A persistent, bounded cache of MTA-STS policies: one small SQLite file under the spool.

RFC 8461 section 5.1: a policy is used until its max_age runs out, even when the TXT record
disappears or a refresh fails, and it is refreshed when the TXT id changes. So it must survive
restarts (a relay that forgot its policies after a restart could be downgraded by an attacker
who blocks the policy fetch). One row per domain holds the policy text as fetched, its TXT id and
when it expires; at most ``max_entries`` rows are kept, the oldest fetched going first.

SQLite because several worker processes share it (its locking is proven) and a row update is
atomic. Calls are synchronous and take microseconds (no fsync: ``synchronous=NORMAL`` in WAL
mode, since a policy lost in a power cut is simply fetched again).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from relay.errors import ConfigError
from relay.tls.mtasts.policy import StsPolicy, parse_policy

BUSY_TIMEOUT_MS = 5_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mta_sts_policies (
    domain      TEXT PRIMARY KEY,
    policy_id   TEXT NOT NULL,
    policy      TEXT NOT NULL,
    fetched_at  REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mta_sts_policies_age ON mta_sts_policies (fetched_at);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedPolicy:
    domain: str
    policy_id: str
    policy: StsPolicy
    fetched_at: float
    expires_at: float

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


class PolicyCache:
    def __init__(self, path: Path, *, max_entries: int = 10_000) -> None:
        self._max = max_entries
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the MTA-STS policy cache {path}: {exc}", key="tls_outbound.cache_path"
            ) from exc

    def get(self, domain: str) -> CachedPolicy | None:
        row = self._db.execute(
            "SELECT policy_id, policy, fetched_at, expires_at FROM mta_sts_policies WHERE domain = ?",
            (domain,),
        ).fetchone()
        if row is None:
            return None
        parsed = parse_policy(row[1]).policy
        if parsed is None:  # written by a different version with other rules: fetch it anew
            self.delete(domain)
            return None
        return CachedPolicy(
            domain=domain, policy_id=row[0], policy=parsed, fetched_at=row[2], expires_at=row[3]
        )

    def put(self, entry: CachedPolicy) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO mta_sts_policies VALUES (?, ?, ?, ?, ?)",
                (entry.domain, entry.policy_id, entry.policy.to_text(), entry.fetched_at, entry.expires_at),
            )
            self._db.execute(
                "DELETE FROM mta_sts_policies WHERE domain IN (SELECT domain FROM mta_sts_policies "
                "ORDER BY fetched_at DESC LIMIT -1 OFFSET ?)",
                (self._max,),
            )

    def delete(self, domain: str) -> None:
        self._db.execute("DELETE FROM mta_sts_policies WHERE domain = ?", (domain,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM mta_sts_policies").fetchone()[0])

    def close(self) -> None:
        self._db.close()

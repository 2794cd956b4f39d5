"""A persistent, bounded cache of MTA-STS policies: one small SQLite file under the spool.

RFC 8461 section 5.1: a policy is used until its max_age runs out, even when the TXT record
disappears or a refresh fails, and it is refreshed when the TXT id changes. So it must survive
restarts (a relay that forgot its policies after a restart could be downgraded by an attacker
who blocks the policy fetch). One row per domain holds the policy text as fetched, its TXT id and
when it expires; at most ``max_entries`` rows are kept, the oldest fetched going first.

Stored with SQLite (relay/tls/sqlitecache.py): calls are synchronous and take microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from relay.tls.mtasts.policy import StsPolicy, parse_policy
from relay.tls.sqlitecache import keep_newest, open_cache

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
        self._db = open_cache(path, _SCHEMA, what="MTA-STS policy cache", key="outbound_tls.cache_path")

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
            keep_newest(self._db, "mta_sts_policies", "domain", order="fetched_at", limit=self._max)

    def delete(self, domain: str) -> None:
        self._db.execute("DELETE FROM mta_sts_policies WHERE domain = ?", (domain,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM mta_sts_policies").fetchone()[0])

    def close(self) -> None:
        self._db.close()

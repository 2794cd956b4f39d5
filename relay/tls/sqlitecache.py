"""Opening the small SQLite caches of the TLS layer (MTA-STS policies, TLSA results, capability).

SQLite because several worker processes share each cache (its locking is proven) and a row
update is atomic. WAL with ``synchronous=NORMAL``: no fsync per write, since a cache entry lost
in a power cut is simply looked up again. A cache that cannot be opened is a configuration
problem (a path the relay cannot write), reported with the key that names it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from relay.errors import ConfigError

BUSY_TIMEOUT_MS = 5_000
SETUP_RETRY_SECONDS = 0.02


def open_cache(path: Path, schema: str, *, what: str, key: str) -> sqlite3.Connection:
    """A connection in autocommit mode with ``schema`` applied; ``ConfigError`` naming ``key``.

    Workers start together and open the same new file: switching it to WAL can fail with
    "database is locked" at once, without SQLite's busy handler waiting (it would deadlock),
    so the set-up is retried until the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(schema)
            return db
        except sqlite3.OperationalError as exc:
            if db is not None:
                db.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise ConfigError(f"cannot open the {what} {path}: {exc}", key=key) from exc
            time.sleep(SETUP_RETRY_SECONDS)
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            raise ConfigError(f"cannot open the {what} {path}: {exc}", key=key) from exc


def keep_newest(db: sqlite3.Connection, table: str, key: str, *, order: str, limit: int) -> None:
    """Delete all but the ``limit`` rows of ``table`` with the highest ``order`` (the bound of a
    cache: the oldest entries go first). Names are the caller's constants, never input."""
    db.execute(
        f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} ORDER BY {order} DESC "
        "LIMIT -1 OFFSET ?)",
        (limit,),
    )

"""The spool database: one SQLite file in WAL mode, shared by every process of a node.

Why SQLite and not a directory of files (Postfix's way): a file per message needs its own
fsync of the file and of the directory, and those cannot be batched. With SQLite in WAL mode
and ``synchronous=FULL`` one commit is one append to the WAL plus one fsync, and a commit can
carry the messages of many concurrent SMTP sessions (group commit, see committer.py). Readers
(the ``relay queue`` commands) never block writers, and the locking that makes several worker
processes and the CLI safe on one spool is SQLite's, proven for decades.

This class is synchronous and holds one connection; it is used directly by the CLI and, in the
server, only from the group-commit thread.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relay.errors import SpoolError
from relay.model import Envelope, Plan, QueueState, RecipientStatus, SpooledMessage
from relay.spool import records

DB_NAME = "queue.db"
BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another process's transaction; commits take milliseconds."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    queue_id        TEXT PRIMARY KEY,
    state           TEXT NOT NULL,
    sender          TEXT NOT NULL,
    envelope        TEXT NOT NULL,
    plan            TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    size            INTEGER NOT NULL,
    created_at      REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT,
    lease_until     REAL NOT NULL DEFAULT 0,
    data            BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (next_attempt_at) WHERE state IN ('active', 'deferred');
"""

_COLUMNS = (
    "queue_id, state, envelope, plan, recipients, size, created_at, next_attempt_at, attempts, last_error"
)

SCHEDULABLE = (QueueState.ACTIVE.value, QueueState.DEFERRED.value)
ADMIN_STATES = (QueueState.HELD.value, QueueState.QUARANTINED.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A message to store: its bytes, envelope and the plan decided before queueing."""

    queue_id: str
    envelope: Envelope
    plan: Plan
    data: bytes
    state: QueueState = QueueState.ACTIVE
    lease_owner: str | None = None
    lease_until: float = 0.0

    def as_spooled(self, now: float) -> SpooledMessage:
        """The spooled view of this message once inserted at ``now`` (saves reading it back)."""
        return SpooledMessage(
            queue_id=self.queue_id,
            envelope=self.envelope,
            plan=self.plan,
            state=self.state,
            size=len(self.data),
            created_at=now,
            next_attempt_at=now,
            recipients=tuple(RecipientStatus(address=r) for r in self.envelope.recipients),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptUpdate:
    """What a delivery attempt changed about a message that stays queued."""

    queue_id: str
    recipients: tuple[RecipientStatus, ...]
    state: QueueState
    next_attempt_at: float
    attempts: int
    last_error: str


class Spool:
    """Synchronous access to the spool database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(directory / DB_NAME, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL: the WAL is fsync'd at every commit, so a 250 survives power loss.
            self._db.execute("PRAGMA synchronous = FULL")
            # A delivered message's bytes are overwritten when its row is deleted, not left in
            # free pages: bodies may hold PHI and must not outlive their delivery on disk.
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"cannot open spool {directory}: {exc}") from exc
        # The database and its WAL are new directory entries: make them durable too.
        fsync_directory(directory)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlock)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise SpoolError(f"spool busy: {exc}") from exc
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise SpoolError(f"spool commit failed: {exc}") from exc

    # -- writes: each takes an open transaction's connection, so callers can batch them ----

    @staticmethod
    def insert(db: sqlite3.Connection, message: NewMessage, now: float) -> None:
        recipients = tuple(RecipientStatus(address=r) for r in message.envelope.recipients)
        db.execute(
            "INSERT INTO messages (queue_id, state, sender, envelope, plan, recipients, size,"
            " created_at, next_attempt_at, lease_owner, lease_until, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.queue_id,
                message.state.value,
                message.envelope.sender,
                records.envelope_to_json(message.envelope),
                records.plan_to_json(message.plan),
                records.recipients_to_json(recipients),
                len(message.data),
                now,
                now,
                message.lease_owner,
                message.lease_until,
                message.data,
            ),
        )

    @staticmethod
    def record_attempt(db: sqlite3.Connection, update: AttemptUpdate) -> None:
        """Store an attempt's outcome and release the lease.

        A message an admin held or quarantined while it was in flight stays where the admin put
        it; one deleted meanwhile is simply not found.
        """
        db.execute(
            "UPDATE messages SET recipients = ?, attempts = ?, last_error = ?,"
            " next_attempt_at = ?, lease_owner = NULL, lease_until = 0,"
            " state = CASE WHEN state IN (?, ?) THEN state ELSE ? END"
            " WHERE queue_id = ?",
            (
                records.recipients_to_json(update.recipients),
                update.attempts,
                update.last_error,
                update.next_attempt_at,
                *ADMIN_STATES,
                update.state.value,
                update.queue_id,
            ),
        )

    @staticmethod
    def remove(db: sqlite3.Connection, queue_id: str) -> bool:
        return db.execute("DELETE FROM messages WHERE queue_id = ?", (queue_id,)).rowcount > 0

    @staticmethod
    def claim_due(
        db: sqlite3.Connection, *, owner: str, now: float, lease_until: float, limit: int
    ) -> list[tuple[SpooledMessage, bytes]]:
        """Lease up to ``limit`` due messages to ``owner`` so no other process delivers them."""
        rows = db.execute(
            f"SELECT {_COLUMNS}, data FROM messages WHERE state IN (?, ?) AND next_attempt_at <= ?"
            " AND (lease_owner IS NULL OR lease_until < ?) ORDER BY next_attempt_at LIMIT ?",
            (*SCHEDULABLE, now, now, limit),
        ).fetchall()
        db.executemany(
            "UPDATE messages SET lease_owner = ?, lease_until = ? WHERE queue_id = ?",
            [(owner, lease_until, row[0]) for row in rows],
        )
        return [(_message_from_row(row[:-1]), bytes(row[-1])) for row in rows]

    @staticmethod
    def schedulable(db: sqlite3.Connection, queue_id: str) -> bool:
        """Whether the message still exists and is active or deferred (not held, quarantined or
        deleted by an admin meanwhile)."""
        row = db.execute("SELECT state FROM messages WHERE queue_id = ?", (queue_id,)).fetchone()
        return row is not None and row[0] in SCHEDULABLE

    @staticmethod
    def release_lease(db: sqlite3.Connection, queue_id: str) -> None:
        db.execute("UPDATE messages SET lease_owner = NULL, lease_until = 0 WHERE queue_id = ?", (queue_id,))

    @staticmethod
    def release_all_leases(db: sqlite3.Connection) -> int:
        """Crash recovery: at start no process of ours is alive, so no lease is valid."""
        return db.execute(
            "UPDATE messages SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL"
        ).rowcount

    @staticmethod
    def set_state(
        db: sqlite3.Connection, queue_id: str, state: QueueState, *, next_attempt_at: float | None
    ) -> bool:
        if next_attempt_at is None:
            cursor = db.execute("UPDATE messages SET state = ? WHERE queue_id = ?", (state.value, queue_id))
        else:
            cursor = db.execute(
                "UPDATE messages SET state = ?, next_attempt_at = ? WHERE queue_id = ?",
                (state.value, next_attempt_at, queue_id),
            )
        return cursor.rowcount > 0

    @staticmethod
    def flush_deferred(db: sqlite3.Connection, now: float) -> int:
        return db.execute(
            "UPDATE messages SET state = ?, next_attempt_at = ? WHERE state IN (?, ?)",
            (QueueState.ACTIVE.value, now, *SCHEDULABLE),
        ).rowcount

    # -- reads --------------------------------------------------------------------------------

    def get(self, queue_id: str) -> SpooledMessage | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE queue_id = ?", (queue_id,)).fetchone()
        return _message_from_row(row) if row else None

    def data(self, queue_id: str) -> bytes | None:
        row = self._db.execute("SELECT data FROM messages WHERE queue_id = ?", (queue_id,)).fetchone()
        return bytes(row[0]) if row else None

    def messages(self, state: QueueState | None = None) -> list[SpooledMessage]:
        if state is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM messages ORDER BY created_at").fetchall()
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE state = ? ORDER BY created_at",
                (state.value,),
            ).fetchall()
        return [_message_from_row(row) for row in rows]

    def counts(self) -> dict[QueueState, int]:
        found = dict(self._db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall())
        return {state: int(found.get(state.value, 0)) for state in QueueState}

    def next_due(self) -> float | None:
        row = self._db.execute(
            "SELECT MIN(next_attempt_at) FROM messages WHERE state IN (?, ?)", SCHEDULABLE
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None


def _message_from_row(row: tuple[Any, ...]) -> SpooledMessage:
    (queue_id, state, envelope, plan, recipients, size, created, due, attempts, error) = row
    return SpooledMessage(
        queue_id=str(queue_id),
        state=QueueState(state),
        envelope=records.envelope_from_json(str(envelope)),
        plan=records.plan_from_json(str(plan)),
        recipients=records.recipients_from_json(str(recipients)),
        size=int(size),
        created_at=float(created),
        next_attempt_at=float(due),
        attempts=int(attempts),
        last_error=str(error),
    )


def fsync_directory(directory: Path) -> None:
    """Make new directory entries durable (a file's fsync does not cover its name)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

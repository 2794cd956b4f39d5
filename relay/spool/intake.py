"""Accepting a message into the spool from an SMTP session, and handing it to delivery.

The session gets its ``250`` when ``accept`` returns, which is after the group commit made the
message durable. A message is inserted already leased to this process's scheduler when the
scheduler has room, so delivery starts without reading it back from disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from relay.clock import Clock
from relay.errors import SpoolError
from relay.model import QueueState, SpooledMessage
from relay.spool.committer import GroupCommitter
from relay.spool.store import NewMessage, Spool

log = logging.getLogger("relay.spool")


class Handoff(Protocol):
    """The receiving side: the delivery scheduler of this process."""

    @property
    def owner(self) -> str: ...

    @property
    def lease_until(self) -> float: ...

    def offer(self, message: SpooledMessage, data: bytes) -> bool: ...


class SpoolIntake:
    def __init__(self, committer: GroupCommitter, handoff: Handoff, clock: Clock) -> None:
        self._committer = committer
        self._handoff = handoff
        self._clock = clock

    async def accept(self, messages: Sequence[NewMessage]) -> None:
        """Store every copy of one accepted message in one transaction, then hand the
        deliverable ones to delivery.

        Shielded: a client that hangs up while its message is being committed must not
        interrupt the hand-off of a message that is durable by then.
        """
        await asyncio.shield(self._accept(messages))

    async def _accept(self, messages: Sequence[NewMessage]) -> None:
        now = self._clock.now()
        leased = [
            replace(m, lease_owner=self._handoff.owner, lease_until=self._handoff.lease_until)
            if m.state is QueueState.ACTIVE
            else m
            for m in messages
        ]

        def insert_all(db: sqlite3.Connection) -> None:
            for message in leased:
                Spool.insert(db, message, now)

        await self._committer.run(insert_all)
        # From here the message is durable and the client must get its 250: nothing below may
        # fail the session, or the client would send the message again.
        for message in leased:
            if message.lease_owner is None or self._handoff.offer(message.as_spooled(now), message.data):
                continue
            # Delivery is saturated or stopping: the spool keeps it, any process may claim it.
            queue_id = message.queue_id
            try:
                await self._committer.run(_releasing(queue_id))
            except SpoolError as exc:
                # It stays leased to us: retried when the lease runs out or at the next start.
                log.warning("event=lease_release_failed qid=%s reason=%r", queue_id, str(exc))


def _releasing(queue_id: str) -> Callable[[sqlite3.Connection], None]:
    def release(db: sqlite3.Connection) -> None:
        Spool.release_lease(db, queue_id)

    return release

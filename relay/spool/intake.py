"""Accepting a message into the spool from an SMTP session, and handing it to delivery.

The session gets its ``250`` when ``accept`` returns, which is after the group commit made the
message durable. A message is inserted already leased to this process's scheduler when the
scheduler has room, so delivery starts without reading it back from disk.
"""

from __future__ import annotations

import logging
from typing import Protocol

from relay.clock import Clock
from relay.errors import SpoolError
from relay.model import Envelope, Plan, SpooledMessage
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

    async def accept(self, queue_id: str, envelope: Envelope, plan: Plan, data: bytes) -> None:
        now = self._clock.now()
        message = NewMessage(
            queue_id=queue_id,
            envelope=envelope,
            plan=plan,
            data=data,
            lease_owner=self._handoff.owner,
            lease_until=self._handoff.lease_until,
        )
        await self._committer.run(lambda db: Spool.insert(db, message, now))
        # From here the message is durable and the client must get its 250: nothing below may
        # fail the session, or the client would send the message again.
        if not self._handoff.offer(message.as_spooled(now), data):
            # Delivery is saturated or stopping: the spool keeps it, any process may claim it.
            try:
                await self._committer.run(lambda db: Spool.release_lease(db, queue_id))
            except SpoolError as exc:
                # It stays leased to us: retried when the lease runs out or at the next start.
                log.warning("event=lease_release_failed qid=%s reason=%r", queue_id, str(exc))

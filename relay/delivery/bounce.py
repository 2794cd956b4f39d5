"""Turning failed recipients into a DSN message ready for the spool.

Shared by the scheduler (permanent failures, expiry) and ``relay queue bounce``: the DSN is
built by the pure ``dsn.build_dsn`` from the original headers only, and sent from the null
sender so that it can never itself be bounced.
"""

from __future__ import annotations

from collections.abc import Sequence

from relay.delivery.dsn import build_dsn, header_block
from relay.model import Envelope, Plan, RecipientResult, SpooledMessage
from relay.spool import NewMessage
from relay.spool.records import new_queue_id


def dsn_message(
    original: SpooledMessage,
    data: bytes,
    failures: Sequence[RecipientResult],
    *,
    hostname: str,
    now: float,
    lease_owner: str | None = None,
    lease_until: float = 0.0,
) -> NewMessage | None:
    """The DSN to queue for ``failures``, or None (null sender, a bounce itself, nothing failed)."""
    if not failures:
        return None
    body = build_dsn(
        original_headers=header_block(data),
        envelope=original.envelope,
        failures=failures,
        queue_id=original.queue_id,
        reporting_mta=hostname,
        arrival_date=original.created_at,
        now=now,
        withhold=original.plan.protected,
    )
    if body is None:
        return None
    envelope = Envelope(
        sender="",
        recipients=(original.envelope.sender,),
        client_ip="127.0.0.1",
        helo=hostname,
        received_at=now,
        # The DSN returns the original headers as they were: 8-bit ones need 8BITMIME,
        # a UTF-8 sender address needs SMTPUTF8 (RFC 6531, 6533).
        body_8bit=not body.isascii(),
        smtputf8=not original.envelope.sender.isascii(),
    )
    return NewMessage(
        queue_id=new_queue_id(now),
        envelope=envelope,
        plan=Plan.opportunistic(envelope),
        data=body,
        lease_owner=lease_owner,
        lease_until=lease_until,
    )

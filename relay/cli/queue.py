"""``relay queue``: inspect and steer the spool, safely while the server runs.

Every change is one SQLite transaction on the shared spool, so it is atomic with respect to the
running server: a message being delivered while it is held stays held afterwards, one deleted
while in flight is not re-queued, a flush is seen at the server's next poll.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from relay.audit.admin import record_admin_action
from relay.audit.events import AuditKind, DetailValue
from relay.config.schema import Config
from relay.delivery.bounce import dsn_message
from relay.delivery.outcome import administrative_bounce
from relay.errors import UsageError
from relay.model import QueueState, SpooledMessage
from relay.spool import Spool


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _as_dict(message: SpooledMessage) -> dict[str, Any]:
    return {
        "queue_id": message.queue_id,
        "state": message.state.value,
        "sender": message.envelope.sender,
        "size": message.size,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "policy_version": message.plan.policy_version,
        "recipients": [
            {
                "address": r.address,
                "state": r.state.value,
                "last_reply": r.last_reply,
                "remote_host": r.remote_host,
            }
            for r in message.recipients
        ],
    }


def render_list(messages: Sequence[SpooledMessage]) -> str:
    if not messages:
        return "queue is empty"
    header = ("QUEUE ID", "STATE", "SIZE", "ARRIVED (UTC)", "TRIES", "SENDER", "PENDING")
    rows = [
        (
            m.queue_id,
            m.state.value,
            str(m.size),
            _when(m.created_at),
            str(m.attempts),
            f"<{m.envelope.sender}>",
            f"{len(m.pending)}/{len(m.recipients)}",
        )
        for m in messages
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.append(f"-- {len(messages)} message(s)")
    return "\n".join(lines)


def render_show(message: SpooledMessage) -> str:
    lines = [
        f"queue id:      {message.queue_id}",
        f"state:         {message.state.value}",
        f"sender:        <{message.envelope.sender}>",
        f"client:        {message.envelope.client_ip} (helo {message.envelope.helo or '-'},"
        f" user {message.envelope.auth_user or '-'})",
        f"size:          {message.size} bytes",
        f"arrived:       {_when(message.created_at)} UTC",
        f"attempts:      {message.attempts}",
        f"next attempt:  {_when(message.next_attempt_at)} UTC",
        f"last error:    {message.last_error or '-'}",
        f"policy:        {message.plan.policy_version}",
        "recipients:",
    ]
    for status in message.recipients:
        plan = message.plan.for_recipient(status.address)
        lines.append(
            f"  <{status.address}>  {status.state.value}  tls={plan.tls.value}"
            f"  fallback={plan.fallback.value}"
        )
        if status.last_reply:
            lines.append(
                f"      last reply: {status.last_reply}"
                + (f" (from {status.remote_host})" if status.remote_host else "")
            )
    return "\n".join(lines)


class QueueAdmin:
    def __init__(self, config: Config) -> None:
        if not config.spool.is_dir():
            # Opening would create an empty spool: a mistyped -c would then show "no messages".
            raise UsageError(f"no spool at {config.spool}; is {config.source} the relay's configuration?")
        self._config = config
        self._spool = Spool(config.spool)

    def close(self) -> None:
        self._spool.close()

    def _require(self, queue_id: str) -> SpooledMessage:
        message = self._spool.get(queue_id)
        if message is None:
            raise UsageError(f"no message with queue ID {queue_id} in {self._config.spool}")
        return message

    def list(self, *, state: str | None, as_json: bool) -> str:
        wanted = QueueState(state) if state else None
        messages = self._spool.messages(wanted)
        if as_json:
            return json.dumps([_as_dict(m) for m in messages], indent=2)
        return render_list(messages)

    def show(self, queue_id: str, *, as_json: bool) -> str:
        message = self._require(queue_id)
        return json.dumps(_as_dict(message), indent=2) if as_json else render_show(message)

    def flush(self) -> str:
        with self._spool.transaction() as db:
            count = Spool.flush_deferred(db, time.time())
        self._record(AuditKind.ADMIN_ACTION, None, action="flush", messages=count)
        return f"{count} message(s) scheduled for immediate delivery"

    def hold(self, queue_id: str) -> str:
        return self._move(queue_id, QueueState.HELD, "held")

    # Each change looks the message up inside its own write transaction: the server may deliver
    # and remove it at any moment, and a lookup made before would let, say, `bounce` send a DSN
    # for a message that was in fact delivered.

    def release(self, queue_id: str) -> str:
        with self._spool.transaction() as db:
            message = self._require(queue_id)
            if message.state not in (QueueState.HELD, QueueState.QUARANTINED):
                raise UsageError(f"{queue_id} is {message.state.value}, not held or quarantined")
            Spool.set_state(db, queue_id, QueueState.ACTIVE, next_attempt_at=time.time())
        self._record(AuditKind.RELEASED, message, was=message.state.value)
        return f"{queue_id}: released"

    def delete(self, queue_id: str) -> str:
        with self._spool.transaction() as db:
            message = self._require(queue_id)
            Spool.remove(db, queue_id)
        self._record(AuditKind.DELETED, message)
        return f"{queue_id}: deleted"

    def bounce(self, queue_id: str) -> str:
        with self._spool.transaction() as db:
            message = self._require(queue_id)
            data = self._spool.data(queue_id) or b""
            now = time.time()
            failures = administrative_bounce(message, "message bounced by the administrator")
            dsn = dsn_message(message, data, failures, hostname=self._config.hostname, now=now)
            Spool.remove(db, queue_id)
            if dsn is not None:
                Spool.insert(db, dsn, now)
        self._record(AuditKind.BOUNCED, message, dsn=dsn.queue_id if dsn else None)
        if dsn is None:
            return f"{queue_id}: bounced (null sender or a bounce itself: no DSN)"
        return f"{queue_id}: bounced, DSN queued as {dsn.queue_id}"

    def _record(self, kind: AuditKind, message: SpooledMessage | None, **details: DetailValue) -> None:
        """Every admin action goes into the audit log, with who did it."""
        record_admin_action(
            self._config.audit,
            kind,
            queue_id=message.queue_id if message else None,
            sender=message.envelope.sender if message else None,
            recipients=message.pending if message else (),
            details=details,
        )

    def _move(self, queue_id: str, state: QueueState, verb: str) -> str:
        with self._spool.transaction() as db:
            message = self._require(queue_id)
            Spool.set_state(db, queue_id, state, next_attempt_at=None)
        self._record(AuditKind.HELD, message)
        return f"{queue_id}: {verb}"

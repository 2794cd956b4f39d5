"""Recording what an administrator did from the command line, with who did it."""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence

from relay.audit.events import AuditEvent, AuditKind, DetailValue
from relay.audit.settings import AuditConfig
from relay.audit.writer import AuditLog


def record_admin_action(
    config: AuditConfig,
    kind: AuditKind,
    *,
    queue_id: str | None = None,
    sender: str | None = None,
    recipients: Sequence[str] = (),
    details: Mapping[str, DetailValue],
) -> None:
    """Append one event by ``cli:<login>`` to the node's audit log (the running relay shares it)."""
    event = AuditEvent(
        kind=kind,
        actor=f"cli:{getpass.getuser()}",
        queue_id=queue_id,
        sender=sender,
        recipients=tuple(recipients),
        details=details,
    )
    with AuditLog.from_config(config) as audit:
        audit.append(event)

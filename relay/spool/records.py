"""Pure conversion between the shared types and the JSON columns of the spool database."""

from __future__ import annotations

import json
import secrets
from typing import Any

from relay.model import (
    Envelope,
    Fallback,
    Plan,
    PlanAction,
    RecipientPlan,
    RecipientState,
    RecipientStatus,
    TlsBranchPlan,
    TlsCondition,
    TlsLevel,
)


def new_queue_id(now: float) -> str:
    """A queue ID that sorts by arrival and cannot collide across worker processes.

    Millisecond time in hex (11 digits until the year 2527) plus 24 random bits, upper-case,
    like Postfix's short IDs: easy to read aloud and to grep for.
    """
    return f"{int(now * 1000):011X}{secrets.token_hex(3).upper()}"


def envelope_to_json(envelope: Envelope) -> str:
    return json.dumps(
        {
            "sender": envelope.sender,
            "recipients": list(envelope.recipients),
            "client_ip": envelope.client_ip,
            "helo": envelope.helo,
            "auth_user": envelope.auth_user,
            "received_at": envelope.received_at,
            "smtputf8": envelope.smtputf8,
            "body_8bit": envelope.body_8bit,
        },
        separators=(",", ":"),
    )


def envelope_from_json(text: str) -> Envelope:
    raw = json.loads(text)
    return Envelope(
        sender=raw["sender"],
        recipients=tuple(raw["recipients"]),
        client_ip=raw["client_ip"],
        helo=raw.get("helo", ""),
        auth_user=raw.get("auth_user"),
        received_at=float(raw.get("received_at", 0.0)),
        smtputf8=bool(raw.get("smtputf8", False)),
        body_8bit=bool(raw.get("body_8bit", False)),
    )


def plan_to_json(plan: Plan) -> str:
    return json.dumps(
        {
            "policy_version": plan.policy_version,
            "tags": list(plan.tags),
            "rules": list(plan.rules),
            "recipients": [
                {
                    "recipient": r.recipient,
                    "tls": r.tls.value,
                    "tls_minimum": r.tls_minimum.value,
                    "fallback": r.fallback.value,
                    "action": r.action.value,
                    "pool": r.pool,
                    **({"branches": [_branch_to_raw(b) for b in r.branches]} if r.branches else {}),
                }
                for r in plan.recipients
            ],
        },
        separators=(",", ":"),
    )


def plan_from_json(text: str) -> Plan:
    raw = json.loads(text)
    return Plan(
        policy_version=raw.get("policy_version", "builtin"),
        tags=tuple(raw.get("tags", ())),
        rules=tuple(raw.get("rules", ())),
        recipients=tuple(
            RecipientPlan(
                recipient=r["recipient"],
                tls=TlsLevel(r["tls"]),
                tls_minimum=TlsLevel(r.get("tls_minimum", r["tls"])),
                fallback=Fallback(r["fallback"]),
                action=PlanAction(r.get("action", PlanAction.DELIVER.value)),
                pool=r.get("pool"),
                branches=tuple(_branch_from_raw(b) for b in r.get("branches", ())),
            )
            for r in raw["recipients"]
        ),
    )


def _branch_to_raw(branch: TlsBranchPlan) -> dict[str, object]:
    condition = branch.condition
    return {
        "rule": branch.rule,
        "at_least": condition.at_least.value if condition.at_least else None,
        "below": condition.below.value if condition.below else None,
        "tls": branch.tls.value,
        "tls_minimum": branch.tls_minimum.value,
        "fallback": branch.fallback.value,
        "action": branch.action.value,
    }


def _branch_from_raw(raw: dict[str, Any]) -> TlsBranchPlan:
    return TlsBranchPlan(
        condition=TlsCondition(
            at_least=TlsLevel(raw["at_least"]) if raw.get("at_least") else None,
            below=TlsLevel(raw["below"]) if raw.get("below") else None,
        ),
        rule=raw["rule"],
        tls=TlsLevel(raw["tls"]),
        tls_minimum=TlsLevel(raw["tls_minimum"]),
        fallback=Fallback(raw["fallback"]),
        action=PlanAction(raw["action"]),
    )


def recipients_to_json(recipients: tuple[RecipientStatus, ...]) -> str:
    rows: list[dict[str, Any]] = [
        {
            "address": r.address,
            "state": r.state.value,
            "last_reply": r.last_reply,
            "remote_host": r.remote_host,
        }
        for r in recipients
    ]
    return json.dumps(rows, separators=(",", ":"))


def recipients_from_json(text: str) -> tuple[RecipientStatus, ...]:
    return tuple(
        RecipientStatus(
            address=r["address"],
            state=RecipientState(r["state"]),
            last_reply=r.get("last_reply", ""),
            remote_host=r.get("remote_host", ""),
        )
        for r in json.loads(text)
    )

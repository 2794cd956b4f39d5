"""Text and JSON renderings of an explain `Trace` and of decisions.

The text is for an admin at a terminal: the envelope and what was found (masked), then every rule
with its outcome per recipient and each condition marked ``yes``, ``no`` or ``later`` (decided at
delivery time), then the decision per recipient and how the message would be split. The JSON
carries the same fields for tooling.
"""

from __future__ import annotations

import dataclasses
import enum
import json

from relay.model import TLS_RANK, TlsLevel
from relay.policy.decision import Action, PolicyDecision, RecipientDecision
from relay.policy.explain import ConditionTrace, Trace

_MARK = {True: "yes", False: "no", None: "later"}


def describe(decision: RecipientDecision) -> str:
    """``deliver tls=best minimum=verified fallback=portal`` and the like, with TLS branches."""
    words = _action(decision)
    for branch in decision.branches:
        words += f"; at delivery, if {branch.condition}: {_action(branch.decision)} ({branch.rule})"
    return words


def _action(decision: RecipientDecision) -> str:
    if decision.action is Action.DELIVER:
        words = f"deliver tls={decision.tls.value}"
        if decision.tls_minimum is not decision.tls:
            words += f" minimum={decision.tls_minimum.value}"
        if TLS_RANK[decision.tls_minimum] > TLS_RANK[TlsLevel.OPPORTUNISTIC]:
            words += f" fallback={decision.fallback.value}"  # a weaker minimum is always met
        return words
    if decision.action is Action.REJECT and decision.rejection is not None:
        return f"reject {decision.rejection.reply()}"
    return "encrypt portal" if decision.action is Action.PORTAL else decision.action.value


def decision_lines(decision: PolicyDecision) -> list[str]:
    lines = [f"decision (policy {decision.policy_version}, stream {decision.stream.value}):"]
    for entry in decision.recipients:
        lines.append(f"  <{entry.recipient}>: {describe(entry)}")
        details = [f"decided by {entry.decided_by}"]
        for label, values in (
            ("rules", entry.matched_rules),
            ("tags", entry.tags),
            ("remove headers", entry.remove_headers),
            ("add headers", tuple(name for name, _ in entry.add_headers)),
            ("strip subject tags", entry.strip_subject_tags),
            ("bcc", entry.bcc),
            ("monitor", tuple(hit.rule for hit in entry.monitor_hits)),
        ):
            if values:
                details.append(f"{label}: {', '.join(values)}")
        if entry.pool:
            details.append(f"pool: {entry.pool}")
        if entry.notify_sender:
            details.append("sender notified")
        lines.append(f"    {'; '.join(details)}")
    if decision.rejection is not None:
        lines.append(f"  message: refused in-session with {decision.rejection.reply()}")
    elif len(decision.groups) > 1:
        lines.append(f"  message: split into {len(decision.groups)} copies:")
        for group in decision.groups:
            lines.append(f"    {', '.join(f'<{r}>' for r in group.recipients)}: {describe(group.decision)}")
    return lines


def to_text(trace: Trace) -> str:
    m, phi = trace.message, trace.phi
    auth = f"authenticated as {m.auth_user}" if m.auth_user else "not authenticated"
    findings = (
        ", ".join(f"{f.entity_type} x{f.count} (best {f.max_score:.2f})" for f in phi.findings) or "none"
    )
    recipients = ", ".join(f"<{r}>" for r in m.recipients)
    lines = [
        f"policy {trace.policy_version}: {', '.join(trace.files) or 'no policy files'}",
        f"envelope: from <{m.sender}> to {recipients}; client {m.client_ip}; {auth}",
        f"message: {m.size} bytes; subject of {m.subject_length} characters (masked); "
        f"{len(m.attachments)} attachment(s){': ' + '; '.join(m.attachments) if m.attachments else ''}",
        f"stream: {m.stream} ({m.stream_source})",
        f"phi: contains_phi={_flag(phi.contains_phi)} phi_score={phi.phi_score:.2f} "
        f"unscannable={_flag(phi.unscannable)} health_context={_flag(phi.health_context)}; "
        f"findings: {findings}",
    ]
    if m.unscannable:
        lines.append(f"unscannable parts: {'; '.join(m.unscannable)}")
    lines.append("")
    lines.append("rules (in order; conditions marked yes, no, or later = decided at delivery):")
    everyone = set(m.recipients)
    for rule in trace.rules:
        kind = "terminal" if rule.terminal else "non-terminal"
        lines.append(
            f"  {rule.file}:{rule.line} {rule.rule} ({rule.mode}, {kind}): {'; '.join(rule.actions)}"
        )
        for outcome in rule.outcomes:
            who = (
                "every recipient"
                if set(outcome.recipients) == everyone and len(everyone) > 1
                else ", ".join(f"<{r}>" for r in outcome.recipients)
            )
            lines.append(f"    {who}: {outcome.outcome}")
            if not outcome.conditions:
                lines.append("      (no conditions: matches every message)")
            for condition in outcome.conditions:
                lines += _condition_lines(condition, 6)
    lines.append(f"  default: {trace.default}")
    lines.append("")
    lines += decision_lines(trace.decision)
    return "\n".join(lines)


def _condition_lines(condition: ConditionTrace, indent: int) -> list[str]:
    observed = f"  <- {condition.observed}" if condition.observed else ""
    lines = [f"{' ' * indent}[{_MARK[condition.held]}] {condition.expected}{observed}"]
    for child in condition.children:
        lines += _condition_lines(child, indent + 4)
    return lines


def _flag(value: bool) -> str:
    return "true" if value else "false"


def to_json(trace: Trace) -> str:
    return json.dumps(plain(trace), indent=2)


def plain(value: object) -> object:
    """Dataclasses, enums and tuples as JSON-ready dicts, values and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value

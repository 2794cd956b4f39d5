"""Why a message got its decision: every rule, each condition held or failed, and on what.

``explain`` evaluates the message exactly as the relay does (``engine.evaluate``) and then, for
every rule, evaluates each of its conditions separately (no short-circuit) and records what the
condition looked at. Values that could be PHI are never shown: the subject and header values by
length only, attachments by extension, type and size (no file names), PHI by entity type, count
and score. Envelope addresses, the client address and the AUTH user are shown: they are what the
admin typed on the command line. ``render.py`` turns a `Trace` into text or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relay.model import Facts, FindingSummary, TlsLevel
from relay.policy.conditions import Cond
from relay.policy.decision import PolicyDecision, RecipientDecision
from relay.policy.engine import evaluate, prepare
from relay.policy.rules import Policy, Rule
from relay.policy.view import MessageView, RecipientView


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionTrace:
    condition: str
    """The condition's key (``subject``, ``any``, ``recipient_tls`` ...)."""
    path: str
    line: int
    expected: str
    observed: str
    """What the condition looked at, masked where it could be PHI."""
    held: bool | None
    """None: decided at delivery time (``recipient_tls`` with the capability not known yet)."""
    children: tuple[ConditionTrace, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutcome:
    recipients: tuple[str, ...]
    held: bool
    """All the rule's conditions held (apart from a ``recipient_tls`` decided later)."""
    outcome: str
    conditions: tuple[ConditionTrace, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTrace:
    rule: str
    file: str
    line: int
    mode: str
    terminal: bool
    description: str
    actions: tuple[str, ...]
    outcomes: tuple[RuleOutcome, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSummary:
    sender: str
    recipients: tuple[str, ...]
    client_ip: str
    auth_user: str | None
    size: int
    subject_length: int
    attachments: tuple[str, ...]
    """``.pdf application/pdf 1234 bytes``: no file names."""
    unscannable: tuple[str, ...]
    """``part: reason`` for each part the extractor could not read."""
    stream: str
    stream_source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiSummary:
    contains_phi: bool
    phi_score: float
    unscannable: bool
    health_context: bool
    findings: tuple[FindingSummary, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    policy_version: str
    files: tuple[str, ...]
    message: MessageSummary
    phi: PhiSummary
    rules: tuple[RuleTrace, ...]
    default: str
    """What the default decision is and where it is set."""
    decision: PolicyDecision


def explain(
    policy: Policy,
    facts: Facts,
    *,
    internal_domains: frozenset[str] = frozenset(),
    recipient_tls: Mapping[str, TlsLevel] | None = None,
) -> Trace:
    decision = evaluate(policy, facts, internal_domains=internal_domains, recipient_tls=recipient_tls)
    message, views = prepare(policy, facts, internal_domains=internal_domains, recipient_tls=recipient_tls)
    pairs = list(zip(views, decision.recipients, strict=True))
    default = policy.default
    where = f"{default.file}:{default.line}" if default.line else default.file
    return Trace(
        policy_version=policy.version,
        files=policy.files,
        message=_summary(message),
        phi=PhiSummary(
            contains_phi=facts.phi.contains_phi,
            phi_score=facts.phi.phi_score,
            unscannable=facts.phi.unscannable,
            health_context=facts.phi.health_context,
            findings=tuple(
                FindingSummary(entity_type=name, count=count, max_score=best)
                for name, (count, best) in sorted(message.phi_types.items())
            ),
        ),
        rules=tuple(_rule(rule, message, pairs) for rule in policy.rules),
        default=f"{'; '.join(default.would)} ({where})",
        decision=decision,
    )


def _summary(m: MessageView) -> MessageSummary:
    envelope, facts = m.facts.envelope, m.facts.message
    return MessageSummary(
        sender=envelope.sender,
        recipients=envelope.recipients,
        client_ip=envelope.client_ip,
        auth_user=envelope.auth_user,
        size=m.size,
        subject_length=len(facts.subject),
        attachments=tuple(
            f".{a.extension or '(none)'} {a.content_type} {a.size} bytes" for a in facts.attachments
        ),
        unscannable=tuple(f"{u.part}: {u.reason}" for u in facts.unscannable),
        stream=m.stream.value,
        stream_source=m.stream_source,
    )


def _rule(rule: Rule, m: MessageView, pairs: list[tuple[RecipientView, RecipientDecision]]) -> RuleTrace:
    # Per recipient when the conditions or the TLS capability differ by recipient.
    separate = rule.per_recipient or rule.recipient_tls is not None
    groups = [[pair] for pair in pairs] if separate else [pairs] if pairs else []
    outcomes = []
    for group in groups:
        first = group[0][0]
        conditions = _conditions(rule.when, m, first)
        held = all(c.held for c in conditions)
        tls = _tls_trace(rule, first)
        if tls is not None:
            conditions += (tls,)
        by_text: dict[str, list[str]] = {}
        for view, decided in group:
            by_text.setdefault(_outcome(rule, held, view, decided), []).append(view.original)
        outcomes += [
            RuleOutcome(recipients=tuple(recipients), held=held, outcome=text, conditions=conditions)
            for text, recipients in by_text.items()
        ]
    return RuleTrace(
        rule=rule.name,
        file=rule.file,
        line=rule.line,
        mode=rule.mode.value,
        terminal=rule.terminal,
        description=rule.description,
        actions=rule.would,
        outcomes=tuple(outcomes),
    )


def _conditions(when: Cond | None, m: MessageView, r: RecipientView) -> tuple[ConditionTrace, ...]:
    if when is None:
        return ()
    if when.key == "when":  # several conditions in one mapping: show them side by side
        return tuple(_trace(child, m, r) for child in when.children)
    return (_trace(when, m, r),)


def _trace(cond: Cond, m: MessageView, r: RecipientView) -> ConditionTrace:
    return ConditionTrace(
        condition=cond.key,
        path=cond.path,
        line=cond.line,
        expected=cond.expected,
        observed=cond.observe(m, r),
        held=bool(cond.test(m, r)),
        children=tuple(_trace(child, m, r) for child in cond.children),
    )


def _tls_trace(rule: Rule, view: RecipientView) -> ConditionTrace | None:
    condition = rule.recipient_tls
    if condition is None:
        return None
    capability = view.tls
    return ConditionTrace(
        condition="recipient_tls",
        path=f"{rule.name}.when.recipient_tls",
        line=rule.line,
        expected=str(condition),
        observed=f"{view.domain}: {capability.value}"
        if capability
        else f"{view.domain}: known at delivery time",
        held=condition.holds(capability) if capability else None,
    )


def _outcome(rule: Rule, held: bool, view: RecipientView, decided: RecipientDecision) -> str:
    if not held:
        return "not matched"
    condition = rule.recipient_tls
    deferred = condition is not None and view.tls is None
    if condition is not None and view.tls is not None and not condition.holds(view.tls):
        return f"not matched: {view.domain} offers {view.tls.value}, the rule needs {condition}"
    if rule.monitor:
        if any(hit.rule == rule.name for hit in decided.monitor_hits):
            later = f" if {condition}" if deferred else ""
            return f"monitor: would {'; '.join(rule.would)}{later} (not done)"
        return f"monitor: matched, but {decided.decided_by} had already decided"
    if deferred and any(branch.rule == rule.name for branch in decided.branches):
        return f"deferred to delivery: applies if {condition}"
    if rule.name in decided.matched_rules:
        return "applied, decides" if decided.decided_by == rule.name else "applied"
    return f"matched, but already decided by {decided.decided_by}"

"""Evaluation: facts in, `PolicyDecision` out. Pure, and fast enough to run in-session.

For each recipient the rules are walked in order. The first matching enforced *terminal* rule
decides the recipient's outcome (and contributes its other actions); every matching enforced
*non-terminal* rule contributes its actions wherever it sits; a matching ``mode: monitor`` rule
is only recorded. A rule that needs the recipient's TLS capability, when that is not known yet,
becomes a branch of the decision (checked at delivery time) and evaluation goes on as if it had
not matched. Conditions that do not look at the recipient are evaluated once per message.

Contributions merge in policy order: headers, tags, bcc and notices accumulate (duplicates
dropped); the first ``route`` wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from relay.model import Facts, TlsLevel
from relay.policy.decision import Action, MonitorHit, PolicyDecision, RecipientDecision, TlsBranch, group
from relay.policy.rules import DEFAULT_NAME, Policy, Rule
from relay.policy.view import MessageView, RecipientView


class _State:
    """One recipient's progress through the rules."""

    __slots__ = ("applied", "branches", "monitor", "terminal", "view")

    def __init__(self, view: RecipientView) -> None:
        self.view = view
        self.terminal: Rule | None = None
        self.applied: list[Rule] = []
        self.branches: list[Rule] = []
        self.monitor: list[MonitorHit] = []


def prepare(
    policy: Policy,
    facts: Facts,
    *,
    internal_domains: frozenset[str] = frozenset(),
    recipient_tls: Mapping[str, TlsLevel] | None = None,
) -> tuple[MessageView, list[RecipientView]]:
    """The views conditions look at (explain uses the same ones)."""
    message = MessageView(
        facts,
        header_names=policy.header_names,
        streams=policy.streams,
        internal_domains=internal_domains,
        parse_ip=policy.parse_ip,
    )
    views = [
        RecipientView(address, internal_domains=internal_domains, recipient_tls=recipient_tls)
        for address in facts.envelope.recipients
    ]
    return message, views


def evaluate(
    policy: Policy,
    facts: Facts,
    *,
    internal_domains: frozenset[str] = frozenset(),
    recipient_tls: Mapping[str, TlsLevel] | None = None,
) -> PolicyDecision:
    """Decide every recipient of one message.

    ``internal_domains`` are the organisation's own domains (``recipient_internal``,
    ``sender_internal``); ``recipient_tls`` maps a recipient domain to its server's TLS
    capability when it is known (at delivery time); without it, ``recipient_tls`` conditions
    become branches of the decision.
    """
    message, views = prepare(policy, facts, internal_domains=internal_domains, recipient_tls=recipient_tls)
    states = [_State(view) for view in views]
    _walk(policy, message, states)
    decisions = tuple([_decide(policy, state) for state in states])
    rejection = None
    if decisions and all([d.action is Action.REJECT and not d.branches for d in decisions]):
        rejection = decisions[0].rejection
    return PolicyDecision(
        recipients=decisions,
        groups=group(decisions),
        policy_version=policy.version,
        stream=message.stream,
        rejection=rejection,
    )


def _walk(policy: Policy, message: MessageView, states: list[_State]) -> None:
    """Each recipient through the rules that can match it, in policy order."""
    steps = policy.steps
    index = policy.index
    candidates = index.for_message(message) if index is not None else None
    everything: Sequence[int] = range(len(steps))
    shared = len(states) > 1
    results: dict[int, object] = {}  # message-level rule -> its result, shared by the recipients
    for state in states:
        view = state.view
        positions = (
            everything if index is None or candidates is None else index.for_recipient(view, candidates)
        )
        decided = False
        for position in positions:
            test, terminal, per_recipient, rule = steps[position]
            if decided and terminal:
                continue  # only non-terminal rules can still contribute
            if shared and not per_recipient:
                if position in results:
                    held = results[position]
                else:
                    held = results[position] = test(message, view)
            else:
                held = test(message, view)
            if held and _apply(rule, state):
                decided = True


def _apply(rule: Rule, state: _State) -> bool:
    """Record a matching rule for one recipient; True when it decided the recipient."""
    deferred = None
    if rule.recipient_tls is not None:
        capability = state.view.tls
        if capability is None:
            deferred = rule.recipient_tls
        elif not rule.recipient_tls.holds(capability):
            return False
    if rule.monitor:
        state.monitor.append(MonitorHit(rule=rule.name, would=rule.would, if_recipient_tls=deferred))
        return False
    if deferred is not None:
        state.branches.append(rule)
        return False
    if rule.terminal:
        state.terminal = rule
        return True
    state.applied.append(rule)
    return False


def _decide(policy: Policy, state: _State) -> RecipientDecision:
    recipient = state.view.original
    main = _build(recipient, state.terminal or policy.default, state.applied, tuple(state.monitor))
    if not state.branches:
        return main
    branches = tuple(
        TlsBranch(
            condition=rule.recipient_tls,
            rule=rule.name,
            decision=_build(recipient, rule, state.applied, ()),
        )
        for rule in state.branches
        if rule.recipient_tls is not None
    )
    return replace(main, branches=branches)


def _build(
    recipient: str, decider: Rule, applied: list[Rule], monitor: tuple[MonitorHit, ...]
) -> RecipientDecision:
    terminal = decider.actions.terminal
    assert terminal is not None
    if not applied:  # the common case: one rule's actions, already free of duplicates
        actions = decider.actions
        return RecipientDecision(
            recipient=recipient,
            action=terminal.action,
            tls=terminal.tls,
            tls_minimum=terminal.tls_minimum,
            fallback=terminal.fallback,
            rejection=terminal.rejection,
            pool=actions.route,
            add_headers=actions.add_headers,
            remove_headers=actions.remove_headers,
            strip_subject_tags=actions.strip_subject_tags,
            bcc=actions.bcc,
            tags=actions.tags,
            notify_sender=(actions.notify_sender,) if actions.notify_sender else (),
            decided_by=decider.name,
            matched_rules=() if decider.name == DEFAULT_NAME else (decider.name,),
            monitor_hits=monitor,
        )
    rules = sorted([*applied, decider], key=_index)
    add: dict[tuple[str, str], None] = {}
    remove: dict[str, None] = {}
    strip: dict[str, None] = {}
    bcc: dict[str, None] = {}
    notices: dict[str, None] = {}
    tags: dict[str, None] = {}
    pool = None
    for rule in rules:  # a rule has few kinds of action: skip the empty ones
        actions = rule.actions
        if actions.tags:
            tags.update(dict.fromkeys(actions.tags))
        if actions.add_headers:
            add.update(dict.fromkeys(actions.add_headers))
        if actions.remove_headers:
            remove.update(dict.fromkeys(actions.remove_headers))
        if actions.strip_subject_tags:
            strip.update(dict.fromkeys(actions.strip_subject_tags))
        if actions.bcc:
            bcc.update(dict.fromkeys(actions.bcc))
        if actions.notify_sender:
            notices[actions.notify_sender] = None
        pool = pool or actions.route
    return RecipientDecision(
        recipient=recipient,
        action=terminal.action,
        tls=terminal.tls,
        tls_minimum=terminal.tls_minimum,
        fallback=terminal.fallback,
        rejection=terminal.rejection,
        pool=pool,
        add_headers=tuple(add),
        remove_headers=tuple(remove),
        strip_subject_tags=tuple(strip),
        bcc=tuple(bcc),
        tags=tuple(tags),
        notify_sender=tuple(notices),
        decided_by=decider.name,
        matched_rules=tuple(r.name for r in rules if r.name != DEFAULT_NAME),
        monitor_hits=monitor,
    )


def _index(rule: Rule) -> int:
    return rule.index

"""Actions and how rules combine: terminal vs accumulating, monitor, default, split, TLS branches."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import pytest

from relay.model import (
    Envelope,
    Facts,
    Fallback,
    MessageFacts,
    PhiResult,
    Rejection,
    TlsLevel,
)
from relay.policy import Action, PolicyDecision, Stream, TlsCondition, evaluate, load_policy

POOLS = frozenset({"bulk", "transactional"})


def facts(*to: str, subject: str = "Hello", phi: bool = False, sender: str = "app@clinic.example") -> Facts:
    return Facts(
        envelope=Envelope(sender=sender, recipients=to or ("a@partner.example",), client_ip="10.0.0.1"),
        message=MessageFacts(subject=subject, headers=(("subject", subject),), size=100),
        phi=PhiResult(contains_phi=phi, phi_score=0.9 if phi else 0.0),
    )


def decide(tmp_path: Path, text: str, case: Facts | None = None, **options: Any) -> PolicyDecision:
    (tmp_path / "10-policy.yaml").write_text(textwrap.dedent(text))
    policy = load_policy(tmp_path, pools=POOLS)
    case = case or facts()
    decision = evaluate(policy, case, internal_domains=frozenset({"clinic.example"}), **options)
    unindexed = dataclasses.replace(policy, index=None)
    assert decision == evaluate(unindexed, case, internal_domains=frozenset({"clinic.example"}), **options)
    return decision


def one_rule(then: str) -> str:
    return f"rules:\n  - name: r\n    then: {then}\n"


# (id, then, the decision's fields that must have these values)
ACTIONS: list[tuple[str, str, dict[str, object]]] = [
    ("deliver-level", "{deliver: verified}", {"action": Action.DELIVER, "tls": TlsLevel.VERIFIED,
     "tls_minimum": TlsLevel.VERIFIED, "fallback": Fallback.DEFER}),
    ("deliver-best", "{deliver: {tls: best, minimum: verified, fallback: portal}}",
     {"tls": TlsLevel.BEST, "tls_minimum": TlsLevel.VERIFIED, "fallback": Fallback.PORTAL}),
    ("deliver-best-default-minimum", "{deliver: {tls: best}}",
     {"tls": TlsLevel.BEST, "tls_minimum": TlsLevel.OPPORTUNISTIC}),
    ("deliver-dane-bounce", "{deliver: {tls: dane, fallback: bounce}}",
     {"tls": TlsLevel.DANE, "tls_minimum": TlsLevel.DANE, "fallback": Fallback.BOUNCE}),
    ("deliver-mta-sts", "{deliver: mta-sts}", {"tls": TlsLevel.MTA_STS}),
    ("deliver-defaults", "{deliver: {}}", {"tls": TlsLevel.OPPORTUNISTIC, "fallback": Fallback.DEFER}),
    ("deliver-none", "{deliver: none}", {"tls": TlsLevel.NONE, "tls_minimum": TlsLevel.NONE}),
    ("encrypt-portal", "{encrypt: portal}", {"action": Action.PORTAL}),
    ("reject-text", "{reject: Not allowed here}",
     {"action": Action.REJECT, "rejection": Rejection(code=550, enhanced="5.7.1", text="Not allowed here")}),
    ("reject-full", "{reject: {code: 554, enhanced: 5.7.0, text: Refused}}",
     {"rejection": Rejection(code=554, enhanced="5.7.0", text="Refused")}),
    ("reject-default-text", "{reject: {code: 553}}",
     {"rejection": Rejection(code=553, enhanced="5.7.1", text="Message refused by policy")}),
    ("quarantine", "{quarantine: true}", {"action": Action.QUARANTINE}),
    ("bcc", "{bcc: [archive@clinic.example, legal@clinic.example]}",
     {"bcc": ("archive@clinic.example", "legal@clinic.example"), "action": Action.DELIVER}),
    ("add-header", "{add_header: {X-Classification: phi, X-Reviewed: 'yes'}}",
     {"add_headers": (("X-Classification", "phi"), ("X-Reviewed", "yes"))}),
    ("add-header-number", "{add_header: {X-Level: 3}}", {"add_headers": (("X-Level", "3"),)}),
    ("remove-header", "{remove_header: [X-Internal-ID, x-relay-stream]}",
     {"remove_headers": ("x-internal-id", "x-relay-stream")}),
    ("strip-subject-tag", "{strip_subject_tag: '[secure]'}", {"strip_subject_tags": ("[secure]",)}),
    ("route", "{route: bulk}", {"pool": "bulk"}),
    ("notify-default", "{notify_sender: true}",
     {"notify_sender": ("Your message was handled according to the mail policy of your organisation.",)}),
    ("notify-text", "{notify_sender: Sent through the secure portal}",
     {"notify_sender": ("Sent through the secure portal",)}),
    ("tag", "{tag: [phi, audit.v2]}", {"tags": ("phi", "audit.v2")}),
    ("terminal-with-extras", "{deliver: encrypted, tag: t, route: transactional}",
     {"tls": TlsLevel.ENCRYPTED, "tags": ("t",), "pool": "transactional", "matched_rules": ("r",),
      "decided_by": "r"}),
    ("non-terminal-leaves-default", "{tag: t}", {"decided_by": "default", "matched_rules": ("r",),
     "action": Action.DELIVER, "tls": TlsLevel.OPPORTUNISTIC}),
]  # fmt: skip


@pytest.mark.parametrize(("then", "expected"), [a[1:] for a in ACTIONS], ids=[a[0] for a in ACTIONS])
def test_action(tmp_path: Path, then: str, expected: dict[str, object]) -> None:
    decided = decide(tmp_path, one_rule(then)).recipients[0]
    assert {field: getattr(decided, field) for field in expected} == expected


def test_an_empty_policy_delivers_opportunistically(tmp_path: Path) -> None:
    decision = decide(tmp_path, "# nothing yet\n")
    (only,) = decision.recipients
    assert (only.action, only.tls, only.decided_by, only.matched_rules) == (
        Action.DELIVER,
        TlsLevel.OPPORTUNISTIC,
        "default",
        (),
    )
    assert decision.policy_version.startswith("sha256:")


ORDER = """\
rules:
  - name: early-tag
    then: {tag: early, add_header: {X-A: "1"}, route: transactional}
  - name: first-terminal
    when: {subject: hello}
    then: {deliver: verified, tag: first, bcc: one@clinic.example}
  - name: second-terminal
    when: {subject: hello}
    then: {reject: never, tag: second}
  - name: late-tag
    then: {tag: late, add_header: {X-A: "1", X-B: "2"}, route: bulk, bcc: [two@clinic.example]}
"""


def test_first_terminal_wins_and_non_terminals_accumulate_wherever_they_are(tmp_path: Path) -> None:
    decided = decide(tmp_path, ORDER).recipients[0]
    assert decided.action is Action.DELIVER and decided.tls is TlsLevel.VERIFIED
    assert decided.decided_by == "first-terminal"
    assert decided.matched_rules == ("early-tag", "first-terminal", "late-tag")
    assert decided.tags == ("early", "first", "late")  # second-terminal's tag is not applied
    assert decided.add_headers == (("X-A", "1"), ("X-B", "2"))  # duplicates dropped
    assert decided.pool == "transactional"  # the first route wins
    assert decided.bcc == ("one@clinic.example", "two@clinic.example")


def test_a_terminal_rule_that_does_not_match_gives_way_to_the_next(tmp_path: Path) -> None:
    decided = decide(tmp_path, ORDER, facts(subject="bye")).recipients[0]
    assert decided.decided_by == "default"
    assert decided.tags == ("early", "late")


DEFAULTS = """\
rules:
  - name: internal
    when: {recipient_internal: true}
    then: {deliver: none}
default:
  deliver: {tls: encrypted, fallback: bounce}
  tag: defaulted
"""


def test_default_section_decides_what_no_rule_decided(tmp_path: Path) -> None:
    decision = decide(tmp_path, DEFAULTS, facts("x@clinic.example", "y@partner.example"))
    inside, outside = decision.recipients
    assert (inside.tls, inside.decided_by, inside.tags) == (TlsLevel.NONE, "internal", ())
    assert (outside.tls, outside.fallback, outside.decided_by, outside.tags) == (
        TlsLevel.ENCRYPTED,
        Fallback.BOUNCE,
        "default",
        ("defaulted",),
    )
    assert outside.matched_rules == ()


MONITOR = """\
rules:
  - name: trial-reject
    mode: monitor
    when: {subject: hello}
    then: {reject: trial, tag: trial}
  - name: trial-tag
    mode: monitor
    then: {tag: watched}
  - name: decide
    then: {deliver: verified}
  - name: trial-after
    mode: monitor
    then: {quarantine: true}
"""


def test_monitor_rules_record_what_they_would_do_and_do_nothing(tmp_path: Path) -> None:
    decided = decide(tmp_path, MONITOR).recipients[0]
    assert decided.action is Action.DELIVER and decided.decided_by == "decide"
    assert decided.tags == () and decided.matched_rules == ("decide",)
    hits = {hit.rule: hit.would for hit in decided.monitor_hits}
    # trial-after never records: a terminal rule had already decided, so it would not have acted.
    assert hits == {
        "trial-reject": ("reject 550 5.7.1 trial", "tag trial"),
        "trial-tag": ("tag watched",),
    }


SPLIT = """\
rules:
  - name: partners-verified
    when: {recipient_domain: partner.example}
    then: {deliver: {tls: verified, fallback: portal}}
  - name: block-competitor
    when: {recipient_domain: competitor.example}
    then: {reject: {code: 550, text: Recipient not allowed}}
  - name: archive
    when: {recipient_internal: false}
    then: {bcc: archive@clinic.example}
"""


def test_recipients_get_their_own_decisions_and_are_grouped_for_splitting(tmp_path: Path) -> None:
    case = facts("a@partner.example", "b@other.example", "c@partner.example", "d@competitor.example")
    decision = decide(tmp_path, SPLIT, case)
    actions = [(d.recipient, d.action, d.tls) for d in decision.recipients]
    assert actions == [
        ("a@partner.example", Action.DELIVER, TlsLevel.VERIFIED),
        ("b@other.example", Action.DELIVER, TlsLevel.OPPORTUNISTIC),
        ("c@partner.example", Action.DELIVER, TlsLevel.VERIFIED),
        ("d@competitor.example", Action.REJECT, TlsLevel.OPPORTUNISTIC),
    ]
    assert [g.recipients for g in decision.groups] == [
        ("a@partner.example", "c@partner.example"),
        ("b@other.example",),
        ("d@competitor.example",),
    ]
    assert decision.rejection is None  # only one recipient is rejected
    assert decision.bcc == ("archive@clinic.example",)


def test_the_message_is_refused_when_every_recipient_is_rejected(tmp_path: Path) -> None:
    decision = decide(tmp_path, SPLIT, facts("x@competitor.example", "y@competitor.example"))
    assert decision.rejection == Rejection(code=550, enhanced="5.7.1", text="Recipient not allowed")
    assert len(decision.groups) == 1


def test_recipient_addresses_keep_their_case_and_match_without_it(tmp_path: Path) -> None:
    decision = decide(tmp_path, SPLIT, facts("Dr.Who@Partner.Example"))
    assert decision.recipients[0].recipient == "Dr.Who@Partner.Example"
    assert decision.recipients[0].tls is TlsLevel.VERIFIED


def test_stream_is_recorded(tmp_path: Path) -> None:
    case = facts()
    bulk = dataclasses.replace(
        case, message=dataclasses.replace(case.message, headers=(("x-relay-stream", "bulk"),))
    )
    assert decide(tmp_path, "rules: []\n", case).stream is Stream.TRANSACTIONAL
    assert decide(tmp_path, "rules: []\n", bulk).stream is Stream.BULK


TLS = """\
rules:
  - name: dane-direct
    when:
      phi: {contains_phi: true}
      recipient_tls: {at_least: dane}
    then: {deliver: dane, tag: direct}
  - name: weak-to-portal
    when:
      phi: {contains_phi: true}
      recipient_tls: {below: verified}
    then: {encrypt: portal}
  - name: phi
    when: {phi: {contains_phi: true}}
    then: {deliver: {tls: verified, fallback: defer}}
  - name: watch-weak
    mode: monitor
    when: {recipient_tls: {below: encrypted}}
    then: {tag: weak}
"""


def test_recipient_tls_unknown_before_queue_becomes_ordered_branches(tmp_path: Path) -> None:
    decided = decide(tmp_path, TLS, facts(phi=True)).recipients[0]
    assert decided.decided_by == "phi"
    assert [(b.rule, b.condition) for b in decided.branches] == [
        ("dane-direct", TlsCondition(at_least=TlsLevel.DANE)),
        ("weak-to-portal", TlsCondition(below=TlsLevel.VERIFIED)),
    ]
    assert decided.monitor_hits[0].rule == "watch-weak"
    assert decided.monitor_hits[0].if_recipient_tls == TlsCondition(below=TlsLevel.ENCRYPTED)
    # At delivery time the capability picks the branch; the first that holds wins.
    assert decided.resolve(TlsLevel.DANE).tls is TlsLevel.DANE
    assert decided.resolve(TlsLevel.DANE).tags == ("direct",)
    assert decided.resolve(TlsLevel.ENCRYPTED).action is Action.PORTAL
    resolved = decided.resolve(TlsLevel.MTA_STS)
    assert (resolved.tls, resolved.decided_by, resolved.branches) == (TlsLevel.VERIFIED, "phi", ())


@pytest.mark.parametrize(
    ("capability", "decided_by", "watched"),
    [
        (TlsLevel.DANE, "dane-direct", False),
        (TlsLevel.ENCRYPTED, "weak-to-portal", False),
        (TlsLevel.NONE, "weak-to-portal", True),
        (TlsLevel.VERIFIED, "phi", False),
    ],
    ids=["dane", "encrypted", "none", "verified"],
)
def test_recipient_tls_known_is_decided_at_once(
    tmp_path: Path, capability: TlsLevel, decided_by: str, watched: bool
) -> None:
    decided = decide(
        tmp_path, TLS, facts(phi=True), recipient_tls={"partner.example": capability}
    ).recipients[0]
    assert (decided.decided_by, decided.branches) == (decided_by, ())
    assert bool(decided.monitor_hits) is watched


def test_a_tls_branch_keeps_the_message_from_being_refused_in_session(tmp_path: Path) -> None:
    text = """\
    rules:
      - name: dane-only
        when: {recipient_tls: {at_least: dane}}
        then: {deliver: dane}
    default: {reject: Only DANE}
    """
    decision = decide(tmp_path, text)
    assert decision.recipients[0].action is Action.REJECT
    assert decision.rejection is None  # a DANE server found at delivery time still gets it

"""The rule index only skips rules that cannot match: decisions with and without it are equal.

Random policies (conditions drawn from every indexable shape and some that are not) are
evaluated against random messages, through the index and against every rule.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from relay.model import Attachment, Envelope, Facts, FindingSummary, MessageFacts, PhiResult
from relay.policy import evaluate, load_policy
from relay.policy.engine import prepare

CONDITIONS = [
    "sender: app@clinic.example",
    'sender: "*@clinic.example"',
    'sender: "*@*.clinic.example"',
    'sender: "news@*"',
    'sender: "n?ws@*"',
    'sender: "<>"',
    "sender: {regex: '^app'}",
    "sender_domain: clinic.example",
    'sender_domain: "*.example"',
    'sender_domain: "*.clinic.example"',
    "sender_internal: true",
    "recipient: a@partner.example",
    'recipient: "*@partner.example"',
    'recipient: "b@*"',
    'recipient: "*@*.example"',
    "recipient_domain: [partner.example, other.example]",
    'recipient_domain: "*.partner.example"',
    'recipient_domain: "*partner.example"',
    "recipient_internal: true",
    "recipient_internal: false",
    "subject: {contains: '[secure]'}",
    'subject: "*urgent*"',
    "subject: hello",
    "subject: {regex: '^re:'}",
    "header: {name: X-Campaign}",
    "header: {name: X-Campaign, matches: spring}",
    "header: {name: X-Campaign, present: false}",
    "stream: bulk",
    "stream: transactional",
    "authenticated: true",
    "authenticated: false",
    "authenticated: lab*",
    "client_ip: 10.0.0.0/8",
    "size: {over: 5K}",
    "attachment: {extension: [pdf, zip]}",
    "attachment: {extension: '*'}",
    "attachment: {count: {min: 0, max: 1}}",
    "attachment: {count: {min: 2}}",
    "attachment: {content_type: 'application/*'}",
    "phi: {contains_phi: true}",
    "phi: {contains_phi: false}",
    "phi: {unscannable: true}",
    "phi: {entities: [US_SSN]}",
    "phi: {entities: [PERSON], min_count: 2, min_score: 0.5}",
    "phi: {phi_score: 0.5}",
    "recipient_count: {min: 2}",
]
THEN = [
    "{deliver: verified}",
    "{reject: refused}",
    "{encrypt: portal}",
    "{tag: t}",
    "{add_header: {X-A: b}}",
    "{quarantine: true}",
]
SENDERS = ["app@clinic.example", "news@lab.clinic.example", "", "x@partner.example", "nws@elsewhere.example"]
RECIPIENTS = [
    "a@partner.example",
    "b@clinic.example",
    "c@sub.partner.example",
    "b@other.example",
    "z@xpartner.example",
]
SUBJECTS = ["hello", "Re: [SECURE] results", "URGENT stuff", "re: hello", ""]
HEADERS = [(), (("x-campaign", "Spring"),), (("x-relay-stream", "bulk"),), (("precedence", "bulk"),)]
ATTACHMENTS = [
    (),
    (Attachment(part="2", filename="a.pdf", extension="pdf", content_type="application/pdf", size=10),),
    (
        Attachment(part="2", filename="a", extension="", content_type="text/plain", size=10),
        Attachment(part="3", filename="b.zip", extension="zip", content_type="application/zip", size=10),
    ),
]
PHIS = [
    PhiResult(),
    PhiResult(
        contains_phi=True,
        phi_score=0.7,
        summary=(FindingSummary(entity_type="US_SSN", count=1, max_score=0.9),),
    ),
    PhiResult(unscannable=True),
    PhiResult(contains_phi=True, summary=(FindingSummary(entity_type="PERSON", count=2, max_score=0.6),)),
]


def random_when(rng: random.Random) -> str:
    shape = rng.random()
    picks = rng.sample(CONDITIONS, 3)
    if shape < 0.5:
        return "{" + picks[0] + "}"
    if shape < 0.7:
        first, second = picks[:2]
        if first.split(":")[0] == second.split(":")[0]:  # one key per mapping
            return "{" + first + "}"
        return "{" + first + ", " + second + "}"
    if shape < 0.8:
        return "{any: [{" + picks[0] + "}, {" + picks[1] + "}]}"
    if shape < 0.9:
        return "{all: [{" + picks[0] + "}, {" + picks[1] + "}, {" + picks[2] + "}]}"
    return "{not: {" + picks[0] + "}}"


def random_policy(rng: random.Random, directory: Path) -> None:
    lines = ["rules:"]
    for i in range(rng.randint(5, 25)):
        when = random_when(rng)
        mode = "    mode: monitor\n" if rng.random() < 0.1 else ""
        lines.append(f"  - name: r{i}\n{mode}    when: {when}\n    then: {rng.choice(THEN)}")
    (directory / "10-random.yaml").write_text("\n".join(lines) + "\n")


def random_facts(rng: random.Random) -> Facts:
    return Facts(
        envelope=Envelope(
            sender=rng.choice(SENDERS),
            recipients=tuple(rng.sample(RECIPIENTS, rng.randint(1, 3))),
            client_ip=rng.choice(["10.1.1.1", "192.168.1.1", "::1"]),
            auth_user=rng.choice([None, "labsys", "alice"]),
        ),
        message=MessageFacts(
            subject=rng.choice(SUBJECTS),
            headers=rng.choice(HEADERS),
            size=rng.choice([100, 10_000]),
            attachments=rng.choice(ATTACHMENTS),
        ),
        phi=rng.choice(PHIS),
    )


@pytest.mark.parametrize("seed", range(40))
def test_index_never_changes_a_decision(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    random_policy(rng, tmp_path)
    policy = load_policy(tmp_path)
    unindexed = dataclasses.replace(policy, index=None)
    internal = frozenset({"clinic.example"})
    for _ in range(40):
        case = random_facts(rng)
        assert evaluate(policy, case, internal_domains=internal) == evaluate(
            unindexed, case, internal_domains=internal
        ), case


def test_the_index_skips_rules_on_other_domains(tmp_path: Path) -> None:
    rules = "".join(
        f"  - name: partner-{i}\n    when: {{recipient_domain: [p{i}.example, '*.p{i}.example']}}\n"
        f"    then: {{deliver: verified}}\n"
        for i in range(100)
    )
    (tmp_path / "10-p.yaml").write_text(f"rules:\n{rules}  - name: catch-all\n    then: {{tag: t}}\n")
    policy = load_policy(tmp_path)
    assert policy.index is not None
    case = random_facts(random.Random(1))
    case = dataclasses.replace(
        case, envelope=dataclasses.replace(case.envelope, recipients=("x@mx.p7.example",))
    )
    message, (view,) = prepare(policy, case)
    positions = policy.index.for_recipient(view, policy.index.for_message(message))
    assert [policy.rules[p].name for p in positions] == ["partner-7", "catch-all"]

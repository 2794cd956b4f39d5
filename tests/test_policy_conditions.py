"""Every condition of the policy language, table-driven: does it hold for these facts?

Each case compiles one rule ``when: <case> then: {tag: hit}`` and evaluates it against facts;
the rule held for a recipient when the tag is there. Every case is evaluated twice, through the
rule index and against every rule, and both must agree.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from relay.model import Attachment, Envelope, Facts, Finding, FindingSummary, MessageFacts, PhiResult
from relay.policy import evaluate, load_policy

INTERNAL = frozenset({"clinic.example"})


def facts(
    *,
    sender: str = "app@clinic.example",
    to: tuple[str, ...] = ("someone@partner.example",),
    subject: str = "Hello",
    headers: tuple[tuple[str, str], ...] = (),
    size: int = 2000,
    attachments: tuple[Attachment, ...] = (),
    phi: PhiResult | None = None,
    client_ip: str = "10.1.2.3",
    auth_user: str | None = None,
) -> Facts:
    return Facts(
        envelope=Envelope(sender=sender, recipients=to, client_ip=client_ip, auth_user=auth_user),
        message=MessageFacts(
            subject=subject,
            headers=(("subject", subject), *headers),
            size=size,
            attachments=attachments,
        ),
        phi=phi or PhiResult(),
    )


def attachment(filename: str, content_type: str = "application/octet-stream", size: int = 100) -> Attachment:
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return Attachment(part="2", filename=filename, extension=extension, content_type=content_type, size=size)


def held(tmp_path: Path, when: str, case: Facts, *, files: str = "") -> list[bool]:
    """Whether ``when`` held, per recipient (indexed and unindexed evaluation must agree)."""
    body = textwrap.indent(textwrap.dedent(when).strip(), " " * 6)
    (tmp_path / "10-rule.yaml").write_text(
        f"rules:\n  - name: r\n    when:\n{body}\n    then: {{tag: hit}}\n"
    )
    if files:
        (tmp_path / "05-extra.yaml").write_text(textwrap.dedent(files))
    policy = load_policy(tmp_path)
    decision = evaluate(policy, case, internal_domains=INTERNAL)
    unindexed = evaluate(dataclasses.replace(policy, index=None), case, internal_domains=INTERNAL)
    assert decision == unindexed
    return ["hit" in d.tags for d in decision.recipients]


PHI = PhiResult(
    contains_phi=True,
    phi_score=0.82,
    summary=(
        FindingSummary(entity_type="US_SSN", count=1, max_score=0.85),
        FindingSummary(entity_type="PERSON", count=3, max_score=0.6),
    ),
)
TWO = ("a@partner.example", "b@clinic.example")
PDF = attachment("Results.PDF", "application/pdf", 50_000)
ZIP = attachment("records.zip", "application/zip", 5_000)

# (id, when, facts, held per recipient)
CASES: list[tuple[str, str, Facts, list[bool]]] = [
    # -- sender: exact, glob, list, contains, regex, the null sender
    ("sender-exact-any-case", "sender: App@Clinic.EXAMPLE", facts(), [True]),
    ("sender-exact-other", "sender: other@clinic.example", facts(), [False]),
    ("sender-glob-domain", 'sender: "*@clinic.example"', facts(), [True]),
    (
        "sender-glob-not-subdomain",
        'sender: "*@clinic.example"',
        facts(sender="a@lab.clinic.example"),
        [False],
    ),
    (
        "sender-glob-any-subdomain",
        'sender: "*@*.clinic.example"',
        facts(sender="a@lab.clinic.example"),
        [True],
    ),
    ("sender-glob-one-char", 'sender: "app?@clinic.example"', facts(sender="app7@clinic.example"), [True]),
    (
        "sender-glob-one-char-not-two",
        'sender: "app?@clinic.example"',
        facts(sender="app77@clinic.example"),
        [False],
    ),
    ("sender-glob-local-part", 'sender: "app@*"', facts(sender="app@anything.example"), [True]),
    ("sender-list-any-of", "sender: [x@y.example, app@clinic.example]", facts(), [True]),
    ("sender-contains", "sender: {contains: '@clin'}", facts(), [True]),
    ("sender-regex", "sender: {regex: '^app[0-9]*@'}", facts(sender="app12@clinic.example"), [True]),
    ("sender-regex-no", "sender: {regex: '^app[0-9]+@'}", facts(), [False]),
    ("sender-regex-backreference", r"sender: {regex: '^(.)\1'}", facts(sender="aab@x.example"), [True]),
    ("sender-mixed-list", "sender: [nobody@x.example, {regex: 'clinic'}]", facts(), [True]),
    ("sender-null", 'sender: "<>"', facts(sender=""), [True]),
    ("sender-null-not-others", 'sender: "<>"', facts(), [False]),
    # -- sender_domain, sender_internal
    ("sender-domain-exact", "sender_domain: CLINIC.example", facts(), [True]),
    ("sender-domain-glob", 'sender_domain: "*.clinic.example"', facts(sender="x@a.b.clinic.example"), [True]),
    ("sender-domain-glob-not-apex", 'sender_domain: "*.clinic.example"', facts(), [False]),
    ("sender-domain-null-sender", "sender_domain: clinic.example", facts(sender=""), [False]),
    ("sender-internal", "sender_internal: true", facts(sender="x@lab.clinic.example"), [True]),
    ("sender-external", "sender_internal: false", facts(sender="x@elsewhere.example"), [True]),
    # -- recipients: per recipient
    ("recipient-exact", "recipient: A@partner.example", facts(to=TWO), [True, False]),
    ("recipient-glob", 'recipient: "*@clinic.example"', facts(to=TWO), [False, True]),
    ("recipient-local-glob", 'recipient: "b@*"', facts(to=TWO), [False, True]),
    ("recipient-regex", "recipient: {regex: 'partner'}", facts(to=TWO), [True, False]),
    ("recipient-domain", "recipient_domain: [partner.example]", facts(to=TWO), [True, False]),
    ("recipient-domain-glob", 'recipient_domain: "*.example"', facts(to=TWO), [True, True]),
    ("recipient-internal", "recipient_internal: true", facts(to=TWO), [False, True]),
    ("recipient-external", "recipient_internal: false", facts(to=TWO), [True, False]),
    ("recipient-count-min", "recipient_count: {min: 2}", facts(to=TWO), [True, True]),
    ("recipient-count-max", "recipient_count: {max: 1}", facts(to=TWO), [False, False]),
    # -- session
    ("authenticated", "authenticated: true", facts(auth_user="labsys"), [True]),
    ("authenticated-not", "authenticated: true", facts(), [False]),
    ("unauthenticated", "authenticated: false", facts(), [True]),
    ("authenticated-user", 'authenticated: "lab*"', facts(auth_user="LabSys"), [True]),
    ("authenticated-other-user", "authenticated: [alice, bob]", facts(auth_user="carol"), [False]),
    ("authenticated-user-none", "authenticated: alice", facts(), [False]),
    ("client-ip-network", "client_ip: 10.0.0.0/8", facts(), [True]),
    ("client-ip-host", "client_ip: 10.1.2.3", facts(), [True]),
    ("client-ip-other", "client_ip: [192.168.0.0/16, 172.16.0.0/12]", facts(), [False]),
    ("client-ip-v6", "client_ip: ['2001:db8::/32']", facts(client_ip="2001:db8::25"), [True]),
    ("client-ip-v6-not-v4", "client_ip: ['::/0']", facts(), [False]),
    ("client-ip-bracketed", "client_ip: ['::1']", facts(client_ip="[::1]"), [True]),
    ("client-ip-not-an-ip", "client_ip: 0.0.0.0/0", facts(client_ip="unix-socket"), [False]),
    # -- headers and subject
    ("header-present", "header: {name: X-Campaign}", facts(headers=(("x-campaign", "spring"),)), [True]),
    ("header-present-missing", "header: {name: X-Campaign}", facts(), [False]),
    ("header-absent", "header: {name: X-Campaign, present: false}", facts(), [True]),
    (
        "header-matches-glob",
        "header: {name: x-campaign, matches: 'spr*'}",
        facts(headers=(("x-campaign", "Spring"),)),
        [True],
    ),
    (
        "header-matches-regex",
        "header: {name: X-Campaign, matches: {regex: '^fall$'}}",
        facts(headers=(("x-campaign", "spring"),)),
        [False],
    ),
    (
        "header-matches-second-value",
        "header: {name: X-Tag, matches: b}",
        facts(headers=(("x-tag", "a"), ("x-tag", "b"))),
        [True],
    ),
    (
        "subject-contains-tag",
        "subject: {contains: '[secure]'}",
        facts(subject="Re: [SECURE] results"),
        [True],
    ),
    ("subject-brackets-are-literal", 'subject: "*[secure]*"', facts(subject="Re: s"), [False]),
    ("subject-glob-tag", 'subject: "*[secure]*"', facts(subject="x [secure] y"), [True]),
    ("subject-exact", "subject: hello", facts(subject="HELLO"), [True]),
    ("subject-exact-not-part", "subject: hello", facts(subject="hello there"), [False]),
    ("subject-regex", "subject: {regex: '^(re|fwd):'}", facts(subject="Fwd: lab"), [True]),
    (
        "subject-contains-list",
        "subject: {contains: ['[secure]', '[encrypt]']}",
        facts(subject="[encrypt] x"),
        [True],
    ),
    # -- size (binary units, strict bounds)
    ("size-over", "size: {over: 1K}", facts(size=1025), [True]),
    ("size-over-is-strict", "size: {over: 1K}", facts(size=1024), [False]),
    ("size-under", "size: {under: 10M}", facts(size=2000), [True]),
    ("size-between", "size: {over: 1K, under: 2K}", facts(size=2048), [False]),
    # -- attachments
    ("attachment-extension", "attachment: {extension: pdf}", facts(attachments=(PDF,)), [True]),
    (
        "attachment-extension-list",
        "attachment: {extension: [exe, zip]}",
        facts(attachments=(PDF, ZIP)),
        [True],
    ),
    ("attachment-extension-none", "attachment: {extension: [exe]}", facts(attachments=(PDF,)), [False]),
    ("attachment-filename", "attachment: {filename: '*.pdf'}", facts(attachments=(PDF,)), [True]),
    (
        "attachment-content-type",
        "attachment: {content_type: 'application/*'}",
        facts(attachments=(ZIP,)),
        [True],
    ),
    (
        "attachment-same-one",
        "attachment: {extension: zip, size: {over: 10K}}",
        facts(attachments=(PDF, ZIP)),
        [False],
    ),
    ("attachment-size", "attachment: {size: {over: 10K}}", facts(attachments=(PDF, ZIP)), [True]),
    ("attachment-count-min", "attachment: {count: {min: 2}}", facts(attachments=(PDF, ZIP)), [True]),
    ("attachment-count-none", "attachment: {count: {max: 0}}", facts(), [True]),
    (
        "attachment-count-filtered",
        "attachment: {extension: pdf, count: {min: 2}}",
        facts(attachments=(PDF, ZIP)),
        [False],
    ),
    ("attachment-none", "attachment: {extension: pdf}", facts(), [False]),
    # -- PHI
    ("phi-contains", "phi: {contains_phi: true}", facts(phi=PHI), [True]),
    ("phi-contains-not", "phi: {contains_phi: true}", facts(), [False]),
    ("phi-clean", "phi: {contains_phi: false}", facts(), [True]),
    ("phi-score", "phi: {phi_score: 0.8}", facts(phi=PHI), [True]),
    ("phi-score-below", "phi: {phi_score: 0.9}", facts(phi=PHI), [False]),
    ("phi-entity", "phi: {entities: [US_SSN]}", facts(phi=PHI), [True]),
    ("phi-entity-absent", "phi: {entities: [US_MBI, ICD10_CODE]}", facts(phi=PHI), [False]),
    ("phi-min-count", "phi: {entities: [PERSON], min_count: 3}", facts(phi=PHI), [True]),
    ("phi-min-count-not", "phi: {entities: US_SSN, min_count: 2}", facts(phi=PHI), [False]),
    ("phi-min-score", "phi: {entities: [PERSON], min_score: 0.7}", facts(phi=PHI), [False]),
    ("phi-any-type-count", "phi: {min_count: 4}", facts(phi=PHI), [True]),
    ("phi-any-type-score", "phi: {min_score: 0.7, min_count: 2}", facts(phi=PHI), [False]),
    ("phi-unscannable", "phi: {unscannable: true}", facts(phi=PhiResult(unscannable=True)), [True]),
    ("phi-health-context", "phi: {health_context: true}", facts(phi=PhiResult(health_context=True)), [True]),
    ("phi-all-keys", "phi: {contains_phi: true, phi_score: 0.5, entities: [US_SSN]}", facts(phi=PHI), [True]),
    ("phi-nothing-found", "phi: {entities: [US_NPI]}", facts(), [False]),
    # -- stream
    ("stream-default", "stream: transactional", facts(), [True]),
    ("stream-header", "stream: bulk", facts(headers=(("x-relay-stream", "Bulk"),)), [True]),
    ("stream-precedence", "stream: bulk", facts(headers=(("precedence", "list"),)), [True]),
    (
        "stream-list-unsubscribe",
        "stream: bulk",
        facts(headers=(("list-unsubscribe", "<mailto:u@x>"),)),
        [True],
    ),
    (
        "stream-header-wins",
        "stream: transactional",
        facts(headers=(("x-relay-stream", "transactional"), ("precedence", "bulk"))),
        [True],
    ),
    (
        "stream-unknown-header-ignored",
        "stream: transactional",
        facts(headers=(("x-relay-stream", "weekly"),)),
        [True],
    ),
    ("stream-list", "stream: [bulk, transactional]", facts(), [True]),
    # -- combinations
    ("implicit-all", "sender_domain: clinic.example\nsubject: hello", facts(), [True]),
    ("implicit-all-fails", "sender_domain: clinic.example\nsubject: bye", facts(), [False]),
    ("all", "all: [{sender_domain: clinic.example}, {size: {under: 1M}}]", facts(), [True]),
    ("all-four", "all: [{sender: '*'}, {subject: '*'}, {size: {over: 1}}, {stream: bulk}]", facts(), [False]),
    ("any", "any: [{subject: nope}, {sender: app@clinic.example}]", facts(), [True]),
    (
        "any-none",
        "any: [{subject: nope}, {sender: x@y.example}, {size: {over: 1G}}, {stream: bulk}]",
        facts(),
        [False],
    ),
    ("not", "not: {subject: hello}", facts(), [False]),
    ("not-per-recipient", "not: {recipient_internal: true}", facts(to=TWO), [True, False]),
    (
        "nested",
        "any:\n  - all: [{recipient_internal: true}, {phi: {contains_phi: true}}]\n  - {subject: urgent}",
        facts(to=TWO, phi=PHI),
        [False, True],
    ),
    (
        "any-of-guarded-members",
        "any: [{recipient_domain: partner.example}, {sender: nobody@x.example}]",
        facts(to=TWO),
        [True, False],
    ),
]


@pytest.mark.parametrize(("when", "case", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_condition(tmp_path: Path, when: str, case: Facts, expected: list[bool]) -> None:
    assert held(tmp_path, when, case) == expected


STREAMS = """\
streams:
  transactional: [appointments@clinic.example]
  bulk: ["*@clinic.example", {regex: '^news'}]
"""


@pytest.mark.parametrize(
    ("sender", "headers", "stream"),
    [
        ("news@clinic.example", (), "bulk"),
        ("appointments@clinic.example", (), "transactional"),
        ("newsroom@elsewhere.example", (), "bulk"),
        ("someone@elsewhere.example", (), "transactional"),
        ("news@clinic.example", (("x-relay-stream", "transactional"),), "transactional"),
    ],
    ids=["bulk-sender", "transactional-carve-out", "bulk-regex", "default", "header-wins"],
)
def test_stream_from_sender_lists(
    tmp_path: Path, sender: str, headers: tuple[tuple[str, str], ...], stream: str
) -> None:
    assert held(tmp_path, f"stream: {stream}", facts(sender=sender, headers=headers), files=STREAMS) == [True]


def test_phi_counts_come_from_findings_when_there_is_no_summary(tmp_path: Path) -> None:
    findings = tuple(
        Finding(entity_type="US_NPI", score=score, part="1", start=0, end=10) for score in (0.9, 0.4)
    )
    case = facts(phi=PhiResult(contains_phi=True, findings=findings))
    assert held(tmp_path, "phi: {entities: [US_NPI], min_count: 2}", case) == [True]
    assert held(tmp_path, "phi: {entities: [US_NPI], min_score: 0.95}", case) == [False]


def test_conditions_look_at_lower_cased_header_names(tmp_path: Path) -> None:
    """The extractor gives lower-case names; the policy may write them in any case."""
    case = facts(headers=(("x-priority", "1"),))
    assert held(tmp_path, "header: {name: X-PRIORITY, matches: '1'}", case) == [True]

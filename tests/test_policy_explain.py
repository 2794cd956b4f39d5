"""``explain``: the trace of the shipped baseline, masking, JSON, and every outcome it can name."""

from __future__ import annotations

import json
from pathlib import Path

from relay.cli.policy import cmd_explain
from relay.model import Attachment, Envelope, Facts, FindingSummary, MessageFacts, PhiResult, TlsLevel
from relay.policy import evaluate, explain, load_policy
from relay.policy.render import decision_lines, to_json, to_text

REPO = Path(__file__).resolve().parent.parent
# Synthetic PHI: none of it may appear in any rendering.
PATIENT = "Jane Roe"
MRN = "MRN 00424242"
SAMPLE = f"""\
From: Lab <results@lab.clinic.example>
To: {PATIENT} <jane.roe@mail.example>
Subject: [secure] Results for {PATIENT}
X-Relay-Stream: bulk
X-Patient-Ref: {MRN}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Results for {PATIENT}, {MRN}.
--b
Content-Type: text/csv
Content-Disposition: attachment; filename="jane-roe-labs.csv"

test,value
a1c,5.4
--b--
"""
FOUND = PhiResult(
    contains_phi=True,
    phi_score=0.91,
    summary=(
        FindingSummary(entity_type="PERSON", count=2, max_score=0.85),
        FindingSummary(entity_type="MEDICAL_RECORD_NUMBER", count=1, max_score=0.95),
    ),
)

BASELINE_TRACE = "\n".join(
    [
        "envelope: from <results@lab.clinic.example> to <jane.roe@mail.example>, "
        "<records@clinic.example>; client 10.0.0.7; authenticated as labsys",
        "message: 425 bytes; subject of 29 characters (masked); 1 attachment(s): .csv text/csv 19 bytes",
        "stream: bulk (header X-Relay-Stream)",
        "phi: contains_phi=true phi_score=0.91 unscannable=false health_context=false;"
        " findings: MEDICAL_RECORD_NUMBER x1 (best 0.95), PERSON x2 (best 0.85)",
        "",
        "rules (in order; conditions marked yes, no, or later = decided at delivery):",
        "  00-hipaa-baseline.yaml:14 strip-internal-headers (enforce, non-terminal): "
        "remove_header x-relay-stream",
        "    every recipient: applied",
        "      (no conditions: matches every message)",
        "  00-hipaa-baseline.yaml:19 strip-subject-tags (enforce, non-terminal): "
        "strip_subject_tag '[secure]'; strip_subject_tag '[encrypt]'",
        "    every recipient: applied",
        "      [yes] subject contains '[secure]' or contains '[encrypt]'  <- subject of 29 "
        "characters (text masked)",
        "  00-hipaa-baseline.yaml:26 reject-ssn-in-bulk (enforce, terminal): reject 550 5.7.1 "
        "Bulk mail must not contain Social Security numbers; tag ssn-in-bulk",
        "    every recipient: not matched",
        "      [yes] stream is bulk  <- stream bulk (header X-Relay-Stream)",
        "      [no] at least 1 finding(s) of US_SSN  <- no US_SSN found",
        "  00-hipaa-baseline.yaml:38 secure-subject-tag (enforce, terminal): deliver tls=best "
        "minimum=verified fallback=portal; tag secure-tag",
        "    every recipient: applied, decides",
        "      [yes] subject contains '[secure]' or contains '[encrypt]'  <- subject of 29 "
        "characters (text masked)",
        "  00-hipaa-baseline.yaml:46 phi-requires-verified-tls (enforce, terminal): deliver "
        "tls=best minimum=verified fallback=portal; tag phi",
        "    every recipient: matched, but already decided by secure-subject-tag",
        "      [yes] contains_phi is true  <- contains_phi true",
        "  00-hipaa-baseline.yaml:54 unscannable-is-phi (enforce, terminal): deliver tls=best "
        "minimum=verified fallback=portal; tag unscannable",
        "    every recipient: not matched",
        "      [no] unscannable is true  <- unscannable false",
        "  default: deliver tls=opportunistic (00-hipaa-baseline.yaml:63)",
        "",
        "decision (policy VERSION, stream bulk):",
        "  <jane.roe@mail.example>: deliver tls=best minimum=verified fallback=portal",
        "    decided by secure-subject-tag;"
        " rules: strip-internal-headers, strip-subject-tags, secure-subject-tag;"
        " tags: secure-tag; remove headers: x-relay-stream;"
        " strip subject tags: [secure], [encrypt]",
        "  <records@clinic.example>: deliver tls=best minimum=verified fallback=portal",
        "    decided by secure-subject-tag;"
        " rules: strip-internal-headers, strip-subject-tags, secure-subject-tag;"
        " tags: secure-tag; remove headers: x-relay-stream;"
        " strip subject tags: [secure], [encrypt]",
    ]
)


def run_explain(tmp_path: Path, *, as_json: bool, phi: PhiResult | None = FOUND) -> str:
    eml = tmp_path / "sample.eml"
    eml.write_bytes(SAMPLE.replace("\n", "\r\n").encode())
    code, text = cmd_explain(
        REPO / "policies",
        eml,
        "results@lab.clinic.example",
        ["jane.roe@mail.example", "records@clinic.example"],
        as_json,
        client_ip="10.0.0.7",
        auth_user="labsys",
        phi=phi,
    )
    assert code == 0, text
    return text


def test_explain_of_the_shipped_baseline(tmp_path: Path) -> None:
    text = run_explain(tmp_path, as_json=False)
    head, _, rest = text.partition("\n")
    version = load_policy(REPO / "policies").version
    assert head == f"policy {version}: 00-hipaa-baseline.yaml"
    assert rest == BASELINE_TRACE.replace("VERSION", version)


def test_explain_never_shows_what_could_be_phi(tmp_path: Path) -> None:
    for as_json in (False, True):
        text = run_explain(tmp_path, as_json=as_json)
        for secret in (PATIENT, "Jane", "Roe", "00424242", "jane-roe-labs", "Results for", "a1c"):
            assert secret not in text, (secret, as_json)


def test_explain_json_carries_the_same_trace(tmp_path: Path) -> None:
    trace = json.loads(run_explain(tmp_path, as_json=True))
    assert trace["message"]["stream"] == "bulk"
    assert trace["message"]["subject_length"] == 29
    assert trace["phi"]["findings"] == [
        {"entity_type": "MEDICAL_RECORD_NUMBER", "count": 1, "max_score": 0.95},
        {"entity_type": "PERSON", "count": 2, "max_score": 0.85},
    ]
    rules = {rule["rule"]: rule for rule in trace["rules"]}
    reject = rules["reject-ssn-in-bulk"]["outcomes"][0]
    assert [(c["condition"], c["held"]) for c in reject["conditions"]] == [("stream", True), ("phi", False)]
    assert reject["conditions"][1]["path"] == "rules[2].when.phi"
    decided = trace["decision"]["recipients"][0]
    assert (decided["action"], decided["tls"], decided["tls_minimum"], decided["fallback"]) == (
        "deliver",
        "best",
        "verified",
        "portal",
    )


def test_an_unscannable_attachment_is_shown_and_fails_closed(tmp_path: Path) -> None:
    """The extractor marks a broken PDF unscannable; explain treats it as the relay does."""
    eml = tmp_path / "broken.eml"
    eml.write_text(
        "From: a@clinic.example\r\nTo: b@mail.example\r\nSubject: scan\r\nMIME-Version: 1.0\r\n"
        'Content-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        "JVBERi0xLjQK\r\n"
    )
    code, text = cmd_explain(REPO / "policies", eml, "a@clinic.example", ["b@mail.example"], False)
    assert code == 0
    assert "unscannable parts: " in text
    assert "<b@mail.example>: deliver tls=best minimum=verified fallback=portal" in text
    assert "decided by unscannable-is-phi" in text


def facts(*to: str, subject: str = "hello", phi: bool = False) -> Facts:
    return Facts(
        envelope=Envelope(sender="app@clinic.example", recipients=to, client_ip="10.0.0.1"),
        message=MessageFacts(subject=subject, headers=(("subject", subject),), size=10),
        phi=PhiResult(contains_phi=phi),
    )


POLICY = """\
rules:
  - name: watch
    mode: monitor
    when: {subject: hello}
    then: {quarantine: true}
  - name: partners
    when:
      recipient_domain: partner.example
      recipient_tls: {at_least: dane}
    then: {deliver: dane}
  - name: either
    when:
      any:
        - recipient_domain: nowhere.example
        - not: {subject: bye}
    then: {deliver: encrypted}
  - name: late
    then: {reject: never}
"""


def test_explain_names_every_outcome(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(POLICY)
    policy = load_policy(tmp_path)
    case = facts("a@partner.example", "b@else.example")
    trace = explain(policy, case)
    assert trace.decision == evaluate(policy, case)
    outcomes = {(rule.rule, o.recipients, o.outcome) for rule in trace.rules for o in rule.outcomes}
    assert outcomes == {
        ("watch", ("a@partner.example", "b@else.example"), "monitor: would quarantine (not done)"),
        ("partners", ("a@partner.example",), "deferred to delivery: applies if recipient TLS at least dane"),
        ("partners", ("b@else.example",), "not matched"),
        ("either", ("a@partner.example",), "applied, decides"),  # per recipient: it looks at the domain
        ("either", ("b@else.example",), "applied, decides"),
        ("late", ("a@partner.example", "b@else.example"), "matched, but already decided by either"),
    }
    text = to_text(trace)
    assert "[later] recipient TLS at least dane  <- partner.example: known at delivery time" in text
    nested = [
        "      [yes] any of",
        "          [no] recipient_domain is 'nowhere.example'  <- recipient domain partner.example",
        "          [yes] not",
        "              [no] subject is 'bye'  <- subject of 5 characters (text masked)",
    ]
    assert "\n".join(nested) in text
    assert "at delivery, if recipient TLS at least dane: deliver tls=dane fallback=defer (partners)" in text
    assert "message: split into 2 copies:" in text
    json.loads(to_json(trace))


def test_explain_with_a_known_tls_capability(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(POLICY)
    policy = load_policy(tmp_path)
    weak = explain(policy, facts("a@partner.example"), recipient_tls={"partner.example": TlsLevel.VERIFIED})
    strong = explain(policy, facts("a@partner.example"), recipient_tls={"partner.example": TlsLevel.DANE})
    assert weak.rules[1].outcomes[0].outcome == (
        "not matched: partner.example offers verified, the rule needs recipient TLS at least dane"
    )
    assert strong.rules[1].outcomes[0].outcome == "applied, decides"
    assert strong.rules[0].outcomes[0].outcome == "monitor: would quarantine (not done)"
    assert strong.rules[3].outcomes[0].outcome == "matched, but already decided by partners"


def test_monitor_after_the_decision_says_so(tmp_path: Path) -> None:
    text = (
        "rules:\n  - name: d\n    then: {deliver: verified}\n"
        "  - name: m\n    mode: monitor\n    then: {quarantine: true}\n"
    )
    (tmp_path / "10-p.yaml").write_text(text)
    trace = explain(load_policy(tmp_path), facts("a@x.example"))
    assert trace.rules[1].outcomes[0].outcome == "monitor: matched, but d had already decided"


def test_explain_refuses_without_recipients_and_with_a_missing_file(tmp_path: Path) -> None:
    assert cmd_explain(REPO / "policies", tmp_path / "x.eml", "a@b.example", [], False) == (
        2,
        "give at least one recipient (--to)",
    )
    code, text = cmd_explain(REPO / "policies", tmp_path / "x.eml", "a@b.example", ["c@d.example"], False)
    assert (code, text) == (2, f"{tmp_path / 'x.eml'}: cannot read: No such file or directory")
    code, text = cmd_explain(tmp_path / "none", tmp_path / "x.eml", "a@b.example", ["c@d.example"], False)
    assert (code, text) == (2, f"{tmp_path / 'none'}: policy directory does not exist")


def test_decision_lines_name_every_action(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(
        "rules:\n"
        "  - name: held\n    when: {recipient_domain: held.example}\n    then: {quarantine: true}\n"
        "  - name: portal\n    when: {attachment: {extension: pdf}}\n"
        "    then: {encrypt: portal, notify_sender: true, bcc: archive@clinic.example}\n"
        "  - name: extras\n    then: {add_header: {X-A: b}, route: bulk}\n"
    )
    policy = load_policy(tmp_path, pools=frozenset({"bulk"}))
    pdf = Attachment(
        part="2", filename="secret-name.pdf", extension="pdf", content_type="application/pdf", size=9
    )
    case = facts("a@held.example", "b@else.example")
    case = Facts(envelope=case.envelope, message=MessageFacts(subject="s", attachments=(pdf,)), phi=case.phi)
    decision = evaluate(policy, case)
    assert decision_lines(decision) == [
        f"decision (policy {policy.version}, stream transactional):",
        "  <a@held.example>: quarantine",
        "    decided by held; rules: held, extras; add headers: X-A; pool: bulk",
        "  <b@else.example>: encrypt portal",
        "    decided by portal; rules: portal, extras; add headers: X-A; bcc: archive@clinic.example; "
        "pool: bulk; sender notified",
        "  message: split into 2 copies:",
        "    <a@held.example>: quarantine",
        "    <b@else.example>: encrypt portal",
    ]
    assert decision.for_recipient("b@else.example").bcc == ("archive@clinic.example",)
    text = to_text(explain(policy, case))
    assert "1 attachment(s), names masked: .pdf application/pdf 9 bytes" in text
    assert "secret-name" not in text

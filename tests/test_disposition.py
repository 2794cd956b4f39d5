"""From a policy decision to spooled copies: ``recipient_tls`` branches reach the delivery side.

The plan stored with a copy must let delivery make exactly the choice the policy engine would
make once the recipient server's capability is known, and must survive the spool's JSON.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from relay.disposition import Disposition, dispose
from relay.model import (
    TLS_RANK,
    Envelope,
    Facts,
    MessageFacts,
    PhiResult,
    PlanAction,
    TlsLevel,
)
from relay.policy import Action, PolicyDecision, evaluate, load_policy
from relay.spool.records import plan_from_json, plan_to_json

POLICY = """\
rules:
  - name: dane-direct
    when: {phi: {contains_phi: true}, recipient_tls: {at_least: dane}}
    then: {deliver: dane}
  - name: weak-to-portal
    when: {phi: {contains_phi: true}, recipient_tls: {below: verified}}
    then: {encrypt: portal}
  - name: phi
    when: {phi: {contains_phi: true}}
    then: {deliver: {tls: verified, fallback: bounce}}
  - name: archive
    then: {bcc: archive@clinic.example}
"""
MESSAGE = b"From: app@clinic.example\r\nSubject: results\r\n\r\nbody\r\n"


def decide(tmp_path: Path, *to: str) -> tuple[PolicyDecision, Disposition]:
    (tmp_path / "10-policy.yaml").write_text(textwrap.dedent(POLICY))
    envelope = Envelope(sender="app@clinic.example", recipients=to, client_ip="10.0.0.1")
    facts = Facts(
        envelope=envelope,
        message=MessageFacts(subject="results", headers=(("subject", "results"),), size=len(MESSAGE)),
        phi=PhiResult(contains_phi=True, phi_score=0.9),
    )
    decision = evaluate(load_policy(tmp_path), facts, internal_domains=frozenset({"clinic.example"}))
    disposition = dispose(decision, envelope, MESSAGE, hostname="relay.test", queue_id="Q1", now=0.0)
    assert isinstance(disposition, Disposition)
    return decision, disposition


@pytest.mark.parametrize("capability", list(TLS_RANK), ids=[level.value for level in TLS_RANK])
def test_the_stored_plan_resolves_as_the_policy_decides(tmp_path: Path, capability: TlsLevel) -> None:
    decision, disposition = decide(tmp_path, "dr@partner.example")
    message = disposition.copies[0]
    stored = plan_from_json(plan_to_json(message.plan))  # what delivery reads back from the spool
    assert stored == message.plan
    planned, rule = stored.recipients[0].resolve(capability)
    decided = decision.recipients[0].resolve(capability)
    assert rule == (decided.decided_by if decided.decided_by != "phi" else "")
    assert planned.action is (PlanAction.PORTAL if decided.action is Action.PORTAL else PlanAction.DELIVER)
    assert (planned.tls, planned.tls_minimum, planned.fallback) == (
        decided.tls,
        decided.tls_minimum,
        decided.fallback,
    )
    assert planned.branches == ()


def test_the_archive_copy_is_as_protected_as_the_strictest_branch(tmp_path: Path) -> None:
    _, disposition = decide(tmp_path, "dr@partner.example")
    [bcc] = [copy for copy in disposition.copies if copy.role == "bcc"]
    # dane (a branch) is a proof about the partner's domain: the archive is held to verified.
    assert {entry.tls_minimum for entry in bcc.plan.recipients} == {TlsLevel.VERIFIED}


def test_an_archive_copy_of_portal_mail_needs_verified_tls(tmp_path: Path) -> None:
    (tmp_path / "10-policy.yaml").write_text(
        "rules:\n  - name: all-portal\n    then: {encrypt: portal, bcc: archive@clinic.example}\n"
    )
    envelope = Envelope(sender="app@clinic.example", recipients=("dr@partner.example",), client_ip="10.0.0.1")
    facts = Facts(envelope=envelope, message=MessageFacts(subject="s", size=10), phi=PhiResult())
    decision = evaluate(load_policy(tmp_path), facts, internal_domains=frozenset({"clinic.example"}))
    disposition = dispose(decision, envelope, MESSAGE, hostname="relay.test", queue_id="Q1", now=0.0)
    assert isinstance(disposition, Disposition)
    [bcc] = [copy for copy in disposition.copies if copy.role == "bcc"]
    assert [entry.tls_minimum for entry in bcc.plan.recipients] == [TlsLevel.VERIFIED]


def test_a_plan_without_branches_is_stored_as_before(tmp_path: Path) -> None:
    _, disposition = decide(tmp_path, "dr@partner.example")
    [bcc] = [copy for copy in disposition.copies if copy.role == "bcc"]
    assert "branches" not in plan_to_json(bcc.plan)
    assert plan_from_json(plan_to_json(bcc.plan)) == bcc.plan

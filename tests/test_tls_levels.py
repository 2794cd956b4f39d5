"""Combining the plan's TLS level with the domain's MTA-STS and DANE state (pure, table-driven)."""

from __future__ import annotations

import pytest

from relay.model import TlsLevel
from relay.tls.levels import (
    DaneState,
    DaneStatus,
    DomainAction,
    HopAction,
    StsMode,
    StsState,
    TlsRequirement,
    hop_tls,
    plan_domain,
)
from relay.tls.tlsa import TlsaRecord

EE = TlsaRecord(usage=3, selector=1, mtype=1, data=bytes(32))
PKIX_EE = TlsaRecord(usage=1, selector=1, mtype=1, data=bytes(32))

NO_DANE = DaneState()
DANE = DaneState(status=DaneStatus.SECURE, records=(EE,))
DANE_UNUSABLE = DaneState(status=DaneStatus.SECURE, records=(PKIX_EE,))
BOGUS = DaneState(status=DaneStatus.BOGUS, detail="SERVFAIL")

NO_STS = StsState()
ENFORCE = StsState(mode=StsMode.ENFORCE, mx=("*.example.com",))
ENFORCE_OTHER = StsState(mode=StsMode.ENFORCE, mx=("mail.other.example",))
TESTING = StsState(mode=StsMode.TESTING, mx=("*.example.com",))

L = TlsLevel
R = TlsRequirement
A = HopAction

CASES = [
    # requested, minimum, sts, dane, -> action, requirement
    ("best-dane", L.BEST, L.OPPORTUNISTIC, ENFORCE, DANE, A.DELIVER, R.DANE),
    ("best-sts", L.BEST, L.OPPORTUNISTIC, ENFORCE, NO_DANE, A.DELIVER, R.MTA_STS),
    ("best-nothing-minimum", L.BEST, L.ENCRYPTED, NO_STS, NO_DANE, A.DELIVER, R.ENCRYPTED),
    ("best-nothing-opportunistic", L.BEST, L.OPPORTUNISTIC, NO_STS, NO_DANE, A.DELIVER, R.OPPORTUNISTIC),
    ("best-testing-is-not-sts", L.BEST, L.VERIFIED, TESTING, NO_DANE, A.DELIVER, R.VERIFIED),
    ("best-min-dane-unmet", L.BEST, L.DANE, ENFORCE, NO_DANE, A.UNMET, R.MTA_STS),
    ("best-min-sts-met-by-dane", L.BEST, L.MTA_STS, NO_STS, DANE, A.DELIVER, R.DANE),
    ("best-min-sts-unmet", L.BEST, L.MTA_STS, NO_STS, NO_DANE, A.UNMET, R.VERIFIED),
    ("dane-met", L.DANE, L.DANE, NO_STS, DANE, A.DELIVER, R.DANE),
    ("dane-insecure-unmet", L.DANE, L.DANE, ENFORCE, NO_DANE, A.UNMET, R.MTA_STS),
    ("dane-unusable-records-unmet", L.DANE, L.DANE, NO_STS, DANE_UNUSABLE, A.UNMET, R.VERIFIED),
    ("sts-met", L.MTA_STS, L.MTA_STS, ENFORCE, NO_DANE, A.DELIVER, R.MTA_STS),
    ("sts-testing-unmet", L.MTA_STS, L.MTA_STS, TESTING, NO_DANE, A.UNMET, R.VERIFIED),
    ("sts-no-policy-unmet", L.MTA_STS, L.MTA_STS, NO_STS, NO_DANE, A.UNMET, R.VERIFIED),
    ("sts-request-met-by-dane", L.MTA_STS, L.MTA_STS, NO_STS, DANE, A.DELIVER, R.DANE),
    ("verified", L.VERIFIED, L.VERIFIED, NO_STS, NO_DANE, A.DELIVER, R.VERIFIED),
    ("encrypted", L.ENCRYPTED, L.ENCRYPTED, NO_STS, NO_DANE, A.DELIVER, R.ENCRYPTED),
    ("none", L.NONE, L.NONE, NO_STS, NO_DANE, A.DELIVER, R.NONE),
    ("domain-dane-raises-opportunistic", L.OPPORTUNISTIC, L.OPPORTUNISTIC, NO_STS, DANE, A.DELIVER, R.DANE),
    ("domain-dane-raises-verified", L.VERIFIED, L.VERIFIED, ENFORCE, DANE, A.DELIVER, R.DANE),
    (
        "domain-sts-raises-opportunistic",
        L.OPPORTUNISTIC,
        L.OPPORTUNISTIC,
        ENFORCE,
        NO_DANE,
        A.DELIVER,
        R.MTA_STS,
    ),
    ("domain-sts-raises-none", L.NONE, L.NONE, ENFORCE, NO_DANE, A.DELIVER, R.MTA_STS),
    (
        "unusable-tlsa-mean-encrypted",
        L.OPPORTUNISTIC,
        L.OPPORTUNISTIC,
        NO_STS,
        DANE_UNUSABLE,
        A.DELIVER,
        R.ENCRYPTED,
    ),
    ("sts-skip-unlisted", L.BEST, L.OPPORTUNISTIC, ENFORCE_OTHER, NO_DANE, A.SKIP, R.MTA_STS),
    ("dane-precedes-sts-unlisted", L.BEST, L.OPPORTUNISTIC, ENFORCE_OTHER, DANE, A.DELIVER, R.DANE),
    ("bogus-never", L.OPPORTUNISTIC, L.OPPORTUNISTIC, NO_STS, BOGUS, A.BOGUS, R.DANE),
    ("bogus-even-with-sts", L.BEST, L.OPPORTUNISTIC, ENFORCE, BOGUS, A.BOGUS, R.DANE),
    ("testing-never-skips", L.OPPORTUNISTIC, L.OPPORTUNISTIC, TESTING, NO_DANE, A.DELIVER, R.OPPORTUNISTIC),
    ("request-below-minimum-uses-minimum", L.ENCRYPTED, L.VERIFIED, NO_STS, NO_DANE, A.DELIVER, R.VERIFIED),
]


@pytest.mark.parametrize(
    ("requested", "minimum", "sts", "dane", "action", "requirement"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_hop_requirement(
    requested: TlsLevel,
    minimum: TlsLevel,
    sts: StsState,
    dane: DaneState,
    action: HopAction,
    requirement: TlsRequirement,
) -> None:
    hop = hop_tls("mx1.example.com", requested=requested, minimum=minimum, sts=sts, dane=dane)
    assert (hop.action, hop.requirement) == (action, requirement), hop.reason
    assert hop.tlsa == ((EE,) if requirement is R.DANE and action is A.DELIVER else ())


def test_testing_mode_is_marked_for_reporting() -> None:
    hop = hop_tls("mx1.example.com", requested=L.OPPORTUNISTIC, minimum=L.OPPORTUNISTIC, sts=TESTING)
    assert hop.sts_testing and hop.mx_pattern == "*.example.com"


def test_routes_are_not_skipped_by_sts_but_cannot_claim_it() -> None:
    hop = hop_tls("relay.internal", requested=L.BEST, minimum=L.VERIFIED, sts=ENFORCE_OTHER)
    assert hop.action is A.SKIP
    routed = plan_domain(
        "example.com",
        ["relay.internal"],
        requested=L.BEST,
        minimum=L.VERIFIED,
        sts=ENFORCE_OTHER,
        routed=True,
    )
    assert (routed.hops[0].action, routed.hops[0].requirement) == (A.DELIVER, R.VERIFIED)
    strict = plan_domain(
        "example.com",
        ["relay.internal"],
        requested=L.MTA_STS,
        minimum=L.MTA_STS,
        sts=ENFORCE_OTHER,
        routed=True,
    )
    assert strict.action is DomainAction.FALLBACK


@pytest.mark.parametrize(
    ("states", "sts", "minimum", "action"),
    [
        pytest.param(
            {"a": NO_DANE, "b": NO_DANE}, NO_STS, L.OPPORTUNISTIC, DomainAction.DELIVER, id="all-usable"
        ),
        pytest.param(
            {"a": BOGUS, "b": NO_DANE}, NO_STS, L.OPPORTUNISTIC, DomainAction.DELIVER, id="one-bogus"
        ),
        pytest.param({"a": BOGUS, "b": BOGUS}, NO_STS, L.OPPORTUNISTIC, DomainAction.DEFER, id="all-bogus"),
        pytest.param({"a": NO_DANE, "b": NO_DANE}, NO_STS, L.DANE, DomainAction.FALLBACK, id="all-unmet"),
        pytest.param({"a": DANE, "b": NO_DANE}, NO_STS, L.DANE, DomainAction.DELIVER, id="one-dane"),
        pytest.param({"a": BOGUS, "b": NO_DANE}, NO_STS, L.DANE, DomainAction.DEFER, id="bogus-and-unmet"),
        pytest.param(
            {"a": NO_DANE, "b": NO_DANE}, ENFORCE_OTHER, L.OPPORTUNISTIC, DomainAction.DEFER, id="none-listed"
        ),
        pytest.param(
            {"a": NO_DANE, "b": NO_DANE}, ENFORCE_OTHER, L.VERIFIED, DomainAction.DEFER, id="none-listed-min"
        ),
    ],
)
def test_domain_action(
    states: dict[str, DaneState], sts: StsState, minimum: TlsLevel, action: DomainAction
) -> None:
    hosts = [f"{name}.example.com" for name in states]
    dane = {f"{name}.example.com": state for name, state in states.items()}
    level = L.BEST if minimum is not L.OPPORTUNISTIC else L.OPPORTUNISTIC
    plan = plan_domain("example.com", hosts, requested=level, minimum=minimum, sts=sts, dane=dane)
    assert plan.action is action
    assert plan.minimum_unmet is (action is DomainAction.FALLBACK)
    assert [h.host for h in plan.hops] == hosts


def test_after_failures_falls_back_only_when_every_usable_hop_failed() -> None:
    plan = plan_domain(
        "example.com", ["a.example.com", "b.example.com"], requested=L.VERIFIED, minimum=L.VERIFIED
    )
    assert plan.after_failures(["a.example.com"]) is DomainAction.DELIVER
    assert plan.after_failures(["a.example.com", "b.example.com"]) is DomainAction.FALLBACK
    bogus = plan_domain(
        "example.com",
        ["a.example.com"],
        requested=L.VERIFIED,
        minimum=L.VERIFIED,
        dane={"a.example.com": BOGUS},
    )
    assert bogus.after_failures([]) is DomainAction.DEFER


def test_requirement_properties() -> None:
    assert [r.rank for r in R] == list(range(6))
    assert not R.OPPORTUNISTIC.requires_tls and R.ENCRYPTED.requires_tls
    assert R.VERIFIED.pkix and R.MTA_STS.pkix and not R.DANE.pkix
    assert R.for_level(L.MTA_STS) is R.MTA_STS and R.DANE.level is L.DANE
    with pytest.raises(ValueError):
        R.for_level(L.BEST)

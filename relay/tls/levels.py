"""What TLS to demand of each next hop: the plan's level combined with the domain's policies.

Pure. Inputs: the level the plan asks for (possibly ``best``) and its minimum, the recipient
domain's MTA-STS state and the DANE state of each MX host. Output: a ``DomainTlsPlan`` saying,
per hop, which ``TlsRequirement`` to enforce or why the hop must not be used, and what happens
to the domain as a whole.

The rules, each with its source:

* The domain's own published policy is a floor the relay always honours, whatever the plan:
  usable DNSSEC-signed TLSA records demand DANE (RFC 7672 section 2.2); TLSA records that are
  all unusable still demand TLS, unauthenticated (RFC 7672 section 2.2); an MTA-STS policy in
  ``enforce`` mode demands a PKIX-valid certificate of a host listed in its ``mx`` patterns, and
  a host not listed is not used at all (RFC 8461 section 5.1).
* DANE takes precedence over MTA-STS (RFC 8461 section 2): a host with usable TLSA records is
  authenticated by them even when the MTA-STS policy does not list it.
* A bogus (or indeterminate) DANE answer means the host is never delivered to; the domain is
  deferred until DNS is sane (RFC 7672 section 2.1.1).
* The plan's level: ``best`` is DANE where the host has usable TLSA records, else MTA-STS when
  the domain enforces a policy listing the host, else the plan's minimum. A concrete level that
  the host cannot offer (``dane`` without TLSA, ``mta-sts`` without a policy) steps down to the
  strongest one it can; below the minimum the hop is "unmet" and the plan's fallback applies.
* An MTA-STS policy in ``testing`` mode never blocks: the hop is marked so the caller reports
  what would have failed (RFC 8461 section 5, RFC 8460).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from relay.model import TlsLevel
from relay.tls.names import mx_matches
from relay.tls.tlsa import TlsaRecord


class TlsRequirement(enum.Enum):
    """What is enforced toward one hop, weakest first."""

    NONE = "none"
    """No TLS at all (STARTTLS is not even tried)."""
    OPPORTUNISTIC = "opportunistic"
    """STARTTLS when offered, nothing verified; cleartext when not offered."""
    ENCRYPTED = "encrypted"
    """TLS 1.2 or later required; the certificate is not verified."""
    VERIFIED = "verified"
    """TLS with a PKIX-valid certificate for the host name."""
    MTA_STS = "mta-sts"
    """VERIFIED, for a host listed in the domain's MTA-STS policy."""
    DANE = "dane"
    """TLS with a chain matching the host's DNSSEC-signed TLSA records."""

    @property
    def level(self) -> TlsLevel:
        return TlsLevel(self.value)

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def requires_tls(self) -> bool:
        return self.rank >= TlsRequirement.ENCRYPTED.rank

    @property
    def pkix(self) -> bool:
        return self in (TlsRequirement.VERIFIED, TlsRequirement.MTA_STS)

    @classmethod
    def for_level(cls, level: TlsLevel) -> TlsRequirement:
        """The requirement of a concrete level (``best`` is not one: ``ValueError``)."""
        return cls(level.value)


_ORDER = tuple(TlsRequirement)


class StsMode(enum.Enum):
    NONE = "none"
    """No usable policy (none published, fetch failed without a cached one, or mode none)."""
    TESTING = "testing"
    ENFORCE = "enforce"


@dataclass(frozen=True, slots=True, kw_only=True)
class StsState:
    mode: StsMode = StsMode.NONE
    mx: tuple[str, ...] = ()
    """The policy's ``mx`` patterns (RFC 8461 section 3.2)."""
    policy_id: str = ""
    policy_strings: tuple[str, ...] = ()
    """The policy's lines, for TLS-RPT's ``policy-string``."""
    failure: str = ""
    """RFC 8460 result type of the latest failed policy fetch (``sts-policy-fetch-error`` ...)."""


class DaneStatus(enum.Enum):
    SECURE = "secure"
    """The MX and TLSA answers are DNSSEC-authenticated and TLSA records exist."""
    INSECURE = "insecure"
    """No DANE for this host: unsigned zone, unsigned MX, or a signed denial of TLSA records."""
    BOGUS = "bogus"
    """The validating resolver failed (SERVFAIL) or did not answer: never deliver to the host."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DaneState:
    status: DaneStatus = DaneStatus.INSECURE
    records: tuple[TlsaRecord, ...] = ()
    detail: str = ""

    @property
    def usable(self) -> tuple[TlsaRecord, ...]:
        return tuple(r for r in self.records if r.usable) if self.status is DaneStatus.SECURE else ()


class HopAction(enum.Enum):
    DELIVER = "deliver"
    SKIP = "skip"
    """Not listed in the domain's enforced MTA-STS policy: never connect to it."""
    BOGUS = "bogus"
    """DANE state bogus or indeterminate: never connect to it."""
    UNMET = "unmet"
    """The strongest requirement this hop can be held to is below the plan's minimum."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HopTls:
    """The TLS decision for one next hop; what ``TlsPolicy.ssl_context_for`` and ``check_peer`` take."""

    host: str
    action: HopAction
    requirement: TlsRequirement
    """What to enforce when delivering; for UNMET, what could have been enforced."""
    tlsa: tuple[TlsaRecord, ...] = ()
    """The usable TLSA records, for a DANE requirement."""
    mx_pattern: str | None = None
    """The MTA-STS ``mx`` pattern the host matched, if any."""
    sts_testing: bool = False
    """The domain has an MTA-STS policy in testing mode: report whether the host would have
    passed it (listed in ``mx`` and PKIX-valid), never enforce it."""
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.action is HopAction.DELIVER


class DomainAction(enum.Enum):
    DELIVER = "deliver"
    """Try the usable hops in order."""
    FALLBACK = "fallback"
    """The plan's minimum cannot be met by any hop that may be used: apply the plan's fallback."""
    DEFER = "defer"
    """The domain's own DNS or policy forbids every hop (bogus DANE, no MX listed): retry later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainTlsPlan:
    domain: str
    requested: TlsLevel
    minimum: TlsLevel
    hops: tuple[HopTls, ...]
    action: DomainAction
    sts: StsState = StsState()
    detail: str = ""

    @property
    def minimum_unmet(self) -> bool:
        return self.action is DomainAction.FALLBACK

    @property
    def usable_hops(self) -> tuple[HopTls, ...]:
        return tuple(h for h in self.hops if h.usable)

    def hop(self, host: str) -> HopTls | None:
        return next((h for h in self.hops if h.host == host), None)

    def after_failures(self, failed: Iterable[str]) -> DomainAction:
        """What to do when the usable hops named in ``failed`` all failed their requirement at
        connection time (STARTTLS missing, certificate or TLSA mismatch).

        While a usable hop is left untried: DELIVER, else the plan's FALLBACK. A required level
        never degrades: the hop that failed is not tried again with less. (For a plan whose
        minimum is opportunistic the policy language only allows the fallback ``defer``, which
        is what RFC 7672 and RFC 8461 ask when a domain's own DANE or MTA-STS check fails.)
        """
        failed_hosts = set(failed)
        if any(h.host not in failed_hosts for h in self.usable_hops):
            return DomainAction.DELIVER
        return DomainAction.FALLBACK if self.action is not DomainAction.DEFER else DomainAction.DEFER


def plan_domain(
    domain: str,
    hosts: Sequence[str],
    *,
    requested: TlsLevel,
    minimum: TlsLevel,
    sts: StsState = StsState(),
    dane: Mapping[str, DaneState] | None = None,
    routed: bool = False,
) -> DomainTlsPlan:
    """The TLS plan for delivering to ``domain`` through ``hosts`` (in preference order).

    ``routed``: the hosts come from a static route, not the domain's MX records, so an enforced
    MTA-STS policy does not exclude them; they are still held to the plan's level (a route that
    is not listed in the policy simply cannot reach ``mta-sts``).
    """
    states = dane or {}
    hops = tuple(
        hop_tls(
            host,
            requested=requested,
            minimum=minimum,
            sts=sts,
            dane=states.get(host, DaneState()),
            routed=routed,
        )
        for host in hosts
    )
    actions = {h.action for h in hops}
    if HopAction.DELIVER in actions:
        action, detail = DomainAction.DELIVER, ""
    elif HopAction.BOGUS in actions:
        action, detail = DomainAction.DEFER, "DNSSEC lookup of TLSA records failed (bogus or indeterminate)"
    elif HopAction.UNMET in actions:
        action, detail = DomainAction.FALLBACK, f"no MX host can meet the minimum TLS level {minimum.value}"
    else:
        action, detail = DomainAction.DEFER, "no MX host is listed in the enforced MTA-STS policy"
    return DomainTlsPlan(
        domain=domain, requested=requested, minimum=minimum, hops=hops, action=action, sts=sts, detail=detail
    )


def hop_tls(
    host: str,
    *,
    requested: TlsLevel,
    minimum: TlsLevel,
    sts: StsState = StsState(),
    dane: DaneState = DaneState(),
    routed: bool = False,
) -> HopTls:
    """The decision for one hop (see the module docstring for the rules)."""
    floor = TlsRequirement.for_level(minimum)
    if dane.status is DaneStatus.BOGUS:
        return HopTls(
            host=host,
            action=HopAction.BOGUS,
            requirement=TlsRequirement.DANE,
            reason=dane.detail or "TLSA lookup bogus",
        )
    tlsa = dane.usable
    pattern = mx_matches(sts.mx, host) if sts.mode is not StsMode.NONE else None
    sts_listed = sts.mode is StsMode.ENFORCE and pattern is not None

    mandated = TlsRequirement.NONE
    if tlsa:
        mandated = TlsRequirement.DANE
    elif dane.status is DaneStatus.SECURE and dane.records:
        mandated = TlsRequirement.ENCRYPTED  # RFC 7672 section 2.2: unusable TLSA still mean TLS
    elif sts.mode is StsMode.ENFORCE and not routed:
        if pattern is None:
            return HopTls(
                host=host,
                action=HopAction.SKIP,
                requirement=TlsRequirement.MTA_STS,
                reason=f"{host} is not listed in the MTA-STS policy (mx: {', '.join(sts.mx)})",
            )
        mandated = TlsRequirement.MTA_STS

    available = {TlsRequirement.DANE: bool(tlsa), TlsRequirement.MTA_STS: sts_listed}
    if requested is TlsLevel.BEST:
        target = TlsRequirement.DANE if tlsa else TlsRequirement.MTA_STS if sts_listed else floor
    else:
        target = max(TlsRequirement.for_level(requested), floor, key=lambda r: r.rank)
    chosen = next(r for r in reversed(_ORDER[: target.rank + 1]) if available.get(r, True))
    requirement = max(chosen, mandated, key=lambda r: r.rank)
    unmet = requirement.rank < floor.rank
    return HopTls(
        host=host,
        action=HopAction.UNMET if unmet else HopAction.DELIVER,
        requirement=requirement,
        tlsa=tlsa if requirement is TlsRequirement.DANE else (),
        mx_pattern=pattern,
        sts_testing=sts.mode is StsMode.TESTING,
        reason=f"{host} offers at most {requirement.value}, the plan's minimum is {minimum.value}"
        if unmet
        else "",
    )

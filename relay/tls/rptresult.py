"""What one delivery session (or a hop refused before one) means for TLS-RPT (RFC 8460).

Pure: from the domain's TLS plan, the hop's decision and what the session proved, the
``SessionResult`` that ``TlsRptLog`` appends: which policy applied (DANE ``tlsa``, MTA-STS
``sts``, or none) and whether it held, with the RFC 8460 failure type when it did not.
"""

from __future__ import annotations

from datetime import datetime

from relay.model import TlsLevel
from relay.tls.levels import DomainTlsPlan, HopAction, HopTls, StsMode, TlsRequirement
from relay.tls.names import wildcard_match
from relay.tls.report import PolicyType, SessionResult
from relay.tls.results import FailureType, TlsCheck


def session_result(
    plan: DomainTlsPlan,
    hop: HopTls,
    check: TlsCheck | None,
    *,
    at: float,
    receiving_ip: str = "",
    sending_ip: str = "",
    failure: FailureType | None = None,
) -> SessionResult:
    """The TLS-RPT result of one session: the policy that applied and whether it held.

    ``check`` None with ``failure`` describes a handshake that failed; SKIP and BOGUS hops are
    reported as failures of the MTA-STS policy and of DNSSEC respectively. For an MTA-STS
    policy in testing mode, what is reported is whether the policy *would* have held, judged
    from the leaf certificate (listed host, name, dates), since the session was not verified.
    """
    sts = plan.sts
    strings: tuple[str, ...] = ()
    mx_host: tuple[str, ...] = ()
    if hop.requirement is TlsRequirement.DANE or hop.tlsa:
        policy_type, strings = PolicyType.TLSA, tuple(r.presentation() for r in hop.tlsa)
    elif sts.mode is not StsMode.NONE or sts.failure:
        policy_type, strings, mx_host = PolicyType.STS, sts.policy_strings, sts.mx
    else:
        policy_type = PolicyType.NO_POLICY
    reason = ""
    if hop.action is HopAction.BOGUS:
        policy_type, failure, reason = PolicyType.TLSA, FailureType.DNSSEC_INVALID, hop.reason
    elif hop.action is HopAction.SKIP:
        failure, reason = FailureType.VALIDATION_FAILURE, hop.reason
    elif sts.mode is StsMode.NONE and sts.failure and policy_type is PolicyType.STS:
        failure, reason = FailureType(sts.failure), "policy fetch failed"
    elif check is not None and not check.ok:
        failure, reason = check.failure or FailureType.VALIDATION_FAILURE, check.reason
    elif check is not None and sts.mode is StsMode.TESTING and policy_type is PolicyType.STS:
        failure, reason = _testing_failure(hop, check, at)
    elif check is None and failure is None:
        failure = FailureType.VALIDATION_FAILURE
    return SessionResult(
        at=at,
        policy_domain=plan.domain,
        policy_type=policy_type,
        policy_strings=strings,
        mx_host=mx_host,
        success=failure is None,
        failure=failure,
        receiving_mx_hostname=hop.host,
        receiving_ip=receiving_ip,
        sending_mta_ip=sending_ip,
        detail=reason,
    )


def _testing_failure(hop: HopTls, check: TlsCheck, at: float) -> tuple[FailureType | None, str]:
    if hop.mx_pattern is None:
        return FailureType.VALIDATION_FAILURE, f"{hop.host} is not listed in the MTA-STS policy"
    if check.level_reached is TlsLevel.NONE:
        return FailureType.STARTTLS_NOT_SUPPORTED, "no STARTTLS"
    cert = check.certificate
    if cert is None:
        return FailureType.VALIDATION_FAILURE, "no certificate"
    if datetime.fromisoformat(cert.not_after).timestamp() < at:
        return FailureType.CERTIFICATE_EXPIRED, f"certificate expired {cert.not_after}"
    if not any(wildcard_match(name, hop.host) for name in cert.names):
        return FailureType.CERTIFICATE_HOST_MISMATCH, f"certificate is for {', '.join(cert.names)}"
    return None, ""

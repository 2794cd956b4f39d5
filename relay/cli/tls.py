"""``relay tls check DOMAIN`` and ``relay tls report --date D``: command functions.

Each returns ``(exit code, text)``; argument parsing lives in main.py.

``cmd_check`` is a live preflight: it resolves the domain's MX hosts (or its static route), looks
up the MTA-STS record and policy and the DANE/TLSA state through the configured resolver, then
probes each host on ``delivery.port`` (EHLO and STARTTLS, no mail) and prints what it found and
the level the relay would reach today with ``tls: best``. Exit 0 when some host can be delivered
to, 1 when none can (or the domain does not resolve), 2 for bad input. It does not write the
relay's MTA-STS cache: the policy shown is the one published now.

``cmd_report`` prints the RFC 8460 aggregate reports of one UTC day as a JSON array (one report
per policy domain), from the TLS-RPT log the relay keeps under the spool.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from relay.config.schema import Config
from relay.delivery.mx import MxResolver, ResolutionStatus, route_hop
from relay.errors import RelayError
from relay.model import TlsLevel
from relay.tls.capability import dns_capability, probed_capability
from relay.tls.dnsquery import DnsClient
from relay.tls.levels import HopAction, HopTls, StsMode, TlsRequirement, plan_domain
from relay.tls.mtasts.resolver import MtaStsResult, StsStatus
from relay.tls.names import is_ip, normalise, valid_hostname
from relay.tls.outbound import TlsPolicy, make_context, sts_state
from relay.tls.probe import ProbeResult, probe
from relay.tls.report import TlsRptLog, aggregate
from relay.tls.rptsend import send_reports
from relay.tls.settings import TlsOutboundConfig
from relay.tls.statecache import Capability
from relay.tls.tlsa import match_tlsa
from relay.tls.verify import cert_info

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2

PROBE_TIMEOUT = 30.0
"""Per SMTP step of a probe; a live check should not hang on a host that stopped answering."""


def cmd_check(domain: str, config: Config, *, settings: TlsOutboundConfig | None = None) -> tuple[int, str]:
    """The live TLS preflight of ``domain`` (see the module docstring)."""
    name = normalise(domain)
    if not valid_hostname(name):
        return EXIT_INVALID, f"{domain!r} is not a domain name"
    resolved = (settings or TlsOutboundConfig()).resolved(config.spool)
    try:
        return asyncio.run(_check(name, config, resolved))
    except RelayError as exc:
        return EXIT_INVALID, str(exc)


def cmd_report(
    day: str | date,
    config: Config,
    *,
    settings: TlsOutboundConfig | None = None,
    domain: str | None = None,
    send: bool = False,
) -> tuple[int, str]:
    """The TLS-RPT reports of ``day`` (``YYYY-MM-DD``, UTC), optionally for one policy domain;
    ``send``: mail each to the ``rua`` of its domain's ``_smtp._tls`` record instead."""
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            return EXIT_INVALID, f"invalid date {day!r}: use YYYY-MM-DD"
    resolved = (settings or TlsOutboundConfig()).resolved(config.spool)
    try:
        results = list(TlsRptLog(resolved.report_dir).results_for(day))
    except RelayError as exc:
        return EXIT_FAILED, str(exc)
    if domain is not None:
        results = [r for r in results if r.policy_domain == normalise(domain)]
    reports = aggregate(
        results,
        day=day,
        organization=resolved.report_organization or config.hostname,
        contact=resolved.report_contact or f"mailto:postmaster@{config.hostname}",
    )
    if send:
        return asyncio.run(send_reports(reports, config, resolved))
    return EXIT_OK, json.dumps(list(reports), indent=2)


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    addresses: tuple[str, ...]


async def _check(domain: str, config: Config, settings: TlsOutboundConfig) -> tuple[int, str]:
    lines = [f"domain: {domain}"]
    route = config.routes.get(domain)
    if route is not None:
        port = route.port
        addresses = (route.host,) if is_ip(route.host) else await _addresses(config, route.host)
        named = route_hop(route, settings.route_names.get(domain)).host
        targets = [_Target(normalise(named), addresses)]
        lines.append(f"static route: {route} (MX records are not used)")
        if named != route.host.lower():
            lines.append(f"  its certificate must name {named} (outbound_tls.route_names)")
    else:
        port = config.delivery.port
        resolution = await MxResolver(config.dns).resolve(domain)
        if resolution.status is not ResolutionStatus.OK:
            lines.append(f"MX: {resolution.status.value}: {resolution.detail}")
            return EXIT_FAILED, "\n".join(lines)
        targets = [_Target(h.host, h.addresses) for h in resolution.hops]
        lines.append("MX hosts:")
        lines += [f"  {h.preference:>5} {h.host} [{', '.join(h.addresses)}]" for h in resolution.hops]

    policy = TlsPolicy(settings, config.dns, persistent_cache=False)
    try:
        hosts = [t.host for t in targets]
        sts, dane = await asyncio.gather(
            policy.mta_sts(domain), policy.dane_states(domain, hosts, routed=route is not None)
        )
    finally:
        policy.close()
    plan = plan_domain(
        domain,
        hosts,
        requested=TlsLevel.BEST,
        minimum=TlsLevel.OPPORTUNISTIC,
        sts=sts_state(sts),
        dane=dane,
        routed=route is not None,
    )
    lines += _sts_lines(sts)
    lines.append("DANE:")
    lines += [f"  {host}: {dane[host].status.value}: {dane[host].detail}" for host in hosts if host in dane]
    if not dane:
        lines.append("  not looked up (disabled)")

    ca_file = str(settings.ca_file) if settings.ca_file is not None else None
    unverified = make_context(TlsRequirement.ENCRYPTED)
    verified = make_context(TlsRequirement.VERIFIED, ca_file=ca_file)
    assert unverified is not None and verified is not None
    reached: list[tuple[str, TlsLevel]] = []
    probed: list[ProbeResult] = []
    now = datetime.now(UTC)
    for target, hop in zip(targets, plan.hops, strict=True):
        if not target.addresses:
            lines.append(f"{target.host}: no address")
            continue
        result = await probe(
            target.host,
            target.addresses[0],
            port,
            helo=config.hostname,
            timeout=min(PROBE_TIMEOUT, config.delivery.connect_timeout),
            unverified=unverified,
            verified=verified,
        )
        if hop.usable:
            probed.append(result)
        host_lines, level = _host_report(result, hop, plan.sts.mode, now)
        lines += host_lines
        if level is not None:
            reached.append((target.host, level))
    lines.append(_policy_capability_line(None if route is not None else dns_capability(plan), probed))
    if reached:
        host, level = reached[0]
        lines.append(f"the relay would reach today (tls: best): {level.value} via {host}")
        return EXIT_OK, "\n".join(lines)
    lines.append("the relay could not deliver to this domain today")
    return EXIT_FAILED, "\n".join(lines)


def _policy_capability_line(proven: Capability | None, probed: list[ProbeResult]) -> str:
    """What ``recipient_tls`` policy rules would see, by the rules delivery uses (capability.py)."""
    found = proven or next((c for r in probed if (c := probed_capability(r)) is not None), None)
    if found is None:
        return "recipient_tls capability: unknown (no usable host answered; delivery would defer)"
    return f"recipient_tls capability: {found.level.value} ({found.detail})"


async def _addresses(config: Config, host: str) -> tuple[str, ...]:
    client = DnsClient(config.dns)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        answer = await client.query(normalise(host) + ".", rdtype)
        found += [str(getattr(r, "address", "")) for r in answer.rdata]
    return tuple(a for a in found if a)


def _sts_lines(result: MtaStsResult) -> list[str]:
    lines = [f"MTA-STS: {result.status.value}" + (f" (id {result.policy_id})" if result.policy_id else "")]
    if result.detail:
        lines.append(f"  {result.detail}")
    if result.status is StsStatus.VALID and result.policy is not None:
        lines += [f"  | {line}" for line in result.policy.to_text().splitlines()]
    return lines


def _host_report(
    result: ProbeResult, hop: HopTls, sts_mode: StsMode, now: datetime
) -> tuple[list[str], TlsLevel | None]:
    """The lines for one host, and the level the relay reaches there (None: cannot deliver)."""
    session = result.session
    lines = [f"{result.host} [{result.address}]:{result.port}"]
    if not session.connected:
        lines.append(f"  unreachable: {session.error}")
        return lines, None
    if not session.starttls_offered:
        lines.append("  STARTTLS: not offered")
    elif not session.tls_established:
        lines.append(f"  STARTTLS: offered, handshake failed: {session.error}")
    else:
        lines.append(f"  STARTTLS: offered, {session.protocol} {session.cipher}")
    info = cert_info(session.chain[0]) if session.chain else None
    if info is not None:
        lines += [
            f"  certificate: {info.subject} issued by {info.issuer}",
            f"    names: {', '.join(info.names) or '(none)'}",
            f"    valid: {info.not_before} .. {info.not_after}"
            + (" (EXPIRED)" if datetime.fromisoformat(info.not_after) < now else ""),
            f"    TLSA 3 1 1 would be: {info.spki_sha256}",
        ]
    if result.pkix is not None:
        verdict = (
            "ok"
            if result.pkix_ok
            else f"failed ({result.pkix.failure.value if result.pkix.failure else '?'})"
        )
        lines.append(f"  PKIX for {result.host}: {verdict}")
    capability = TlsLevel.NONE
    if session.tls_established:
        capability = TlsLevel.ENCRYPTED
    if result.pkix_ok:
        capability = (
            TlsLevel.MTA_STS if sts_mode is not StsMode.NONE and hop.mx_pattern else TlsLevel.VERIFIED
        )
    dane_ok = False
    if hop.tlsa:
        match = match_tlsa(hop.tlsa, session.chain, names=(result.host,), now=now)
        dane_ok = match.ok
        lines.append(f"  DANE: {match.outcome.value} {match.detail}")
        if dane_ok:
            capability = TlsLevel.DANE
    lines.append(f"  capability: {capability.value}")
    if hop.action is not HopAction.DELIVER:
        lines.append(f"  the relay would not use it: {hop.action.value}: {hop.reason}")
        return lines, None
    requirement = hop.requirement
    met = {
        TlsRequirement.DANE: dane_ok,
        TlsRequirement.MTA_STS: result.pkix_ok and hop.mx_pattern is not None,
        TlsRequirement.VERIFIED: result.pkix_ok,
        TlsRequirement.ENCRYPTED: session.tls_established,
    }.get(requirement, True)
    if not met:
        lines.append(f"  the relay would refuse it: {requirement.value} required and not met")
        return lines, None
    if requirement.rank >= TlsRequirement.VERIFIED.rank:
        level = requirement.level
    elif requirement is TlsRequirement.NONE or not session.tls_established:
        level = TlsLevel.NONE
    else:
        level = TlsLevel.ENCRYPTED  # STARTTLS without verification: encrypted, not authenticated
    lines.append(f"  the relay would deliver with {requirement.value}, reaching {level.value}")
    return lines, level

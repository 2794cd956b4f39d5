"""Requirements enforced on real SMTP sessions: aiosmtpd sinks with certificates from a test CA.

Each test connects the way delivery is wired to (docs/tls.md): STARTTLS with
``TlsPolicy.ssl_context_for(hop)``, then ``check_peer`` before MAIL FROM, and a message is sent
only when the check passed. The servers record what they received, which proves that no byte of a
message reaches a server that failed its requirement (downgrade safety).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import pytest
from certs import IssuedCert, LocalCA
from cryptography import x509
from dnsserver import DnsServer
from tlsservers import StarttlsServer

from relay.model import TlsLevel
from relay.tls.levels import DaneState, DaneStatus, HopTls, StsMode, StsState, TlsRequirement, hop_tls
from relay.tls.outbound import TlsPolicy
from relay.tls.results import FailureType, TlsCheck
from relay.tls.settings import TlsOutboundConfig
from relay.tls.tlsa import TlsaRecord, association
from relay.tls.verify import handshake_failure

HOST = "mx.example.test"
BODY = b"Subject: lab results\r\n\r\nsynthetic body SENTINEL-7731\r\n"


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def policy(tmp_path: Path, ca: LocalCA, dns_server: DnsServer) -> Iterator[TlsPolicy]:
    settings = TlsOutboundConfig(ca_file=ca.ca_cert).resolved(tmp_path / "spool")
    made = TlsPolicy(settings, dns_server.dns_config())
    yield made
    made.close()


def _sink(cert: IssuedCert | None) -> StarttlsServer:
    return StarttlsServer(cert).start()


def _tlsa(usage: int, selector: int, mtype: int, pem: Path) -> TlsaRecord:
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    template = TlsaRecord(usage=usage, selector=selector, mtype=mtype, data=b"")
    return TlsaRecord(usage=usage, selector=selector, mtype=mtype, data=association(template, cert))


def _dane_hop(*records: TlsaRecord) -> HopTls:
    state = DaneState(status=DaneStatus.SECURE, records=records)
    return hop_tls(HOST, requested=TlsLevel.BEST, minimum=TlsLevel.OPPORTUNISTIC, dane=state)


def _hop(level: TlsLevel, sts: StsState | None = None) -> HopTls:
    return hop_tls(HOST, requested=level, minimum=level, sts=sts or StsState())


async def deliver(policy: TlsPolicy, hop: HopTls, sink: StarttlsServer) -> TlsCheck:
    """Connect, STARTTLS as the requirement says, check, and send only when the check passed."""
    smtp = aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=5, start_tls=False, use_tls=False)
    await smtp.connect()
    try:
        await smtp.ehlo()
        context = policy.ssl_context_for(hop)
        if context is not None and smtp.supports_extension("starttls"):
            try:
                await smtp.starttls(tls_context=context, server_hostname=HOST)
            except (aiosmtplib.SMTPException, ssl.SSLError) as exc:
                cause = exc.__cause__ if isinstance(exc.__cause__, ssl.SSLError) else exc
                return TlsCheck(
                    ok=False, level_reached=TlsLevel.NONE, failure=handshake_failure(cause), reason=str(exc)
                )
        ssl_object = smtp.get_transport_info("ssl_object")
        check = policy.check_peer(hop, ssl_object if isinstance(ssl_object, ssl.SSLObject) else None, HOST)
        if check.ok:
            await smtp.sendmail("s@relay.test", ["r@example.test"], BODY)
        return check
    finally:
        if smtp.is_connected:
            await smtp.quit()
        smtp.close()


def _received(sink: StarttlsServer) -> bytes:
    return b"".join(m.data for m in sink.messages)


@pytest.mark.parametrize(
    ("level", "reached"),
    [
        pytest.param(TlsLevel.OPPORTUNISTIC, TlsLevel.ENCRYPTED, id="opportunistic"),
        pytest.param(TlsLevel.ENCRYPTED, TlsLevel.ENCRYPTED, id="encrypted"),
        pytest.param(TlsLevel.VERIFIED, TlsLevel.VERIFIED, id="verified"),
    ],
)
async def test_levels_met(policy: TlsPolicy, ca: LocalCA, level: TlsLevel, reached: TlsLevel) -> None:
    sink = _sink(ca.issue(HOST))
    try:
        check = await deliver(policy, _hop(level), sink)
        assert check.ok and check.level_reached is reached, check.reason
        assert check.protocol in ("TLSv1.2", "TLSv1.3") and check.certificate is not None
        assert check.certificate.names == (HOST,)
        assert sink.messages[0].tls
    finally:
        sink.stop()


@pytest.mark.parametrize(
    ("issue", "failure"),
    [
        pytest.param(
            {"names": ("other.example.test",)}, FailureType.CERTIFICATE_HOST_MISMATCH, id="wrong-name"
        ),
        pytest.param({"expired": True}, FailureType.CERTIFICATE_EXPIRED, id="expired"),
        pytest.param({"self_signed": True}, FailureType.CERTIFICATE_NOT_TRUSTED, id="self-signed"),
    ],
)
async def test_verified_unmet_sends_nothing(
    policy: TlsPolicy, ca: LocalCA, issue: dict[str, object], failure: FailureType
) -> None:
    names = issue.pop("names", (HOST,))
    sink = _sink(ca.issue(*names, **issue))  # type: ignore[arg-type]
    try:
        check = await deliver(policy, _hop(TlsLevel.VERIFIED), sink)
        assert not check.ok and check.failure is failure
        assert sink.messages == [] and b"SENTINEL" not in _received(sink)
    finally:
        sink.stop()


@pytest.mark.parametrize("level", [TlsLevel.ENCRYPTED, TlsLevel.VERIFIED, TlsLevel.DANE])
async def test_starttls_stripping_sends_nothing(policy: TlsPolicy, ca: LocalCA, level: TlsLevel) -> None:
    sink = _sink(None)  # no STARTTLS offered, as when an attacker strips it from the EHLO reply
    hop = _dane_hop(_tlsa(3, 1, 1, ca.issue(HOST).cert)) if level is TlsLevel.DANE else _hop(level)
    try:
        check = await deliver(policy, hop, sink)
        assert not check.ok and check.failure is FailureType.STARTTLS_NOT_SUPPORTED
        assert sink.messages == []
    finally:
        sink.stop()


async def test_opportunistic_goes_on_without_starttls(policy: TlsPolicy) -> None:
    sink = _sink(None)
    try:
        check = await deliver(policy, _hop(TlsLevel.OPPORTUNISTIC), sink)
        assert check.ok and check.level_reached is TlsLevel.NONE
        assert not sink.messages[0].tls
    finally:
        sink.stop()


@pytest.mark.parametrize(
    ("selector", "mtype"), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)], ids=lambda v: str(v)
)
async def test_dane_ee_match_ignores_name_and_dates(
    policy: TlsPolicy, ca: LocalCA, selector: int, mtype: int
) -> None:
    leaf = ca.issue("unrelated.example.test", expired=True)
    sink = _sink(leaf)
    try:
        check = await deliver(policy, _dane_hop(_tlsa(3, selector, mtype, leaf.cert)), sink)
        assert check.ok and check.level_reached is TlsLevel.DANE, check.reason
        assert len(sink.messages) == 1
    finally:
        sink.stop()


async def test_dane_ee_mismatch_sends_nothing(policy: TlsPolicy, ca: LocalCA) -> None:
    sink = _sink(ca.issue(HOST))
    try:
        check = await deliver(policy, _dane_hop(_tlsa(3, 1, 1, ca.issue(HOST).cert)), sink)  # another key
        assert not check.ok and check.failure is FailureType.TLSA_INVALID
        assert sink.messages == []
    finally:
        sink.stop()


@pytest.mark.parametrize(("selector", "mtype"), [(0, 1), (1, 1), (1, 2), (0, 0)], ids=lambda v: str(v))
async def test_dane_ta_match(policy: TlsPolicy, ca: LocalCA, selector: int, mtype: int) -> None:
    sink = _sink(ca.issue(HOST))  # the sink presents leaf + CA: the chain comes from the session
    try:
        check = await deliver(policy, _dane_hop(_tlsa(2, selector, mtype, ca.ca_cert)), sink)
        assert check.ok and check.level_reached is TlsLevel.DANE and check.chain_length == 2, check.reason
        assert len(sink.messages) == 1
    finally:
        sink.stop()


async def test_dane_ta_wrong_name_or_other_ca_sends_nothing(
    policy: TlsPolicy, ca: LocalCA, tmp_path: Path
) -> None:
    wrong_name = _sink(ca.issue("other.example.test"))
    other_ca = LocalCA(tmp_path / "other", name="Other CA")
    try:
        check = await deliver(policy, _dane_hop(_tlsa(2, 1, 1, ca.ca_cert)), wrong_name)
        assert not check.ok and check.failure is FailureType.CERTIFICATE_HOST_MISMATCH
        check = await deliver(policy, _dane_hop(_tlsa(2, 1, 1, other_ca.ca_cert)), wrong_name)
        assert not check.ok and check.failure is FailureType.TLSA_INVALID
        assert wrong_name.messages == []
    finally:
        wrong_name.stop()


async def test_mta_sts_met_and_wiring_mistakes_caught(policy: TlsPolicy, ca: LocalCA) -> None:
    sts = StsState(mode=StsMode.ENFORCE, mx=("*.example.test",))
    hop = _hop(TlsLevel.MTA_STS, sts)
    assert hop.requirement is TlsRequirement.MTA_STS
    sink = _sink(ca.issue(HOST))
    try:
        check = await deliver(policy, hop, sink)
        assert check.ok and check.level_reached is TlsLevel.MTA_STS
        # A session made with an unverified context must never pass a PKIX requirement.
        wrong = HopTls(host=HOST, action=hop.action, requirement=TlsRequirement.ENCRYPTED)
        smtp = aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=5, start_tls=False, use_tls=False)
        await smtp.connect()
        await smtp.starttls(tls_context=policy.ssl_context_for(wrong), server_hostname=HOST)
        ssl_object = smtp.get_transport_info("ssl_object")
        mistaken = policy.check_peer(hop, ssl_object, HOST)
        assert not mistaken.ok and mistaken.failure is FailureType.VALIDATION_FAILURE
        await smtp.quit()
    finally:
        sink.stop()


def test_contexts_per_requirement(policy: TlsPolicy) -> None:
    assert policy.ssl_context_for(TlsRequirement.NONE) is None
    for requirement in (TlsRequirement.ENCRYPTED, TlsRequirement.DANE):
        context = policy.ssl_context_for(requirement)
        assert context is not None and context.verify_mode is ssl.CERT_NONE
        assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    for requirement in (TlsRequirement.VERIFIED, TlsRequirement.MTA_STS):
        context = policy.ssl_context_for(requirement)
        assert context is not None and context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert context.minimum_version is ssl.TLSVersion.TLSv1_2

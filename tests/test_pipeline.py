"""The before-queue pipeline: a stage that fails or stalls is 451 4.3.0, never 250.

The real ingress (RelaySMTP + IngressHandler) runs in-process on loopback with the real policy
engine; the analyzer is a test double implementing the real ``Analyzer`` protocol, and the
intake records what it was given.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosmtplib
import pytest
from prometheus_client import CollectorRegistry

from relay.audit.events import AuditEvent
from relay.clock import SystemClock
from relay.errors import PipelineError
from relay.ingress.handler import IngressHandler
from relay.ingress.server import ConnectionLimiter, IngressLimits, RelaySMTP
from relay.metrics import Metrics
from relay.model import Envelope, MessageFacts, PhiResult, QueueState
from relay.pipeline import Analyzer, ExtractOnly, Pipeline
from relay.policy import PolicyStore
from relay.spool import NewMessage

POLICY = """\
rules:
  - name: refuse-blocked
    when: {recipient: blocked@example.test}
    then: {reject: {code: 550, enhanced: 5.7.1, text: Message refused by policy}}
  - name: hold-review
    when: {recipient: review@example.test}
    then: {quarantine: true}
"""


class RecordingIntake:
    def __init__(self) -> None:
        self.accepted: list[NewMessage] = []

    async def accept(self, messages: Sequence[NewMessage]) -> None:
        self.accepted.extend(messages)


class RecordingAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)


class FailingAnalyzer:
    async def analyze(self, data: bytes) -> tuple[MessageFacts, PhiResult]:
        raise RuntimeError("scanner exploded")


class StallingAnalyzer:
    async def analyze(self, data: bytes) -> tuple[MessageFacts, PhiResult]:
        await asyncio.sleep(30)
        return MessageFacts(), PhiResult()


@pytest.fixture
def policies(tmp_path: Path) -> PolicyStore:
    (tmp_path / "10-test.yaml").write_text(POLICY)
    return PolicyStore.load(tmp_path)


async def _serve(
    analyzer: Analyzer, policies: PolicyStore, intake: RecordingIntake, audit: RecordingAudit | None = None
) -> AsyncIterator[int]:
    pipeline = Pipeline(
        analyzer=analyzer,
        policies=policies,
        internal_domains=frozenset(),
        hostname="relay.test",
        timeout=0.3,
        metrics=Metrics(registry=CollectorRegistry()),
    )
    handler = IngressHandler(
        audit=audit or RecordingAudit(),
        metrics=Metrics(registry=CollectorRegistry()),
        hostname="relay.test",
        relay_from=[ipaddress.ip_network("127.0.0.0/8")],
        max_recipients=10,
        pipeline=pipeline,
        intake=intake,
        clock=SystemClock(),
    )
    limits = IngressLimits(max_message_size=100_000, max_line_length=998, command_timeout=10, data_timeout=10)
    limiter = ConnectionLimiter(max_total=10, max_per_ip=10)
    server = await asyncio.get_running_loop().create_server(
        lambda: RelaySMTP(
            handler,
            hostname="relay.test",
            limits=limits,
            limiter=limiter,
            users=None,
            tls_context=None,
            metrics=Metrics(registry=CollectorRegistry()),
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _send(port: int, recipients: Sequence[str]) -> tuple[int, str]:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    await client.connect()
    try:
        await client.sendmail("a@example.org", list(recipients), b"Subject: x\r\n\r\nbody\r\n")
    except aiosmtplib.SMTPDataError as exc:
        return exc.code, exc.message
    finally:
        client.close()
    return 250, "OK"


@pytest.mark.parametrize(
    ("analyzer", "recipients", "code", "text"),
    [
        (FailingAnalyzer(), ["b@example.test"], 451, "4.3.0"),
        (StallingAnalyzer(), ["b@example.test"], 451, "4.3.0"),
        (ExtractOnly(), ["blocked@example.test"], 550, "5.7.1 Message refused by policy"),
    ],
    ids=["stage-raises", "stage-times-out", "policy-rejects"],
)
async def test_no_decision_means_no_250_and_nothing_stored(
    analyzer: Analyzer, recipients: list[str], code: int, text: str, policies: PolicyStore
) -> None:
    intake = RecordingIntake()
    async for port in _serve(analyzer, policies, intake):
        reply_code, reply_text = await _send(port, recipients)
        assert reply_code == code
        assert reply_text.startswith(text)
    assert intake.accepted == []


async def test_recipients_with_different_decisions_become_separate_copies(policies: PolicyStore) -> None:
    intake = RecordingIntake()
    async for port in _serve(ExtractOnly(), policies, intake):
        assert (await _send(port, ["b@example.test", "review@example.test", "blocked@example.test"]))[
            0
        ] == 250
    by_recipients = {m.envelope.recipients: m for m in intake.accepted}
    normal = by_recipients[("b@example.test",)]
    assert normal.state is QueueState.ACTIVE
    assert normal.data.startswith(b"Received: from ")
    assert f"id {normal.queue_id}".encode() in normal.data
    assert by_recipients[("review@example.test",)].state is QueueState.QUARANTINED
    # The rejected recipient is returned to the sender in a DSN from the null sender.
    dsn = by_recipients[("a@example.org",)]
    assert dsn.envelope.sender == ""
    assert b"blocked@example.test" in dsn.data
    assert len(intake.accepted) == 3


async def test_pipeline_translates_failures(policies: PolicyStore) -> None:
    pipeline = Pipeline(
        analyzer=StallingAnalyzer(),
        policies=policies,
        internal_domains=frozenset(),
        hostname="relay.test",
        timeout=0.05,
        metrics=Metrics(registry=CollectorRegistry()),
    )
    with pytest.raises(PipelineError, match="exceeded"):
        await pipeline.process(
            "Q1", Envelope(sender="a@b.test", recipients=("c@d.test",), client_ip="127.0.0.1"), b"", now=0.0
        )

"""The before-queue pipeline: a stage that fails or stalls is 451 4.3.0, never 250; extraction
runs in worker processes, so a slow message does not stall the event loop.

The real ingress (RelaySMTP + IngressHandler) runs in-process on loopback with the real policy
engine; the analyzer is the real pool (``PhiPool`` with PHI detection off: extraction only, one
worker process) or a test double implementing the real ``Analyzer`` protocol, and the intake
records what it was given.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from pathlib import Path
from typing import TypeVar

import aiosmtplib
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from relay.audit.events import AuditEvent, AuditKind
from relay.clock import SystemClock
from relay.errors import PipelineError
from relay.ingress.handler import IngressHandler
from relay.ingress.server import ConnectionLimiter, IngressLimits, RelaySMTP
from relay.message import extract
from relay.metrics import Metrics
from relay.model import Envelope, MessageFacts, PhiResult, QueueState, Rejection
from relay.phi.pool import PhiPool
from relay.phi.settings import PhiSettings
from relay.pipeline import Analyzer, Pipeline, SmallInline
from relay.policy import PolicyStore
from relay.spool import NewMessage

T = TypeVar("T")

POLICY = """\
rules:
  - name: refuse-blocked
    when: {recipient: blocked@example.test}
    then: {reject: {code: 550, enhanced: 5.7.1, text: Message refused by policy}}
  - name: hold-review
    when: {recipient: review@example.test}
    then: {quarantine: true}
  - name: watch-quarantine
    mode: monitor
    when: {recipient: watched@example.test}
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

    async def persist(self, *events: AuditEvent) -> None:
        self.events.extend(events)


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


@pytest_asyncio.fixture
async def extracting() -> AsyncIterator[PhiPool]:
    """The analyzer of a relay with PHI detection off: extraction in one worker process."""
    async with PhiPool(PhiSettings(enabled=False, workers=1)) as pool:
        yield pool


def slow_to_extract(tags: int = 300_000) -> bytes:
    """An HTML mail of 7 MB of empty tags: seconds of parsing for a few characters of text."""
    html = "<html><body>\r\n" + "<div><span></span></div>\r\n" * tags + "</body></html>\r\n"
    return b"Subject: slow\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode()


async def _largest_gap(work: Awaitable[T]) -> tuple[T, float]:
    """``work``'s result, and the longest the event loop went without running a 10 ms ticker."""
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        result = await work
    finally:
        ticker.cancel()
    return result, max(gaps)


async def _serve(
    analyzer: Analyzer,
    policies: PolicyStore,
    intake: RecordingIntake,
    audit: RecordingAudit | None = None,
    *,
    timeout: float = 30.0,
) -> AsyncIterator[int]:
    pipeline = Pipeline(
        analyzer=analyzer,
        policies=policies,
        internal_domains=frozenset(),
        hostname="relay.test",
        timeout=timeout,
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
    "analyzer", [FailingAnalyzer(), StallingAnalyzer()], ids=["stage-raises", "stage-times-out"]
)
async def test_no_decision_means_451_and_nothing_stored(analyzer: Analyzer, policies: PolicyStore) -> None:
    intake = RecordingIntake()
    async for port in _serve(analyzer, policies, intake, timeout=0.3):
        reply_code, reply_text = await _send(port, ["b@example.test"])
        assert reply_code == 451
        assert reply_text.startswith("4.3.0")
    assert intake.accepted == []


async def test_policy_rejection_means_550_and_nothing_stored(
    extracting: PhiPool, policies: PolicyStore
) -> None:
    intake = RecordingIntake()
    async for port in _serve(extracting, policies, intake):
        assert await _send(port, ["blocked@example.test"]) == (550, "5.7.1 Message refused by policy")
    assert intake.accepted == []


async def test_recipients_with_different_decisions_become_separate_copies(
    extracting: PhiPool, policies: PolicyStore
) -> None:
    intake = RecordingIntake()
    async for port in _serve(extracting, policies, intake):
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


@pytest.mark.parametrize("inline_up_to", [None, 64 * 1024], ids=["pool", "small-inline"])
async def test_extraction_does_not_stall_the_event_loop(
    extracting: PhiPool, inline_up_to: int | None
) -> None:
    """A message that takes seconds to extract leaves the loop free for every other session,
    also when small messages are extracted inline (PHI detection off).

    Structural, not a speed target: the loop's longest pause is compared with the time the same
    extraction blocks the loop when run on it (measured here, first).
    """
    data = slow_to_extract()
    started = time.perf_counter()
    expected = extract(data).facts
    on_the_loop = time.perf_counter() - started
    assert on_the_loop > 0.3, "the message must be slow to extract for this test to mean anything"
    analyzer = extracting if inline_up_to is None else SmallInline(extracting, max_size=inline_up_to)
    (facts, phi), largest_gap = await _largest_gap(analyzer.analyze(data))
    assert largest_gap < on_the_loop / 3
    assert facts == expected, "the same facts as extraction on the loop gave"
    assert phi == PhiResult(unscannable=True), "PHI detection is off: fail closed"


async def test_small_messages_are_extracted_inline_as_the_pool_would(extracting: PhiPool) -> None:
    data = b"Subject: small\r\nContent-Type: text/html\r\n\r\n<p>hello <b>there</b></p>\r\n"
    inline = await SmallInline(extracting).analyze(data)
    assert inline == await extracting.analyze(data)
    assert inline[0].subject == "small" and inline[1] == PhiResult(unscannable=True)


async def test_an_unstarted_pool_starts_with_the_first_message_too_big_for_inline() -> None:
    """With PHI detection off the relay does not start the pool: most mail never needs it."""
    pool = PhiPool(PhiSettings(enabled=False, workers=1))
    try:
        data = b"Subject: big\r\n\r\n" + b"line of text\r\n" * 100
        facts, phi = await SmallInline(pool, max_size=100).analyze(data)
        assert facts == extract(data).facts and phi == PhiResult(unscannable=True)
    finally:
        await pool.stop()


async def test_extraction_over_budget_is_not_judged_and_the_pool_goes_on(extracting: PhiPool) -> None:
    """Without its headers and attachments a message cannot be judged by the policy: the
    pipeline error becomes 451 4.3.0 in the session (the sender retries), never a 250."""
    data = slow_to_extract()
    with pytest.raises(PipelineError, match=r"^message extraction exceeded the 0\.05 s budget$"):
        await extracting.analyze(data, budget=0.05)
    facts, _ = await extracting.analyze(b"Subject: next\r\n\r\nhello\r\n")
    assert facts.subject == "next" and facts.unscannable == ()


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


def _pipeline(analyzer: Analyzer, policies: PolicyStore, registry: CollectorRegistry) -> Pipeline:
    return Pipeline(
        analyzer=analyzer,
        policies=policies,
        internal_domains=frozenset(),
        hostname="relay.test",
        timeout=0.3,
        metrics=Metrics(registry=registry),
    )


ENVELOPE = Envelope(sender="a@b.test", recipients=("watched@example.test",), client_ip="127.0.0.1")


@pytest.mark.parametrize(
    ("analyzer", "counted"),
    [(FailingAnalyzer(), 1.0), (StallingAnalyzer(), 0.0)],
    ids=["bug-counted", "timeout-not-a-bug"],
)
async def test_a_pipeline_bug_is_an_internal_error(
    analyzer: Analyzer, counted: float, policies: PolicyStore
) -> None:
    registry = CollectorRegistry()
    with pytest.raises(PipelineError):
        await _pipeline(analyzer, policies, registry).process("Q1", ENVELOPE, b"", now=0.0)
    errors = registry.get_sample_value("relay_internal_errors_total", {"component": "pipeline"})
    assert (errors or 0.0) == counted


async def test_monitor_hits_are_counted_and_change_nothing(
    extracting: PhiPool, policies: PolicyStore
) -> None:
    registry = CollectorRegistry()
    outcome = await _pipeline(extracting, policies, registry).process(
        "Q1", ENVELOPE, b"Subject: lab results\r\n\r\nhello\r\n", now=0.0
    )
    assert not isinstance(outcome, Rejection)
    [copy] = outcome.copies
    assert copy.state is QueueState.ACTIVE, "a monitor rule only watches"
    hits = {"rule": "watch-quarantine", "mode": "monitor"}
    assert registry.get_sample_value("relay_policy_rule_hits_total", hits) == 1.0
    assert outcome.subject == "lab results"
    assert outcome.monitor_hits == ("watch-quarantine: would quarantine",)


async def test_the_accept_record_carries_the_subject_for_audit_privacy(
    extracting: PhiPool, policies: PolicyStore
) -> None:
    """The handler hands the subject to the audit trail, whose ``audit.subjects`` setting keeps,
    hashes or (by default) drops it."""
    audit, intake = RecordingAudit(), RecordingIntake()
    async for port in _serve(extracting, policies, intake, audit):
        assert (await _send(port, ["b@example.test"]))[0] == 250
        assert (await _send(port, ["watched@example.test"]))[0] == 250
    plain, watched = [e for e in audit.events if e.kind is AuditKind.ACCEPTED]
    assert plain.subject == "x"
    assert "monitor" not in plain.details
    assert watched.details["monitor"] == "watch-quarantine: would quarantine"

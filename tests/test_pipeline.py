"""The before-queue pipeline: a stage that fails or stalls is 451 4.3.0, never 250.

The real ingress (RelaySMTP + IngressHandler) runs in-process on loopback; the decider is a
test double implementing the real ``Decider`` protocol, and the intake records what it was given.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from relay.clock import SystemClock
from relay.errors import PipelineError
from relay.ingress.handler import IngressHandler
from relay.ingress.server import ConnectionLimiter, IngressLimits, RelaySMTP
from relay.model import Envelope, Plan, Rejection
from relay.pipeline import OpportunisticDecider, Pipeline


class RecordingIntake:
    def __init__(self) -> None:
        self.accepted: list[tuple[str, Envelope, Plan, bytes]] = []

    async def accept(self, queue_id: str, envelope: Envelope, plan: Plan, data: bytes) -> None:
        self.accepted.append((queue_id, envelope, plan, data))


class FailingDecider:
    async def decide(self, envelope: Envelope, data: bytes) -> Plan | Rejection:
        raise RuntimeError("scanner exploded")


class StallingDecider:
    async def decide(self, envelope: Envelope, data: bytes) -> Plan | Rejection:
        await asyncio.sleep(30)
        return Plan.opportunistic(envelope)


class RejectingDecider:
    async def decide(self, envelope: Envelope, data: bytes) -> Plan | Rejection:
        return Rejection(code=550, enhanced="5.7.1", text="Message refused by policy")


async def _serve(decider: object, intake: RecordingIntake) -> AsyncIterator[int]:
    handler = IngressHandler(
        hostname="relay.test",
        relay_from=[ipaddress.ip_network("127.0.0.0/8")],
        max_recipients=10,
        pipeline=Pipeline(decider, timeout=0.3),  # type: ignore[arg-type]
        intake=intake,
        clock=SystemClock(),
    )
    limits = IngressLimits(max_message_size=100_000, max_line_length=998, command_timeout=10, data_timeout=10)
    limiter = ConnectionLimiter(max_total=10, max_per_ip=10)
    server = await asyncio.get_running_loop().create_server(
        lambda: RelaySMTP(
            handler, hostname="relay.test", limits=limits, limiter=limiter, users=None, tls_context=None
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _send(port: int) -> tuple[int, str]:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    await client.connect()
    try:
        await client.sendmail("a@example.org", ["b@example.test"], b"Subject: x\r\n\r\nbody\r\n")
    except aiosmtplib.SMTPDataError as exc:
        return exc.code, exc.message
    finally:
        client.close()
    return 250, "OK"


@pytest.mark.parametrize(
    ("decider", "code", "text"),
    [
        (FailingDecider(), 451, "4.3.0"),
        (StallingDecider(), 451, "4.3.0"),
        (RejectingDecider(), 550, "5.7.1 Message refused by policy"),
    ],
    ids=["stage-raises", "stage-times-out", "policy-rejects"],
)
async def test_no_plan_means_no_250_and_nothing_stored(decider: object, code: int, text: str) -> None:
    intake = RecordingIntake()
    async for port in _serve(decider, intake):
        reply_code, reply_text = await _send(port)
        assert reply_code == code
        assert reply_text.startswith(text)
    assert intake.accepted == []


async def test_a_plan_is_spooled_with_a_received_header() -> None:
    intake = RecordingIntake()
    async for port in _serve(OpportunisticDecider(), intake):
        assert (await _send(port))[0] == 250
    [(queue_id, envelope, plan, data)] = intake.accepted
    assert envelope.recipients == ("b@example.test",)
    assert [p.recipient for p in plan.recipients] == ["b@example.test"]
    assert data.startswith(b"Received: from ")
    assert f"id {queue_id}".encode() in data


async def test_pipeline_translates_failures() -> None:
    with pytest.raises(PipelineError, match="exceeded"):
        await Pipeline(StallingDecider(), timeout=0.05).process(
            Envelope(sender="a@b", recipients=("c@d",), client_ip="127.0.0.1"), b""
        )

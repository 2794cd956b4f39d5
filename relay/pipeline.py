"""The before-queue pipeline: extract -> detect -> decide, inside the SMTP session.

This is the only place that knows the order of the stages. It answers with a ``Plan`` (queue the
message and deliver it so) or a ``Rejection`` (refuse it in-session, store nothing). A stage that
fails or runs out of time is a ``PipelineError``; ingress answers that with 451 4.3.0 so the
sender retries: a message that could not be judged is never accepted.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from relay.errors import PipelineError
from relay.model import Envelope, Plan, Rejection


class Decider(Protocol):
    """Turns a message into a plan or a rejection (the policy and PHI stages plug in here)."""

    async def decide(self, envelope: Envelope, data: bytes) -> Plan | Rejection: ...


class OpportunisticDecider:
    """The decision before any policy is configured: deliver, opportunistic TLS."""

    async def decide(self, envelope: Envelope, data: bytes) -> Plan | Rejection:
        return Plan.opportunistic(envelope)


class Pipeline:
    def __init__(self, decider: Decider, *, timeout: float) -> None:
        self._decider = decider
        self._timeout = timeout

    async def process(self, envelope: Envelope, data: bytes) -> Plan | Rejection:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._decider.decide(envelope, data)
        except TimeoutError as exc:
            raise PipelineError(f"pipeline exceeded {self._timeout:g}s") from exc
        except PipelineError:
            raise
        except Exception as exc:
            raise PipelineError(f"pipeline failed: {type(exc).__name__}") from exc

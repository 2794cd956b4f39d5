"""The before-queue pipeline: extract -> detect -> decide, inside the SMTP session.

This is the only place that knows the order of the stages. The analyzer turns the raw message
into facts (MIME structure, and PHI findings unless PHI detection is disabled); the policy engine
decides per recipient; ``dispose`` turns the decision into the copies to spool. The answer is a
``Disposition`` (queue these) or a ``Rejection`` (refuse in-session, store nothing). A stage that
fails or runs out of time is a ``PipelineError``; ingress answers it with 451 4.3.0 so the sender
retries: a message that could not be judged is never accepted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Protocol

from relay.disposition import Disposition, dispose
from relay.errors import PipelineError
from relay.message import extract
from relay.metrics import Component, Metrics
from relay.model import Envelope, Facts, MessageFacts, PhiResult, Rejection
from relay.policy import PolicyStore, evaluate

log = logging.getLogger("relay.pipeline")


class Analyzer(Protocol):
    """Extracts and scans a message.

    :class:`relay.phi.pool.PhiPool` implements it in worker processes, with PHI detection
    enabled or not: extraction is CPU-bound Python and a large or hostile message takes seconds,
    which on the event loop would stall every other SMTP session (the pool's docstring says why
    not a thread). A message that cannot be analysed comes back unscannable, not as an error.
    """

    async def analyze(self, data: bytes) -> tuple[MessageFacts, PhiResult]: ...


INLINE_EXTRACT_MAX = 64 * 1024
"""Messages up to this size are extracted on the event loop when PHI detection is off."""


class SmallInline:
    """With PHI detection off: small messages are extracted here, the rest in the pool.

    Handing a message to a worker process costs about 3 ms of CPU per message in pickling,
    pipes and wake-ups (bench/run.py --phi off: 6.9 against 4.0 ms/msg for 2 KB mail), more than
    extracting ordinary mail costs (1.6 ms for 20 KB of quoted-printable HTML,
    bench/extract_speed.py; at most 4 ms for any of the 111 odd messages of at most 64 KB in
    ../shared/corpora/mime). Below ``INLINE_EXTRACT_MAX`` the loop is held a few milliseconds at
    worst, which is what a session waits for anyway; above it, attachments can make extraction
    take seconds, so those go to the pool with its time budget. With PHI detection on every
    message goes to the pool, where it is scanned anyway.
    """

    def __init__(self, pool: Analyzer, *, max_size: int = INLINE_EXTRACT_MAX) -> None:
        self._pool = pool
        self._max_size = max_size

    async def analyze(self, data: bytes) -> tuple[MessageFacts, PhiResult]:
        if len(data) > self._max_size:
            return await self._pool.analyze(data)
        return extract(data).facts, PhiResult(unscannable=True)  # no PHI scan: fail closed


class Pipeline:
    def __init__(
        self,
        *,
        analyzer: Analyzer,
        policies: PolicyStore,
        internal_domains: frozenset[str],
        hostname: str,
        timeout: float,
        metrics: Metrics,
    ) -> None:
        self._metrics = metrics
        self._analyzer = analyzer
        self._policies = policies
        self._internal_domains = internal_domains
        self._hostname = hostname
        self._timeout = timeout

    async def process(
        self, queue_id: str, envelope: Envelope, data: bytes, *, now: float
    ) -> Disposition | Rejection:
        try:
            started = time.perf_counter()
            async with asyncio.timeout(self._timeout):
                message, phi = await self._analyzer.analyze(data)
            decided = time.perf_counter()
            self._metrics.scanned(decided - started)
            if message.unscannable and not phi.unscannable:
                phi = dataclasses.replace(phi, unscannable=True)  # fail closed
            facts = Facts(envelope=envelope, message=message, phi=phi)
            decision = evaluate(self._policies.active, facts, internal_domains=self._internal_domains)
            self._metrics.policy_evaluated(time.perf_counter() - decided)
            for summary in phi.summary:
                self._metrics.phi_finding(summary.entity_type, summary.count)
            for rule in decision.matched_rules:
                self._metrics.rule_hit(rule, "enforce")
            for hit in decision.monitor_hits:
                self._metrics.rule_hit(hit.rule, "monitor")
                log.info(
                    "event=policy_monitor qid=%s rule=%s would=%s", queue_id, hit.rule, ",".join(hit.would)
                )
            outcome = dispose(decision, envelope, data, hostname=self._hostname, queue_id=queue_id, now=now)
            if isinstance(outcome, Disposition):
                hits = tuple(f"{hit.rule}: would {', '.join(hit.would)}" for hit in decision.monitor_hits)
                outcome = dataclasses.replace(outcome, subject=message.subject, monitor_hits=hits)
            return outcome
        except TimeoutError as exc:
            raise PipelineError(f"pipeline exceeded {self._timeout:g}s") from exc
        except PipelineError:
            raise
        except Exception as exc:  # a bug, not a verdict: the sender retries (451), we count it
            log.exception("event=pipeline_crashed qid=%s", queue_id)
            self._metrics.internal_error(Component.PIPELINE)
            raise PipelineError(f"pipeline failed: {type(exc).__name__}") from exc

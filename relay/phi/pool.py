"""Message analysis off the event loop: a pool of worker processes that extract and scan.

Extracting a message (the MIME walk, HTML, PDF, Office and ZIP readers) and scanning its text
for PHI are pure CPU: tens of milliseconds for ordinary mail, seconds for a large or hostile
one. Done on the event loop, either would stall every other SMTP session of the process; threads
would not help, as the work holds the GIL. So :class:`PhiPool` keeps one process per core
(``ProcessPoolExecutor``, ``spawn`` start method: no forked event loop or threads), each of which
builds a :class:`~relay.phi.scanner.PhiScanner` in its initializer. :meth:`PhiPool.analyze`
sends a worker the raw message bytes and gets back only the ``MessageFacts`` and the
``PhiResult``: the extracted text never crosses the process boundary.

With PHI detection disabled the pool still runs, in an extract-only mode whose workers load no
engine. A thread (``asyncio.to_thread``) would be cheaper but is no fix: the walk is Python
holding the GIL, so the loop would only get slices of the CPU between its switches, and a thread
can be neither interrupted at the budget nor killed when stuck. A worker without the engine
costs about 55 MB (the document readers), against about 170 MB with it.

Every analysis is bounded by the per-message time budget, which covers extraction and scan
together. How it ends depends on what was learned:

* the message was extracted but its scan ran out (the worker's own ``SIGALRM`` after the
  budget): the facts are kept and the result is ``unscannable``, which the policy treats as PHI
  (fail closed); ``MessageFacts.unscannable`` says why;
* the message was not extracted (the alarm went off during extraction; the worker did not
  answer within the budget plus a grace period, was killed and the pool replaced; it died; no
  worker was free within the budget, or the replaced ones did not load in time): a
  ``PipelineError``, which ingress answers with 451 4.3.0 so the sender retries. Without its
  subject, headers and attachments the message cannot be judged by the policy (a rule refusing
  ``.exe`` attachments would not see one), and the pipeline never accepts a message it could
  not judge.

At most one message per worker is in flight, so a waiting message never counts time it did not get.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, TypeVar

from relay.errors import ConfigError, PipelineError, RelayError
from relay.model import MessageFacts, PhiResult, TextSegment, Unscannable
from relay.phi.settings import PhiSettings, single_threaded_blas

if TYPE_CHECKING:
    from relay.phi.scanner import PhiScanner

GRACE_SECONDS = 2.0
"""How much longer than the budget the pool waits before it declares a worker stuck."""
START_TIMEOUT = 120.0
"""Seconds the workers get to load the model at start (a few seconds on any machine)."""
STOP_GRACE_SECONDS = 5.0
"""Seconds a worker gets to finish its scan at stop before it is killed."""
PART = "message"
"""The part named in the reasons below: the scan covers the whole message."""

Work = TypeVar("Work")
Answer = TypeVar("Answer")


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiScan:
    """What :meth:`PhiPool.scan` answers: the result, and why it is unscannable if it is."""

    result: PhiResult
    unscannable: tuple[Unscannable, ...] = ()
    """Empty unless ``result.unscannable``; one entry naming the reason (merge it into
    ``MessageFacts.unscannable``)."""


@dataclass(frozen=True, slots=True)
class _NoAnswer:
    """Why the worker gave no answer (it failed, stalled, or was never reached)."""

    reason: str


def _failed(reason: str) -> PhiScan:
    return PhiScan(result=PhiResult(unscannable=True), unscannable=(Unscannable(part=PART, reason=reason),))


def _failed_analysis(facts: MessageFacts, reason: str) -> tuple[MessageFacts, PhiResult]:
    unscannable = (*facts.unscannable, Unscannable(part=PART, reason=reason))
    return dataclasses.replace(facts, unscannable=unscannable), PhiResult(unscannable=True)


# -- inside a worker process -------------------------------------------------------------------


class _BudgetExceeded(BaseException):
    """Raised by the budget alarm. Not an ``Exception``, so that the broad per-part catch of the
    MIME walk (``Walker.guarded``) and those of the libraries below it cannot take "out of time"
    for "this part was unreadable" and carry on; a library that swallows even this is stopped by
    the pool's grace timeout instead."""


_scanner: PhiScanner | None = None
_load_error = ""
_scan_phi = True
"""False in an extract-only pool (PHI detection disabled)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _BudgetExceeded


def _init_worker(settings: PhiSettings) -> None:
    global _scanner, _load_error, _scan_phi
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGALRM, _on_alarm)
    single_threaded_blas()  # one process per core: no thread pools inside
    # Loaded now, not within the first message's budget; only after the line above, since the
    # document readers import numpy.
    importlib.import_module("relay.message")
    _scan_phi = settings.enabled
    if not _scan_phi:
        return
    from relay.phi.scanner import PhiScanner  # the engine lives in workers, never in the relay

    try:
        _scanner = PhiScanner(settings)
    except RelayError as exc:
        _load_error = str(exc)


def _ready() -> str:
    return _load_error


def _loaded_scanner() -> PhiScanner:
    if _scanner is None:
        raise RuntimeError(f"PHI scanner not loaded: {_load_error}")
    return _scanner


@contextlib.contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Raise ``_BudgetExceeded`` in the block once ``seconds`` have passed. The alarm may also
    fire while it is being disarmed: callers catch it around the ``with``, not inside."""
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _analyze(data: bytes, budget: float) -> tuple[MessageFacts, PhiResult] | _NoAnswer:
    """Extract and scan in the worker, both within ``budget``; only facts and verdict go back
    (or why there are no facts: extraction ran out of time)."""
    from relay.message import extract  # imported by the initializer: this is a lookup

    facts, stage = MessageFacts(size=len(data)), "message extraction"
    try:
        with _budget(budget):
            extraction = extract(data)
            facts = extraction.facts
            stage = "PHI scan"
            if _scan_phi:
                result = _loaded_scanner().scan_segments(extraction.segments)
            else:  # PHI detection is off: no message can be shown free of PHI (fail closed)
                result = PhiResult(unscannable=True)
    except _BudgetExceeded:
        reason = f"{stage} exceeded the {budget:g} s budget"
    except Exception as exc:
        # A library bug on odd input: only the type is kept, a message could quote text.
        reason = f"{stage} failed: {type(exc).__name__}"
    else:
        return facts, result
    return _NoAnswer(reason) if stage == "message extraction" else _failed_analysis(facts, reason)


def _scan(segments: Sequence[TextSegment], budget: float) -> PhiScan:
    """Scan already extracted text in the worker, within ``budget``."""
    try:
        with _budget(budget):
            return PhiScan(result=_loaded_scanner().scan_segments(segments))
    except _BudgetExceeded:
        return _failed(f"PHI scan exceeded the {budget:g} s budget")


# -- in the relay -------------------------------------------------------------------------------


class PhiPool:
    """Analysis processes, one per core; an async context manager (``start()``/``stop()``).

    Implements the pipeline's ``Analyzer`` (:meth:`analyze`), with PHI detection enabled or not.
    """

    def __init__(
        self,
        settings: PhiSettings | None = None,
        *,
        grace: float = GRACE_SECONDS,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.settings = settings or PhiSettings()
        self.processes = self.settings.processes()
        """Scanner processes; the caller sizes ``settings.workers`` when it shares the cores."""
        self._grace = grace
        self._stop_grace = stop_grace
        self._executor: ProcessPoolExecutor | None = None
        self._warming: asyncio.Task[None] | None = None
        """Loads the engine in every worker of the current executor; analyses wait for it."""
        self._slots = asyncio.Semaphore(self.processes)

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.settings,),
        )

    async def _warm(self, executor: ProcessPoolExecutor) -> None:
        """Wait until every worker has loaded the engine (one job per worker starts them all)."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(START_TIMEOUT):
                errors = await asyncio.gather(
                    *(loop.run_in_executor(executor, _ready) for _ in range(self.processes))
                )
        except (TimeoutError, BrokenProcessPool) as exc:
            raise ConfigError(f"the PHI scanner processes did not start: {exc!r}", key="phi") from exc
        if any(errors):
            raise ConfigError(next(e for e in errors if e), key="phi.model")

    def _launch(self) -> asyncio.Task[None]:
        self._executor = self._new_executor()
        self._warming = asyncio.create_task(self._warm(self._executor), name="phi-pool-warm")
        # A failure is reported to every scan that waits for it; none may be waiting.
        self._warming.add_done_callback(lambda task: task.cancelled() or task.exception())
        return self._warming

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the engine. Optional: a pool not
        started starts its workers on first use (what the relay does with PHI detection off,
        where only messages too big to extract inline need them)."""
        warming = self._launch()
        try:
            await warming
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the workers (a scan in progress gets a few seconds to finish)."""
        warming, self._warming = self._warming, None
        if warming is not None and not warming.done():
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError, RelayError):
                await warming
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(None, _shutdown, executor, self._stop_grace)

    async def __aenter__(self) -> PhiPool:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def analyze(self, data: bytes, *, budget: float | None = None) -> tuple[MessageFacts, PhiResult]:
        """Extract and scan one raw message in a worker: what the pipeline's ``Analyzer`` does.

        A scan that could not finish gives an unscannable result, ``MessageFacts.unscannable``
        naming the reason; a message that could not be extracted raises ``PipelineError`` (see
        the module docstring). ``budget`` overrides the configured per-message time budget
        (seconds) for extraction and scan together; waiting for a free worker (or for replaced
        workers to load) may take up to the budget too.
        """
        answer = await self._submit(_analyze, data, budget)
        if isinstance(answer, _NoAnswer):
            raise PipelineError(answer.reason)
        return answer

    async def scan(self, segments: Sequence[TextSegment], *, budget: float | None = None) -> PhiScan:
        """Scan text already extracted (benchmarks of the scanner alone); like :meth:`analyze`,
        always a value, unscannable when it could not be done."""
        answer = await self._submit(_scan, list(segments), budget)
        return _failed(answer.reason) if isinstance(answer, _NoAnswer) else answer

    async def _submit(
        self, work: Callable[[Work, float], Answer], payload: Work, budget: float | None
    ) -> Answer | _NoAnswer:
        """Run ``work(payload, budget)`` in a free, ready worker, or say why it could not."""
        budget = budget or self.settings.time_budget
        try:
            async with asyncio.timeout(budget):
                await self._slots.acquire()
        except TimeoutError:
            return _NoAnswer(f"no PHI scanner free within the {budget:g} s budget")
        try:
            try:
                warming = self._warming
                if self._executor is None or warming is None:
                    warming = self._launch()  # not started yet: the wait counts in the budget
                async with asyncio.timeout(budget):
                    await asyncio.shield(warming)
            except TimeoutError:
                return _NoAnswer(f"the PHI scanner processes were not ready within the {budget:g} s budget")
            except RelayError:
                return _NoAnswer("the PHI scanner processes could not be restarted")
            return await self._run(work, payload, budget)
        finally:
            self._slots.release()

    async def _run(
        self, work: Callable[[Work, float], Answer], payload: Work, budget: float
    ) -> Answer | _NoAnswer:
        executor = self._executor
        if executor is None:
            return _NoAnswer("the PHI scanner pool is stopped")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(budget + self._grace):
                return await loop.run_in_executor(executor, work, payload, budget)
        except TimeoutError:
            self._replace(executor)
            return _NoAnswer(f"PHI scan exceeded the {budget:g} s budget and its worker was stopped")
        except BrokenProcessPool:
            self._replace(executor)
            return _NoAnswer("the PHI scanner process ended during the scan")
        except Exception as exc:
            # Whatever else broke in the worker (the result could not be sent back, say): the
            # message must not pass as clean. Only the type is kept, a message could quote text.
            return _NoAnswer(f"analysis failed: {type(exc).__name__}")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap in a fresh pool (loading in the background) and kill the old one's processes."""
        if self._executor is broken:
            self._launch()
        # ProcessPoolExecutor cannot stop a busy worker before Python 3.14 (terminate_workers());
        # its process table is the only handle on them.
        for process in list(getattr(broken, "_processes", {}).values()):
            process.kill()
        broken.shutdown(wait=False, cancel_futures=True)


def _shutdown(executor: ProcessPoolExecutor, grace: float) -> None:
    """Stop the workers: let each finish its scan for ``grace`` seconds, then kill what is left."""
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join(STOP_GRACE_SECONDS)
    executor.shutdown(wait=True)  # the workers are gone: this only joins the executor's threads

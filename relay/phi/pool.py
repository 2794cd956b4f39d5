"""Scanning off the event loop: a pool of scanner processes, each loading the engine once.

A message's scan takes tens of milliseconds of pure CPU, which would stall every other SMTP
session if done on the event loop (and threads would not help: the work holds the GIL). So
:class:`PhiPool` keeps one process per core (``ProcessPoolExecutor``, ``spawn`` start method:
no forked event loop or threads), each of which builds a :class:`~relay.phi.scanner.PhiScanner`
in its initializer.

Every scan is bounded by the per-message time budget, and every way it can fail ends in a
value, never an exception to the SMTP session: the result is then ``unscannable`` (which the
policy treats as PHI: fail closed) and the reason says why:

* the worker's own alarm (``SIGALRM`` after the budget) interrupts a scan that runs long;
* if the worker does not answer within the budget plus a grace period (stuck in C code), its
  process is killed and the pool replaced; scans in flight on the old pool end unscannable;
* a message waits at most the budget for a free worker (at most one scan per worker is in
  flight, so a waiting message never counts scan time it did not get), and as long again for
  replaced workers to load the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

from relay.errors import ConfigError, RelayError
from relay.model import PhiResult, TextSegment, Unscannable
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


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiScan:
    """What the pool answers for one message: the result, and why it is unscannable if it is."""

    result: PhiResult
    unscannable: tuple[Unscannable, ...] = ()
    """Empty unless ``result.unscannable``; one entry naming the reason (merge it into
    ``MessageFacts.unscannable``)."""


def _failed(reason: str) -> PhiScan:
    return PhiScan(result=PhiResult(unscannable=True), unscannable=(Unscannable(part=PART, reason=reason),))


# -- inside a worker process -------------------------------------------------------------------


class _BudgetExceeded(Exception):
    pass


_scanner: PhiScanner | None = None
_load_error = ""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _BudgetExceeded


def _init_worker(settings: PhiSettings) -> None:
    global _scanner, _load_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGALRM, _on_alarm)
    single_threaded_blas()  # one process per core: no thread pools inside
    from relay.phi.scanner import PhiScanner  # the engine lives in workers, never in the relay

    try:
        _scanner = PhiScanner(settings)
    except RelayError as exc:
        _load_error = str(exc)


def _ready() -> str:
    return _load_error


def _scan(segments: Sequence[TextSegment], budget: float) -> PhiResult | None:
    """Scan in the worker; None when the budget ran out."""
    if _scanner is None:
        raise RuntimeError(f"PHI scanner not loaded: {_load_error}")
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        return _scanner.scan_segments(segments)
    except _BudgetExceeded:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# -- in the relay -------------------------------------------------------------------------------


class PhiPool:
    """Scanner processes, one per core; an async context manager (``start()``/``stop()``)."""

    def __init__(
        self,
        settings: PhiSettings | None = None,
        *,
        grace: float = GRACE_SECONDS,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.settings = settings or PhiSettings()
        self._grace = grace
        self._stop_grace = stop_grace
        self._executor: ProcessPoolExecutor | None = None
        self._warming: asyncio.Task[None] | None = None
        """Loads the engine in every worker of the current executor; scans wait for it."""
        self._slots = asyncio.Semaphore(self.settings.workers)

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.settings.workers,
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
                    *(loop.run_in_executor(executor, _ready) for _ in range(self.settings.workers))
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
        """Start every worker and wait until each has loaded the engine."""
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

    async def scan(self, segments: Sequence[TextSegment], *, budget: float | None = None) -> PhiScan:
        """Scan one message's segments; always a value, unscannable when it could not be done.

        ``budget`` overrides the configured per-message time budget (seconds). Waiting for a
        free worker (or for replaced workers to load) may take up to the budget too; the scan
        itself then gets the whole budget.
        """
        if self._executor is None or self._warming is None:
            raise RuntimeError("PhiPool.scan() before start()")
        budget = budget or self.settings.time_budget
        try:
            async with asyncio.timeout(budget):
                await self._slots.acquire()
        except TimeoutError:
            return _failed(f"no PHI scanner free within the {budget:g} s budget")
        try:
            try:
                async with asyncio.timeout(budget):
                    await asyncio.shield(self._warming)
            except TimeoutError:
                return _failed(f"the PHI scanner processes were not ready within the {budget:g} s budget")
            except RelayError:
                return _failed("the PHI scanner processes could not be restarted")
            return await self._run(list(segments), budget)
        finally:
            self._slots.release()

    async def _run(self, segments: list[TextSegment], budget: float) -> PhiScan:
        executor = self._executor
        if executor is None:
            return _failed("the PHI scanner pool is stopped")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(budget + self._grace):
                result = await loop.run_in_executor(executor, _scan, segments, budget)
        except TimeoutError:
            self._replace(executor)
            return _failed(f"PHI scan exceeded the {budget:g} s budget and its worker was stopped")
        except BrokenProcessPool:
            self._replace(executor)
            return _failed("the PHI scanner process ended during the scan")
        except Exception as exc:
            # Whatever broke inside the worker (a library bug on odd input), the message must
            # not pass as clean: fail closed. Only the type is kept, a message could quote text.
            return _failed(f"PHI scan failed: {type(exc).__name__}")
        if result is None:
            return _failed(f"PHI scan exceeded the {budget:g} s budget")
        return PhiScan(result=result)

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

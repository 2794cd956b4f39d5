"""Results of single runs, their medians over repeats, and the table that is printed.

Each figure is a median over the repeats, so one run disturbed by another process on the
machine does not decide the result; the spread (min-max) is kept next to it so the reader can
see how noisy the runs were.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """One system, one message size, one repeat: a smtp-source pass and a latency pass."""

    system: str
    size: int
    repeat: int
    messages: int
    accept_seconds: float
    """smtp-source start to exit: every message got its 250."""
    relayed_seconds: float
    """smtp-source start to the sink holding all ``messages``."""
    machine_cores: float
    """Average CPUs busy on the whole machine during the smtp-source pass."""
    process_cores: float | None
    """Average CPUs used by the system (the relay's or Postfix's processes) during that pass."""
    p50_ms: float
    p99_ms: float
    client_messages: int
    client_seconds: float
    """Messages and wall time of the latency pass (Python client)."""

    @property
    def accepted_rate(self) -> float:
        return self.messages / self.accept_seconds

    @property
    def relayed_rate(self) -> float:
        return self.messages / self.relayed_seconds

    @property
    def client_rate(self) -> float:
        return self.client_messages / self.client_seconds

    @property
    def cpu_ms_per_message(self) -> float | None:
        """CPU the system spent per message relayed (ingress, queue and delivery together)."""
        if self.process_cores is None:
            return None
        return self.process_cores * self.relayed_seconds / self.messages * 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """A median over repeats and the range it came from."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Figure:
        return cls(median=statistics.median(values), low=min(values), high=max(values))


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    system: str
    size: int
    runs: int
    accepted: Figure
    relayed: Figure
    p50_ms: Figure
    p99_ms: Figure
    client_rate: Figure
    machine_cores: Figure
    process_cores: Figure | None
    cpu_ms_per_message: Figure | None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a latency some message really had, not an interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(results: Sequence[RunResult], system: str, size: int) -> Summary:
    runs = [r for r in results if r.system == system and r.size == size]

    def figure(value: Callable[[RunResult], float]) -> Figure:
        return Figure.of([value(r) for r in runs])

    process = [r.process_cores for r in runs if r.process_cores is not None]
    cost = [c for c in (r.cpu_ms_per_message for r in runs) if c is not None]
    return Summary(
        system=system,
        size=size,
        runs=len(runs),
        accepted=figure(lambda r: r.accepted_rate),
        relayed=figure(lambda r: r.relayed_rate),
        p50_ms=figure(lambda r: r.p50_ms),
        p99_ms=figure(lambda r: r.p99_ms),
        client_rate=figure(lambda r: r.client_rate),
        machine_cores=figure(lambda r: r.machine_cores),
        process_cores=Figure.of(process) if process else None,
        cpu_ms_per_message=Figure.of(cost) if cost else None,
    )


def _size_label(size: int) -> str:
    return f"{size // 1024} KB" if size % 1024 == 0 else f"{size} B"


def _cell(figure: Figure, digits: int = 0) -> str:
    return f"{figure.median:.{digits}f} ({figure.low:.{digits}f}-{figure.high:.{digits}f})"


def table(summaries: Sequence[Summary]) -> str:
    """Markdown table of medians, with (min-max) over the repeats."""
    lines = [
        "| size | system | accepted msgs/s | relayed msgs/s | p50 accept ms | p99 accept ms "
        "| client msgs/s | system CPUs | CPU ms/msg | machine CPUs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summaries:
        process = _cell(s.process_cores, 2) if s.process_cores else "-"
        cost = _cell(s.cpu_ms_per_message, 2) if s.cpu_ms_per_message else "-"
        lines.append(
            f"| {_size_label(s.size)} | {s.system} | {_cell(s.accepted)} | {_cell(s.relayed)} "
            f"| {_cell(s.p50_ms, 1)} | {_cell(s.p99_ms, 1)} | {_cell(s.client_rate)} "
            f"| {process} | {cost} | {_cell(s.machine_cores, 2)} |"
        )
    return "\n".join(lines)


def ratio(relay: Summary, baseline: Summary) -> float:
    """One system over another (relay over Postfix: the issue's target is >= 0.8), relayed end-to-end."""
    return relay.relayed.median / baseline.relayed.median


def ratio_lines(summaries: Sequence[Summary], reference: str = "reference") -> list[str]:
    """Relay over Postfix per size; with a ``reference`` relay also it over Postfix, and the relay
    over it (throughput, and CPU per message)."""
    by_key = {(s.system, s.size): s for s in summaries}
    lines = []
    for size in sorted({s.size for s in summaries}):
        baseline, label = by_key.get(("postfix", size)), _size_label(size)
        for name in ("relay", reference):
            relay = by_key.get((name, size))
            if relay and baseline:
                lines.append(
                    f"{label}: {name}/Postfix relayed end-to-end = {ratio(relay, baseline):.2f}x "
                    f"({relay.relayed.median:.0f} vs {baseline.relayed.median:.0f} msgs/s)"
                )
        relay, before = by_key.get(("relay", size)), by_key.get((reference, size))
        if relay and before:
            cost = ""
            if relay.cpu_ms_per_message and before.cpu_ms_per_message:
                cost = (f", CPU per message {relay.cpu_ms_per_message.median:.2f} vs "
                        f"{before.cpu_ms_per_message.median:.2f} ms")
            lines.append(
                f"{label}: relay/{reference} relayed end-to-end = {ratio(relay, before):.2f}x "
                f"({relay.relayed.median:.0f} vs {before.relayed.median:.0f} msgs/s{cost})"
            )
    return lines

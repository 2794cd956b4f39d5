"""``make bench``: a stock Postfix and the relay under the same SMTP load, in the same run.

For each message size and repeat, each system gets two passes, Postfix and relay interleaved
(their order alternates from repeat to repeat) so that noise from the machine hits both:

1. Throughput: Postfix's ``smtp-source`` sends N messages over C parallel sessions. "Accepted"
   is N over the time until smtp-source exits (every message answered 250); "relayed" is N over
   the time until the system's smtp-sink has received all N.
2. Latency: a small Python client (relaybench/load.py) sends up to 1000 more messages over C
   sessions, timing the end of DATA to the 250; p50 and p99 come from this pass only.

During the throughput pass the CPU time of each system's processes is counted (relaybench/cpu.py),
which gives CPU milliseconds per message: the figure least affected by other load on the machine.
Between passes the system's queue must drain to empty, so passes never overlap. Every figure
printed is the median over the repeats. Each system relays to its own smtp-sink on loopback,
so a late message from one cannot be counted for the other. ``--reference DIR`` adds a third
system, the relay run from another source tree (say, the code before a change), interleaved the
same way; ``--phi off`` runs both relays without PHI detection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from relaybench import cpu, hotspots, machine, stats
from relaybench.load import smtp_source, timed_sessions
from relaybench.postfix import PostfixBaseline
from relaybench.procs import BenchError, free_port, tail
from relaybench.relaynode import RelayUnderTest
from relaybench.sink import SmtpSink

DEFAULT_MESSAGES = 2000
QUICK_MESSAGES = 200
"""--quick: enough to exercise every step, too few for figures worth quoting."""
DEFAULT_SIZES = (2048, 20480)
WARMUP_MESSAGES = 100
"""Sent once per system before measuring: starts Postfix's daemons and warms the relay."""
SINK_DOMAIN = "sink.test"
REFERENCE = "reference"
"""The name (in the table) of the relay run from ``--reference DIR`` (e.g. the code before a change)."""
RECIPIENT = f"to@{SINK_DOMAIN}"
LATENCY_MESSAGES = 1000
"""Cap on the latency pass: 1000 samples put p99 on the 10th slowest, and it keeps the run short."""
DRAIN_TIMEOUT_SECONDS = 60.0
"""After the sink has every message, the queue must be empty within this (removals lag)."""


def pass_timeout(messages: int) -> float:
    """A pass slower than 10 msgs/s (after a minute's grace) is broken, not slow."""
    return 60.0 + messages / 10


class System(Protocol):
    """What the benchmark needs of Postfix and of the relay."""

    name: str
    port: int
    log_path: Path
    """Shown (its end) when something fails."""

    @property
    def pid(self) -> int: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def queue_size(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """The command line, checked."""

    messages: int
    concurrency: int
    sizes: tuple[int, ...]
    repeat: int
    workers: int
    phi: bool
    reference: Path | None
    json_path: Path | None
    profile_dir: Path | None
    keep: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Throughput:
    """One smtp-source pass."""

    accept_seconds: float
    relayed_seconds: float
    machine_cores: float
    process_cores: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rig:
    """A system with the sink it relays to; ``pid`` roots the process tree whose CPU is counted."""

    system: System
    sink: SmtpSink
    pid: int


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, help=f"messages per pass (default {DEFAULT_MESSAGES})")
    parser.add_argument("--concurrency", type=int, default=20, help="parallel SMTP sessions (default 20)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="message payload sizes in bytes, comma-separated (default 2048,20480)")
    parser.add_argument("--repeat", type=int, help="runs per system and size; medians are quoted (default 3)")
    parser.add_argument(
        "--workers", type=int, default=0,
        help="the relay's `workers` setting (default 0: one per core, as shipped)",
    )
    parser.add_argument("--phi", choices=("on", "off"), default="on",
                        help="the relay's PHI detection (default on, as shipped; off measures the SMTP path)")
    parser.add_argument("--reference", type=Path, metavar="DIR",
                        help="also run, in the same run, a relay from the source tree DIR (DIR/relay/...)")
    parser.add_argument("--json", type=Path, dest="json_path",
                        help="also write every run and the medians to this file")
    parser.add_argument("--profile", type=Path, dest="profile_dir",
                        help="afterwards, profile the relay with py-spy during one more pass; stacks go here")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_MESSAGES} messages, 1 repeat (unless given)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs)")
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    messages = args.messages or (QUICK_MESSAGES if args.quick else DEFAULT_MESSAGES)
    repeat = args.repeat or (1 if args.quick else 3)
    if min(messages, args.concurrency, repeat, *sizes) < 1 or args.workers < 0:
        parser.error("--messages, --concurrency, --repeat and --sizes must be positive, --workers >= 0")
    if args.reference is not None and not (args.reference / "relay" / "__init__.py").is_file():
        parser.error(f"--reference: {args.reference} holds no relay package (DIR/relay/__init__.py)")
    return Options(messages=messages, concurrency=args.concurrency, sizes=sizes, repeat=repeat,
                   workers=args.workers, phi=args.phi == "on",
                   reference=args.reference.resolve() if args.reference else None,
                   json_path=args.json_path, profile_dir=args.profile_dir, keep=args.keep)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def drain(rig: Rig, target: int, timeout: float) -> None:
    """Wait for the sink to hold ``target`` messages and the queue to be empty."""
    await rig.sink.wait_for(target, timeout=timeout)
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while (left := rig.system.queue_size()) > 0:
        if time.monotonic() > deadline:
            raise BenchError(f"{rig.system.name}: {left} messages still queued after the sink had all")
        await asyncio.sleep(0.02)
    if rig.sink.count > target:
        raise BenchError(f"{rig.system.name}: the sink got {rig.sink.count - target} messages too many")


async def throughput_pass(rig: Rig, size: int, opts: Options) -> Throughput:
    """N messages from smtp-source, timed until they are all accepted and all at the sink."""
    target = rig.sink.count + opts.messages
    timeout = pass_timeout(opts.messages)
    start = cpu.mark(rig.pid)
    accept = await smtp_source(rig.system.port, size=size, messages=opts.messages,
                               concurrency=opts.concurrency, recipient=RECIPIENT, timeout=timeout)
    await rig.sink.wait_for(target, timeout=timeout)
    end = cpu.mark(rig.pid)
    await drain(rig, target, timeout)
    machine_cores, process_cores = cpu.cores_used(start, end)
    return Throughput(accept_seconds=accept, relayed_seconds=end.wall - start.wall,
                      machine_cores=machine_cores, process_cores=process_cores)


async def measure(rig: Rig, size: int, repeat: int, opts: Options) -> stats.RunResult:
    """A throughput pass, then a latency pass, of one system at one size."""
    throughput = await throughput_pass(rig, size, opts)
    messages = min(opts.messages, LATENCY_MESSAGES)
    target = rig.sink.count + messages
    sample = await timed_sessions(rig.system.port, size=size, messages=messages,
                                  concurrency=opts.concurrency, recipient=RECIPIENT,
                                  timeout=pass_timeout(messages))
    await drain(rig, target, pass_timeout(messages))
    return stats.RunResult(
        system=rig.system.name, size=size, repeat=repeat, messages=opts.messages,
        accept_seconds=throughput.accept_seconds, relayed_seconds=throughput.relayed_seconds,
        machine_cores=throughput.machine_cores, process_cores=throughput.process_cores,
        p50_ms=stats.percentile(sample.latencies, 50) * 1000,
        p99_ms=stats.percentile(sample.latencies, 99) * 1000,
        client_messages=messages,
        client_seconds=sample.seconds,
    )


async def warm_up(rig: Rig, concurrency: int) -> None:
    target = rig.sink.count + WARMUP_MESSAGES
    timeout = pass_timeout(WARMUP_MESSAGES)
    await smtp_source(rig.system.port, size=DEFAULT_SIZES[0], messages=WARMUP_MESSAGES,
                      concurrency=concurrency, recipient=RECIPIENT, timeout=timeout)
    await drain(rig, target, timeout)


async def start_rig(stack: contextlib.AsyncExitStack, system: System, sink: SmtpSink) -> None:
    await sink.start()
    stack.push_async_callback(sink.stop)
    stack.push_async_callback(system.stop)  # registered first: a half-started system is stopped too
    await system.start()


def relay_node(root: Path, sink: SmtpSink, opts: Options, *, name: str = "relay",
               source: Path | None = None) -> RelayUnderTest:
    return RelayUnderTest(root / name, port=free_port(), sink_port=sink.port, sink_domain=SINK_DOMAIN,
                          workers=opts.workers, concurrency=opts.concurrency, phi=opts.phi, name=name,
                          source=source)


async def run_all(opts: Options, root: Path) -> tuple[list[stats.RunResult], RelayUnderTest, str]:
    """Start the systems, run every measurement, stop them; returns the runs and a profile."""
    async with contextlib.AsyncExitStack() as stack:
        postfix_sink = SmtpSink(port=free_port())
        postfix = PostfixBaseline(root / "postfix", port=free_port(), sink_port=postfix_sink.port,
                                  concurrency=opts.concurrency)
        systems: list[tuple[System, SmtpSink]] = [(postfix, postfix_sink)]
        relay_sink = SmtpSink(port=free_port())
        relay = relay_node(root, relay_sink, opts)
        systems.append((relay, relay_sink))
        if opts.reference is not None:
            reference_sink = SmtpSink(port=free_port())
            reference = relay_node(root, reference_sink, opts, name=REFERENCE, source=opts.reference)
            systems.append((reference, reference_sink))
        try:
            rigs = []
            for system, sink in systems:
                await start_rig(stack, system, sink)
                rigs.append(Rig(system=system, sink=sink, pid=system.pid))
            results = await run_repeats(rigs, opts)
            profile = await profile_relay(rigs[1], opts) if opts.profile_dir else ""
        except BenchError as exc:
            logs = "".join(f"\n--- end of {s.log_path}:\n{end}"
                           for s, _ in systems if (end := tail(s.log_path, 15)))
            raise BenchError(f"{exc}{logs}") from exc
        return results, relay, profile


async def run_repeats(rigs: Sequence[Rig], opts: Options) -> list[stats.RunResult]:
    """Warm both systems up, then every repeat and size, alternating which system goes first."""
    for rig in rigs:
        await warm_up(rig, opts.concurrency)
    results: list[stats.RunResult] = []
    total = opts.repeat * len(opts.sizes) * len(rigs)
    for repeat in range(opts.repeat):
        for size in opts.sizes:
            for rig in rigs if repeat % 2 == 0 else rigs[::-1]:
                result = await measure(rig, size, repeat, opts)
                results.append(result)
                say(f"[{len(results)}/{total}] {result.system:8} {size:>6} B run {repeat + 1}: "
                    f"accepted {result.accepted_rate:.0f}/s relayed {result.relayed_rate:.0f}/s "
                    f"p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms "
                    f"CPU {result.cpu_ms_per_message or 0:.2f} ms/msg")
    return results


async def profile_relay(rig: Rig, opts: Options) -> str:
    """Two more relay passes of the first size under py-spy (busy, then GIL); their report."""
    assert opts.profile_dir is not None
    opts.profile_dir.mkdir(parents=True, exist_ok=True)
    size = opts.sizes[0]

    async def load() -> None:
        await throughput_pass(rig, size, opts)

    reports = []
    for gil in (False, True):
        output = opts.profile_dir / f"relay-{size}-{'gil' if gil else 'busy'}.txt"
        say(f"profiling the relay (pid {rig.pid}) during one more {size} B pass -> {output}")
        reports.append(hotspots.report(await hotspots.record(rig.pid, output, load, gil=gil)))
    return "\n\n".join(reports)


def write_json(path: Path, opts: Options, info: dict[str, str], results: Sequence[stats.RunResult],
               summaries: Sequence[stats.Summary], relay: RelayUnderTest) -> None:
    document = {
        "machine": info,
        "options": {**asdict(opts), "json_path": str(opts.json_path), "profile_dir": str(opts.profile_dir),
                    "reference": str(opts.reference)},
        "relay_config": relay.settings(),
        "runs": [{**asdict(r), "accepted_rate": r.accepted_rate, "relayed_rate": r.relayed_rate,
                  "client_rate": r.client_rate, "cpu_ms_per_message": r.cpu_ms_per_message}
                 for r in results],
        "medians": [asdict(s) for s in summaries],
        "ratios": stats.ratio_lines(summaries),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def print_report(
    opts: Options, info: dict[str, str], summaries: Sequence[stats.Summary], profile: str
) -> None:
    print(f"\n{opts.messages} messages per pass, {opts.concurrency} sessions, {opts.repeat} repeats, "
          f"relay workers={opts.workers}, PHI detection {'on' if opts.phi else 'off'}; "
          f"{info['cpus']} CPUs, Postfix {info['postfix']}, Python {info['python']}")
    if opts.reference is not None:
        print(f"{REFERENCE}: the relay from {opts.reference}, same settings")
    print("accepted/relayed: smtp-source pass; p50/p99 and client msgs/s: Python client pass; "
          "median (min-max) over repeats\n")
    print(stats.table(summaries))
    print()
    for line in stats.ratio_lines(summaries):
        print(line)
    if profile:
        print(f"\n{profile}")


async def main_async(opts: Options) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    info = machine.describe()
    root = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    root.chmod(0o755)  # Postfix's daemons run as the postfix user and must reach their queue
    keep = opts.keep
    try:
        results, relay, profile = await run_all(opts, root)
    except BenchError as exc:
        keep = True  # the logs explain the failure
        say(f"bench: {exc}")
        return 1
    finally:
        if keep:
            say(f"kept {root} (configurations and logs)")
        else:
            shutil.rmtree(root, ignore_errors=True)
    info["load_average_at_end"] = machine.load_average()
    names = ("postfix", "relay", REFERENCE) if opts.reference else ("postfix", "relay")
    summaries = [stats.summarise(results, system, size) for size in opts.sizes for system in names]
    print_report(opts, info, summaries, profile)
    if opts.json_path:
        write_json(opts.json_path, opts, info, results, summaries, relay)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if os.geteuid() != 0:
        say("bench: run as root: the Postfix baseline needs `postfix start` (CI runs as root)")
        return 2
    try:
        return asyncio.run(main_async(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("bench: interrupted; everything it started has been stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())

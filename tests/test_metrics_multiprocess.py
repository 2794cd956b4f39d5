"""Several processes, one endpoint: counters of real worker processes add up in the scrape.

Workers are real Python processes (started with subprocess, so this pytest process never
switches its own prometheus-client into multiprocess mode); the scrape is served from here,
over real HTTP, the way the supervisor serves it. One test reproduces the supervisor exactly:
enable, serve, fork a worker while the server thread runs, reap it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from relay.config.schema import HostPort
from relay.metrics import (
    Metrics,
    WorkerProcess,
    enable_multiprocess,
    multiprocess_directory,
    serving_registry,
    start_metrics_server,
    worker_exited,
    workers_policy_check,
)
from relay.metrics.multiproc import ENV, multiprocess_enabled
from relay.spool import Spool

LOOPBACK = HostPort(host="127.0.0.1", port=0)
T0 = 1_700_000_000.0

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from relay.metrics import DeliveryReason, Metrics, RejectReason, enable_multiprocess

    directory, accepted, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    enable_multiprocess(directory, clean=False)
    metrics = Metrics()
    for _ in range(accepted):
        metrics.accepted(1000, latency=0.1)
    metrics.rejected(RejectReason.POLICY, "5.7.1")
    metrics.delivered("eu", latency=2.0)
    metrics.deferred(None, DeliveryReason.NETWORK)
    if mode != "starting":
        metrics.policy_loaded(1700000000.0)
    if mode == "reload-failed":
        metrics.policy_reload(False, timestamp=1700000060.0)
    print("ready", flush=True)
    sys.stdin.readline()
    """
)

SUPERVISOR = textwrap.dedent(
    """
    import json, os, sys, urllib.request
    from pathlib import Path
    from relay.config.schema import HostPort
    from relay.metrics import (
        Metrics, WorkerProcess, enable_multiprocess, serving_registry, start_metrics_server,
        worker_exited,
    )

    spool, directory = Path(sys.argv[1]), Path(sys.argv[2])
    enable_multiprocess(directory, clean=True)
    children = {}
    registry = serving_registry(
        spool,
        multiprocess_dir=directory,
        workers=lambda: [WorkerProcess(index=i, pid=p) for p, i in list(children.items())],
    )
    server = start_metrics_server(HostPort(host="127.0.0.1", port=0), [], registry)
    pid = os.fork()
    if pid == 0:
        # The worker: its copy of the listening socket was closed at fork.
        inherited_closed = server._server.socket.fileno() == -1
        metrics = Metrics()
        for _ in range(5):
            metrics.accepted(10, latency=0.01)
        metrics.policy_loaded(1.0)
        os._exit(0 if inherited_closed else 3)
    children[pid] = 0
    _, status = os.waitpid(pid, 0)
    children.pop(pid)
    worker_exited(pid, directory)
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        body = response.read().decode()
    server.stop()
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "pid": pid, "body": body}))
    """
)


class Worker:
    def __init__(self, directory: Path, accepted: int, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(directory), str(accepted), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == "ready\n"

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        assert self.process.wait(timeout=30) == 0
        self.process.stdout.close()


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    directory = tmp_path / "spool"
    Spool(directory).close()
    return directory


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.exit()


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        body = response.read().decode()
    return parse(body)


def parse(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_workers_counters_add_up_and_live_gauges_follow_live_workers(
    spool: Path, workers: list[Worker]
) -> None:
    directory = multiprocess_directory(spool)
    directory.mkdir()
    workers += [Worker(directory, 3, "loaded"), Worker(directory, 4, "reload-failed")]
    first, second = workers
    live = [WorkerProcess(index=0, pid=first.pid), WorkerProcess(index=1, pid=second.pid)]
    registry = serving_registry(spool, multiprocess_dir=directory, workers=lambda: list(live))
    server = start_metrics_server(LOOPBACK, [], registry)
    try:
        samples = scrape(server.url)
        assert samples[("relay_messages_accepted_total", frozenset())] == 7
        assert samples[("relay_messages_size_bytes_count", frozenset())] == 7
        assert samples[("relay_messages_size_bytes_sum", frozenset())] == 7000
        rejected = frozenset({("reason", "policy"), ("code", "5.7.1")})
        assert samples[("relay_messages_rejected_total", rejected)] == 2
        assert samples[("relay_messages_delivered_total", frozenset({("pool", "eu")}))] == 2
        deferred = frozenset({("pool", "default"), ("reason", "network")})
        assert samples[("relay_messages_deferred_total", deferred)] == 2
        assert samples[("relay_policy_loaded", frozenset())] == 1
        assert samples[("relay_policy_last_reload_successful", frozenset())] == 0  # the second failed
        assert samples[("relay_workers_running", frozenset())] == 2
        for worker in ("main", "0", "1"):
            assert samples[("process_resident_memory_bytes", frozenset({("worker", worker)}))] > 0
        assert not any("pid" in dict(labels) for _, labels in samples)

        # The worker whose reload failed exits; its counters stay, its live gauges go.
        second.exit()
        worker_exited(second.pid, directory)
        live.pop()
        samples = scrape(server.url)
        assert samples[("relay_messages_accepted_total", frozenset())] == 7
        assert samples[("relay_policy_last_reload_successful", frozenset())] == 1
        assert samples[("relay_workers_running", frozenset())] == 1
    finally:
        server.stop()


def test_readiness_waits_for_every_live_worker_policy(spool: Path, workers: list[Worker]) -> None:
    directory = multiprocess_directory(spool)
    directory.mkdir()
    live: list[WorkerProcess] = []
    check = workers_policy_check(directory, lambda: list(live))
    assert check.probe() == "no worker is running"

    workers.append(Worker(directory, 0, "loaded"))
    live.append(WorkerProcess(index=0, pid=workers[0].pid))
    assert check.probe() is None

    workers.append(Worker(directory, 0, "starting"))
    live.append(WorkerProcess(index=1, pid=workers[1].pid))
    assert check.probe() == "worker 1 has not loaded a policy yet"

    live.append(WorkerProcess(index=2, pid=2**22 + 1))  # forked, no Metrics yet: no files at all
    live.pop(1)
    assert check.probe() == "worker 2 has not loaded a policy yet"


def test_supervisor_flow_with_a_forked_worker(spool: Path) -> None:
    directory = multiprocess_directory(spool)
    directory.mkdir()
    stale = directory / "counter_999999.db"
    stale.write_bytes(b"left over from the previous run")
    keep = directory / "README"
    keep.write_text("not ours to delete")
    done = subprocess.run(
        [sys.executable, "-c", SUPERVISOR, str(spool), str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["code"] == 0, "the worker still held the metrics socket after fork"
    samples = parse(result["body"])
    assert samples[("relay_messages_accepted_total", frozenset())] == 5  # the stale file was removed
    assert ("relay_policy_loaded", frozenset()) not in samples  # the reaped worker's live gauges went
    assert not stale.exists()
    assert keep.exists()
    assert (directory / f"counter_{result['pid']}.db").exists()


def test_enable_multiprocess_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Restored at teardown, so the rest of the session counts in memory again.
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    monkeypatch.delenv(ENV, raising=False)
    directory = tmp_path / "metrics"
    assert not multiprocess_enabled()
    enable_multiprocess(directory, clean=True)
    assert multiprocess_enabled()
    assert os.environ[ENV] == str(directory)
    Metrics().accepted(1, latency=0.0)
    assert (directory / f"counter_{os.getpid()}.db").exists()
    values.ValueClass.close_all_files()

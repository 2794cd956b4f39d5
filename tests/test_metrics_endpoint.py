"""The metrics endpoint on loopback: counters driven through the API and scraped over real HTTP.

Every test talks to a real ``start_metrics_server`` on 127.0.0.1 port 0 with urllib, parses what
it gets with prometheus-client's own parsers, and reads queue depth from a real spool.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dnsserver import DnsServer
from prometheus_client import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from relay.config.schema import HostPort
from relay.errors import ConfigError
from relay.metrics import (
    Component,
    DeliveryReason,
    Metrics,
    MetricsServer,
    PortalEvent,
    ProcessesCollector,
    ReadinessCheck,
    RejectReason,
    SpoolCollector,
    TlsMethod,
    WorkerProcess,
    collectors,
    dns_check,
    policy_check,
    serving_registry,
    spool_check,
    start_metrics_server,
)
from relay.metrics import server as server_module
from relay.metrics.server import MAX_CONCURRENT_REQUESTS
from relay.model import Envelope, Fallback, Plan, QueueState, RecipientPlan, TlsLevel
from relay.spool import NewMessage, Spool

LOOPBACK = HostPort(host="127.0.0.1", port=0)
DNS_TIMEOUT = 2.0
"""The readiness probe's bound on the test DNS server's answer (the most the relay allows): a
thread of this process, which a busy machine may not run within a shorter one."""
T0 = 1_700_000_000.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def spooled(queue_id: str, pools: tuple[str | None, ...]) -> NewMessage:
    recipients = tuple(f"r{n}@dest{n}.test" for n in range(len(pools)))
    envelope = Envelope(sender="s@clinic.test", recipients=recipients, client_ip="127.0.0.1")
    plan = Plan(
        recipients=tuple(RecipientPlan(recipient=r, pool=p) for r, p in zip(recipients, pools, strict=True))
    )
    return NewMessage(queue_id=queue_id, envelope=envelope, plan=plan, data=b"Subject: x\r\n\r\nbody\r\n")


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "spool"
    spool = Spool(directory)
    with spool.transaction() as db:
        Spool.insert(db, spooled("A1", (None,)), T0)
        Spool.insert(db, spooled("A2", (None,)), T0 + 10)
        Spool.insert(db, spooled("A3", ("eu",)), T0 + 20)
        Spool.insert(db, spooled("A4", ("eu", "us")), T0 + 30)  # one message, two pools: "mixed"
        Spool.insert(db, spooled("A5", ("eu", "eu")), T0 + 35)  # two recipients, one pool
        Spool.insert(db, spooled("D1", ("eu",)), T0 + 40)
        Spool.set_state(db, "D1", QueueState.DEFERRED, next_attempt_at=T0 + 600)
        Spool.insert(db, spooled("H1", (None,)), T0 + 50)
        Spool.set_state(db, "H1", QueueState.HELD, next_attempt_at=None)
    spool.close()
    yield directory


@dataclass
class Readiness:
    policy: bool = True
    calls: list[str] = field(default_factory=list)


@dataclass
class Endpoint:
    server: MetricsServer
    metrics: Metrics
    ready: Readiness

    def get(self, path: str, *, accept: str = "") -> tuple[int, str, str]:
        """Status, content type and body of a GET (errors included)."""
        request = urllib.request.Request(self.server.url + path, headers={"Accept": accept} if accept else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers["Content-Type"], exc.read().decode()

    def scrape(self) -> Samples:
        status, _, body = self.get("/metrics")
        assert status == 200
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }


@pytest.fixture
def endpoint(spool_dir: Path, dns_server: DnsServer) -> Iterator[Endpoint]:
    registry = serving_registry(spool_dir, multiprocess_dir=None)
    metrics = Metrics(registry=registry, top_domains=["gmail.com", "partner.test"])
    ready = Readiness()

    def policy() -> bool:
        ready.calls.append("policy")
        return ready.policy

    checks = [
        spool_check(spool_dir),
        policy_check(policy),
        dns_check(dns_server.dns_config(timeout=DNS_TIMEOUT)),
    ]
    server = start_metrics_server(LOOPBACK, checks, registry)
    try:
        yield Endpoint(server=server, metrics=metrics, ready=ready)
    finally:
        server.stop()


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


# -- counters and histograms -------------------------------------------------------------------


def drive(metrics: Metrics) -> None:
    for size in (1_000, 20_000, 3_000_000):
        metrics.accepted(size, latency=0.2)
    metrics.rejected(RejectReason.POLICY, "5.7.1")
    metrics.rejected(RejectReason.POLICY, "5.7.1")
    metrics.rejected(RejectReason.SIZE, "5.3.4")
    metrics.rejected(RejectReason.SPOOL_ERROR, "not a code")
    metrics.delivered("eu", latency=3.0, domain="Gmail.com")
    metrics.delivered("eu", latency=400.0, domain="hospital.example")
    metrics.delivered(None, latency=1.0)
    metrics.deferred("eu", DeliveryReason.DNS, domain="partner.test")
    metrics.bounced(None, DeliveryReason.EXPIRED, domain="partner.test")
    metrics.tls(TlsLevel.VERIFIED, TlsMethod.PKIX)
    metrics.tls(TlsLevel.VERIFIED, TlsMethod.PKIX)
    metrics.tls(TlsLevel.BEST, TlsMethod.DANE)
    metrics.tls_unmet(TlsLevel.DANE, Fallback.PORTAL)
    metrics.rule_hit("phi-to-external", "enforce")
    metrics.rule_hit("phi-to-external", "enforce")
    metrics.rule_hit("watch-attachments", "monitor")
    metrics.phi_finding("US_SSN", 3)
    metrics.phi_finding("MEDICAL_RECORD_NUMBER")
    metrics.phi_finding("US_SSN", 0)
    metrics.scanned(0.03)
    metrics.policy_evaluated(0.0004)
    metrics.portal(PortalEvent.VIEWED)
    metrics.portal(PortalEvent.VERIFICATION_FAILED)
    metrics.policy_loaded(T0)
    metrics.policy_reload(False, timestamp=T0 + 60)
    metrics.internal_error(Component.DELIVERY)


def test_counters_move_by_the_right_amounts(endpoint: Endpoint) -> None:
    before = endpoint.scrape()
    drive(endpoint.metrics)
    after = endpoint.scrape()

    def d(name: str, **labels: str) -> float:
        return moved(before, after, name, **labels)

    assert d("relay_messages_accepted_total") == 3
    assert d("relay_messages_size_bytes_count") == 3
    assert d("relay_messages_size_bytes_sum") == 3_021_000
    assert d("relay_messages_size_bytes_bucket", le="4096.0") == 1
    assert d("relay_messages_size_bytes_bucket", le="65536.0") == 2
    assert d("relay_ingress_accept_duration_seconds_count") == 3
    assert d("relay_messages_rejected_total", reason="policy", code="5.7.1") == 2
    assert d("relay_messages_rejected_total", reason="size", code="5.3.4") == 1
    assert d("relay_messages_rejected_total", reason="spool_error", code="other") == 1
    assert d("relay_messages_delivered_total", pool="eu") == 2
    assert d("relay_messages_delivered_total", pool="default") == 1
    assert d("relay_delivery_latency_seconds_count") == 3
    assert d("relay_delivery_latency_seconds_bucket", le="5.0") == 2
    assert d("relay_delivery_latency_seconds_sum") == 404.0
    assert d("relay_messages_deferred_total", pool="eu", reason="dns") == 1
    assert d("relay_messages_bounced_total", pool="default", reason="expired") == 1
    assert d("relay_delivery_outcomes_total", domain="gmail.com", outcome="delivered") == 1
    assert d("relay_delivery_outcomes_total", domain="other", outcome="delivered") == 1
    assert d("relay_delivery_outcomes_total", domain="partner.test", outcome="deferred") == 1
    assert d("relay_delivery_outcomes_total", domain="partner.test", outcome="bounced") == 1
    assert d("relay_tls_deliveries_total", level="verified", method="pkix") == 2
    assert d("relay_tls_deliveries_total", level="best", method="dane") == 1
    assert d("relay_tls_unmet_total", level="dane", fallback="portal") == 1
    assert d("relay_policy_rule_hits_total", rule="phi-to-external", mode="enforce") == 2
    assert d("relay_policy_rule_hits_total", rule="watch-attachments", mode="monitor") == 1
    assert d("relay_phi_findings_total", entity="US_SSN") == 3
    assert d("relay_phi_findings_total", entity="MEDICAL_RECORD_NUMBER") == 1
    assert d("relay_phi_scan_duration_seconds_count") == 1
    assert d("relay_policy_evaluation_duration_seconds_bucket", le="0.0005") == 1
    assert d("relay_portal_events_total", event="viewed") == 1
    assert d("relay_portal_events_total", event="verification_failed") == 1
    assert d("relay_policy_reloads_total", result="failure") == 1
    assert d("relay_policy_reloads_total", result="success") == 0
    assert d("relay_internal_errors_total", component="delivery") == 1
    assert value(after, "relay_policy_loaded") == 1
    assert value(after, "relay_policy_last_reload_successful") == 0
    assert value(after, "relay_policy_last_reload_success_timestamp_seconds") == T0

    endpoint.metrics.policy_reload(True, timestamp=T0 + 120)
    again = endpoint.scrape()
    assert value(again, "relay_policy_last_reload_successful") == 1
    assert value(again, "relay_policy_last_reload_success_timestamp_seconds") == T0 + 120
    assert moved(after, again, "relay_policy_reloads_total", result="success") == 1


def test_reload_counters_read_zero_before_any_reload(endpoint: Endpoint) -> None:
    samples = endpoint.scrape()
    assert ("relay_policy_reloads_total", frozenset({("result", "failure")})) in samples
    assert ("relay_policy_reloads_total", frozenset({("result", "success")})) in samples


def test_exposition_is_prometheus_text_and_openmetrics_on_request(endpoint: Endpoint) -> None:
    drive(endpoint.metrics)
    status, content_type, body = endpoint.get("/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    families = {family.name: family for family in text_string_to_metric_families(body)}
    assert families["relay_messages_accepted"].type == "counter"
    assert families["relay_messages_size_bytes"].type == "histogram"
    assert families["relay_queue_messages"].type == "gauge"
    assert families["process_cpu_seconds"].type == "counter"
    assert all(family.documentation for family in families.values())

    status, content_type, body = endpoint.get(
        "/metrics", accept="application/openmetrics-text; version=1.0.0"
    )
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics_families(body)}
    assert {"relay_messages_accepted", "relay_tls_deliveries", "relay_queue_messages"} <= names


def test_no_address_reaches_the_exposition(endpoint: Endpoint) -> None:
    address = "alice.patient@hospital.example"
    metrics = endpoint.metrics
    metrics.rejected(RejectReason.RELAY_DENIED, address)
    metrics.rule_hit(address, address)
    metrics.phi_finding(address, 2)
    metrics.delivered(address, latency=1.0, domain=address)
    metrics.deferred(address, DeliveryReason.NETWORK, domain="hospital.example")
    samples = endpoint.scrape()
    _, _, body = endpoint.get("/metrics")
    assert "alice" not in body
    assert "hospital.example" not in body
    assert value(samples, "relay_messages_rejected_total", reason="relay_denied", code="other") == 1
    assert value(samples, "relay_policy_rule_hits_total", rule="other", mode="other") == 1
    assert value(samples, "relay_phi_findings_total", entity="other") == 2
    assert value(samples, "relay_messages_delivered_total", pool="other") == 1
    assert value(samples, "relay_delivery_outcomes_total", domain="other", outcome="deferred") == 1


# -- queue gauges from the spool ---------------------------------------------------------------


def test_queue_depth_by_state_and_pool(endpoint: Endpoint) -> None:
    samples = endpoint.scrape()
    assert value(samples, "relay_queue_scrape_success") == 1
    assert value(samples, "relay_queue_messages", state="active", pool="default") == 2
    assert value(samples, "relay_queue_messages", state="active", pool="eu") == 2
    assert value(samples, "relay_queue_messages", state="active", pool="mixed") == 1
    assert value(samples, "relay_queue_messages", state="deferred", pool="eu") == 1
    assert value(samples, "relay_queue_messages", state="held", pool="default") == 1
    assert ("relay_queue_messages", frozenset({("state", "quarantined"), ("pool", "default")})) in samples
    assert value(samples, "relay_spool_total_bytes") > 0
    assert 0 < value(samples, "relay_spool_free_bytes") <= value(samples, "relay_spool_total_bytes")


def test_queue_depth_follows_the_spool(endpoint: Endpoint, spool_dir: Path) -> None:
    spool = Spool(spool_dir)
    with spool.transaction() as db:
        Spool.insert(db, spooled("N1", ("us",)), T0)
        Spool.remove(db, "A1")
    spool.close()
    samples = endpoint.scrape()
    assert value(samples, "relay_queue_messages", state="active", pool="us") == 1
    assert value(samples, "relay_queue_messages", state="active", pool="default") == 1


def test_pool_breakdown_out_of_time_keeps_exact_totals(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(collectors, "POOLS_BUDGET_SECONDS", -1.0)
    monkeypatch.setattr(collectors, "_PROGRESS_STEPS", 1)
    collector = SpoolCollector(spool_dir)
    for _ in range(2):  # the second scrape does not even try (POOLS_RETRY_SECONDS)
        families = {family.name: family for family in collector.collect()}
        depth = {
            (s.labels["state"], s.labels["pool"]): s.value for s in families["relay_queue_messages"].samples
        }
        assert depth[("active", "unknown")] == 5
        assert depth[("deferred", "unknown")] == 1
        assert depth[("held", "unknown")] == 1
        assert sum(depth.values()) == 7
        assert families["relay_queue_scrape_success"].samples[0].value == 1
    assert [r.getMessage() for r in caplog.records].count(
        "event=metrics_queue_pools_skipped reason=time_budget retry_in=300s"
    ) == 1


def test_oldest_message_age_by_state(spool_dir: Path) -> None:
    collector = SpoolCollector(spool_dir, clock=lambda: T0 + 1000)
    families = {family.name: family for family in collector.collect()}
    ages = {s.labels["state"]: s.value for s in families["relay_queue_oldest_message_age_seconds"].samples}
    assert ages == {"active": 1000.0, "deferred": 960.0, "held": 950.0}


def test_queue_depth_of_a_message_without_recipients_plan(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    envelope = Envelope(sender="s@clinic.test", recipients=("r@dest.test",), client_ip="127.0.0.1")
    message = NewMessage(queue_id="E1", envelope=envelope, plan=Plan(recipients=()), data=b"x")
    with spool.transaction() as db:
        Spool.insert(db, message, T0)
    spool.close()
    families = {family.name: family for family in SpoolCollector(tmp_path).collect()}
    depth = {(s.labels["state"], s.labels["pool"]): s.value for s in families["relay_queue_messages"].samples}
    assert depth[("active", "default")] == 1


def test_unreadable_queue_still_answers(tmp_path: Path) -> None:
    empty = tmp_path / "no-spool-yet"
    empty.mkdir()
    registry = serving_registry(empty, multiprocess_dir=None)
    server = start_metrics_server(LOOPBACK, [], registry)
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
            body = response.read().decode()
    finally:
        server.stop()
    samples = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}
    assert samples["relay_queue_scrape_success"] == 0
    assert "relay_queue_messages" not in samples
    assert samples["relay_spool_free_bytes"] > 0


def test_process_metrics_for_the_serving_process(endpoint: Endpoint) -> None:
    samples = endpoint.scrape()
    assert value(samples, "process_resident_memory_bytes", worker="main") > 0
    assert value(samples, "process_open_fds", worker="main") > 0
    assert value(samples, "relay_workers_running") == 0


def test_a_process_that_serves_and_works_is_reported_once() -> None:
    collector = ProcessesCollector(lambda: [WorkerProcess(index=0, pid=os.getpid())])
    families = {family.name: family for family in collector.collect()}
    assert [s.value for s in families["relay_workers_running"].samples] == [1]
    assert [s.labels for s in families["process_resident_memory_bytes"].samples] == [{"worker": "0"}]


def test_a_vanished_worker_has_no_process_figures() -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    collector = ProcessesCollector(lambda: [WorkerProcess(index=3, pid=int(gone.stdout))])
    families = {family.name: family for family in collector.collect()}
    workers = {s.labels["worker"] for s in families["process_resident_memory_bytes"].samples}
    assert workers == {"main"}


def test_slow_client_is_dropped_after_the_request_timeout(
    spool_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(server_module._Handler, "timeout", 0.2)
    caplog.set_level(logging.INFO, logger="relay.metrics")
    server = start_metrics_server(LOOPBACK, [], serving_registry(spool_dir, multiprocess_dir=None))
    try:
        with socket.create_connection((server.address.host, server.address.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\n")  # and then nothing more
            assert sock.recv(100) == b""  # closed by the server
        wait_for(lambda: "event=metrics_client_dropped" in caplog.text, "the drop to be logged")
        assert http_get(server, "/healthz") == (200, "ok\n")
    finally:
        server.stop()


# -- health and readiness ----------------------------------------------------------------------


def test_healthz(endpoint: Endpoint) -> None:
    assert endpoint.get("/healthz") == (200, "text/plain; charset=utf-8", "ok\n")


def test_readyz_when_everything_is_ready(endpoint: Endpoint) -> None:
    # The test DNS server holds no data for the root: NOERROR without data is an answer.
    assert endpoint.get("/readyz") == (200, "text/plain; charset=utf-8", "ok\n")
    assert endpoint.ready.calls == ["policy"]


def test_readyz_policy_not_loaded(endpoint: Endpoint) -> None:
    endpoint.ready.policy = False
    assert endpoint.get("/readyz")[0::2] == (503, "not ready: policy: no policy is loaded\n")


def test_readyz_dns_servfail(endpoint: Endpoint, dns_server: DnsServer) -> None:
    dns_server.fail(".")
    status, _, body = endpoint.get("/readyz")
    assert status == 503
    assert body.startswith("not ready: dns: resolver failed")
    assert body.count("\n") == 1


def test_readyz_dns_silent(endpoint: Endpoint, dns_server: DnsServer) -> None:
    dns_server.silence(".")
    reason = f"not ready: dns: resolver did not answer within {DNS_TIMEOUT:g}s\n"
    assert endpoint.get("/readyz")[0::2] == (503, reason)


def test_readyz_spool_not_writable(tmp_path: Path, dns_server: DnsServer) -> None:
    ran: list[str] = []

    def later() -> str | None:
        ran.append("later")
        return None

    checks = [spool_check(tmp_path / "gone"), ReadinessCheck(name="later", probe=later)]
    server = start_metrics_server(LOOPBACK, checks, serving_registry(tmp_path, multiprocess_dir=None))
    try:
        status, body = http_get(server, "/readyz")
    finally:
        server.stop()
    assert status == 503
    assert body.startswith(
        f"not ready: spool: cannot write in {tmp_path / 'gone'}: No such file or directory"
    )
    assert ran == []  # the first failure answers; later probes are not run


def test_readyz_spool_disk_low(spool_dir: Path) -> None:
    checks = [spool_check(spool_dir, min_free_bytes=2**62)]
    server = start_metrics_server(LOOPBACK, checks, serving_registry(spool_dir, multiprocess_dir=None))
    try:
        status, body = http_get(server, "/readyz")
    finally:
        server.stop()
    assert status == 503
    assert body.startswith("not ready: spool: ") and body.endswith(f"bytes free, below {2**62}\n")


def test_readyz_probe_that_raises_is_not_ready(tmp_path: Path) -> None:
    def broken() -> str | None:
        raise RuntimeError("multi\nline")

    checks = [ReadinessCheck(name="broken", probe=broken)]
    server = start_metrics_server(LOOPBACK, checks, serving_registry(tmp_path, multiprocess_dir=None))
    try:
        assert http_get(server, "/readyz") == (503, "not ready: broken: check failed: RuntimeError\n")
    finally:
        server.stop()


def test_readyz_reason_is_one_bounded_line(tmp_path: Path) -> None:
    checks = [ReadinessCheck(name="long", probe=lambda: "first\nsecond " + "x" * 500)]
    server = start_metrics_server(LOOPBACK, checks, serving_registry(tmp_path, multiprocess_dir=None))
    try:
        status, body = http_get(server, "/readyz")
    finally:
        server.stop()
    assert status == 503
    assert body.startswith("not ready: long: first second xxx")
    assert body.count("\n") == 1 and len(body) <= 220


# -- HTTP behaviour and bounds -----------------------------------------------------------------


def test_head_answers_without_a_body(endpoint: Endpoint) -> None:
    for path, status in (("/healthz", 200), ("/readyz", 200)):
        request = urllib.request.Request(endpoint.server.url + path, method="HEAD")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == status
            assert response.headers["Content-Length"] == "3"
            assert response.read() == b""


def test_unknown_path_and_method(endpoint: Endpoint) -> None:
    assert endpoint.get("/")[0] == 404
    assert endpoint.get("/metricsx")[0] == 404
    request = urllib.request.Request(endpoint.server.url + "/readyz", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(request, timeout=10)
    with failure.value as error:
        assert error.code == 405
        assert error.headers["Allow"] == "GET, HEAD"


def test_concurrent_requests_are_bounded(endpoint: Endpoint) -> None:
    address = (endpoint.server.address.host, endpoint.server.address.port)
    idle = [socket.create_connection(address, timeout=10) for _ in range(MAX_CONCURRENT_REQUESTS)]
    replies: list[bytes] = []

    def answered() -> bool:
        reply = busy_reply(address)
        if reply is not None:
            replies.append(reply)
        return reply is not None

    try:
        # The reply that ended the wait is the one checked: asking again would give a server
        # slow to answer (a busy machine) 0.3 s only, and take its silence for no reply.
        wait_for(answered, "the server to be full")
        assert replies == [b"HTTP/1.0 503 Service Unavailable"]
    finally:
        for sock in idle:
            sock.close()
    # Closed idle clients free their slots at once.
    wait_for(lambda: endpoint.get("/healthz")[0] == 200, "slots to be released")


def test_stop_frees_the_port(tmp_path: Path) -> None:
    server = start_metrics_server(LOOPBACK, [], serving_registry(tmp_path, multiprocess_dir=None))
    port = server.address.port
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    again = start_metrics_server(HostPort(host="127.0.0.1", port=port), [], CollectorRegistry())
    again.stop()


def test_port_in_use_is_a_config_error(tmp_path: Path) -> None:
    server = start_metrics_server(LOOPBACK, [], serving_registry(tmp_path, multiprocess_dir=None))
    try:
        with pytest.raises(ConfigError, match=r"listen.metrics: cannot listen on 127.0.0.1:\d+"):
            start_metrics_server(server.address, [], serving_registry(tmp_path, multiprocess_dir=None))
    finally:
        server.stop()


def test_ipv6_loopback(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this kernel")
    try:
        server = start_metrics_server(
            HostPort(host="::1", port=0), [], serving_registry(tmp_path, multiprocess_dir=None)
        )
    except ConfigError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        assert server.url.startswith("http://[::1]:")
        assert http_get(server, "/healthz") == (200, "ok\n")
    finally:
        server.stop()


# -- helpers -----------------------------------------------------------------------------------


def http_get(server: MetricsServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def busy_reply(address: tuple[str, int]) -> bytes | None:
    """The status line a fresh connection gets before sending anything, if any."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.settimeout(0.3)
        try:
            data = sock.recv(100)
        except TimeoutError:
            return None
    return data.split(b"\r\n")[0] or None


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)

"""Prometheus metrics of the relay, and its HTTP endpoint (``/metrics``, ``/healthz``, ``/readyz``).

The rest of the relay counts through one ``Metrics`` object whose methods take typed values;
label values are bounded in ``labels`` so no address, and no domain outside a configured top
list, can become a series. docs/metrics.md lists every metric.

    labels      closed label sets (enums), LabelBounds for the open ones, reply -> reason class
    recorder    Metrics: every counter, gauge and histogram, and the calls that move them
    multiproc   per-process files so the workers' counters add up; worker_exited()
    collectors  read at scrape time: queue depth and spool disk, process figures; serving_registry()
    checks      readiness probes: spool writable, policy loaded, DNS resolver answers
    server      start_metrics_server(): the WSGI app on a bounded wsgiref thread

Start order in the process that serves (the supervisor, or the only process with ``workers: 1``),
after taking the spool's serve lock and before any worker starts::

    directory = multiprocess_directory(config.spool)
    enable_multiprocess(directory, clean=True)
    registry = serving_registry(config.spool, multiprocess_dir=directory, workers=live_workers)
    server = start_metrics_server(config.listen.metrics, checks, registry)
    ...                                  # fork workers; each builds its Metrics()
    worker_exited(pid, directory)        # for each worker reaped
    server.stop()
"""

from relay.metrics.checks import (
    ReadinessCheck,
    dns_check,
    policy_check,
    spool_check,
    workers_policy_check,
)
from relay.metrics.collectors import ProcessesCollector, SpoolCollector, serving_registry
from relay.metrics.labels import (
    Component,
    DeliveryReason,
    LabelBounds,
    PortalEvent,
    RejectReason,
    TlsMethod,
    delivery_reason,
    tls_method,
)
from relay.metrics.multiproc import (
    WorkerProcess,
    enable_multiprocess,
    multiprocess_directory,
    worker_exited,
)
from relay.metrics.recorder import Metrics
from relay.metrics.server import MetricsServer, start_metrics_server

__all__ = [
    "Component",
    "DeliveryReason",
    "LabelBounds",
    "Metrics",
    "MetricsServer",
    "PortalEvent",
    "ProcessesCollector",
    "ReadinessCheck",
    "RejectReason",
    "SpoolCollector",
    "TlsMethod",
    "WorkerProcess",
    "delivery_reason",
    "dns_check",
    "enable_multiprocess",
    "multiprocess_directory",
    "policy_check",
    "serving_registry",
    "spool_check",
    "start_metrics_server",
    "tls_method",
    "worker_exited",
    "workers_policy_check",
]

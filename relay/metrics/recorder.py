"""The relay's own metrics: their definitions, and the one-line calls the rest of the relay makes.

Every counter and histogram the relay increments is defined here, named
``relay_<area>_<thing>_<unit>``, and reached only through a method of ``Metrics`` whose
arguments are typed and whose open values pass through ``LabelBounds``; no call site builds a
label. docs/metrics.md describes each metric; tests/test_metrics_docs.py keeps the two in step.

Delivery outcomes (delivered, deferred, bounced, TLS) count recipient copies, as each recipient
of a message has its own outcome; accepted and rejected count SMTP transactions.

In a multi-process node the values live in per-process files (see ``multiproc``), so a worker
builds its ``Metrics`` after ``enable_multiprocess`` and the serving process adds them up.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from relay.metrics.labels import (
    Component,
    DeliveryReason,
    DomainOutcome,
    LabelBounds,
    PortalEvent,
    RejectReason,
    ReloadResult,
    TlsMethod,
    enhanced_code,
    value_of,
)
from relay.model import Fallback, TlsLevel

SCAN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""PHI scans take milliseconds for a note and seconds for a large attachment; limits.pipeline_timeout
(60 s by default) ends the rest."""
POLICY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
"""Evaluation is a pure function over an index: tens of microseconds; milliseconds means trouble."""
ACCEPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""End of DATA to our 250: scan, policy and the group-committed fsync; the sender's MTA waits
for it (RFC 5321 section 4.5.3.2.6 lets it wait 10 minutes, users notice after a second)."""
DELIVERY_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 5 * 86400.0)
"""Accepted to delivered: seconds when the first attempt works, then the retry schedule's steps
(1 min, 5 min, 15 min, 1 h ...) up to delivery.max_queue_lifetime (5 days)."""
SIZE_BUCKETS = (*(float(4**n * 1024) for n in range(8)), 25 * 2.0**20, 50 * 2.0**20)
"""1 KiB to 16 MiB by factors of 4, then limits.max_message_size's default (25 MiB) and twice it."""


class Metrics:
    """The relay's counters, gauges and histograms, and the typed calls that move them.

    ``registry``: where the metrics register (a fresh private one by default, so two instances
    never collide; in multi-process mode the serving process reads the files instead).
    ``top_domains``: recipient domains that get their own series in
    ``relay_delivery_outcomes_total``; every other domain counts as "other".
    """

    def __init__(self, *, registry: CollectorRegistry | None = None, top_domains: Iterable[str] = ()) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.bounds = LabelBounds(top_domains=top_domains)
        reg = self.registry

        # -- ingress ---------------------------------------------------------------------------
        self._accepted = Counter(
            "relay_messages_accepted_total", "Messages accepted (250 after the spool commit).", registry=reg
        )
        self._rejected = Counter(
            "relay_messages_rejected_total",
            "Messages or recipients refused in the SMTP session, by reason and enhanced status code.",
            ["reason", "code"],
            registry=reg,
        )
        self._size = Histogram(
            "relay_messages_size_bytes", "Size of accepted messages.", buckets=SIZE_BUCKETS, registry=reg
        )
        self._accept_seconds = Histogram(
            "relay_ingress_accept_duration_seconds",
            "End of DATA to the 250 reply: extraction, PHI scan, policy and spool commit.",
            buckets=ACCEPT_BUCKETS,
            registry=reg,
        )
        # -- PHI and policy --------------------------------------------------------------------
        self._scan_seconds = Histogram(
            "relay_phi_scan_duration_seconds",
            "Time to scan one message for PHI.",
            buckets=SCAN_BUCKETS,
            registry=reg,
        )
        self._findings = Counter(
            "relay_phi_findings_total", "PHI identifiers found, by entity type.", ["entity"], registry=reg
        )
        self._policy_seconds = Histogram(
            "relay_policy_evaluation_duration_seconds",
            "Time to evaluate the policy for one message.",
            buckets=POLICY_BUCKETS,
            registry=reg,
        )
        self._rule_hits = Counter(
            "relay_policy_rule_hits_total",
            "Messages a policy rule matched, by rule name and mode (enforce, monitor).",
            ["rule", "mode"],
            registry=reg,
        )
        self._reloads = Counter(
            "relay_policy_reloads_total", "Policy reload attempts, by result.", ["result"], registry=reg
        )
        self._reload_ok = Gauge(
            "relay_policy_last_reload_successful",
            "1 when the last policy reload of every live worker succeeded.",
            registry=reg,
            multiprocess_mode="livemin",
        )
        self._reload_time = Gauge(
            "relay_policy_last_reload_success_timestamp_seconds",
            "When a worker last loaded a policy successfully (the latest over live workers).",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self._loaded = Gauge(
            "relay_policy_loaded",
            "1 when every live worker has an active policy.",
            registry=reg,
            multiprocess_mode="livemin",
        )
        # -- delivery --------------------------------------------------------------------------
        self._delivered = Counter(
            "relay_messages_delivered_total",
            "Recipient copies delivered, by egress pool.",
            ["pool"],
            registry=reg,
        )
        self._deferred = Counter(
            "relay_messages_deferred_total",
            "Recipient copies deferred for a retry, by egress pool and reason class.",
            ["pool", "reason"],
            registry=reg,
        )
        self._bounced = Counter(
            "relay_messages_bounced_total",
            "Recipient copies bounced to the sender, by egress pool and reason class.",
            ["pool", "reason"],
            registry=reg,
        )
        self._by_domain = Counter(
            "relay_delivery_outcomes_total",
            "Recipient copy outcomes by recipient domain (configured top domains, else other).",
            ["domain", "outcome"],
            registry=reg,
        )
        self._latency = Histogram(
            "relay_delivery_latency_seconds",
            "Accepted to delivered, per recipient copy, retries included.",
            buckets=DELIVERY_BUCKETS,
            registry=reg,
        )
        self._tls = Counter(
            "relay_tls_deliveries_total",
            "Recipient copies delivered, by TLS level required and method that protected the session.",
            ["level", "method"],
            registry=reg,
        )
        self._tls_unmet = Counter(
            "relay_tls_unmet_total",
            "Recipient copies whose required TLS level could not be met, by level and fallback taken.",
            ["level", "fallback"],
            registry=reg,
        )
        # -- portal and internals --------------------------------------------------------------
        self._portal = Counter(
            "relay_portal_events_total", "Encrypted pickup portal events, by event.", ["event"], registry=reg
        )
        self._errors = Counter(
            "relay_internal_errors_total",
            "Unexpected exceptions caught at the root of a background task, by component.",
            ["component"],
            registry=reg,
        )
        # Series that should read 0 rather than be absent before the first event, so rate() and
        # alerts see them from the first scrape.
        for result in ReloadResult:
            self._reloads.labels(result=result.value)

    # -- ingress -------------------------------------------------------------------------------

    def accepted(self, size: int, /, *, latency: float) -> None:
        """A message spooled and answered 250; ``latency``: end of DATA to the reply, seconds."""
        self._accepted.inc()
        self._size.observe(max(size, 0))
        self._accept_seconds.observe(max(latency, 0.0))

    def rejected(self, reason: RejectReason, code: str) -> None:
        """A refusal in the SMTP session; ``code`` is its enhanced status code (``"5.7.1"``)."""
        self._rejected.labels(reason=reason.value, code=enhanced_code(code)).inc()

    # -- PHI and policy ------------------------------------------------------------------------

    def scanned(self, seconds: float) -> None:
        self._scan_seconds.observe(max(seconds, 0.0))

    def phi_finding(self, entity: str, count: int = 1) -> None:
        """``count`` identifiers of ``entity`` type (Presidio's name, e.g. ``US_SSN``) in one message."""
        if count > 0:
            self._findings.labels(entity=self.bounds.entity(entity)).inc(count)

    def policy_evaluated(self, seconds: float) -> None:
        self._policy_seconds.observe(max(seconds, 0.0))

    def rule_hit(self, rule: str, mode: enum.Enum | str) -> None:
        """A rule matched a message; ``mode`` is the rule's ``Mode`` (enforce or monitor)."""
        mode_label = value_of(mode)
        if mode_label not in ("enforce", "monitor"):
            mode_label = "other"
        self._rule_hits.labels(rule=self.bounds.name("rule", rule), mode=mode_label).inc()

    def policy_loaded(self, timestamp: float) -> None:
        """This worker has an active policy (at start, before it listens), loaded at ``timestamp``."""
        self._loaded.set(1)
        self._reload_ok.set(1)
        self._reload_time.set(timestamp)

    def policy_reload(self, ok: bool, *, timestamp: float) -> None:
        """A reload attempt: ``ok`` when the files loaded (or were unchanged), else the old policy stays."""
        self._reloads.labels(result=(ReloadResult.SUCCESS if ok else ReloadResult.FAILURE).value).inc()
        self._reload_ok.set(1 if ok else 0)
        if ok:
            self._reload_time.set(timestamp)

    # -- delivery ------------------------------------------------------------------------------

    def delivered(self, pool: str | None, *, latency: float, domain: str = "") -> None:
        """A recipient copy accepted by the remote server; ``latency``: since our 250, seconds."""
        self._delivered.labels(pool=self.bounds.pool(pool)).inc()
        self._latency.observe(max(latency, 0.0))
        self._domain(domain, DomainOutcome.DELIVERED)

    def deferred(self, pool: str | None, reason: DeliveryReason, *, domain: str = "") -> None:
        self._deferred.labels(pool=self.bounds.pool(pool), reason=reason.value).inc()
        self._domain(domain, DomainOutcome.DEFERRED)

    def bounced(self, pool: str | None, reason: DeliveryReason, *, domain: str = "") -> None:
        self._bounced.labels(pool=self.bounds.pool(pool), reason=reason.value).inc()
        self._domain(domain, DomainOutcome.BOUNCED)

    def tls(self, level: TlsLevel, method: TlsMethod) -> None:
        """A delivered copy: the level its plan required, and how its session was protected."""
        self._tls.labels(level=level.value, method=method.value).inc()

    def tls_unmet(self, level: TlsLevel, fallback: Fallback) -> None:
        """A copy whose required level could not be met; ``fallback``: portal, defer or bounce."""
        self._tls_unmet.labels(level=level.value, fallback=fallback.value).inc()

    # -- portal and internals ------------------------------------------------------------------

    def portal(self, event: PortalEvent) -> None:
        self._portal.labels(event=event.value).inc()

    def internal_error(self, component: Component) -> None:
        self._errors.labels(component=component.value).inc()

    def _domain(self, domain: str, outcome: DomainOutcome) -> None:
        if domain:
            self._by_domain.labels(domain=self.bounds.domain(domain), outcome=outcome.value).inc()

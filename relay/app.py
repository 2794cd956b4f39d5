"""Builds every component from the configuration, starts them in order, stops them in reverse.

Start: bind the SMTP socket (a second instance on the node fails here, before it touches the
spool) -> spool (and crash recovery: every lease of a previous run is released, so everything
spooled is picked up again) -> group commit -> delivery scheduler -> pipeline -> SMTP listener.
Stop (SIGTERM): close the listener, let open sessions finish (bounded), let in-flight
deliveries finish (bounded), commit what is queued, close the spool. What did not finish
stays spooled and resumes at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import ssl
import time
from dataclasses import replace

from relay.audit.trail import AuditTrail
from relay.audit.writer import AuditLog
from relay.clock import Clock, SystemClock
from relay.config.schema import Config, HostPort
from relay.delivery.mx import MxResolver
from relay.delivery.scheduler import Scheduler
from relay.dnsresolver import remote_nameservers, stub_resolver
from relay.errors import ConfigError
from relay.ingress.handler import IngressHandler
from relay.ingress.server import ConnectionLimiter, IngressLimits, RelaySMTP
from relay.ingress.users import UsersFile
from relay.metrics import Component, Metrics
from relay.phi.pool import PhiPool
from relay.phi.settings import missing_model_error, model_installed
from relay.pipeline import Analyzer, Pipeline, SmallInline
from relay.policy import PolicyStore
from relay.reloader import PolicyReloader
from relay.spool import GroupCommitter, Spool
from relay.spool.intake import SpoolIntake
from relay.tls.outbound import TlsPolicy

log = logging.getLogger("relay.app")

LISTEN_BACKLOG = 1024
SESSION_DRAIN_SECONDS = 10.0
"""On stop, a session in the middle of DATA gets this long to finish its message; idle
sessions are told 421 at once."""


def ingress_tls_context(config: Config) -> ssl.SSLContext | None:
    if config.tls.cert is None or config.tls.key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls.cert, config.tls.key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load certificate and key: {exc}", file=str(config.source), key="tls"
        ) from exc
    return context


def ingress_credentials(config: Config) -> tuple[ssl.SSLContext | None, UsersFile | None]:
    """The STARTTLS context and the AUTH users, or the ``ConfigError`` that stops the start."""
    tls_context = ingress_tls_context(config)
    if config.auth.users_file is None:
        return tls_context, None
    if tls_context is None:
        raise ConfigError(
            "AUTH is offered only after STARTTLS: set tls.cert and tls.key too",
            file=str(config.source),
            key="auth.users_file",
        )
    return tls_context, UsersFile.load(config.auth.users_file)


def check_startup(config: Config) -> None:
    """What a relay process needs besides a valid relay.yaml: a valid policy, usable audit
    keys, certificate and users, an installed language model. ``relay check-config`` runs
    these too, so it says OK only for a configuration that starts."""
    PolicyStore.load(config.policies)
    AuditLog.from_config(config.audit)
    ingress_credentials(config)
    if config.phi.enabled and not model_installed(config.phi.model):
        raise missing_model_error(config.phi.model, file=str(config.source))


def preflight(config: Config) -> None:
    """Everything that would stop a relay process at start, checked once before workers fork.

    A worker that failed these would fail again after every restart; the supervisor checks
    them first, so a bad policy, key, certificate or port gives the same one line and exit
    code with ``workers: N`` as with one process.
    """
    check_startup(config)
    listening_socket(config.listen.smtp, reuse_port=True).close()


def listening_socket(address: HostPort, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((address.host, address.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {address}: {exc.strerror}", key="listen.smtp") from exc
    sock.listen(LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


class RelayNode:
    """One relay process: ingress, pipeline, spool intake and delivery over a shared spool."""

    def __init__(self, config: Config, *, clock: Clock | None = None, recover: bool = True) -> None:
        self.config = config
        self._clock = clock or SystemClock()
        self._recover = recover
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._server: asyncio.Server | None = None
        self._limiter = ConnectionLimiter(
            max_total=config.limits.max_connections, max_per_ip=config.limits.max_connections_per_ip
        )
        self._spool: Spool | None = None
        self._committer: GroupCommitter | None = None
        self._scheduler: Scheduler | None = None
        # An invalid policy stops the relay here, before it listens (one file:line line).
        self.policies = PolicyStore.load(config.policies)
        self.metrics = Metrics(top_domains=config.metrics.top_domains)
        # The audit keys are loaded now (a bad key stops the start); the log opens in start(),
        # after any fork, in the process that writes it.
        self.audit = AuditTrail(
            AuditLog.from_config(config.audit),
            on_failure=lambda: self.metrics.internal_error(Component.AUDIT),
        )
        self.reloader = PolicyReloader(self.policies, config.policies, audit=self.audit, metrics=self.metrics)
        self.tls = TlsPolicy(config.outbound_tls, config.dns)
        self._audit_started = False
        self._phi: PhiPool | None = None

    async def start(self, *, sock: socket.socket | None = None) -> None:
        config = self.config
        tls_context, users = ingress_credentials(config)
        resolver = MxResolver(config.dns)
        if config.outbound_tls.dane and (remote := remote_nameservers(stub_resolver(config.dns))):
            # Not refused: a site may trust its network. But DANE's proof is then only as good.
            log.warning(
                "event=dane_resolver_not_local nameservers=%s effect=dane_trusts_their_ad_bit",
                ",".join(remote),
            )

        # Bind before touching the spool: a second `relay serve` started by mistake on this node
        # fails here, before its crash recovery could release the leases of the running one.
        listener = sock or listening_socket(config.listen.smtp, reuse_port=config.workers != 1)
        try:
            self.audit.start()
            self._audit_started = True
            analyzer = await self._start_phi()
            committer, scheduler = await self._start_delivery(resolver)
        except BaseException:
            listener.close()
            raise

        handler = IngressHandler(
            audit=self.audit,
            metrics=self.metrics,
            hostname=config.hostname,
            relay_from=config.relay_from,
            max_recipients=config.limits.max_recipients,
            pipeline=Pipeline(
                analyzer=analyzer,
                policies=self.policies,
                internal_domains=frozenset(d.lower() for d in config.internal_domains),
                hostname=config.hostname,
                timeout=config.limits.pipeline_timeout,
                metrics=self.metrics,
            ),
            intake=SpoolIntake(committer, scheduler, self._clock),
            clock=self._clock,
        )
        limits = IngressLimits(
            max_message_size=config.limits.max_message_size,
            max_line_length=config.limits.max_line_length,
            command_timeout=config.limits.command_timeout,
            data_timeout=config.limits.data_timeout,
        )
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: RelaySMTP(
                handler,
                hostname=config.hostname,
                limits=limits,
                limiter=self._limiter,
                users=users,
                tls_context=tls_context,
                metrics=self.metrics,
            ),
            sock=listener,
        )
        bound = listener.getsockname()
        log.info(
            "event=listening smtp=%s:%d tls=%s auth=%s",
            bound[0],
            bound[1],
            tls_context is not None,
            users is not None,
        )

    async def _start_phi(self) -> Analyzer:
        """The analysis processes: with PHI detection on, started before we listen, each loading
        the language model once. With it off, they only extract the messages too big to extract
        inline (``SmallInline``), and start when the first one arrives."""
        settings = self.config.phi
        self._phi = PhiPool(replace(settings, workers=settings.processes(self.config.processes())))
        if settings.enabled:
            await self._phi.start()
            log.info("event=phi_ready workers=%d model=%s", self._phi.processes, settings.model)
            return self._phi
        log.warning("event=phi_disabled effect=every_message_unscannable")
        return SmallInline(self._phi)  # its pool starts with the first message too big for inline

    async def _start_delivery(self, resolver: MxResolver) -> tuple[GroupCommitter, Scheduler]:
        """Open the spool (recovering it first), then its writer thread and the scheduler."""
        config = self.config
        self._spool = Spool(config.spool)
        if self._recover:
            with self._spool.transaction() as db:
                released = Spool.release_all_leases(db)
            counts = self._spool.counts()
            log.info(
                "event=spool_recovered leases_released=%d %s",
                released,
                " ".join(f"{state.value}={n}" for state, n in counts.items()),
            )
        self._committer = GroupCommitter(self._spool)
        self._committer.start()
        self._scheduler = Scheduler(
            committer=self._committer,
            owner=self._owner,
            settings=config.delivery,
            routes=config.routes,
            route_names=config.outbound_tls.route_names,
            resolver=resolver,
            hostname=config.hostname,
            clock=self._clock,
            tls=self.tls,
            audit=self.audit,
            metrics=self.metrics,
        )
        await self._scheduler.start()
        return self._committer, self._scheduler

    async def stop(self) -> None:
        await self.reloader.stop()
        if self._server is not None:
            self._server.close()
            self._limiter.shut_down_all()
            deadline = self._clock.monotonic() + SESSION_DRAIN_SECONDS
            while self._limiter.open_connections and self._clock.monotonic() < deadline:
                await asyncio.sleep(0.05)
        if self._scheduler is not None:
            await self._scheduler.stop()
        if self._phi is not None:
            await self._phi.stop()
        if self._committer is not None:
            self._committer.stop()
        if self._spool is not None:
            self._spool.close()
        self.tls.close()
        if self._audit_started:
            self.audit.stop()
        log.info("event=stopped")


async def serve(config: Config, *, recover: bool = True) -> None:
    """Run one node until SIGTERM or SIGINT (``recover``: release stale leases first)."""
    node = RelayNode(config, recover=recover)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, node.reloader.reload, "sighup")
    await node.start()
    node.reloader.start()
    node.metrics.policy_loaded(time.time())
    log.info(
        "event=policy_loaded version=%s rules=%d", node.policies.version, len(node.policies.active.rules)
    )
    try:
        await stop.wait()
        log.info("event=stopping reason=signal")
    finally:
        await node.stop()

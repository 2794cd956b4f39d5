"""The delivery scheduler: takes due messages from the spool and sends them on.

Messages come two ways: handed over by ingress right after they were made durable (already
leased to this process, no database read), or claimed from the spool when due (retries,
recovery after a restart, ``relay queue flush``). Each message is split by recipient domain;
each domain goes to its static route or its MX hosts in preference order, under a global and a
per-destination concurrency limit. The results are turned into the message's next state by the
pure ``outcome.after_attempt`` and written in one transaction with any DSN it requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import deque
from collections.abc import Mapping
from dataclasses import replace

from relay.audit.events import MAX_DETAIL_CHARS, AuditEvent, AuditKind, Recorder
from relay.clock import Clock
from relay.config.schema import DeliveryConfig, HostPort
from relay.delivery.bounce import dsn_message
from relay.delivery.client import Timeouts
from relay.delivery.connections import ConnectionCache
from relay.delivery.hops import HopWalker
from relay.delivery.mx import MxResolver, NextHop, ResolutionStatus, reply_for, route_hop
from relay.delivery.outcome import AttemptOutcome, after_attempt, same_result
from relay.delivery.security import requirement_unmet
from relay.metrics import Component, DeliveryReason, Metrics, delivery_reason
from relay.model import (
    Outcome,
    PlanAction,
    RecipientPlan,
    RecipientResult,
    Reply,
    SpooledMessage,
    domain_of,
)
from relay.spool import GroupCommitter, Spool
from relay.tls.outbound import TlsPolicy

log = logging.getLogger("relay.delivery")

LEASE_SECONDS = 3600.0
"""How long a claimed message belongs to one process. Longer than any attempt can take (all
MX hosts times the command timeouts); a crashed worker's messages return after it, and a restart
of the node releases every lease at once."""

MAX_HANDOFF = 1000
"""Accepted messages waiting in memory for a delivery slot; beyond it they wait in the spool."""

_PERMANENT_RESOLUTION = (ResolutionStatus.NULL_MX, ResolutionStatus.NO_SUCH_DOMAIN)


class Scheduler:
    def __init__(
        self,
        *,
        committer: GroupCommitter,
        owner: str,
        settings: DeliveryConfig,
        routes: Mapping[str, HostPort],
        route_names: Mapping[str, str],
        resolver: MxResolver,
        hostname: str,
        clock: Clock,
        tls: TlsPolicy,
        audit: Recorder,
        metrics: Metrics,
    ) -> None:
        self._committer = committer
        self._owner = owner
        self._settings = settings
        self._routes = routes
        self._route_names = route_names
        self._resolver = resolver
        self._hostname = hostname
        self._clock = clock
        self._audit = audit
        self._metrics = metrics
        self._timeouts = Timeouts(connect=settings.connect_timeout, command=settings.command_timeout)
        self._connections = ConnectionCache(
            idle_timeout=settings.connection_idle_timeout,
            max_messages=settings.max_messages_per_connection,
            clock=clock,
        )
        self._hops = HopWalker(
            connections=self._connections,
            timeouts=self._timeouts,
            hostname=hostname,
            tls=tls,
            metrics=metrics,
        )
        self._destination_slots: dict[str, asyncio.Semaphore] = {}
        self._handoff: deque[tuple[SpooledMessage, bytes]] = deque()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def lease_until(self) -> float:
        return self._clock.now() + LEASE_SECONDS

    @property
    def owner(self) -> str:
        return self._owner

    def offer(self, message: SpooledMessage, data: bytes) -> bool:
        """Take a message just spooled and leased to us; False means leave it to the spool."""
        if self._stopping or len(self._handoff) >= MAX_HANDOFF:
            return False
        self._handoff.append((message, data))
        self._wake.set()
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-scheduler")

    async def stop(self) -> None:
        """Stop taking work, let in-flight deliveries finish (bounded), leave the rest spooled."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=self._settings.shutdown_timeout)
            for task in late:
                task.cancel()
            if late:
                log.warning("event=shutdown_cancelled_deliveries count=%d", len(late))
                await asyncio.wait(late)
        self._handoff.clear()  # still leased to us; the next start releases and retries them
        await self._connections.close_all()

    async def _run(self) -> None:
        next_poll = 0.0
        while not self._stopping:
            self._wake.clear()
            while self._handoff and len(self._inflight) < self._settings.max_concurrency:
                self._spawn(*self._handoff.popleft())
            free = self._settings.max_concurrency - len(self._inflight)
            if free > 0 and self._clock.monotonic() >= next_poll:
                claimed = await self._claim(free)
                for message, data in claimed:
                    self._spawn(message, data)
                # A full batch means more is due: look again as soon as a slot frees up.
                if len(claimed) < free:
                    next_poll = self._clock.monotonic() + self._settings.poll_interval
            self._connections.expire()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.poll_interval):
                    await self._wake.wait()

    async def _claim(self, limit: int) -> list[tuple[SpooledMessage, bytes]]:
        now = self._clock.now()
        try:
            messages = await self._committer.run(
                lambda db: Spool.claim_due(
                    db, owner=self._owner, now=now, lease_until=now + LEASE_SECONDS, limit=limit
                )
            )
        except Exception as exc:
            log.error("event=claim_failed reason=%r", str(exc))
            self._metrics.internal_error(Component.SPOOL)
            return []
        return messages

    def _spawn(self, message: SpooledMessage, data: bytes) -> None:
        task = asyncio.create_task(self._attempt(message, data), name=f"deliver-{message.queue_id}")
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _attempt(self, message: SpooledMessage, data: bytes) -> None:
        try:
            # One group per destination domain and per way the copy must travel.
            by_route: dict[tuple[str, RecipientPlan], list[str]] = {}
            for address in message.pending:
                entry = replace(message.plan.for_recipient(address), recipient="")
                by_route.setdefault((domain_of(address), entry), []).append(address)
            groups = await asyncio.gather(
                *(
                    self._deliver_domain(message, data, domain, tuple(rcpts), entry)
                    for (domain, entry), rcpts in by_route.items()
                )
            )
            results = [result for group in groups for result in group]
        except Exception:  # the root of a background task: log with context, keep serving
            log.exception("event=delivery_crashed qid=%s", message.queue_id)
            self._metrics.internal_error(Component.DELIVERY)
            # Defer rather than leave the message leased for an hour: a bug must not stall mail.
            failure = Reply(code=451, enhanced="4.3.0", text="internal error during delivery")
            results = same_result(message.pending, Outcome.TEMPFAIL, failure)
        outcome = after_attempt(
            message,
            results,
            now=self._clock.now(),
            schedule=self._settings.retry_schedule,
            max_lifetime=self._settings.max_queue_lifetime,
        )
        try:
            await self._record(message, data, outcome)
        except Exception:
            log.exception("event=record_failed qid=%s", message.queue_id)
            self._metrics.internal_error(Component.SPOOL)

    async def _deliver_domain(
        self,
        message: SpooledMessage,
        data: bytes,
        domain: str,
        recipients: tuple[str, ...],
        entry: RecipientPlan,
    ) -> list[RecipientResult]:
        if entry.action is PlanAction.PORTAL and not entry.branches:
            return requirement_unmet(recipients, entry, "portal copy", definite=True)
        route = self._routes.get(domain)
        if route is not None:
            hops: tuple[NextHop, ...] = (route_hop(route, self._route_names.get(domain)),)
            port, destination = route.port, f"route:{route}"
        else:
            resolution = await self._resolver.resolve(domain)
            if resolution.status is not ResolutionStatus.OK:
                reply = reply_for(resolution)
                outcome = Outcome.PERMFAIL if resolution.status in _PERMANENT_RESOLUTION else Outcome.TEMPFAIL
                return same_result(recipients, outcome, reply)
            hops, port, destination = resolution.hops, self._settings.port, domain
        slots = self._destination_slots.setdefault(
            destination, asyncio.Semaphore(self._settings.max_per_destination)
        )
        waited = slots.locked()
        async with slots:
            if waited and not await self._committer.run(lambda db: Spool.schedulable(db, message.queue_id)):
                # An admin held, quarantined or deleted it while it waited here for a slot.
                reply = Reply(code=451, enhanced="4.3.2", text="held or removed by an administrator")
                return same_result(recipients, Outcome.TEMPFAIL, reply)
            return await self._hops.deliver(
                message,
                data,
                domain,
                recipients,
                entry,
                hops,
                port=port,
                destination=destination,
                routed=route is not None,
            )

    def _count(self, kind: AuditKind, message: SpooledMessage, result: RecipientResult, now: float) -> None:
        pool = message.plan.for_recipient(result.recipient).pool
        domain = domain_of(result.recipient)
        if kind is AuditKind.DELIVERED:
            self._metrics.delivered(pool, latency=now - message.created_at, domain=domain)
        elif kind is AuditKind.DEFERRED:
            self._metrics.deferred(pool, _reason(result), domain=domain)
        else:
            self._metrics.bounced(pool, _reason(result), domain=domain)

    async def _record(self, message: SpooledMessage, data: bytes, outcome: AttemptOutcome) -> None:
        now = self._clock.now()
        dsn = dsn_message(
            message,
            data,
            outcome.bounced,
            hostname=self._hostname,
            now=now,
            lease_owner=self._owner,
            lease_until=now + LEASE_SECONDS,
        )
        update = outcome.update

        def write(db: sqlite3.Connection) -> None:
            if update is None:
                Spool.remove(db, message.queue_id)
            else:
                Spool.record_attempt(db, update)
            if dsn is not None:
                Spool.insert(db, dsn, now)

        outcomes = (
            (AuditKind.DELIVERED, outcome.delivered),
            (AuditKind.DEFERRED, outcome.deferred),
            (AuditKind.BOUNCED, outcome.bounced),
        )
        # Recorded before the spool forgets the attempt: a crash in between redelivers (and
        # records again), but never leaves a delivery without its record.
        await self._audit.persist(
            *(_delivery_event(kind, message, result) for kind, results in outcomes for result in results)
        )
        await self._committer.run(write)
        for kind, results in outcomes:
            for result in results:
                log.info(
                    "event=%s qid=%s to=<%s> relay=%s reply=%r",
                    kind.value,
                    message.queue_id,
                    result.recipient,
                    result.remote_host or "-",
                    str(result.reply),
                )
                self._count(kind, message, result, now)
        if dsn is not None:
            log.info(
                "event=dsn_queued qid=%s dsn_qid=%s to=<%s>",
                message.queue_id,
                dsn.queue_id,
                message.envelope.sender,
            )
            if not self.offer(dsn.as_spooled(now), dsn.data):
                # Not taken (stopping, or the hand-off is full): free its lease so the next
                # claim (ours or a sibling worker's) sends it now, not after LEASE_SECONDS.
                await self._committer.run(lambda db: Spool.release_lease(db, dsn.queue_id))
        if update is None:
            log.info("event=removed qid=%s", message.queue_id)


def _reason(result: RecipientResult) -> DeliveryReason:
    return delivery_reason(result.reply)


def _delivery_event(kind: AuditKind, message: SpooledMessage, result: RecipientResult) -> AuditEvent:
    return AuditEvent(
        kind=kind,
        actor="delivery",
        queue_id=message.queue_id,
        sender=message.envelope.sender,
        recipients=(result.recipient,),
        details={
            "remote_host": result.remote_host or None,
            "reply_code": result.reply.code,
            "status": result.reply.enhanced or None,
            "reply": str(result.reply)[:300],
            "attempt": message.attempts + 1,
            "tls_minimum": message.plan.for_recipient(result.recipient).tls_minimum.value,
            "tls": result.tls or None,
            "certificate": result.certificate[:MAX_DETAIL_CHARS] or None,
        },
    )

"""Sending one group of recipients to one destination: next hops in order, under TLS policy.

For a recipient domain the TLS policy (relay/tls) first says, per MX host, what must be proven
(none, opportunistic, encrypted, verified, MTA-STS, DANE), which hosts may not be used at all
(not in an enforced MTA-STS policy, bogus DANE), and whether the plan's minimum can be met at
all. The usable hosts are then tried in preference order (RFC 5321 5.1). A session that does not
prove its requirement after STARTTLS is closed before MAIL FROM: not one byte of the envelope or
the message reaches it (downgrade safety), and the next host is tried; when none proves it,
the plan's fallback applies. Every session and refusal is logged for TLS-RPT.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from relay.delivery.client import SmtpConnection, Timeouts, TlsUnmet, Transaction
from relay.delivery.connections import ConnectionCache
from relay.delivery.mx import NextHop
from relay.delivery.outcome import same_result
from relay.delivery.security import TlsDemand, requirement_unmet
from relay.metrics import Metrics, tls_method
from relay.model import Outcome, PlanAction, RecipientPlan, RecipientResult, Reply, SpooledMessage, TlsLevel
from relay.tls.levels import DomainAction, DomainTlsPlan, HopTls, TlsRequirement
from relay.tls.names import normalise
from relay.tls.outbound import TlsPolicy
from relay.tls.results import FailureType

log = logging.getLogger("relay.delivery")


class HopWalker:
    def __init__(
        self,
        *,
        connections: ConnectionCache,
        timeouts: Timeouts,
        hostname: str,
        tls: TlsPolicy,
        metrics: Metrics,
    ) -> None:
        self._metrics = metrics
        self._connections = connections
        self._timeouts = timeouts
        self._hostname = hostname
        self._tls = tls

    async def deliver(
        self,
        message: SpooledMessage,
        data: bytes,
        domain: str,
        recipients: tuple[str, ...],
        entry: RecipientPlan,
        hops: Sequence[NextHop],
        *,
        port: int,
        destination: str,
        routed: bool,
    ) -> list[RecipientResult]:
        if entry.branches:
            chosen = await self._choose_branch(message, domain, recipients, entry, hops, port, routed)
            if not isinstance(chosen, RecipientPlan):
                return chosen
            entry = chosen
            if entry.action is PlanAction.PORTAL:
                return requirement_unmet(recipients, entry, "portal copy", definite=True)
        plan = await self._tls.requirements(domain, hops, entry.tls, entry.tls_minimum, routed=routed)
        for hop_tls in plan.hops:
            if not hop_tls.usable:
                self._tls.record(plan, hop_tls, None)
                log.info(
                    "event=hop_refused qid=%s relay=%s action=%s reason=%r",
                    message.queue_id,
                    hop_tls.host,
                    hop_tls.action.value,
                    hop_tls.reason,
                )
        if plan.action is DomainAction.DEFER:
            reply = Reply(code=451, enhanced="4.7.5", text=f"TLS policy of {domain}: {plan.detail}")
            return same_result(recipients, Outcome.TEMPFAIL, reply)
        if plan.action is DomainAction.FALLBACK:
            self._log_unmet(message, entry, plan.detail, entry.tls_minimum)
            return requirement_unmet(recipients, entry, plan.detail or "no usable next hop", definite=True)
        usable = {h.host: h for h in plan.usable_hops}
        ordered = [(hop, usable[normalise(hop.host)]) for hop in hops if normalise(hop.host) in usable]
        return await self._walk(message, data, recipients, entry, plan, ordered, port, destination)

    async def _choose_branch(
        self,
        message: SpooledMessage,
        domain: str,
        recipients: tuple[str, ...],
        entry: RecipientPlan,
        hops: Sequence[NextHop],
        port: int,
        routed: bool,
    ) -> RecipientPlan | list[RecipientResult]:
        """The plan a ``recipient_tls`` rule picks once the server's capability is known; a
        deferral when no hop answered (the capability, and so the decision, is unknown)."""
        capability = await self._tls.capability(
            domain, hops, port=port, helo=self._hostname, timeout=self._timeouts.connect, routed=routed
        )
        if capability is None:
            reply = Reply(
                code=451, enhanced="4.4.1", text=f"no next hop of {domain} answered a TLS capability probe"
            )
            return same_result(recipients, Outcome.TEMPFAIL, reply)
        chosen, rule = entry.resolve(capability.level)
        if rule:
            self._metrics.rule_hit(rule, "enforce")
        log.info(
            "event=tls_capability qid=%s domain=%s capability=%s rule=%s plan=%s/%s/%s detail=%r",
            message.queue_id,
            domain,
            capability.level.value,
            rule or "-",
            chosen.action.value,
            chosen.tls.value,
            chosen.fallback.value,
            capability.detail,
        )
        return chosen

    async def _walk(
        self,
        message: SpooledMessage,
        data: bytes,
        recipients: tuple[str, ...],
        entry: RecipientPlan,
        plan: DomainTlsPlan,
        hops: list[tuple[NextHop, HopTls]],
        port: int,
        destination: str,
    ) -> list[RecipientResult]:
        """A host that fails the transaction as a whole (4xx to MAIL or DATA, a lost connection)
        sends us on to the next one. Recipients it had already refused for good at RCPT keep
        that answer and are not offered again; the rest get the last host's failure if no host
        takes them."""
        last = Reply(code=451, enhanced="4.4.0", text="no next hop could be reached")
        last_host = ""
        refused: dict[str, RecipientResult] = {}
        pending = recipients
        tls_failures: list[str] = []
        demanded = TlsRequirement.for_level(entry.tls_minimum)
        unreachable = 0
        for hop, hop_tls in hops:
            key = f"{destination}|{hop.host}|{hop_tls.requirement.value}"
            cached = self._connections.take(key)
            for address in hop.addresses:
                transaction: Transaction | None = None
                used = cached
                if cached is not None:
                    transaction = await self._send(cached, key, message, pending, data)
                    cached = None
                    if transaction.try_next_hop:
                        # Often the server dropped the idle connection: go fresh to this hop.
                        pending = _keep_refused(transaction, refused, pending)
                        transaction = None
                if transaction is None:
                    connection = await self._open(message, plan, hop, hop_tls, address, port)
                    if isinstance(connection, TlsUnmet):
                        tls_failures.append(connection.reason)
                        demanded = max(demanded, hop_tls.requirement, key=lambda r: r.rank)
                        continue
                    if isinstance(connection, Reply):
                        unreachable += 1
                        last, last_host = connection, hop.host
                        continue
                    used = connection
                    transaction = await self._send(connection, key, message, pending, data)
                if used is not None and any(r.outcome is Outcome.DELIVERED for r in transaction.results):
                    method = tls_method(hop_tls.requirement.level, encrypted=used.tls is not None)
                    self._metrics.tls(hop_tls.requirement.level, method)
                if not transaction.try_next_hop:
                    answered = {r.recipient: r for r in transaction.results}
                    return [refused.get(r) or answered[r] for r in recipients]
                pending = _keep_refused(transaction, refused, pending)
                last, last_host = transaction.failure or last, hop.host
        if tls_failures:
            reason = "; ".join(tls_failures[-3:])
            self._log_unmet(message, entry, reason, demanded.level)
            failed = requirement_unmet(
                pending, entry, reason, definite=not unreachable, demanded=demanded.level
            )
            unmet = {r.recipient: r for r in failed}
            return [refused.get(r) or unmet[r] for r in recipients]
        outcome = Outcome.PERMFAIL if last.is_permanent else Outcome.TEMPFAIL
        return [
            refused.get(r) or RecipientResult(recipient=r, outcome=outcome, reply=last, remote_host=last_host)
            for r in recipients
        ]

    async def _open(
        self,
        message: SpooledMessage,
        plan: DomainTlsPlan,
        hop: NextHop,
        hop_tls: HopTls,
        address: str,
        port: int,
    ) -> SmtpConnection | Reply | TlsUnmet:
        """Connect and prove the hop's TLS requirement before anything of the message is sent."""
        requirement = hop_tls.requirement
        demand = TlsDemand(
            level=requirement.level,
            context=self._tls.ssl_context_for(hop_tls),
            required=requirement.requires_tls,
        )
        connection = await SmtpConnection.open(
            host=hop.host,
            address=address,
            port=port,
            helo_name=self._hostname,
            timeouts=self._timeouts,
            tls=demand,
        )
        if isinstance(connection, Reply):
            log.info(
                "event=connect_failed qid=%s relay=%s[%s] reply=%r",
                message.queue_id,
                hop.host,
                address,
                str(connection),
            )
            return connection
        if isinstance(connection, TlsUnmet):
            self._tls.record(plan, hop_tls, None, receiving_ip=address, failure=connection.failure)
            return connection
        check = self._tls.check_peer(hop_tls, connection.ssl_object, hop.host)
        self._tls.record(plan, hop_tls, check, receiving_ip=address)
        if not check.ok:
            await connection.close()
            failure = check.failure or FailureType.VALIDATION_FAILURE
            return TlsUnmet(reason=f"{hop.host}[{address}]: {check.reason}", failure=failure)
        connection.tls_check = check
        return connection

    async def _send(
        self,
        connection: SmtpConnection,
        key: str,
        message: SpooledMessage,
        recipients: tuple[str, ...],
        data: bytes,
    ) -> Transaction:
        transaction = await connection.send(message.envelope, recipients, data)
        if transaction.reusable:
            self._connections.give_back(key, connection)
        else:
            await connection.close()
        return transaction

    def _log_unmet(self, message: SpooledMessage, entry: RecipientPlan, reason: str, level: TlsLevel) -> None:
        self._metrics.tls_unmet(level, entry.fallback)
        log.warning(
            "event=tls_unmet qid=%s level=%s fallback=%s reason=%r",
            message.queue_id,
            level.value,
            entry.fallback.value,
            reason,
        )


def _keep_refused(
    transaction: Transaction, refused: dict[str, RecipientResult], pending: tuple[str, ...]
) -> tuple[str, ...]:
    """Record the recipients a failed transaction refused for good; the others still wait."""
    for result in transaction.results:
        if result.outcome is Outcome.PERMFAIL:
            refused[result.recipient] = result
    return tuple(r for r in pending if r not in refused)

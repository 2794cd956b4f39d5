"""The MTA-STS policy of a recipient domain, following RFC 8461 section 5.1.

1. No valid ``_mta-sts`` TXT record: the cached policy while it is fresh, else NONE.
2. A record whose id equals the cached policy's, and the cache is fresh: the cached policy.
3. Otherwise fetch: a valid policy is cached for max_age and returned (VALID); a failure keeps
   a fresh cached policy in force (an attacker who blocks the fetch cannot downgrade us), else
   the result is FETCH_ERROR (the domain advertised a policy we could not get: proceed without
   one, and say so in TLS-RPT as ``sts-policy-fetch-error`` / ``sts-policy-invalid`` /
   ``sts-webpki-invalid``).

A DNS failure on the TXT lookup is FETCH_ERROR unless the cache holds a fresh policy. Outcomes
are ``MtaStsResult`` values with VALID / NONE / FETCH_ERROR, as in postfix-mta-sts-resolver.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dns.rdtypes.ANY.TXT import TXT

from relay.clock import Clock
from relay.tls.dnsquery import DnsClient, DnsKind
from relay.tls.mtasts.cache import CachedPolicy, PolicyCache
from relay.tls.mtasts.fetch import FetchStatus, PolicyFetcher
from relay.tls.mtasts.policy import StsPolicy, parse_policy
from relay.tls.mtasts.record import select_record
from relay.tls.names import normalise, valid_hostname


class StsStatus(enum.Enum):
    VALID = "valid"
    NONE = "none"
    """No policy: none published, or the domain name is not one that can have one."""
    FETCH_ERROR = "fetch-error"
    """A policy is advertised but could not be fetched or parsed, and none is cached."""


class StsFailure(enum.Enum):
    """RFC 8460 section 4.3.2.2 result types for policy problems."""

    FETCH_ERROR = "sts-policy-fetch-error"
    INVALID = "sts-policy-invalid"
    WEBPKI_INVALID = "sts-webpki-invalid"


@dataclass(frozen=True, slots=True, kw_only=True)
class MtaStsResult:
    status: StsStatus
    policy: StsPolicy | None = None
    policy_id: str = ""
    from_cache: bool = False
    failure: StsFailure | None = None
    """Why the latest fetch failed (also set when a cached policy stood in for it)."""
    detail: str = ""


class MtaStsResolver:
    def __init__(
        self, dns: DnsClient, fetcher: PolicyFetcher, *, clock: Clock, cache: PolicyCache | None = None
    ) -> None:
        self._dns = dns
        self._fetcher = fetcher
        self._cache = cache
        self._clock = clock

    async def policy_for(self, domain: str) -> MtaStsResult:
        name = normalise(domain)
        if domain.startswith(".") or not valid_hostname(name):
            return MtaStsResult(status=StsStatus.NONE, detail=f"{domain!r} is not a domain name")
        now = self._clock.now()
        cached = self._cache.get(name) if self._cache is not None else None
        fresh = cached if cached is not None and cached.fresh(now) else None

        answer = await self._dns.query(f"_mta-sts.{name}.", "TXT")
        if answer.failed:
            if fresh is not None:
                return _from_cache(
                    fresh, detail=f"TXT lookup failed, cached policy in force: {answer.detail}"
                )
            return MtaStsResult(
                status=StsStatus.FETCH_ERROR, failure=StsFailure.FETCH_ERROR, detail=answer.detail
            )
        texts = [_txt(r) for r in answer.rdata if isinstance(r, TXT)] if answer.kind is DnsKind.FOUND else []
        lookup = select_record(texts)
        if lookup.record is None:
            if fresh is not None:
                return _from_cache(
                    fresh, detail=f"no valid TXT record ({lookup.detail}), cached policy in force"
                )
            return MtaStsResult(status=StsStatus.NONE, detail=lookup.detail or answer.detail)
        record_id = lookup.record.id
        if fresh is not None and fresh.policy_id == record_id:
            return _from_cache(fresh, detail="TXT id unchanged")

        fetched = await self._fetcher.fetch(name)
        if not fetched.ok:
            failure = (
                StsFailure.WEBPKI_INVALID
                if fetched.status is FetchStatus.CERTIFICATE_INVALID
                else StsFailure.FETCH_ERROR
            )
            return self._failed(fresh, failure, fetched.detail)
        parsed = parse_policy(fetched.body)
        if parsed.policy is None:
            return self._failed(fresh, StsFailure.INVALID, f"invalid policy: {parsed.problem}")
        if self._cache is not None:
            self._cache.put(
                CachedPolicy(
                    domain=name,
                    policy_id=record_id,
                    policy=parsed.policy,
                    fetched_at=now,
                    expires_at=now + parsed.policy.max_age,
                )
            )
        return MtaStsResult(
            status=StsStatus.VALID, policy=parsed.policy, policy_id=record_id, detail="fetched"
        )

    def _failed(self, fresh: CachedPolicy | None, failure: StsFailure, detail: str) -> MtaStsResult:
        if fresh is not None:
            return _from_cache(
                fresh, failure=failure, detail=f"refresh failed, cached policy in force: {detail}"
            )
        return MtaStsResult(status=StsStatus.FETCH_ERROR, failure=failure, detail=detail)


def _from_cache(entry: CachedPolicy, *, detail: str, failure: StsFailure | None = None) -> MtaStsResult:
    return MtaStsResult(
        status=StsStatus.VALID,
        policy=entry.policy,
        policy_id=entry.policy_id,
        from_cache=True,
        failure=failure,
        detail=detail,
    )


def _txt(record: TXT) -> str:
    """One TXT record's strings joined (RFC 7208 3.3 style); bytes outside ASCII make it invalid."""
    return b"".join(record.strings).decode("ascii", errors="replace")

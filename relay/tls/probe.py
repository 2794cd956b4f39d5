"""A live SMTP probe of one MX address: connect, EHLO, STARTTLS, look at the certificate, QUIT.

For ``relay tls check`` (and tests): it sends no mail, only the greeting and EHLO. Two sessions
per host at most: one unverified, to see whatever certificate the server presents, and, when
STARTTLS is offered, one with PKIX verification for the host name, so that the verdict is
OpenSSL's, exactly as the delivery path would reach it. Every step is bounded by ``timeout``.
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass

import aiosmtplib

from relay.tls.results import FailureType
from relay.tls.verify import handshake_failure, peer_chain


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """What one probe session saw."""

    connected: bool
    error: str = ""
    starttls_offered: bool = False
    tls_established: bool = False
    protocol: str = ""
    cipher: str = ""
    chain: tuple[bytes, ...] = ()
    failure: FailureType | None = None
    """Why the TLS handshake failed, when it did."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    host: str
    address: str
    port: int
    session: Session
    pkix: Session | None = None
    """The verified session; None when STARTTLS was not offered or the first session failed."""

    @property
    def pkix_ok(self) -> bool:
        return self.pkix is not None and self.pkix.tls_established


async def probe(
    host: str,
    address: str,
    port: int,
    *,
    helo: str,
    timeout: float,
    unverified: ssl.SSLContext,
    verified: ssl.SSLContext,
) -> ProbeResult:
    session = await _session(host, address, port, helo=helo, timeout=timeout, context=unverified)
    pkix = None
    if session.starttls_offered and session.connected:
        pkix = await _session(host, address, port, helo=helo, timeout=timeout, context=verified)
    return ProbeResult(host=host, address=address, port=port, session=session, pkix=pkix)


async def _session(
    host: str, address: str, port: int, *, helo: str, timeout: float, context: ssl.SSLContext
) -> Session:
    smtp = aiosmtplib.SMTP(
        hostname=address, port=port, local_hostname=helo, timeout=timeout, start_tls=False, use_tls=False
    )
    try:
        await smtp.connect(timeout=timeout)
        await smtp.ehlo()
    except (aiosmtplib.SMTPException, OSError) as exc:
        smtp.close()
        return Session(connected=False, error=_describe(exc))
    offered = smtp.supports_extension("starttls")
    try:
        if not offered:
            return Session(connected=True, starttls_offered=False)
        try:
            await smtp.starttls(tls_context=context, server_hostname=host)
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, ssl.SSLError) else exc
            return Session(
                connected=True,
                starttls_offered=True,
                error=_describe(exc),
                failure=handshake_failure(cause),
            )
        ssl_object = smtp.get_transport_info("ssl_object")
        if not isinstance(ssl_object, ssl.SSLObject):
            return Session(connected=True, starttls_offered=True, error="no TLS session after STARTTLS")
        cipher = ssl_object.cipher()
        return Session(
            connected=True,
            starttls_offered=True,
            tls_established=True,
            protocol=ssl_object.version() or "",
            cipher=cipher[0] if cipher else "",
            chain=peer_chain(ssl_object),
        )
    finally:
        await _quit(smtp)


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if smtp.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
    smtp.close()  # also after a failed handshake, which leaves the transport open


def _describe(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]

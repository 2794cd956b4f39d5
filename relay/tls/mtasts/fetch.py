"""Fetching ``https://mta-sts.DOMAIN/.well-known/mta-sts.txt`` (RFC 8461 section 3.3), bounded.

The policy host's name is resolved through the relay's own DNS client (``dns.nameservers``),
and the connection goes to that address with SNI and certificate checks for
``mta-sts.DOMAIN``: the same resolver decides where mail and policies come from, and tests point
it at loopback. The HTTP client is httpcore (the transport layer of httpx, by encode): its
HTTP/1.1 parser (h11) handles chunked and fixed-length bodies, it never follows redirects, it
streams the body so the size cap stops reading early, and it takes the address to connect to in
the URL with the TLS name given separately (``sni_hostname``), which is the one thing a
convenience client makes awkward.

Bounds, each from section 3.3: PKIX-valid certificate for the policy host; HTTP 200 only (a 3xx
is a failure, redirects are not followed); ``Content-Type: text/plain``; at most
``max_size`` bytes (64 KiB); the whole fetch within ``timeout`` seconds. Every outcome is a
``FetchResult``; library exceptions end here.
"""

from __future__ import annotations

import asyncio
import enum
import ssl
from dataclasses import dataclass

import httpcore

from relay.tls.dnsquery import DnsClient, DnsKind

WELL_KNOWN = b"/.well-known/mta-sts.txt"
MAX_ADDRESSES = 3
"""Addresses of the policy host tried when connecting fails; the overall timeout still applies."""
USER_AGENT = b"relay-mta-sts/1"


class FetchStatus(enum.Enum):
    OK = "ok"
    DNS_ERROR = "dns-error"
    """mta-sts.DOMAIN has no address, or the lookup failed."""
    CONNECT_ERROR = "connect-error"
    CERTIFICATE_INVALID = "certificate-invalid"
    """The policy host's certificate is not PKIX-valid for mta-sts.DOMAIN (``sts-webpki-invalid``)."""
    HTTP_STATUS = "http-status"
    """Anything but 200, redirects included."""
    CONTENT_TYPE = "content-type"
    TOO_LARGE = "too-large"
    TIMEOUT = "timeout"
    PROTOCOL_ERROR = "protocol-error"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchResult:
    status: FetchStatus
    body: bytes = b""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is FetchStatus.OK


class PolicyFetcher:
    def __init__(
        self,
        dns: DnsClient,
        *,
        ssl_context: ssl.SSLContext,
        port: int = 443,
        timeout: float = 20.0,
        max_size: int = 64 * 1024,
    ) -> None:
        self._dns = dns
        self._ssl = ssl_context
        self._port = port
        self._timeout = timeout
        self._max_size = max_size

    async def fetch(self, domain: str) -> FetchResult:
        """The policy body of ``domain`` (normalised, without final dot), or why not."""
        host = f"mta-sts.{domain}"
        try:
            async with asyncio.timeout(self._timeout):
                addresses = await self._addresses(host)
                if isinstance(addresses, FetchResult):
                    return addresses
                result = FetchResult(status=FetchStatus.DNS_ERROR, detail=f"{host} has no address")
                for address in addresses[:MAX_ADDRESSES]:
                    result = await self._get(host, address)
                    if result.status is not FetchStatus.CONNECT_ERROR:
                        break
                return result
        except TimeoutError:
            return FetchResult(
                status=FetchStatus.TIMEOUT, detail=f"{host}: no policy within {self._timeout:g}s"
            )

    async def _addresses(self, host: str) -> list[str] | FetchResult:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            answer = await self._dns.query(host + ".", rdtype)
            if answer.failed:
                return FetchResult(status=FetchStatus.DNS_ERROR, detail=answer.detail)
            if answer.kind is DnsKind.NXDOMAIN:
                return FetchResult(status=FetchStatus.DNS_ERROR, detail=answer.detail)
            found.extend(str(getattr(r, "address", "")) for r in answer.rdata)
        return [a for a in found if a]

    async def _get(self, host: str, address: str) -> FetchResult:
        url = httpcore.URL(scheme=b"https", host=address.encode("ascii"), port=self._port, target=WELL_KNOWN)
        host_header = host if self._port == 443 else f"{host}:{self._port}"
        headers = [
            (b"Host", host_header.encode("ascii")),
            (b"Accept", b"text/plain"),
            (b"User-Agent", USER_AGENT),
            (b"Connection", b"close"),
        ]
        limits = dict.fromkeys(("connect", "read", "write", "pool"), self._timeout)
        where = f"https://{host}{WELL_KNOWN.decode()} [{address}]:{self._port}"
        try:
            async with (
                httpcore.AsyncConnectionPool(ssl_context=self._ssl, retries=0, max_connections=1) as pool,
                pool.stream(
                    b"GET", url, headers=headers, extensions={"sni_hostname": host, "timeout": limits}
                ) as response,
            ):
                return await self._read(response, where)
        except httpcore.TimeoutException:
            return FetchResult(status=FetchStatus.TIMEOUT, detail=f"{where}: timed out")
        except httpcore.ConnectError as exc:
            if _certificate_error(exc):
                return FetchResult(
                    status=FetchStatus.CERTIFICATE_INVALID, detail=f"{where}: {_describe(exc)}"
                )
            return FetchResult(status=FetchStatus.CONNECT_ERROR, detail=f"{where}: {_describe(exc)}")
        except (httpcore.ProtocolError, httpcore.NetworkError, ssl.SSLError, OSError) as exc:
            return FetchResult(status=FetchStatus.PROTOCOL_ERROR, detail=f"{where}: {_describe(exc)}")

    async def _read(self, response: httpcore.Response, where: str) -> FetchResult:
        if response.status != 200:
            # Section 3.3: "HTTP 3xx redirects MUST NOT be followed"; anything but 200 fails.
            return FetchResult(status=FetchStatus.HTTP_STATUS, detail=f"{where}: HTTP {response.status}")
        headers = {name.lower(): value for name, value in response.headers}
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media_type != b"text/plain":
            shown = media_type.decode("latin-1") or "none"
            return FetchResult(
                status=FetchStatus.CONTENT_TYPE, detail=f"{where}: Content-Type {shown}, not text/plain"
            )
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._max_size:
            return self._too_large(where)
        body = bytearray()
        async for chunk in response.aiter_stream():
            body += chunk
            if len(body) > self._max_size:
                return self._too_large(where)
        return FetchResult(status=FetchStatus.OK, body=bytes(body))

    def _too_large(self, where: str) -> FetchResult:
        return FetchResult(
            status=FetchStatus.TOO_LARGE, detail=f"{where}: policy larger than {self._max_size} bytes"
        )


def _certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]

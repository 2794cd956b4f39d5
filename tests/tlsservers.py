"""Test servers for the TLS tests: HTTPS for MTA-STS policies, SMTP with STARTTLS, DNS helpers.

``PolicyServer`` is a real HTTPS server on loopback (asyncio, in its own thread, port 0) that
serves ``/.well-known/mta-sts.txt`` per host name: the certificate is chosen by SNI, the answer
by the Host header, each as told (status, Content-Type, body, chunked or fixed length, a delay,
a redirect). Hosts it was not told about get 404.

``StarttlsServer`` is a small real SMTP server (asyncio, own thread, port 0) that offers STARTTLS
with a given certificate, or not at all, and records every message it accepts with whether it
came over TLS, and the verb of every command it received (so a test can show that a client
never got as far as ``MAIL``). ``advertise_starttls=False`` keeps a certificate but leaves
STARTTLS out of the EHLO reply and refuses the command, as when an attacker strips it.
tests/sink.py's aiosmtpd sink is the house sink; this one exists because the failed handshakes
these tests provoke by design (expired, self-signed, wrong-name certificates) must end the
session cleanly on the server side, and aiosmtpd keeps such a session's protocol registered.

``policy_body`` writes an MTA-STS policy and ``publish`` its DNS records. The fixtures that
start these servers are in tests/tlsfixtures.py; tests/test_tls_support.py checks the servers.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from certs import IssuedCert, LocalCA
from dnsserver import DnsServer

CHUNK = 4096
HANGUP_GRACE = 0.5
"""How long ``stop`` lets the handlers of the clients it hung up on end by themselves."""
STOP_TIMEOUT = 5.0
"""Bound on each other step of ``stop``: handlers ending, sockets closing, the thread joining."""


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    chunked: bool = False
    delay: float = 0.0
    location: str = ""


class PolicyServer:
    def __init__(self, ca: LocalCA, host: str = "127.0.0.1", port: int = 0) -> None:
        self.ca = ca
        self.host = host
        self.port = port
        self.requests: list[str] = []
        """Host header of every request received, in order."""
        self._answers: dict[str, Answer] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._default = ca.issue("localhost").server_context()
        self._default.sni_callback = self._pick_certificate
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._clients: dict[asyncio.StreamWriter, Any] = {}
        """Every connection's writer and socket (loop thread only), for ``stop`` to hang up on."""

    def serve(self, name: str, answer: Answer, *, cert: IssuedCert | None = None) -> None:
        """Answer requests for ``name`` (the policy host, ``mta-sts.DOMAIN``) with ``answer``."""
        issued = cert or self.ca.issue(name)
        with self._lock:
            self._answers[name.lower()] = answer
            self._contexts[name.lower()] = issued.server_context()

    def _pick_certificate(self, sslobj: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        with self._lock:
            context = self._contexts.get((name or "").lower())
        if context is not None:
            sslobj.context = context

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients[writer] = writer.get_extra_info("socket")  # TLS or not, the TCP socket
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            host = headers.get("host", "").rsplit(":", 1)[0].lower()
            with self._lock:
                self.requests.append(host)
                answer = self._answers.get(host, Answer(status=404, body=b"not here"))
            if answer.delay:
                await asyncio.sleep(answer.delay)
            reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}.get(
                answer.status, "X"
            )
            out = [
                f"HTTP/1.1 {answer.status} {reason}",
                f"Content-Type: {answer.content_type}",
                "Connection: close",
            ]
            if answer.location:
                out.append(f"Location: {answer.location}")
            if answer.chunked:
                out.append("Transfer-Encoding: chunked")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode())
                for start in range(0, len(answer.body), CHUNK):
                    piece = answer.body[start : start + CHUNK]
                    writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            else:
                out.append(f"Content-Length: {len(answer.body)}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + answer.body)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def start(self) -> PolicyServer:
        self._thread.start()

        async def listen() -> asyncio.AbstractServer:
            return await asyncio.start_server(self._handle, self.host, self.port, ssl=self._default)

        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        _stop_loop(self._loop, self._server, self._thread, self._clients)


@dataclass(frozen=True)
class Received:
    data: bytes
    tls: bool


class StarttlsServer:
    def __init__(
        self,
        cert: IssuedCert | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        advertise_starttls: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.tls_context = cert.server_context() if cert is not None else None
        self.advertise_starttls = advertise_starttls
        self.messages: list[Received] = []
        self.sessions = 0
        self._commands: list[str] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._clients: dict[asyncio.StreamWriter, Any] = {}
        """Every connection's writer and socket (loop thread only), for ``stop`` to hang up on."""

    @property
    def commands(self) -> list[str]:
        """The verb of every command received, in order (``EHLO``, ``STARTTLS``, ``MAIL`` ...)."""
        with self._lock:
            return list(self._commands)

    @property
    def offers_starttls(self) -> bool:
        return self.tls_context is not None and self.advertise_starttls

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients[writer] = writer.get_extra_info("socket")  # TLS or not, the TCP socket
        self.sessions += 1
        tls = False
        try:
            writer.write(b"220 mx.test ESMTP\r\n")
            while line := await asyncio.wait_for(reader.readline(), 10):
                with self._lock:
                    self._commands.append(line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace"))
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    offer = self.offers_starttls and not tls
                    writer.write(
                        b"250-mx.test\r\n" + (b"250-STARTTLS\r\n" if offer else b"") + b"250 8BITMIME\r\n"
                    )
                elif verb == b"STAR" and self.tls_context is not None and self.advertise_starttls and not tls:
                    writer.write(b"220 2.0.0 ready\r\n")
                    await writer.drain()
                    await writer.start_tls(self.tls_context)
                    tls = True
                elif verb == b"STAR" and not self.advertise_starttls:
                    writer.write(b"454 4.7.0 TLS not available\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go on\r\n")
                    await writer.drain()
                    data = await asyncio.wait_for(reader.readuntil(b"\r\n.\r\n"), 10)
                    self.messages.append(Received(data=data, tls=tls))
                    writer.write(b"250 2.0.0 queued\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    break
                else:
                    writer.write(b"250 2.0.0 ok\r\n")
                await writer.drain()
        except (OSError, ssl.SSLError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def start(self) -> StarttlsServer:
        self._thread.start()

        async def listen() -> asyncio.AbstractServer:
            return await asyncio.start_server(self._handle, self.host, self.port)

        self._server = asyncio.run_coroutine_threadsafe(listen(), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        _stop_loop(self._loop, self._server, self._thread, self._clients)

    def __enter__(self) -> StarttlsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_loop(
    loop: asyncio.AbstractEventLoop,
    server: asyncio.AbstractServer | None,
    thread: threading.Thread,
    clients: dict[asyncio.StreamWriter, Any],
) -> None:
    """Stop listening, hang up on every client still connected, let each handler end and each
    socket close, and only then stop and close the loop.

    A loop stopped while a connection is open, or with a handler only just cancelled, leaves an
    unclosed transport and a pending task behind: ResourceWarnings that are errors in this suite,
    raised whenever they are collected, in whatever test runs then. A client can still be
    connected when a test ends: the relay process, or a probe whose hang-up the loop thread has
    not seen yet.
    """

    async def close() -> None:
        if server is not None:
            server.close()
        for writer in clients:
            writer.transport.abort()  # as when the client vanishes: its handler ends on its own
        handlers = asyncio.all_tasks() - {asyncio.current_task()}
        if handlers:
            _, stuck = await asyncio.wait(handlers, timeout=HANGUP_GRACE)
            for task in stuck:  # not reading, e.g. sleeping through an Answer.delay
                task.cancel()
            if stuck:
                await asyncio.wait(stuck, timeout=STOP_TIMEOUT)
        deadline = loop.time() + STOP_TIMEOUT
        while any(sock.fileno() != -1 for sock in clients.values()) and loop.time() < deadline:
            await asyncio.sleep(0.01)  # an aborted transport closes its socket a loop turn later

    if thread.is_alive():
        asyncio.run_coroutine_threadsafe(close(), loop).result(3 * STOP_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT)
    loop.close()


def policy_body(mode: str = "enforce", mx: tuple[str, ...] = ("mail.loc",), max_age: int = 86400) -> bytes:
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}"]
    return ("\n".join(lines) + "\n").encode()


def publish(dns: DnsServer, domain: str, txt: str | None, *, address: str = "127.0.0.1") -> None:
    """``_mta-sts.DOMAIN`` TXT (when given) and ``mta-sts.DOMAIN`` A, as a domain publishes them."""
    if txt is not None:
        dns.add(f"_mta-sts.{domain}.", "TXT", '"' + txt.replace('"', '\\"') + '"')
    dns.add(f"mta-sts.{domain}.", "A", address)

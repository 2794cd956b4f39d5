"""The SMTP protocol side of ingress: aiosmtpd's server with the relay's limits and guards.

aiosmtpd owns the protocol; this subclass changes only what a production MTA needs changed:
DATA is read by ``data.read_data`` (smuggling guard, size and line limits, a total DATA timeout),
replies carry enhanced status codes (RFC 2034), connections are counted per client IP, and AUTH
checks passwords off the event loop (scrypt is deliberately slow).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import ssl
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult

from relay.ingress.data import DataProblem, read_data
from relay.ingress.replies import with_enhanced_code
from relay.ingress.users import UsersFile

log = logging.getLogger("relay.ingress")

READER_BUFFER = 8192
"""StreamReader limit: longer lines are read in pieces (and refused if over max_line_length)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticatedUser:
    """What a successful AUTH leaves in the session (never the password)."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressLimits:
    max_message_size: int
    max_line_length: int
    command_timeout: float
    data_timeout: float


class ConnectionLimiter:
    """Counts open connections, in total and per client IP (Postfix's anvil, in-process)."""

    def __init__(self, *, max_total: int, max_per_ip: int) -> None:
        self._max_total = max_total
        self._max_per_ip = max_per_ip
        self._per_ip: Counter[str] = Counter()
        self._total = 0

    def acquire(self, ip: str) -> str | None:
        """Count a new connection, or return why it is refused."""
        if self._max_total and self._total >= self._max_total:
            return "too many connections"
        if self._max_per_ip and self._per_ip[ip] >= self._max_per_ip:
            return "too many connections from your address"
        self._total += 1
        self._per_ip[ip] += 1
        return None

    def release(self, ip: str) -> None:
        self._total -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]

    @property
    def open_connections(self) -> int:
        return self._total


class RelaySMTP(SMTP):
    """One SMTP connection from a client MTA."""

    line_length_limit = READER_BUFFER

    def __init__(
        self,
        handler: Any,
        *,
        hostname: str,
        limits: IngressLimits,
        limiter: ConnectionLimiter,
        users: UsersFile | None,
        tls_context: ssl.SSLContext | None,
    ) -> None:
        self._limits = limits
        self._limiter = limiter
        self._users = users
        self._client_ip = ""
        self._refused = False
        self._raw_replies = False
        super().__init__(
            handler,
            hostname=hostname,
            ident="relay ESMTP",
            data_size_limit=limits.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=tls_context,
            timeout=limits.command_timeout,
            auth_require_tls=True,
            auth_exclude_mechanism=[] if users is not None else ["PLAIN", "LOGIN"],
        )

    # -- connection accounting ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._client_ip = str(peer[0]) if peer else ""
        refusal = self._limiter.acquire(self._client_ip)
        if refusal is not None:
            self._refused = True
            log.warning("event=connection_refused client=%s reason=%r", self._client_ip, refusal)
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(f"421 4.7.0 {self.hostname} Error: {refusal}\r\n".encode())
            transport.close()
            return
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        self._limiter.release(self._client_ip)
        super().connection_lost(error)

    @property
    def client_ip(self) -> str:
        return self._client_ip

    # -- replies ----------------------------------------------------------------------------

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and not self._raw_replies and "\r\n" not in status:
            status = with_enhanced_code(status)
        await super().push(status)

    async def smtp_EHLO(self, hostname: str) -> None:
        self._raw_replies = True
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._raw_replies = False

    async def smtp_HELO(self, hostname: str) -> None:
        self._raw_replies = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._raw_replies = False

    # -- DATA -------------------------------------------------------------------------------

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            async with asyncio.timeout(self._limits.data_timeout):
                result = await read_data(
                    self._reader,
                    max_size=self._limits.max_message_size,
                    max_line=self._limits.max_line_length,
                )
        except TimeoutError:
            await self._hang_up("421 4.4.2 Error: timeout exceeded during DATA")
            return
        if result.problem is DataProblem.BARE_NEWLINE:
            # Postfix smtpd_forbid_bare_newline: answer and drop the connection, so nothing
            # that follows can be taken as a command or as a second message.
            log.warning("event=bare_newline_refused client=%s", self._client_ip)
            await self._hang_up("521 5.5.2 Error: bare <CR> or <LF> received")
            return
        if result.problem is DataProblem.TOO_BIG:
            self._reset_envelope()
            await self.push("552 5.3.4 Error: message too big")
            return
        if result.problem is DataProblem.LINE_TOO_LONG:
            self._reset_envelope()
            await self.push(f"500 5.5.2 Error: line longer than {self._limits.max_line_length} octets")
            return
        assert self.envelope is not None
        self.envelope.original_content = result.content
        self.envelope.content = result.content
        status = await self._call_handler_hook("DATA")
        self._reset_envelope()
        await self.push("250 2.0.0 OK" if status is MISSING else status)

    def _reset_envelope(self) -> None:
        self._set_post_data_state()  # type: ignore[no-untyped-call]

    async def _hang_up(self, reply: str) -> None:
        await self.push(reply)
        self._reset_envelope()
        if self.transport is not None:
            self.transport.close()

    # -- AUTH (RFC 4954; PLAIN per RFC 4616, LOGIN as deployed) ------------------------------

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        response = await self._initial_response(args, "")
        if response is None:
            return AuthResult(success=False, handled=True)
        parts = response.split(b"\x00")
        if len(parts) != 3:
            await self.push("501 5.5.2 Cannot split PLAIN response")
            return AuthResult(success=False, handled=True)
        return await self._check_password(parts[1], parts[2])

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        login = await self._initial_response(args, self.AuthLoginUsernameChallenge)
        if login is None:
            return AuthResult(success=False, handled=True)
        password = await self.challenge_auth(self.AuthLoginPasswordChallenge)
        if not isinstance(password, bytes):  # "*": aiosmtpd has answered 501 already
            return AuthResult(success=False, handled=True)
        return await self._check_password(login, password)

    async def _initial_response(self, args: list[str], challenge: str) -> bytes | None:
        """The client's first AUTH response: inline (RFC 4954 initial response) or asked for."""
        if len(args) == 1:
            answer = await self.challenge_auth(challenge)
            if not isinstance(answer, bytes):  # "*": aiosmtpd has answered 501 already
                return None
            return answer
        decoded = _b64(args[1])
        if decoded is None:
            await self.push("501 5.5.2 Cannot decode base64")
        return decoded

    async def _check_password(self, login: bytes, password: bytes) -> AuthResult:
        assert self._users is not None
        name = login.decode("utf-8", "replace")
        ok = await self._users.verify_async(name, password.decode("utf-8", "replace"))
        if not ok:
            log.warning("event=auth_failed client=%s user=%r", self._client_ip, name[:64])
            return AuthResult(success=False, handled=False)
        log.info("event=auth_ok client=%s user=%s", self._client_ip, name)
        return AuthResult(success=True, auth_data=AuthenticatedUser(name=name))


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None

"""The SMTP protocol side of ingress: aiosmtpd's server with the relay's limits and guards.

aiosmtpd owns the protocol; this subclass changes only what a production MTA needs changed:
DATA is read by ``data.read_data`` (smuggling guard, size and line limits, a total DATA timeout),
replies carry enhanced status codes (RFC 2034), connections are counted per client IP, and AUTH
checks passwords off the event loop (scrypt is deliberately slow). Two costs of aiosmtpd's are
avoided: its per-connection setup runs once per configuration (``prototype``), and MAIL/RCPT
paths of the common form skip the email package's parser.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import ssl
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Session, TLSSetupException

from relay.ingress.data import DataProblem, read_data
from relay.ingress.prototype import prototype_for
from relay.ingress.replies import with_enhanced_code
from relay.ingress.users import UsersFile
from relay.metrics import Component, Metrics, RejectReason

log = logging.getLogger("relay.ingress")

READER_BUFFER = 8192
"""StreamReader limit: a longer command line is refused (read to its end and dropped, holding at
most this much); DATA is taken from the buffer in runs whatever their length (data.py)."""

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*+(?!\()")
"""The common MAIL/RCPT path: ``<dot-atom@host.name>`` (RFC 5321 4.1.2), then blanks and the
parameters. For these, aiosmtpd's parser (the email package's, about 100 us a call) gives back
the address as written and the rest without its leading blanks; anything else still goes to it
(quoted local parts, address literals, source routes, comments, non-ASCII)."""


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
    """Counts open connections, in total and per client IP (Postfix's anvil, in-process),
    and knows the open sessions so a shutdown can tell each of them."""

    def __init__(self, *, max_total: int, max_per_ip: int) -> None:
        self._max_total = max_total
        self._max_per_ip = max_per_ip
        self._per_ip: Counter[str] = Counter()
        self.sessions: set[RelaySMTP] = set()

    def acquire(self, session: RelaySMTP) -> str | None:
        """Count a new connection, or return why it is refused."""
        ip = session.client_ip
        if self._max_total and len(self.sessions) >= self._max_total:
            return "too many connections"
        if self._max_per_ip and self._per_ip[ip] >= self._max_per_ip:
            return "too many connections from your address"
        self.sessions.add(session)
        self._per_ip[ip] += 1
        return None

    def release(self, session: RelaySMTP) -> None:
        self.sessions.discard(session)
        ip = session.client_ip
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]

    @property
    def open_connections(self) -> int:
        return len(self.sessions)

    def shut_down_all(self) -> None:
        for session in list(self.sessions):
            session.shut_down()


class _Session(Session):
    """aiosmtpd's session, minus the deprecation warning that aiosmtpd's own AUTH code logs on
    every successful login by setting the legacy ``login_data``."""

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


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
        metrics: Metrics,
    ) -> None:
        self._metrics = metrics
        self._limits = limits
        self._limiter = limiter
        self._users = users
        self._client_ip = ""
        self._refused = False
        self._counted = False  # this connection holds a slot in the limiter
        self._raw_replies = False
        self._in_data = False  # between 354 and the reply: a shutdown lets the message finish
        self._shutting_down = False
        options: dict[str, Any] = {
            "hostname": hostname,
            "ident": "relay ESMTP",
            "data_size_limit": limits.max_message_size,
            "enable_SMTPUTF8": True,
            "decode_data": False,
            "tls_context": tls_context,
            "timeout": limits.command_timeout,
            "auth_require_tls": True,
            "auth_exclude_mechanism": () if users is not None else ("PLAIN", "LOGIN"),
        }
        prototype_for(type(self), handler, options).copy_to(self)

    # -- connection accounting ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._counted:
            # STARTTLS: aiosmtpd calls this again with the TLS transport (RFC 3207 4.2). It is
            # the same connection, already counted; counting it twice would leak a slot.
            super().connection_made(transport)
            return
        peer = transport.get_extra_info("peername")
        self._client_ip = str(peer[0]) if peer else ""
        refusal = self._limiter.acquire(self)
        if refusal is not None:
            self._refused = True
            log.warning("event=connection_refused client=%s reason=%r", self._client_ip, refusal)
            self._metrics.rejected(RejectReason.CONNECTION_LIMIT, "4.7.0")
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(f"421 4.7.0 {self.hostname} Error: {refusal}\r\n".encode())
            transport.close()
            return
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._counted = False
            self._limiter.release(self)
        if self._refused:
            return
        super().connection_lost(error)

    def shut_down(self) -> None:
        """The server is stopping: an idle session is told at once (421 4.3.2, RFC 5321 3.8);
        one in the middle of DATA finishes its message and is told right after the reply."""
        self._shutting_down = True
        if not self._in_data:
            self._say_goodbye()

    def _say_goodbye(self) -> None:
        transport = self.transport
        if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
            transport.write(f"421 4.3.2 {self.hostname} Service shutting down\r\n".encode())
            transport.close()

    def _create_session(self) -> Session:
        return _Session(self.loop)

    def _timeout_cb(self) -> None:
        """The idle timer ran out: say so with 421 before closing (RFC 5321 4.5.3.2 and 3.8),
        where aiosmtpd would close without a word."""
        if self.transport is None:
            return
        if isinstance(self.transport, asyncio.WriteTransport) and not self.transport.is_closing():
            self.transport.write(f"421 4.4.2 {self.hostname} Error: timeout exceeded\r\n".encode())
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    async def handle_exception(self, error: Exception) -> str:
        if isinstance(error, TLSSetupException):
            # A client that cannot finish the handshake (it distrusts our certificate, no common
            # cipher) is routine: one line, no traceback. aiosmtpd then drops the connection.
            reason = str(error.__cause__ or error)[:200]
            log.warning("event=tls_handshake_failed client=%s reason=%r", self._client_ip, reason)
            return "454 4.7.0 TLS not available due to temporary reason"
        log.exception("event=session_error client=%s", self._client_ip)
        self._metrics.internal_error(Component.INGRESS)
        # Our fault, not the client's: a temporary reply (the message is retried, never
        # bounced), and no internals in it; aiosmtpd's default is a 500 naming the exception.
        return "451 4.3.0 Error: local error in processing"

    @property
    def client_ip(self) -> str:
        return self._client_ip

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's: the address of a MAIL/RCPT argument and the rest (its parameters)."""
        found = _PLAIN_PATH.match(arg)
        if found is None or self.local_part_limit:
            result: tuple[str | None, str | None] = super()._getaddr(arg)
            return result
        return found.group(1), arg[found.end() :]

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
        # The idle timer is for the time between commands. DATA has its own total deadline
        # (RFC 5321 4.5.3.2.5-6), and the checks after it are the server's time; the idle timer
        # starts again once the reply is sent.
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        self._in_data = True
        try:
            await self._receive_message()
        finally:
            self._in_data = False
            if self._shutting_down:
                self._say_goodbye()
            elif self.transport is not None:
                self._reset_timeout()

    async def _receive_message(self) -> None:
        try:
            async with asyncio.timeout(self._limits.data_timeout):
                result = await read_data(
                    self._reader,
                    max_size=self._limits.max_message_size,
                    max_line=self._limits.max_line_length,
                )
        except TimeoutError:
            self._metrics.rejected(RejectReason.TIMEOUT, "4.4.2")
            await self._hang_up("421 4.4.2 Error: timeout exceeded during DATA")
            return
        if result.problem is DataProblem.BARE_NEWLINE:
            # Postfix smtpd_forbid_bare_newline: answer and drop the connection, so nothing
            # that follows can be taken as a command or as a second message.
            log.warning("event=bare_newline_refused qid=NOQUEUE client=%s", self._client_ip)
            self._metrics.rejected(RejectReason.BARE_NEWLINE, "5.5.2")
            await self._hang_up("521 5.5.2 Error: bare <CR> or <LF> received")
            return
        if result.problem is DataProblem.TOO_BIG:
            self._reset_envelope()
            self._metrics.rejected(RejectReason.SIZE, "5.3.4")
            await self.push("552 5.3.4 Error: message too big")
            return
        if result.problem is DataProblem.LINE_TOO_LONG:
            self._reset_envelope()
            self._metrics.rejected(RejectReason.LINE_LENGTH, "5.5.2")
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
        """Answer, close, and end aiosmtpd's command loop (it runs while ``transport`` is set):
        what the client sent after this point, already buffered or not, is never read."""
        await self.push(reply)
        self._reset_envelope()
        if self.transport is not None:
            self.transport.close()
            self.transport = None

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

    async def challenge_auth(
        self, challenge: str | bytes, encode_to_b64: bool = True, log_client_response: bool = False
    ) -> Any:
        """Send a 334 challenge and return the client's decoded answer, or MISSING after
        answering a refusal. aiosmtpd's own lets an answer longer than the reader's buffer
        escape as an exception, and the rest of that line be read as commands."""
        data = challenge.encode() if isinstance(challenge, str) else challenge
        await self.push(b"334 " + (base64.b64encode(data) if encode_to_b64 else data))
        line = await self._read_line()
        if line is None:
            await self.push("500 5.5.6 Authentication Exchange line is too long")  # RFC 4954 6
            return MISSING
        blob = line.strip()
        if blob == b"*":  # RFC 4954 4: the client cancels
            await self.push("501 5.7.0 Auth aborted")
            return MISSING
        decoded = _b64(blob)
        if decoded is None:
            await self.push("501 5.5.2 Cannot decode base64")
            return MISSING
        return decoded

    async def _read_line(self) -> bytes | None:
        """One line from the client, or None if it was longer than the reader's buffer (it is
        then read to its end and dropped, as aiosmtpd does with over-long commands)."""
        too_long = False
        while True:
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.LimitOverrunError as exc:
                await self._reader.read(exc.consumed)
                too_long = True
                continue
            except asyncio.IncompleteReadError as exc:
                raise ConnectionResetError("connection closed during AUTH") from exc
            return None if too_long else line

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


def _b64(text: str | bytes) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii") if isinstance(text, str) else text, validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None

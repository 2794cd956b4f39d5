"""aiosmtpd's per-connection setup, done once per configuration instead of on every connection.

``SMTP.__init__`` builds its tables of ``smtp_*`` verbs, ``auth_*`` mechanisms and the handler's
``handle_*`` hooks with ``inspect.getmembers``, ``dir`` and ``inspect.signature``, on every
connection: about 0.3 ms of CPU, a fifth of the relay's CPU per message when clients open one
connection per message (as smtp-source and many applications do). What it sets depends only on
the class, the handler and the options. So ``SMTP.__init__`` runs once, on a prototype that never
serves a connection, and each connection takes a copy: the settings as they are, asyncio's
stream state new, and the verb and mechanism tables bound to the connection. Behaviour is
aiosmtpd's own, as no table is built any other way.

Anything else mutable that aiosmtpd sets and that is not known to be shared (say, after an
aiosmtpd upgrade) refuses every connection with an error in the log naming it, rather than be
shared between connections by mistake (asyncio drops a connection whose protocol cannot be made
without a word, hence the log line).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from types import MethodType
from typing import Any

from aiosmtpd.smtp import SMTP

from relay.errors import RelayError

log = logging.getLogger("relay.ingress")

MAX_PROTOTYPES = 8
"""Configurations kept (normally one per listener; a reload or another event loop adds one),
the oldest dropped first."""

_SHARED = frozenset(
    {
        "loop",
        "_loop",
        "event_handler",
        "tls_context",
        "_auth_callback",
        "_authenticator",
        "_handle_hooks",
        "_call_limit_base",
    }
)
"""Set by ``SMTP.__init__`` and the same for every connection by design: the event loop, the
handler, the TLS context, the AUTH callbacks, and two tables that aiosmtpd only reads."""
_BOUND = ("_smtp_methods", "_auth_methods")
"""Tables of methods bound to the connection: bound again for each one."""
_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset)


class SessionPrototype:
    def __init__(self, cls: type[SMTP], handler: Any, options: dict[str, Any]) -> None:
        prototype = cls.__new__(cls)
        SMTP.__init__(prototype, handler, loop=asyncio.get_running_loop(), **options)
        state = dict(vars(prototype))
        new_stream(prototype)
        renewed = {name for name, value in vars(prototype).items() if state.get(name) is not value}
        self._state = {n: v for n, v in state.items() if n not in renewed and n not in _BOUND}
        unknown = sorted(
            name
            for name, value in self._state.items()
            if name not in _SHARED and not isinstance(value, _IMMUTABLE)
        )
        if unknown:
            reason = f"aiosmtpd's SMTP.__init__ sets {unknown}, not known to be safe to share"
            log.error("event=smtp_setup_failed reason=%r", reason)
            raise RelayError(reason)
        self._verbs: dict[str, Any] = state["_smtp_methods"]
        self._mechanisms: dict[str, Any] = state["_auth_methods"]

    def copy_to(self, session: SMTP) -> None:
        """Set ``session`` up as ``SMTP.__init__`` would have."""
        session.__dict__.update(self._state)
        new_stream(session)
        # aiosmtpd keeps these limits in a class attribute that every EHLO raises (RFC 1870,
        # RFC 6531) and every new connection resets, for all sessions at once; one per session.
        session.command_size_limits = defaultdict(_command_size_limit)
        session._smtp_methods = {v: MethodType(m.__func__, session) for v, m in self._verbs.items()}
        session._auth_methods = {
            name: m._replace(method=MethodType(m.method.__func__, session)) if m.is_builtin else m
            for name, m in self._mechanisms.items()
        }


def new_stream(session: SMTP) -> None:
    """asyncio's part of the connection (its stream reader and flow control), as SMTP sets it."""
    reader = asyncio.StreamReader(limit=session.line_length_limit, loop=session.loop)
    asyncio.StreamReaderProtocol.__init__(
        session, reader, client_connected_cb=session._cb_client_connected, loop=session.loop
    )


def _command_size_limit() -> int:
    return int(SMTP.command_size_limit)


_prototypes: dict[tuple[Any, ...], SessionPrototype] = {}


def prototype_for(cls: type[SMTP], handler: Any, options: dict[str, Any]) -> SessionPrototype:
    """The prototype for connections of ``cls`` with this handler and these ``SMTP`` options
    (all hashable), on the running event loop."""
    key = (cls, handler, asyncio.get_running_loop(), *sorted(options.items()))
    prototype = _prototypes.get(key)
    if prototype is None:
        if len(_prototypes) >= MAX_PROTOTYPES:
            del _prototypes[next(iter(_prototypes))]
        prototype = _prototypes[key] = SessionPrototype(cls, handler, options)
    return prototype

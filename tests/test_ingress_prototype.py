"""The per-configuration aiosmtpd set-up (relay/ingress/prototype.py): what is shared, what is not.

Sessions built from one prototype must not share mutable state, and a set-up that adds mutable
state the module does not know is refused loudly rather than shared by accident.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from relay.errors import RelayError
from relay.ingress.prototype import SessionPrototype, prototype_for


class _Handler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


async def test_unknown_mutable_state_is_refused_with_a_log_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An aiosmtpd whose ``SMTP.__init__`` sets a mutable attribute the module does not know
    (an upgrade cannot be installed here, so its ``__init__`` is wrapped to stand for one)."""
    original = SMTP.__init__

    def upgraded(self: SMTP, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.scratch = []  # type: ignore[attr-defined]

    monkeypatch.setattr(SMTP, "__init__", upgraded)
    with caplog.at_level(logging.ERROR, logger="relay.ingress"), pytest.raises(RelayError) as raised:
        SessionPrototype(SMTP, _Handler(), {})
    assert "scratch" in str(raised.value)
    assert "event=smtp_setup_failed" in caplog.text


async def test_one_prototype_per_configuration_and_sessions_do_not_share_state() -> None:
    handler = _Handler()
    prototype = prototype_for(SMTP, handler, {"hostname": "relay.test"})
    assert prototype_for(SMTP, handler, {"hostname": "relay.test"}) is prototype
    assert prototype_for(SMTP, handler, {"hostname": "other.test"}) is not prototype
    first, second = SMTP.__new__(SMTP), SMTP.__new__(SMTP)
    prototype.copy_to(first)
    prototype.copy_to(second)
    assert first.hostname == second.hostname == "relay.test"
    assert first._smtp_methods["EHLO"].__self__ is first
    assert second._smtp_methods["EHLO"].__self__ is second
    assert first.command_size_limits is not second.command_size_limits
    first.command_size_limits["MAIL"] = 9999
    assert second.command_size_limits["MAIL"] == SMTP.command_size_limit
    # asyncio's stream state is each session's own
    assert first._stream_reader_wr() is not second._stream_reader_wr()

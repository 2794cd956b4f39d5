"""Structured, PHI-free logging: one line per event, ``key=value`` pairs, queue ID on each.

Callers log events such as ``event=message_queued qid=... size=...``; nothing here ever sees
message content, and no call site passes any. Lines go to stderr (systemd/journald collects them).
"""

from __future__ import annotations

import logging
import sys
import time

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ relay[%(process)d] %(levelname)s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
        self.converter = time.gmtime


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS.get(level, logging.INFO))
    # aiosmtpd logs every command line it reads at INFO, addresses and all; its own
    # warnings are all we want from it.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # pypdf reports every oddity of a malformed PDF as a warning; extraction already records
    # an unreadable part as unscannable, so only its errors are news.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

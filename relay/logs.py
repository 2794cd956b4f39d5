"""Structured, PHI-free logging: one line per event, ``key=value`` pairs, queue ID on each.

Callers log events such as ``event=message_queued qid=... size=...``; nothing here ever sees
message content, and no call site passes any. Lines go to stderr (systemd/journald collects them).
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
MAX_FRAMES = 8
"""Innermost frames named in an exception line: where it broke, and the few calls above."""

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s.%(msecs)03dZ relay[%(process)d] %(levelname)s %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        """The event line, with an exception folded into the same line (see ``exception_fields``)
        instead of logging's multi-line traceback."""
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[0] is not None:
            line = f"{line} {exception_fields(exc_info)}"
        return line


def exception_fields(exc_info: ExcInfo) -> str:
    """``exception=TYPE caused_by=TYPE at=file:line<-file:line`` for an unexpected exception.

    Never the exception's message: messages quote the values that broke the code (an address,
    a header, a line of a message), and the log must not carry message content. The types and
    the innermost frames are enough to find the bug; one line keeps one event per line.
    """
    kind, value, tb = exc_info
    fields = [f"exception={kind.__name__}"]
    cause = value.__cause__ or value.__context__
    if cause is not None:
        fields.append(f"caused_by={type(cause).__name__}")
        tb = cause.__traceback__ or tb  # the frames where it really broke
    frames = traceback.extract_tb(tb)[-MAX_FRAMES:]
    if frames:
        fields.append("at=" + "<-".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames)))
    return " ".join(fields)


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

"""The log format: one line per event, and an exception never brings its message along."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from relay import logs

SECRET = "jane.doe@example.org SSN 078-05-1120"


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _parse(text: str) -> int:
    return int(text)


def _crash(text: str) -> None:
    try:
        _parse(text)
    except ValueError as exc:
        raise RuntimeError(f"could not read {text}") from exc


def test_an_exception_is_one_line_without_its_message(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("info")
    try:
        _crash(SECRET)
    except RuntimeError:
        logging.getLogger("relay.test").exception("event=delivery_crashed qid=%s", "ABC123")
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for value in ("jane.doe", "078-05-1120", "could not read"):
        assert value not in err
    assert "event=delivery_crashed qid=ABC123 exception=RuntimeError caused_by=ValueError at=" in err
    # Where it broke, innermost first: int() inside _parse, called from _crash.
    frames = err.split(" at=")[1].strip().split("<-")
    assert frames[0].startswith("test_logs.py:")
    assert len(frames) >= 2


def test_a_line_without_exception_is_unchanged(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info")
    logging.getLogger("relay.test").info("event=message_queued qid=%s size=%d", "ABC123", 2048)
    err = capsys.readouterr().err
    assert err.endswith("INFO relay.test: event=message_queued qid=ABC123 size=2048\n")
    assert "exception=" not in err

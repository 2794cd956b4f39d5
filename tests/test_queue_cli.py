"""``relay queue`` against a running relay, and the CLI's error hygiene.

Messages are kept deferred by a sink answering 451 with a one-hour retry schedule, so that
whatever gets delivered afterwards was sent because of the command under test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DEST, numbered_message, seqs_of, wait_until
from relayproc import RelaySetup, queue_list
from sink import Sink
from smtpclient import submit

from relay.cli.main import main

SENDER = "sender@origin.test"
LIST_FIELDS = {
    "queue_id", "state", "sender", "size", "created_at", "next_attempt_at", "attempts", "last_error",
    "policy_version", "recipients",
}
NOT_YET = "451 4.3.0 not yet"
WAIT = 15.0
"""Bound on a wait for a delivery or a drained queue: each look at the queue is a CLI process,
and a busy machine may take seconds to start one."""


def send(relay: RelaySetup, seq: int) -> str:
    """Numbered message ``seq``; returns the queue ID from the relay's 250."""
    return submit(relay, SENDER, [DEST], numbered_message(seq))


def show(relay: RelaySetup, queue_id: str) -> dict[str, object]:
    shown: dict[str, object] = json.loads(relay.cli("queue", "show", queue_id, "--json").stdout)
    return shown


def settle() -> None:
    """Long enough for several scheduler polls (poll_interval is 200ms in these tests)."""
    time.sleep(1.0)


@pytest.fixture
def deferred(relay: RelaySetup, sink: Sink) -> Iterator[tuple[RelaySetup, Sink, list[str]]]:
    """A running relay holding three messages deferred for an hour (seq 0, 1, 2)."""
    sink.script("mail", "*", NOT_YET)
    relay.configure(routes={"dest.test": sink.address}, delivery={"retry_schedule": ["1h"]})
    relay.start()
    ids = [send(relay, seq) for seq in range(3)]
    for queue_id in ids:
        relay.wait_for_log(f"event=deferred qid={queue_id} ")
    yield relay, sink, ids
    if relay.process is not None:
        assert relay.stop() == 0


def test_list_show_and_unknown_ids_on_a_live_server(
    deferred: tuple[RelaySetup, Sink, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    relay, _, ids = deferred
    lines = relay.cli("queue", "list").stdout.splitlines()
    assert re.match(r"QUEUE ID\s+STATE\s+SIZE\s+ARRIVED \(UTC\)\s+TRIES\s+SENDER\s+PENDING$", lines[0])
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == set(ids)
    for row in rows.values():
        assert row[1] == "deferred"
        assert row[-3:] == ["1", f"<{SENDER}>", "1/1"]
    assert lines[-1] == "-- 3 message(s)"

    entries = queue_list(relay)
    assert [e["queue_id"] for e in entries] == ids, "oldest first"
    for entry in entries:
        assert set(entry) == LIST_FIELDS
        assert entry["state"] == "deferred"
        assert entry["sender"] == SENDER
        assert entry["attempts"] == 1
        assert entry["last_error"].startswith("451")
        assert entry["next_attempt_at"] - entry["created_at"] > 3000
        [recipient] = entry["recipients"]
        assert recipient["address"] == DEST
        assert recipient["state"] == "pending"
        assert recipient["last_reply"].startswith("451")
    assert json.loads(relay.cli("queue", "list", "--state", "held", "--json").stdout) == []
    assert relay.cli("queue", "list", "--state", "held").stdout.strip() == "queue is empty"

    text = relay.cli("queue", "show", ids[1]).stdout
    assert f"queue id:      {ids[1]}\n" in text
    assert "state:         deferred\n" in text
    assert f"sender:        <{SENDER}>\n" in text
    assert "attempts:      1\n" in text
    assert re.search(rf"<{DEST}>\s+pending\s+tls=opportunistic", text)
    assert "last reply: 451" in text
    assert show(relay, ids[1]) == entries[1]

    unknown = relay.cli("queue", "show", "0000000DEAD00", check=False)
    assert_one_line_error(unknown)
    assert "no message with queue ID 0000000DEAD00" in unknown.stderr
    for verb in ("hold", "release", "delete", "bounce"):  # in this process: no fork each
        unknown = run_main(("-c", str(relay.config_path), "queue", verb, "0000000DEAD00"), capsys)
        assert_one_line_error(unknown)
        assert "no message with queue ID 0000000DEAD00" in unknown.stderr
    assert queue_list(relay) == entries, "an unknown ID changed nothing"


def test_hold_survives_a_fixed_sink_and_flush_until_released(
    deferred: tuple[RelaySetup, Sink, list[str]],
) -> None:
    relay, sink, (held, deleted, waiting) = deferred
    not_held = relay.cli("queue", "release", waiting, check=False)
    assert not_held.returncode == 2
    assert not_held.stderr == f"relay: error: {waiting} is deferred, not held or quarantined\n"
    assert relay.cli("queue", "hold", held).stdout.strip() == f"{held}: held"
    assert show(relay, held)["state"] == "held"
    assert relay.cli("queue", "delete", deleted).stdout.strip() == f"{deleted}: deleted"
    gone = relay.cli("queue", "show", deleted, check=False)
    assert gone.returncode == 2

    sink.script("mail", "*", "250 OK")
    settle()
    assert sink.messages == [], "nothing is due for an hour: only flush may send it"

    started = time.monotonic()
    flushed = relay.cli("queue", "flush").stdout.strip()
    assert flushed == "1 message(s) scheduled for immediate delivery"
    wait_until(lambda: set(seqs_of(sink)) == {2}, WAIT, "the flushed message")
    print(f"\nflush to delivery: {time.monotonic() - started:.2f}s (retry schedule: 1h)")
    relay.wait_for_log(f"event=removed qid={waiting}")
    settle()
    assert set(seqs_of(sink)) == {2}, "held or deleted messages were delivered"
    assert [e["queue_id"] for e in queue_list(relay)] == [held]
    assert show(relay, held)["state"] == "held"

    assert relay.cli("queue", "release", held).stdout.strip() == f"{held}: released"
    wait_until(lambda: set(seqs_of(sink)) == {0, 2}, WAIT, "the released message")
    wait_until(lambda: relay.cli("queue", "list").stdout.strip() == "queue is empty", WAIT, "an empty queue")
    assert relay.stop() == 0
    assert seqs_of(sink) == {0: 1, 2: 1}


def test_bounce_returns_the_headers_to_the_sender(relay: RelaySetup, sink: Sink) -> None:
    sink.script("mail", "*", NOT_YET)
    with Sink() as senders:
        relay.configure(
            routes={"dest.test": sink.address, "origin.test": senders.address},
            delivery={"retry_schedule": ["1h"]},
        )
        relay.start()
        queue_id = send(relay, 7)
        relay.wait_for_log(f"event=deferred qid={queue_id} ")
        result = relay.cli("queue", "bounce", queue_id).stdout.strip()
        match = re.fullmatch(rf"{queue_id}: bounced, DSN queued as ([0-9A-F]+)", result)
        assert match, result
        [dsn] = senders.wait_for(1, timeout=10)
        relay.wait_for_log(f"event=removed qid={match.group(1)}")
        assert relay.cli("queue", "show", queue_id, check=False).returncode == 2
        assert relay.stop() == 0

    assert dsn.sender in ("", "<>"), "a DSN goes from the null sender (RFC 5321 4.5.5)"
    assert dsn.recipients == (SENDER,)
    assert b"multipart/report; report-type=delivery-status" in dsn.data
    assert b"Content-Type: text/rfc822-headers" in dsn.data
    assert b"Message-ID: <seq-7@crash.test>" in dsn.data
    assert b"Subject: load 7" in dsn.data
    assert f"Final-Recipient: rfc822; {DEST}".encode() in dsn.data
    assert b"payload 7" not in dsn.data, "the DSN returned the body"
    assert sink.messages == []


# -- error hygiene ----------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli.main", *args],
        capture_output=True, text=True, cwd=cwd, timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("relay: ")


def run_main(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """``relay.cli.main.main`` in this process: the argument table runs without a fork each."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's way out
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


USAGE_ERRORS = [
    pytest.param(("-c", "missing.yaml", "queue", "list"), id="missing-config"),
    pytest.param(("-c", ".", "queue", "list"), id="config-is-a-directory"),
    pytest.param(("-c", "missing.yaml", "serve"), id="serve-missing-config"),
    pytest.param(("-c", "missing.yaml", "check-config"), id="check-config-missing-config"),
    pytest.param(("-c", "broken.yaml", "queue", "list"), id="broken-yaml"),
    pytest.param(("-c", "unknown-key.yaml", "queue", "list"), id="unknown-config-key"),
    pytest.param(("-c", "relay.yaml", "queue"), id="queue-without-action"),
    pytest.param(("-c", "relay.yaml", "queue", "frobnicate"), id="unknown-action"),
    pytest.param(("-c", "relay.yaml", "queue", "show"), id="show-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "hold"), id="hold-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "release"), id="release-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "delete"), id="delete-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "bounce"), id="bounce-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "hold", "A", "B"), id="hold-two-ids"),
    pytest.param(("-c", "relay.yaml", "queue", "flush", "X"), id="flush-with-id"),
    pytest.param(("-c", "relay.yaml", "queue", "list", "--state", "lost"), id="list-bad-state"),
    pytest.param(("-c", "relay.yaml", "queue", "list", "--jsn"), id="list-bad-flag"),
    pytest.param(("-c", "relay.yaml", "queue", "show", "--json"), id="show-json-without-id"),
    pytest.param(("-c", "relay.yaml", "queue", "list", "-c"), id="config-flag-without-path"),
    pytest.param(("-c", "relay.yaml"), id="no-verb"),
    pytest.param(("-c", "relay.yaml", "dance"), id="unknown-verb"),
    pytest.param(("-c", "relay.yaml", "user", "add"), id="user-add-without-name"),
    pytest.param(("-c", "relay.yaml", "user", "add", "bob", "--password-stdin"), id="user-add-no-users-file"),
    pytest.param(("-c", "relay.yaml", "tls", "selfsigned"), id="selfsigned-no-paths"),
    pytest.param(("-c", "relay.yaml", "tls", "selfsigned", "--days", "soon"), id="selfsigned-bad-days"),
]


@pytest.fixture
def config_dir(relay: RelaySetup, monkeypatch: pytest.MonkeyPatch) -> Path:
    (relay.directory / "broken.yaml").write_text("spool: [unclosed\n")
    (relay.directory / "unknown-key.yaml").write_text("spool: spool\nspoool: typo\n")
    monkeypatch.chdir(relay.directory)
    return relay.directory


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_cli_usage_errors_are_one_line_and_exit_2(
    config_dir: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    assert_one_line_error(run_main(args, capsys))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("-c", "missing.yaml", "queue", "list"), id="missing-config"),
        pytest.param(("-c", "relay.yaml", "queue"), id="queue-without-action"),
        pytest.param(("-c", "relay.yaml", "queue", "show"), id="show-without-id"),
    ],
)
def test_cli_usage_errors_as_a_process(config_dir: Path, args: tuple[str, ...]) -> None:
    assert_one_line_error(run_cli(*args, cwd=config_dir))


def test_a_spool_that_does_not_exist_is_not_created(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped -c must not answer "no messages" from a new empty spool."""
    for args in (("queue", "list"), ("queue", "flush")):
        result = run_main(("-c", "relay.yaml", *args), capsys)
        assert_one_line_error(result)
        assert f"no spool at {config_dir / 'spool'}" in result.stderr
    assert not (config_dir / "spool").exists()


def test_a_spool_that_is_not_a_database_is_one_line_and_exit_1(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "spool").mkdir()
    (config_dir / "spool" / "queue.db").write_bytes(b"definitely not SQLite " * 100)
    for args in (("queue", "list"), ("queue", "show", "X"), ("queue", "flush"), ("queue", "hold", "X")):
        result = run_main(("-c", "relay.yaml", *args), capsys)
        assert_one_line_error(result, code=1)
        assert "cannot open spool" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("-c", "{config}", "queue", "list"), id="before-verb"),
        pytest.param(("queue", "-c", "{config}", "list"), id="after-verb"),
        pytest.param(("queue", "list", "-c", "{config}"), id="after-action"),
        pytest.param(("-c", "missing.yaml", "queue", "list", "-c", "{config}"), id="last-one-wins"),
    ],
)
def test_config_flag_is_accepted_before_and_after_the_verb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text("hostname: relay.test\nspool: spool\n")
    (tmp_path / "spool").mkdir()  # as the relay leaves it; a missing spool is refused (above)
    monkeypatch.chdir(tmp_path)
    result = run_main(tuple(a.format(config=config) for a in args), capsys)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "queue is empty"
    assert (tmp_path / "spool" / "queue.db").exists()

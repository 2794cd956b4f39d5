"""The audit log: a clean chain verifies; every kind of tampering is named at the first bad record.

Logs are written by the real ``AuditLog`` into tmp_path with a FakeClock, then damaged with
plain file operations, the way someone with shell access would.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relay.audit import (
    AddressMode,
    AuditConfig,
    AuditError,
    AuditEvent,
    AuditKind,
    AuditLog,
    AuditPrivacy,
    FsyncPolicy,
    Problem,
    SubjectMode,
    VerifyResult,
    generate_hash_key,
    generate_key,
    load_public_keys,
    redact,
    search,
    verify,
)
from relay.audit import files as audit_files
from relay.audit.keys import fingerprint, load_hash_key, load_signing_key, public_key_path
from relay.audit.record import GENESIS, canonical, line_digest, record_hash, seal_details
from relay.cli.audit import cmd_keygen, cmd_prune, cmd_search, cmd_verify, parse_time
from relay.clock import FakeClock
from relay.errors import ConfigError, UsageError

SMALL_FILE = 64 * 1024
"""The smallest rotation size allowed: about 200 records, so a few hundred events span files."""
SUBJECT = "Lab results for Jane Q. Patient, DOB 1961-04-02"


@dataclass
class Setup:
    directory: Path
    key_path: Path
    keys: dict[str, Ed25519PublicKey]
    clock: FakeClock
    config: AuditConfig

    def open(self, **changes: Any) -> AuditLog:
        config = replace(self.config, **changes)
        privacy = AuditPrivacy(
            addresses=config.addresses,
            subjects=config.subjects,
            key=load_hash_key(config.hash_key) if config.hash_key else None,
        )
        log = AuditLog(
            config, clock=self.clock, privacy=privacy, signing_key=load_signing_key(self.key_path), node="n1"
        )
        log.start()
        return log

    def verify(self) -> VerifyResult:
        return verify(self.directory, self.keys)

    def log_files(self) -> list[Path]:
        return [f.path for f in audit_files.list_files(self.directory)]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    key_path = tmp_path / "keys" / "audit.pem"
    key_path.parent.mkdir()
    generate_key(key_path)
    config = AuditConfig(directory=tmp_path / "audit", signing_key=key_path, seal_every_records=25)
    keys = load_public_keys([public_key_path(key_path)])
    return Setup(directory=tmp_path / "audit", key_path=key_path, keys=keys, clock=FakeClock(), config=config)


def event(i: int, **changes: Any) -> AuditEvent:
    base = AuditEvent(
        kind=AuditKind.DELIVERY_ATTEMPT,
        actor="delivery",
        queue_id=f"Q{i:05d}",
        sender=f"app{i % 3}@clinic.example",
        recipients=(f"patient{i % 7}@mail.example", f"doctor{i % 5}@hospital.example"),
        subject=SUBJECT,
        details={"mx": "mx1.mail.example", "tls": "TLSv1.3", "code": 250, "attempt": i},
    )
    return replace(base, **changes)


def write(setup: Setup, count: int, *, step: float = 1.0, **changes: Any) -> None:
    with setup.open(**changes) as log:
        for i in range(count):
            log.append(event(i))
            setup.clock.advance(step)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """About 900 records over 5 files, sealed every 25 records and at each rotation and close.

    Built once (``fsync: seal`` for speed; ``every`` is exercised elsewhere) and copied per test.
    """
    base = tmp_path_factory.mktemp("pristine")
    key_path = base / "audit.pem"
    generate_key(key_path)
    clock = FakeClock()
    config = AuditConfig(
        directory=base / "audit", signing_key=key_path, seal_every_records=25, rotate_bytes=SMALL_FILE
    )
    log = AuditLog(
        replace(config, fsync=FsyncPolicy.SEAL),
        clock=clock,
        privacy=AuditPrivacy(),
        signing_key=load_signing_key(key_path),
    )
    with log:
        for i in range(800):
            log.append(event(i))
            clock.advance(1.0)
    return base / "audit", key_path, clock.now()


@pytest.fixture
def sealed(pristine: tuple[Path, Path, float], tmp_path: Path) -> Setup:
    source, key_path, end = pristine
    directory = tmp_path / "audit"
    shutil.copytree(source, directory)
    config = AuditConfig(directory=directory, signing_key=key_path, seal_every_records=25)
    keys = load_public_keys([public_key_path(key_path)])
    copy = Setup(directory=directory, key_path=key_path, keys=keys, clock=FakeClock(end), config=config)
    assert len(copy.log_files()) >= 4
    return copy


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def record_at(path: Path, line: int) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(lines_of(path)[line - 1])
    return record


def expect_fault(result: VerifyResult, path: Path, line: int, seq: int | None, problem: Problem) -> None:
    assert result.fault is not None, "tampering went unnoticed"
    assert (result.fault.file, result.fault.line, result.fault.seq, result.fault.problem) == (
        path.name,
        line,
        seq,
        problem,
    ), str(result.fault)


# -- a clean log ------------------------------------------------------------------------------


def test_clean_log_verifies_across_rotation_and_seals(sealed: Setup) -> None:
    result = sealed.verify()
    assert result.ok, result.fault
    assert result.files == len(sealed.log_files())
    assert result.first_seq == 1
    assert result.records == result.last_seq  # every seq from 1 to the end, once
    assert result.sealed_upto == result.last_seq - 1  # close() sealed everything
    assert result.warnings == ()
    kinds = [json.loads(line)["kind"] for p in sealed.log_files() for line in lines_of(p)]
    assert kinds.count("delivery_attempt") == 800
    assert kinds.count("seal") >= 800 // 25


def test_each_file_begins_with_its_link_to_the_previous_file_and_ends_sealed(sealed: Setup) -> None:
    paths = sealed.log_files()
    for before, after in itertools.pairwise(paths):
        last = json.loads(lines_of(before)[-1])
        first = json.loads(lines_of(after)[0])
        assert last["kind"] == "seal"
        assert first["kind"] == "file_start"
        assert first["details"]["previous_file"] == before.name
        assert first["details"]["previous_seq"] == last["seq"]
        assert first["prev"] == line_digest(lines_of(before)[-1].rstrip(b"\n"))
        assert after.name.endswith(f"-{first['seq']:012d}.jsonl")


def test_record_format_is_canonical_and_hash_chained(sealed: Setup) -> None:
    lines = [line.rstrip(b"\n") for p in sealed.log_files() for line in lines_of(p)]
    records = [json.loads(line) for line in lines]
    assert records[0]["seq"] == 1 and records[0]["prev"] == GENESIS
    for line, record in zip(lines, records, strict=True):
        assert canonical(record) == line
        body = {k: v for k, v in record.items() if k != "hash"}
        assert record["hash"] == hashlib.sha256(canonical(body)).hexdigest()
        assert datetime.strptime(record["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
    for before, after in zip(lines, records[1:], strict=False):
        assert after["prev"] == hashlib.sha256(before).hexdigest()


def test_day_rotation_starts_a_file_at_utc_midnight(setup: Setup) -> None:
    write(setup, 40, step=3600.0)  # FakeClock starts 2023-11-14 22:13 UTC: crosses two midnights
    days = [audit_files.day_of(p.name) for p in setup.log_files()]
    assert days == ["20231114", "20231115", "20231116"]
    assert setup.verify().ok


def test_reopening_continues_the_chain(setup: Setup) -> None:
    write(setup, 10)
    write(setup, 10)
    result = setup.verify()
    assert result.ok and len(setup.log_files()) == 1
    seqs = [json.loads(line)["seq"] for line in lines_of(setup.log_files()[0])]
    assert seqs == list(range(1, len(seqs) + 1))


def test_time_based_seal(setup: Setup) -> None:
    with setup.open(seal_every_records=1000, seal_every_seconds=60) as log:
        log.append(event(1))
        assert not log.maybe_seal()
        setup.clock.advance(61)
        assert log.maybe_seal()
        assert not log.maybe_seal()  # nothing new to seal
    assert setup.verify().ok


def test_fsync_seal_policy_and_threads_write_one_chain(setup: Setup) -> None:
    def worker(log: AuditLog, n: int) -> None:
        for i in range(100):
            log.append(event(n * 1000 + i))

    for policy in (FsyncPolicy.SEAL, FsyncPolicy.EVERY):
        with setup.open(fsync=policy, rotate_bytes=SMALL_FILE) as log:
            threads = [threading.Thread(target=worker, args=(log, n)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    result = setup.verify()
    assert result.ok, result.fault
    queue_ids = [r["queue_id"] for r in search(setup.directory, kind=AuditKind.DELIVERY_ATTEMPT)]
    assert len(queue_ids) == len(set(queue_ids)) * 2 == 800


def test_empty_log_and_keyless_log(setup: Setup, tmp_path: Path) -> None:
    assert verify(tmp_path / "nothing-here").ok
    config = replace(setup.config, signing_key=None)
    with AuditLog(config, clock=setup.clock, privacy=AuditPrivacy()) as log:
        log.append(event(1))
    result = verify(setup.directory)
    assert result.ok and result.sealed_upto == 0
    assert any("no seals" in w for w in result.warnings)


def test_seals_unchecked_without_public_key(sealed: Setup) -> None:
    result = verify(sealed.directory)
    assert result.ok
    assert any("not checked" in w for w in result.warnings)


# -- tampering --------------------------------------------------------------------------------


def test_one_edited_byte_names_that_record(sealed: Setup) -> None:
    path = sealed.log_files()[1]
    lines = lines_of(path)
    seq = json.loads(lines[9])["seq"]
    lines[9] = lines[9].replace(b'"code":250', b'"code":550', 1)
    path.write_bytes(b"".join(lines))
    expect_fault(sealed.verify(), path, 10, seq, Problem.EDITED)


def test_a_flipped_byte_that_breaks_json_is_caught(sealed: Setup) -> None:
    path = sealed.log_files()[0]
    data = bytearray(path.read_bytes())
    third_line = data.index(b"\n", data.index(b"\n") + 1) + 1
    data[third_line] ^= 0x20  # the opening brace of line 3
    path.write_bytes(bytes(data))
    expect_fault(sealed.verify(), path, 3, None, Problem.EDITED)


def test_reformatted_line_is_not_canonical(sealed: Setup) -> None:
    path = sealed.log_files()[0]
    lines = lines_of(path)
    seq = json.loads(lines[4])["seq"]
    lines[4] = json.dumps(json.loads(lines[4]), sort_keys=True).encode() + b"\n"  # same data, spaces
    path.write_bytes(b"".join(lines))
    expect_fault(sealed.verify(), path, 5, seq, Problem.EDITED)


def test_dropped_line_names_the_gap(sealed: Setup) -> None:
    path = sealed.log_files()[2]
    lines = lines_of(path)
    seq = json.loads(lines[20])["seq"]
    del lines[19]
    path.write_bytes(b"".join(lines))
    result = sealed.verify()
    expect_fault(result, path, 20, seq, Problem.MISSING)
    assert result.fault is not None and f"{seq - 1} missing" in result.fault.message


def test_swapped_lines_are_reported_as_reordered(sealed: Setup) -> None:
    path = sealed.log_files()[1]
    lines = lines_of(path)
    seq = json.loads(lines[31])["seq"]
    lines[30], lines[31] = lines[31], lines[30]
    path.write_bytes(b"".join(lines))
    expect_fault(sealed.verify(), path, 31, seq, Problem.REORDERED)


def test_inserted_copy_of_a_line_is_caught(sealed: Setup) -> None:
    path = sealed.log_files()[1]
    lines = lines_of(path)
    seq = json.loads(lines[10])["seq"]
    lines.insert(12, lines[10])
    path.write_bytes(b"".join(lines))
    expect_fault(sealed.verify(), path, 13, seq, Problem.REORDERED)


def test_cut_in_the_middle_of_a_record(sealed: Setup) -> None:
    path = sealed.log_files()[-1]
    size = path.stat().st_size
    with path.open("r+b") as stream:
        stream.truncate(size - 40)
    expect_fault(sealed.verify(), path, len(lines_of(path)), None, Problem.TRUNCATED)


def test_whole_records_cut_off_the_end_are_caught_by_the_head(sealed: Setup) -> None:
    path = sealed.log_files()[-1]
    lines = lines_of(path)
    last_seq = json.loads(lines[-6])["seq"]
    path.write_bytes(b"".join(lines[:-5]))
    result = sealed.verify()
    expect_fault(result, path, len(lines) - 4, last_seq + 1, Problem.TRUNCATED)
    assert result.fault is not None and "audit.head" in result.fault.message


def test_truncated_older_file_is_named_by_the_next_file(sealed: Setup) -> None:
    older, following = sealed.log_files()[1:3]
    lines = lines_of(older)
    older.write_bytes(b"".join(lines[:-3]))
    result = sealed.verify()
    expect_fault(result, following, 1, record_at(following, 1)["seq"], Problem.TRUNCATED)
    assert result.fault is not None and older.name in result.fault.message


def test_removed_middle_file_is_named(sealed: Setup) -> None:
    gone, following = sealed.log_files()[1:3]
    gone.unlink()
    result = sealed.verify()
    expect_fault(result, following, 1, record_at(following, 1)["seq"], Problem.MISSING_FILE)
    assert result.fault is not None and gone.name in result.fault.message


def test_removed_oldest_file_without_a_prune_record(sealed: Setup) -> None:
    first, second = sealed.log_files()[:2]
    first.unlink()
    expect_fault(sealed.verify(), second, 1, record_at(second, 1)["seq"], Problem.UNANCHORED)


def test_removed_newest_file_is_caught_by_the_head(sealed: Setup) -> None:
    sealed.log_files()[-1].unlink()
    result = sealed.verify()
    assert result.fault is not None and result.fault.problem is Problem.MISSING_FILE


def _seal_line_index(path: Path) -> int:
    return next(i for i, line in enumerate(lines_of(path)) if b'"kind":"seal"' in line)


def test_forged_seal_signature(sealed: Setup) -> None:
    path = sealed.log_files()[1]
    lines = lines_of(path)
    index = _seal_line_index(path)
    record = json.loads(lines[index])
    forged = seal_details(record["seq"] - 1, record["prev"], Ed25519PrivateKey.generate(), "x")
    record["details"] = dict(forged, key=record["details"]["key"])  # claims the real key
    record["hash"] = record_hash(record)
    lines[index] = canonical(record) + b"\n"
    path.write_bytes(b"".join(lines))
    expect_fault(sealed.verify(), path, index + 1, record["seq"], Problem.BAD_SEAL)


def test_verifying_with_another_key_fails_at_the_first_seal(sealed: Setup, tmp_path: Path) -> None:
    other = generate_key(tmp_path / "other.pem")
    result = verify(sealed.directory, {fingerprint(other): other})
    first = sealed.log_files()[0]
    index = _seal_line_index(first)
    expect_fault(result, first, index + 1, record_at(first, index + 1)["seq"], Problem.BAD_SEAL)


def test_a_changed_signing_key_verifies_with_both_public_keys(setup: Setup, tmp_path: Path) -> None:
    write(setup, 30)
    new_key = tmp_path / "keys" / "new.pem"
    new_public = generate_key(new_key)
    setup.key_path = new_key
    write(setup, 30)
    both = dict(setup.keys, **{fingerprint(new_public): new_public})
    assert verify(setup.directory, both).ok
    result = verify(setup.directory, {fingerprint(new_public): new_public})
    assert result.fault is not None and result.fault.problem is Problem.BAD_SEAL
    assert "not a given key" in result.fault.message


def test_consistent_rewrite_of_the_whole_chain_is_caught_by_the_next_seal(sealed: Setup) -> None:
    """Someone who edits a record and recomputes every hash after it still cannot re-sign."""
    paths = sealed.log_files()
    digest = GENESIS
    first_seal: tuple[Path, int, int] | None = None
    for path in paths:
        out = []
        for number, line in enumerate(lines_of(path), start=1):
            record = json.loads(line)
            if record["seq"] == 5:
                record["details"]["code"] = 550
            if record["kind"] == "seal":
                record["details"]["upto_hash"] = digest
                first_seal = first_seal or (path, number, record["seq"])
            record["prev"] = digest
            record["hash"] = record_hash(record)
            body = canonical(record)
            digest = line_digest(body)
            out.append(body + b"\n")
        path.write_bytes(b"".join(out))
    assert first_seal is not None
    expect_fault(sealed.verify(), *first_seal, Problem.BAD_SEAL)


# -- retention --------------------------------------------------------------------------------


def test_prune_keeps_the_rest_verifiable_and_records_itself(setup: Setup) -> None:
    config = {"retention_days": 3, "rotate_bytes": SMALL_FILE}
    write(setup, 120, step=3600.0, **config)  # five days, a file per day
    before = setup.log_files()
    with setup.open(**config) as log:
        deleted = log.prune()
    assert deleted == tuple(p.name for p in before[:2])
    result = setup.verify()
    assert result.ok, result.fault
    assert "after files removed by retention" in result.anchor
    prunes = list(search(setup.directory, kind=AuditKind.ADMIN_ACTION))
    assert [p["details"]["last_deleted_file"] for p in prunes] == [before[1].name]
    assert prunes[0]["actor"] == "retention"

    # Later, a second prune removes more; the anchor moves to the newer prune record.
    setup.clock.advance(2 * 86400)
    with setup.open(**config) as log:
        assert log.prune()
    assert setup.verify().ok

    # Removing the first remaining file by hand is still caught.
    setup.log_files()[0].unlink()
    result = setup.verify()
    assert result.fault is not None and result.fault.problem is Problem.UNANCHORED


def test_prune_never_removes_the_newest_file(setup: Setup) -> None:
    write(setup, 5, retention_days=1)
    setup.clock.advance(10 * 86400)
    with setup.open(retention_days=1) as log:
        assert log.prune(now=setup.clock.now() + 100 * 86400) == ()
    assert setup.verify().ok


def test_cmd_prune_records_the_admin(setup: Setup) -> None:
    write(setup, 30, step=86400.0, retention_days=3)
    code, text = cmd_prune(replace(setup.config, retention_days=3), actor="cli:root")
    assert code == 0 and text.startswith("deleted audit-")
    assert setup.verify().ok
    assert [r["actor"] for r in search(setup.directory, kind=AuditKind.ADMIN_ACTION)] == ["cli:root"]


# -- crashes and recovery ---------------------------------------------------------------------


def test_torn_last_line_after_a_crash_is_cut_and_recorded(setup: Setup) -> None:
    write(setup, 10)
    newest = setup.log_files()[-1]
    with newest.open("ab") as stream:
        stream.write(b'{"actor":"smtp","details":{')  # a crash mid-write
    assert not setup.verify().ok
    write(setup, 3)
    result = setup.verify()
    assert result.ok, result.fault
    assert any("torn_record" in w for w in result.warnings)


def test_interrupted_rotation_leaves_an_empty_file_that_the_writer_removes(setup: Setup) -> None:
    write(setup, 10)
    empty = setup.directory / audit_files.file_name(999, "2023-11-14T23:00:00.000000Z")
    empty.touch()
    write(setup, 3)
    assert not empty.exists()
    assert setup.verify().ok


def test_a_torn_first_line_of_a_new_file_is_removed_and_recorded(setup: Setup) -> None:
    write(setup, 10)
    torn = setup.directory / audit_files.file_name(999, "2023-11-14T23:00:00.000000Z")
    torn.write_bytes(b'{"actor":"audit","det')
    write(setup, 1)
    assert not torn.exists()
    result = setup.verify()
    assert result.ok and any("interrupted_rotation" in w for w in result.warnings)


def test_verify_while_another_thread_writes(setup: Setup) -> None:
    """The snapshot under the shared lock: a record being appended is never seen half-written."""
    stop = threading.Event()
    with setup.open(rotate_bytes=SMALL_FILE, fsync=FsyncPolicy.SEAL) as log:

        def writer() -> None:
            i = 0
            while not stop.is_set():
                log.append(event(i))
                i += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            results = [setup.verify() for _ in range(20)]
        finally:
            stop.set()
            thread.join()
    assert all(r.ok for r in results), [str(r.fault) for r in results if r.fault]
    assert results[-1].records > results[0].records


def test_writer_refuses_to_extend_a_log_whose_sealed_end_was_cut(sealed: Setup) -> None:
    path = sealed.log_files()[-1]
    path.write_bytes(b"".join(lines_of(path)[:-5]))
    with pytest.raises(AuditError, match="sealed records were removed"):
        sealed.open()


def test_a_deleted_head_is_recorded_in_the_chain(sealed: Setup) -> None:
    (sealed.directory / audit_files.HEAD_NAME).unlink()
    assert any("no audit.head" in w for w in sealed.verify().warnings)
    write(sealed, 1)
    result = sealed.verify()
    assert result.ok and any("head_missing" in w for w in result.warnings)


def test_a_damaged_head_is_reported_and_the_writer_stops(sealed: Setup) -> None:
    (sealed.directory / audit_files.HEAD_NAME).write_text('{"file": "x", "seal": "{not json"}')
    result = sealed.verify()
    assert result.fault is not None and result.fault.file == audit_files.HEAD_NAME
    with pytest.raises(AuditError, match="unreadable"):
        sealed.open()


# -- two processes, one chain -------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from relay.audit import AuditConfig, AuditEvent, AuditKind, AuditLog
    directory, key, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    config = AuditConfig(directory=directory, signing_key=key, seal_every_records=50, rotate_bytes=64 * 1024)
    log = AuditLog.from_config(config)
    log.start()
    (directory.parent / f"ready-{name}").touch()
    deadline = time.monotonic() + 30
    while not (directory.parent / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    for i in range(500):
        log.append(AuditEvent(kind=AuditKind.ACCEPTED, actor=name, queue_id=f"{name}-{i}"))
    log.close()
    """
)


def test_two_processes_append_to_one_valid_chain(setup: Setup) -> None:
    base = setup.directory.parent
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(setup.directory), str(setup.key_path), name])
        for name in ("w1", "w2")
    ]
    try:
        deadline = time.monotonic() + 30
        while not all((base / f"ready-{n}").exists() for n in ("w1", "w2")):
            assert time.monotonic() < deadline, "writers did not start"
            time.sleep(0.01)
        (base / "go").touch()
        assert [p.wait(timeout=60) for p in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result = setup.verify()
    assert result.ok, result.fault
    assert len(setup.log_files()) > 1  # rotation happened under contention
    actors = [r["actor"] for r in search(setup.directory, kind=AuditKind.ACCEPTED)]
    assert actors.count("w1") == actors.count("w2") == 500
    assert actors != sorted(actors), "the writers never interleaved; the test proved nothing"


# -- search -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searchable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """600 events over several files and days; the expected answers are computed from the events."""
    directory = tmp_path_factory.mktemp("search") / "audit"
    clock = FakeClock()
    config = AuditConfig(directory=directory, rotate_bytes=SMALL_FILE, fsync=FsyncPolicy.SEAL)
    kinds = [AuditKind.ACCEPTED, AuditKind.DELIVERED, AuditKind.DEFERRED, AuditKind.PORTAL_VIEW]
    written = []
    with AuditLog(config, clock=clock, privacy=AuditPrivacy()) as log:
        for i in range(600):
            e = event(i, kind=kinds[i % 4])
            log.append(e)
            written.append({"i": i, "ts": clock.now(), "kind": e.kind, "queue_id": e.queue_id, "e": e})
            clock.advance(600.0)  # 100 hours in all: several day files
    assert len(audit_files.list_files(directory)) >= 4
    yield directory, written


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


SEARCHES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "recipient": ({"recipient": "patient3@mail.example"}, lambda w: w["i"] % 7 == 3),
    "recipient-any-case": ({"recipient": "Patient3@MAIL.example"}, lambda w: w["i"] % 7 == 3),
    "sender": ({"sender": "app1@clinic.example"}, lambda w: w["i"] % 3 == 1),
    "queue-id": ({"queue_id": "Q00421"}, lambda w: w["i"] == 421),
    "kind": ({"kind": AuditKind.DEFERRED}, lambda w: w["kind"] is AuditKind.DEFERRED),
    "since": ({"since": 500}, lambda w: w["i"] >= 500),
    "until": ({"until": 37}, lambda w: w["i"] < 37),
    "span": ({"since": 200, "until": 260}, lambda w: 200 <= w["i"] < 260),
    "combined": (
        {
            "recipient": "doctor2@hospital.example",
            "sender": "app0@clinic.example",
            "since": 100,
            "until": 400,
        },
        lambda w: w["i"] % 5 == 2 and w["i"] % 3 == 0 and 100 <= w["i"] < 400,
    ),
    "nothing": ({"recipient": "nobody@nowhere.example"}, lambda w: False),
}


@pytest.mark.parametrize("name", list(SEARCHES), ids=list(SEARCHES))
def test_search_returns_exactly_the_matching_records(
    searchable: tuple[Path, list[dict[str, Any]]], name: str
) -> None:
    directory, written = searchable
    query, predicate = SEARCHES[name]
    args = dict(query)
    for bound in ("since", "until"):
        if bound in args:
            args[bound] = _when(written[args[bound]]["ts"])
    found = [r["queue_id"] for r in search(directory, **args)]
    assert found == [w["queue_id"] for w in written if predicate(w)]


@pytest.mark.parametrize("block", [97, 4096], ids=["tiny-blocks", "small-blocks"])
def test_search_is_the_same_whatever_the_block_size(
    searchable: tuple[Path, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    directory, _ = searchable
    queries: list[dict[str, Any]] = [
        {"recipient": "patient3@mail.example"},
        {"queue_id": "Q00421"},
        {"kind": AuditKind.DELIVERED},
    ]
    expected = [[r["seq"] for r in search(directory, **q)] for q in queries]
    # The package exports the function under the module's name, so fetch the module itself.
    monkeypatch.setattr(importlib.import_module("relay.audit.search"), "BLOCK_BYTES", block)
    assert [[r["seq"] for r in search(directory, **q)] for q in queries] == expected


def test_search_skips_files_outside_the_time_span(
    searchable: tuple[Path, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, written = searchable
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    found = list(search(directory, since=_when(written[550]["ts"])))
    assert len(found) == 50
    assert len(opened) < len(audit_files.list_files(directory))


# -- privacy ----------------------------------------------------------------------------------


def test_subjects_are_dropped_by_default(sealed: Setup) -> None:
    data = b"".join(p.read_bytes() for p in sealed.log_files())
    assert SUBJECT.encode() not in data
    assert b"Jane" not in data
    assert b"patient3@mail.example" in data  # addresses are kept by default


def test_hashed_addresses_are_not_in_the_file_but_still_searchable(setup: Setup, tmp_path: Path) -> None:
    hash_key = tmp_path / "keys" / "hash.key"
    generate_hash_key(hash_key)
    changes = {"addresses": AddressMode.HASH, "subjects": SubjectMode.HASH, "hash_key": hash_key}
    with setup.open(**changes) as log:
        for i in range(50):
            log.append(event(i, details={"reply": f"550 5.1.1 <patient{i % 7}@mail.example>: unknown"}))
    data = b"".join(p.read_bytes() for p in setup.log_files())
    assert b"@mail.example" not in data and b"@clinic.example" not in data and b"@hospital" not in data
    assert SUBJECT.encode() not in data
    assert setup.verify().ok

    privacy = AuditPrivacy(addresses=AddressMode.HASH, key=load_hash_key(hash_key))
    found = list(search(setup.directory, recipient="PATIENT3@mail.example", privacy=privacy))
    assert [r["queue_id"] for r in found] == [f"Q{i:05d}" for i in range(50) if i % 7 == 3]
    assert found[0]["recipients"][0].startswith("h:")
    assert found[0]["details"]["reply"] == f"550 5.1.1 <{found[0]['recipients'][0]}>: unknown"
    assert list(search(setup.directory, recipient="patient3@mail.example")) == []  # no key, no answer

    code, text = cmd_search(setup.directory, sender="app2@clinic.example", hash_key=hash_key, as_json=True)
    assert code == 0 and len(text.splitlines()) == len([i for i in range(50) if i % 3 == 2])


PRIVACY_CASES = {
    "default": (AuditPrivacy(), "a@x.example", ["b@y.example"], None),
    "keep-all": (AuditPrivacy(subjects=SubjectMode.KEEP), "a@x.example", ["b@y.example"], "Hi"),
    "drop-all": (AuditPrivacy(addresses=AddressMode.DROP), None, [], None),
}


@pytest.mark.parametrize("name", list(PRIVACY_CASES), ids=list(PRIVACY_CASES))
def test_redact(name: str) -> None:
    privacy, sender, recipients, subject = PRIVACY_CASES[name]
    e = AuditEvent(
        kind=AuditKind.BOUNCED,
        actor="delivery",
        queue_id="Q1",
        sender="a@x.example",
        recipients=("b@y.example",),
        subject="Hi",
        details={"reply": "550 <b@y.example> no such user", "code": 550},
    )
    fields = redact(e, privacy)
    assert (fields["sender"], fields["recipients"], fields["subject"]) == (sender, recipients, subject)
    address = "[address]" if name == "drop-all" else "b@y.example"
    expected_reply = f"550 <{address}> no such user"
    assert fields["details"] == {"reply": expected_reply, "code": 550}
    assert fields["kind"] == "bounced" and fields["queue_id"] == "Q1"


def test_keyed_hash_is_stable_case_blind_and_key_dependent() -> None:
    one = AuditPrivacy(addresses=AddressMode.HASH, key=b"k" * 32)
    two = AuditPrivacy(addresses=AddressMode.HASH, key=b"j" * 32)
    assert one.address_token("Jane@Example.org") == one.address_token("jane@example.org")
    assert one.address_token("jane@example.org") != two.address_token("jane@example.org")
    assert one.address_token("x") != AuditPrivacy(subjects=SubjectMode.HASH, key=b"k" * 32).subject_token("x")
    with pytest.raises(AuditError):
        AuditPrivacy(addresses=AddressMode.HASH, key=b"short")


# -- events, configuration, keys ---------------------------------------------------------------


@pytest.mark.parametrize(
    "details",
    [
        {"body": "x" * 600},
        {"nested": {"a": 1}},
        {"Bad-Key": 1},
        {"n": float("nan")},
        {f"k{i}": i for i in range(40)},
    ],
    ids=["too-long", "nested", "bad-key", "nan", "too-many"],
)
def test_event_details_cannot_carry_content(details: dict[str, Any]) -> None:
    with pytest.raises(AuditError):
        AuditEvent(kind=AuditKind.ACCEPTED, actor="smtp", details=details)


def test_internal_kinds_are_refused_and_details_are_frozen() -> None:
    with pytest.raises(AuditError):
        AuditEvent(kind=AuditKind.SEAL, actor="smtp")
    source = {"code": 250}
    e = AuditEvent(kind=AuditKind.DELIVERED, actor="delivery", details=source)
    source["code"] = 550
    assert e.details["code"] == 250


def test_config_requires_a_hash_key_for_hash_modes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audit\.hash_key"):
        AuditConfig(directory=tmp_path, addresses=AddressMode.HASH)
    with pytest.raises(ConfigError, match=r"audit\.seal_every_records"):
        AuditConfig(directory=tmp_path, seal_every_records=0)
    assert AuditConfig(directory=tmp_path).retention_days == 2191


def test_keygen_writes_a_private_key_0600_and_refuses_to_replace_it(tmp_path: Path) -> None:
    path = tmp_path / "seal.pem"
    code, text = cmd_keygen(path, hash_key=tmp_path / "hash.key")
    assert code == 0 and "sha256:" in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "hash.key").stat().st_mode & 0o777 == 0o600
    assert load_signing_key(path)
    assert len(load_public_keys([tmp_path / "seal.pub"])) == 1
    with pytest.raises(UsageError, match="refusing"):
        cmd_keygen(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_signing_key(path)


# -- command output ---------------------------------------------------------------------------


def test_cmd_verify_exit_codes_and_first_bad_record(sealed: Setup) -> None:
    code, text = cmd_verify(sealed.directory, [public_key_path(sealed.key_path)])
    assert code == 0 and text.startswith("audit log OK")
    path = sealed.log_files()[0]
    lines = lines_of(path)
    lines[6] = lines[6].replace(b"TLSv1.3", b"TLSv1.0")
    path.write_bytes(b"".join(lines))
    code, text = cmd_verify(sealed.directory, [sealed.key_path])
    assert code == 1
    assert f"{path.name} line 7, seq 7: edited" in text


def test_cmd_search_output_and_bad_input(sealed: Setup) -> None:
    code, text = cmd_search(sealed.directory, queue_id="Q00007")
    assert code == 0 and "Q00007" in text and "mx=mx1.mail.example" in text
    code, text = cmd_search(sealed.directory, sender="app0@clinic.example", limit=5)
    assert text.splitlines()[-1].startswith("... more records match")
    with pytest.raises(UsageError, match="--kind"):
        cmd_search(sealed.directory, kind="sent")
    with pytest.raises(UsageError, match="--since"):
        cmd_search(sealed.directory, since="last tuesday")


def test_parse_time() -> None:
    assert parse_time("2024-03-31", "--until", end_of_day=True) == datetime(2024, 4, 1, tzinfo=UTC)
    assert parse_time("2024-03-31", "--since", end_of_day=False) == datetime(2024, 3, 31, tzinfo=UTC)
    ten = datetime(2024, 3, 31, 10, tzinfo=UTC)
    assert parse_time("2024-03-31T10:00:00Z", "--since", end_of_day=False) == ten
    assert parse_time("2024-03-31T10:00:00", "--since", end_of_day=False) == ten
    assert parse_time("2024-03-31T12:00:00+02:00", "--since", end_of_day=False) == ten

"""``relay audit verify``: prove the log is whole, or name the first record that is not.

``ChainVerifier`` is pure: it is fed a directory's files and lines in order and keeps only the
running state (expected seq, previous digest, the anchor), so memory stays flat however long
the log. ``verify`` is the thin shell that reads the files. Checks, in the order they bite:

* each line is complete (a torn or cut line ends with no newline), is JSON, has this format's
  fields, is in canonical form and matches its own ``hash``           -> edited / truncated
* its ``seq`` is the next one and its ``prev`` is the digest of the line before
                                                                        -> missing / reordered
* each file starts with ``file_start`` naming the file before it and that file's last seq
                                                                   -> missing file / truncated
* each seal covers the record before it and its Ed25519 signature verifies with a given key
* the chain starts at the genesis record, or at a file whose predecessor a recorded ``prune``
  names (same file, same last seq, same digest): that record is the trusted anchor after
  retention removed older files
* the seal kept in ``audit.head`` is still in the log: cutting records off the end shows.

What it cannot see, and says so as warnings: records after the last seal could be rewritten
consistently by someone with write access; without public keys, seals are not checked.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from relay.audit import files
from relay.audit.events import AuditKind
from relay.audit.record import GENESIS, encode, line_digest, seal_signature_ok, shape_problem
from relay.errors import AuditError


class Problem(enum.Enum):
    MALFORMED = "malformed"
    EDITED = "edited"
    MISSING = "missing"
    REORDERED = "reordered"
    BROKEN_LINK = "broken link"
    TRUNCATED = "truncated"
    MISSING_FILE = "missing file"
    BAD_SEAL = "bad seal"
    UNANCHORED = "unanchored"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """The first bad record: where it is and what is wrong with it."""

    file: str
    line: int
    seq: int | None
    problem: Problem
    message: str

    def __str__(self) -> str:
        seq = f", seq {self.seq}" if self.seq is not None else ""
        return f"{self.file} line {self.line}{seq}: {self.problem.value}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    fault: Fault | None
    files: int
    records: int
    first_seq: int
    last_seq: int
    sealed_upto: int
    """The highest seq a verified seal covers (0 if none)."""
    anchor: str
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.fault is None


@dataclass(slots=True)
class _Anchor:
    file: str
    seq: int
    prev: str
    previous_file: str
    resolved_by: int = 0


class ChainVerifier:
    """Feed it ``begin_file`` and ``feed`` in order; it stops at the first fault."""

    def __init__(self, *, keys: Mapping[str, Ed25519PublicKey] | None, head: files.Head | None) -> None:
        self.fault: Fault | None = None
        self._keys = keys
        self._head = head
        self._head_seal_seq = head.seal_seq if head else 0
        self._names: list[str] = []
        self._file = ""
        self._file_seq = 0
        self._line = 0
        self._expected = 0
        self._digest = GENESIS
        self._records = 0
        self._first_seq = 0
        self._last_ts = ""
        self._sealed_upto = 0
        self._last_seal_seq = 0
        self._seals_unchecked = 0
        self._anchor: _Anchor | None = None
        self._gap: tuple[Fault, int, int] | None = None
        self._warnings: list[str] = []

    def begin_file(self, log_file: files.LogFile) -> None:
        self._settle_gap(None)
        if self._names and self._line == 0:
            self._fail(Problem.TRUNCATED, "the file is empty", seq=None)
        self._names.append(log_file.name)
        self._file, self._file_seq, self._line = log_file.name, log_file.first_seq, 0

    def feed(self, raw: bytes) -> bool:
        """Check one line (with its newline, if it has one); False once a fault is found."""
        if self.fault is not None:
            return False
        self._line += 1
        if self._gap is not None:
            self._settle_gap(raw)
            return False
        record = self._parse(raw)
        if record is None:
            return False
        seq, kind, details = record["seq"], record["kind"], record["details"]
        if not self._in_sequence(seq, record["prev"], kind, details):
            return self._gap is not None  # a gap wants one more line to tell deletion from reordering
        if self._line == 1 and kind != AuditKind.FILE_START.value:
            return self._fail(Problem.BROKEN_LINK, "the file does not begin with its file_start record")
        if self._line == 1 and seq != self._file_seq:
            return self._fail(Problem.EDITED, f"the file name says seq {self._file_seq} (renamed file?)")
        if self._line > 1 and kind == AuditKind.FILE_START.value:
            return self._fail(Problem.BROKEN_LINK, "a file_start inside a file: files were joined")
        if kind == AuditKind.SEAL.value and not self._check_seal(record):
            return False
        if kind == AuditKind.ADMIN_ACTION.value and details.get("action") == "prune":
            self._note_prune(details, seq)
        if kind == AuditKind.RECOVERED.value:
            facts = ", ".join(f"{k}={v}" for k, v in sorted(details.items()) if k != "reason")
            self._warnings.append(f"seq {seq}: the writer recovered from {details.get('reason')} ({facts})")
        body = raw[:-1]
        if seq == self._head_seal_seq and self._head is not None and body != self._head.seal:
            return self._fail(Problem.EDITED, f"differs from the seal kept in {files.HEAD_NAME}")
        if record["ts"] < self._last_ts and not any("backward" in w for w in self._warnings):
            self._warnings.append(f"seq {seq}: time goes backward (clock stepped); search by time may skip")
        self._last_ts = max(self._last_ts, record["ts"])
        self._records += 1
        self._first_seq = self._first_seq or seq
        self._expected, self._digest = seq + 1, line_digest(body)
        return True

    def finish(self) -> VerifyResult:
        self._settle_gap(None)
        if self.fault is None:
            self._final_checks()
        anchor = "genesis (seq 1)"
        if self._anchor is not None:
            anchor = (
                f"seq {self._anchor.seq} in {self._anchor.file}, after files removed by retention"
                f" (prune recorded at seq {self._anchor.resolved_by})"
            )
        unsealed = self._records and self._expected - 1 - self._last_seal_seq
        if self.fault is None and self._records:
            if self._last_seal_seq == 0:
                self._warnings.append(
                    "no seals: the log is not signed, so a consistent rewrite would go unseen"
                )
            elif unsealed:
                self._warnings.append(
                    f"{unsealed} records after the last seal (seq {self._last_seal_seq}) are not signed yet"
                )
            if self._seals_unchecked:
                self._warnings.append(
                    f"{self._seals_unchecked} seal signatures not checked: no public key given"
                )
        return VerifyResult(
            fault=self.fault,
            files=len(self._names),
            records=self._records,
            first_seq=self._first_seq,
            last_seq=self._expected - 1 if self._records else 0,
            sealed_upto=self._sealed_upto,
            anchor=anchor,
            warnings=tuple(self._warnings),
        )

    # -- the checks --------------------------------------------------------------------------------

    def _parse(self, raw: bytes) -> dict[str, Any] | None:
        if not raw.endswith(b"\n"):
            self._fail(Problem.TRUNCATED, "incomplete record at the end of the file (cut or torn)", seq=None)
            return None
        body = raw[:-1]
        try:
            record = json.loads(body)
        except ValueError:
            self._fail(Problem.EDITED, "not valid JSON (edited or corrupted)", seq=None)
            return None
        problem = shape_problem(record)
        if problem is not None:
            self._fail(Problem.MALFORMED, problem, seq=None)
            return None
        assert isinstance(record, dict)
        seq = record["seq"]
        digest, line = encode({k: v for k, v in record.items() if k != "hash"})
        if digest != record["hash"]:
            self._fail(Problem.EDITED, "content does not match its hash: the record was edited", seq=seq)
            return None
        if line != body:
            self._fail(Problem.EDITED, "not in canonical form: the line was edited", seq=seq)
            return None
        return record

    def _in_sequence(self, seq: int, prev: str, kind: str, details: dict[str, Any]) -> bool:
        if not self._records:
            if seq == 1 and prev == GENESIS:
                return True
            if seq == 1 or prev == GENESIS:
                return self._fail(Problem.BROKEN_LINK, "the first record does not link to genesis", seq=seq)
            previous = str(details.get("previous_file", ""))
            self._anchor = _Anchor(file=self._file, seq=seq, prev=prev, previous_file=previous)
            return True
        if seq != self._expected:
            return self._out_of_sequence(seq, kind, details)
        if prev != self._digest:
            problem = "prev does not match the line before: a record was altered, inserted or moved"
            return self._fail(Problem.BROKEN_LINK, problem, seq=seq)
        return True

    def _out_of_sequence(self, seq: int, kind: str, details: dict[str, Any]) -> bool:
        expected = self._expected
        if self._line == 1 and kind == AuditKind.FILE_START.value:
            previous = str(details.get("previous_file", ""))
            before = self._names[-2] if len(self._names) > 1 else ""
            if previous != before:
                return self._fail(
                    Problem.MISSING_FILE, f"{previous} is missing (this file follows it)", seq=seq
                )
            problem = f"the end of {before} is missing: it stops at seq {expected - 1}, this file follows seq"
            return self._fail(Problem.TRUNCATED, f"{problem} {details.get('previous_seq')}", seq=seq)
        if seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            fault = self._fault(
                Problem.MISSING, f"record(s) {missing} missing before this one (deleted)", seq
            )
            self._gap = (fault, expected, seq - 1)
            return False
        return self._fail(
            Problem.REORDERED, f"seq {seq} where {expected} was expected: moved or duplicated", seq=seq
        )

    def _settle_gap(self, next_raw: bytes | None) -> None:
        """A gap is a deletion unless the very next line holds a missing seq: then lines were swapped."""
        if self._gap is None:
            return
        fault, low, high = self._gap
        self._gap = None
        try:
            following = json.loads(next_raw)["seq"] if next_raw else None
        except (ValueError, KeyError, TypeError):
            following = None
        if isinstance(following, int) and low <= following <= high:
            message = f"seq {fault.seq} comes before seq {following}: records were reordered"
            fault = self._fault(Problem.REORDERED, message, fault.seq, line=fault.line)
        self.fault = fault

    def _check_seal(self, record: dict[str, Any]) -> bool:
        details, seq = record["details"], record["seq"]
        if details.get("upto_seq") != seq - 1 or details.get("upto_hash") != record["prev"]:
            return self._fail(Problem.BAD_SEAL, "the seal does not cover the record before it", seq=seq)
        if self._keys is None:
            self._seals_unchecked += 1
        else:
            key = self._keys.get(str(details.get("key")))
            if key is None:
                return self._fail(
                    Problem.BAD_SEAL, f"signed by {details.get('key')}, not a given key", seq=seq
                )
            if not seal_signature_ok(details, key):
                problem = "the signature does not verify: the seal was forged or the chain rewritten"
                return self._fail(Problem.BAD_SEAL, problem, seq=seq)
            self._sealed_upto = seq - 1
        self._last_seal_seq = seq
        return True

    def _note_prune(self, details: dict[str, Any], seq: int) -> None:
        anchor = self._anchor
        if anchor is None or anchor.resolved_by:
            return
        if (
            details.get("last_deleted_seq") == anchor.seq - 1
            and details.get("last_deleted_hash") == anchor.prev
            and details.get("last_deleted_file") == anchor.previous_file
        ):
            anchor.resolved_by = seq

    def _final_checks(self) -> None:
        if self._anchor is not None and not self._anchor.resolved_by:
            a = self._anchor
            problem = f"the log starts at seq {a.seq}, and no recorded prune accounts for records before it"
            self.fault = self._fault(Problem.UNANCHORED, problem, a.seq, line=1, file=a.file)
            return
        if self._names and self._line == 0:
            self._warnings.append(f"{self._file} is empty (a rotation cut short; the writer removes it)")
        head = self._head
        if head is None:
            if self._records:
                self._warnings.append(f"no {files.HEAD_NAME}: cutting records off the end would go unseen")
            return
        if head.file not in self._names:
            self.fault = self._fault(
                Problem.MISSING_FILE,
                f"{files.HEAD_NAME} names it as the newest file",
                None,
                line=0,
                file=head.file,
            )
        elif self._head_seal_seq > self._expected - 1:
            last = self._expected - 1
            held = self._head_seal_seq
            problem = f"the log ends at seq {last}, but {files.HEAD_NAME} holds the seal at seq {held}"
            self.fault = self._fault(Problem.TRUNCATED, problem, last + 1, line=self._line + 1)

    def _fail(self, problem: Problem, message: str, *, seq: int | None = None) -> bool:
        if self.fault is None:  # the first fault is the one to report
            self.fault = self._fault(problem, message, seq)
        return False

    def _fault(
        self, problem: Problem, message: str, seq: int | None, *, line: int = 0, file: str = ""
    ) -> Fault:
        return Fault(
            file=file or self._file, line=line or self._line, seq=seq, problem=problem, message=message
        )


def verify(directory: Path, public_keys: Mapping[str, Ed25519PublicKey] | None = None) -> VerifyResult:
    """Read every file of ``directory`` in chain order and check it (see the module docstring).

    A live log is fine: the head, the file list and the newest file's size are taken together
    under a shared lock, and the newest file is read only up to that size, so a record being
    appended meanwhile is neither half-read nor reported as a cut.
    """
    try:
        with files.shared_lock(directory):
            head = files.read_head(directory)
            log_files = files.list_files(directory)
            newest_size = log_files[-1].path.stat().st_size if log_files else 0
    except AuditError as exc:
        fault = Fault(file=files.HEAD_NAME, line=1, seq=None, problem=Problem.MALFORMED, message=str(exc))
        return VerifyResult(
            fault=fault, files=0, records=0, first_seq=0, last_seq=0, sealed_upto=0, anchor="", warnings=()
        )
    except OSError as exc:
        raise AuditError(f"audit: cannot read {directory}: {exc.strerror}") from exc
    checker = ChainVerifier(keys=public_keys, head=head)
    for index, log_file in enumerate(log_files):
        checker.begin_file(log_file)
        budget = newest_size if index == len(log_files) - 1 else -1
        try:
            with log_file.path.open("rb") as stream:
                for raw in stream:
                    if budget >= 0:
                        if budget == 0:
                            break
                        raw = raw[:budget]
                        budget -= len(raw)
                    if not checker.feed(raw):
                        return checker.finish()
        except OSError as exc:
            raise AuditError(f"audit: cannot read {log_file.path}: {exc.strerror}") from exc
    return checker.finish()

"""``relay phi scan``: what the PHI scanner finds in a message file or in a JSONL batch.

* ``relay phi scan FILE.eml`` is for administrators: the verdict, then every finding with its
  type, score, part and offsets, and the value *masked* (``***-**-6789``). This is the only place
  a value is shown at all, and never in clear.
* ``relay phi scan --jsonl IN.jsonl`` is for tooling: one ``{"id": ..., "text": ...}`` object
  per input line (plain text, not mail), one ``{"id", "contains_phi", "phi_score",
  "findings": [{"type", "start", "end", "score"}]}`` line out, offsets in code points into the
  text, in input order. The engine is loaded once and shared by worker processes forked from
  this one, one per core.

The functions take plain parameters, write to the streams given and return the exit status
(0, 1 for a failure, 2 for bad input); argument parsing lives in :mod:`relay.cli.main`.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from relay.errors import ConfigError, RelayError, UsageError
from relay.model import PhiResult, TextSegment
from relay.phi.settings import PhiSettings, single_threaded_blas

if TYPE_CHECKING:
    from relay.phi.scanner import PhiScanner

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

KEEP_DIGITS = 4
"""Digits left visible at the end of a masked value (``***-**-6789``) ..."""
MIN_DIGITS_TO_KEEP = 8
"""... when the value has at least this many, so never more than half of it shows."""
JSONL_BATCH = 32
"""Records per job for a worker: enough to batch the model, few enough to spread the work."""
JSONL_IN_FLIGHT_PER_WORKER = 2
"""Jobs queued per worker: keeps every core busy while bounding memory on huge inputs."""


def mask(value: str) -> str:
    """The value with letters and digits replaced by ``*``; the last four digits of long numbers
    stay (``123-45-6789`` gives ``***-**-6789``), separators stay."""
    digits = sum(c.isdigit() for c in value)
    keep = KEEP_DIGITS if digits >= MIN_DIGITS_TO_KEEP else 0
    out: list[str] = []
    for char in reversed(value):
        if char.isdigit() and keep > 0:
            out.append(char)
            keep -= 1
        elif char.isalnum():
            out.append("*")
        else:
            out.append(char)
    return "".join(reversed(out))


def _fail(err: TextIO, exc: RelayError) -> int:
    prefix = "relay: " if isinstance(exc, ConfigError) else "relay: error: "
    print(f"{prefix}{exc}", file=err)
    return EXIT_USAGE if isinstance(exc, ConfigError | UsageError) else EXIT_FAILURE


def _scanner(settings: PhiSettings | None) -> PhiScanner:
    single_threaded_blas()  # before numpy loads: one scan is one thread, as in the relay's workers
    from relay.phi.scanner import PhiScanner

    return PhiScanner(settings)


def scan_message(data: bytes, settings: PhiSettings | None = None) -> PhiResult:
    """The scanner's result for one raw message, in this process (``relay policy explain``)."""
    from relay.message import extract

    return _scanner(settings).scan_segments(extract(data).segments)


# -- relay phi scan FILE.eml ---------------------------------------------------------------


def scan_file(
    path: Path,
    *,
    out: TextIO,
    err: TextIO,
    settings: PhiSettings | None = None,
    scanner: PhiScanner | None = None,
) -> int:
    """Print the verdict and the masked findings for one message file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _fail(err, UsageError(f"cannot read {path}: {exc.strerror or exc}"))
    from relay.message import extract

    extraction = extract(data)
    try:
        result = (scanner or _scanner(settings)).scan_segments(extraction.segments)
    except RelayError as exc:
        return _fail(err, exc)
    texts = {segment.part: segment.text for segment in extraction.segments}
    _print_result(path, result, texts, out)
    for item in extraction.facts.unscannable:
        print(f"  unscannable part {item.part}: {item.reason}", file=out)
    return EXIT_OK


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _print_result(path: Path, result: PhiResult, texts: dict[str, str], out: TextIO) -> None:
    print(
        f"{path}: contains_phi={_flag(result.contains_phi)} phi_score={result.phi_score:.3f} "
        f"health_context={_flag(result.health_context)} findings={len(result.findings)}",
        file=out,
    )
    for finding in result.findings:
        value = mask(texts.get(finding.part, "")[finding.start : finding.end])
        print(
            f"  {finding.entity_type:<22} {finding.score:.2f}  {finding.part:<16} "
            f"{finding.start}-{finding.end}  {value}",
            file=out,
        )
    if result.summary:
        summary = ", ".join(f"{s.entity_type} x{s.count} (best {s.max_score:.2f})" for s in result.summary)
        print(f"  summary: {summary}", file=out)


# -- relay phi scan --jsonl IN.jsonl -------------------------------------------------------


def _records(path: Path, lines: Iterator[str]) -> Iterator[tuple[object, str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or "id" not in record or not isinstance(record.get("text"), str):
            raise UsageError(f'{path}:{number}: expected an object {{"id": ..., "text": "..."}}')
        yield record["id"], record["text"]


def _line(record_id: object, result: PhiResult) -> str:
    findings = [
        {"type": f.entity_type, "start": f.start, "end": f.end, "score": f.score} for f in result.findings
    ]
    line = {"id": record_id, "contains_phi": result.contains_phi, "phi_score": result.phi_score}
    return json.dumps({**line, "findings": findings}, ensure_ascii=False)


def _segments(text: str) -> list[TextSegment]:
    return [TextSegment(part="text", kind="body", text=text)]


def scan_jsonl(
    path: Path,
    *,
    out: TextIO,
    err: TextIO,
    settings: PhiSettings | None = None,
    workers: int | None = None,
    batch: int = JSONL_BATCH,
    scanner: PhiScanner | None = None,
) -> int:
    """Scan every ``{"id", "text"}`` line of ``path``, one result line each, in input order.

    ``workers`` processes (default: the configured count, one per core) take ``batch`` records
    at a time; with one worker the scan runs in this process (with ``scanner`` if given).
    """
    settings = settings or PhiSettings()
    workers = workers or settings.processes()
    try:
        lines = path.open(encoding="utf-8")
    except OSError as exc:
        return _fail(err, UsageError(f"cannot read {path}: {exc.strerror or exc}"))
    try:
        with lines:
            batches = _batches(_records(path, lines), batch)
            if workers <= 1:
                for records in batches:
                    scanner = scanner or _scanner(settings)  # loaded once the first line is good
                    _write(out, records, scanner.scan_messages([_segments(text) for _id, text in records]))
            else:
                _scan_in_pool(batches, out, settings, workers, scanner)
    except UnicodeDecodeError:
        return _fail(err, UsageError(f"{path}: not UTF-8 text"))
    except BrokenProcessPool:
        return _fail(err, RelayError("a PHI scanner process ended unexpectedly"))
    except RelayError as exc:
        return _fail(err, exc)
    return EXIT_OK


def _batches(records: Iterator[tuple[object, str]], size: int) -> Iterator[list[tuple[object, str]]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


def _write(out: TextIO, batch: Sequence[tuple[object, str]], results: Sequence[PhiResult]) -> None:
    for (record_id, _text), result in zip(batch, results, strict=True):
        print(_line(record_id, result), file=out)


def _can_fork() -> bool:
    """Fork only a single-threaded process: a lock held by another thread would stay held."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _scan_in_pool(
    batches: Iterator[list[tuple[object, str]]],
    out: TextIO,
    settings: PhiSettings,
    workers: int,
    scanner: PhiScanner | None,
) -> None:
    """Scan in worker processes. Where it can, the engine is loaded once, here, and the workers
    are forked from this process, sharing it (copy-on-write); otherwise each spawned worker
    loads its own."""
    global _worker_scanner
    pending: list[tuple[list[tuple[object, str]], Future[list[PhiResult] | str]]] = []
    if _can_fork():
        _worker_scanner = scanner or _scanner(settings)
        pool = ProcessPoolExecutor(workers, multiprocessing.get_context("fork"), _ignore_interrupts)
    else:
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, spawn, _init_jsonl_worker, (settings,))
    try:
        with pool:
            try:
                for batch in batches:
                    pending.append((batch, pool.submit(_scan_batch, [text for _id, text in batch])))
                    while len(pending) >= workers * JSONL_IN_FLIGHT_PER_WORKER:
                        _drain(pending.pop(0), out)
            finally:  # a bad line ends the run, after the results of the lines before it
                while pending:
                    _drain(pending.pop(0), out)
    finally:
        _worker_scanner = None


def _drain(item: tuple[list[tuple[object, str]], Future[list[PhiResult] | str]], out: TextIO) -> None:
    batch, future = item
    results = future.result()
    if isinstance(results, str):
        raise ConfigError(results, key="phi.model")
    _write(out, batch, results)


_worker_scanner: PhiScanner | None = None
_worker_error = ""


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _init_jsonl_worker(settings: PhiSettings) -> None:
    global _worker_scanner, _worker_error
    _ignore_interrupts()
    try:
        _worker_scanner = _scanner(settings)
    except RelayError as exc:
        _worker_error = str(exc)


def _scan_batch(texts: list[str]) -> list[PhiResult] | str:
    if _worker_scanner is None:
        return _worker_error or "the PHI scanner did not load"
    return _worker_scanner.scan_messages([_segments(text) for text in texts])

"""``relay phi eval CORPUS.jsonl``: the scanner's accuracy on a labeled corpus.

Prints span-level precision, recall and F1 per entity type, overall and type-agnostic, then the
message-level ``contains_phi`` accuracy, broken down by the corpus's ``kind``, and the share of
identifier-free clinical texts called PHI. The matching rule and the corpus format are in
:mod:`relay.phi.evaluate`. Runs in this process (one engine, NER batched).

The function takes plain parameters, writes to the streams given and returns the exit status
(0, 1 for a failure, 2 for bad input); the verb is wired in :mod:`relay.cli.main`. Also runnable
as ``python -m relay.cli.phi_eval CORPUS.jsonl``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from relay.errors import ConfigError, RelayError, UsageError
from relay.phi.evaluate import Counts, Report, evaluate, parse_corpus
from relay.phi.settings import PhiSettings, single_threaded_blas

if TYPE_CHECKING:
    from relay.phi.evaluate import Scanner

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _fail(err: TextIO, exc: RelayError) -> int:
    prefix = "relay: " if isinstance(exc, ConfigError) else "relay: error: "
    print(f"{prefix}{exc}", file=err)
    return EXIT_USAGE if isinstance(exc, ConfigError | UsageError) else EXIT_FAILURE


def _scanner(settings: PhiSettings | None) -> Scanner:
    single_threaded_blas()  # before numpy loads, as in the relay's scanner processes
    from relay.phi.scanner import PhiScanner

    return PhiScanner(settings)


def _row(name: str, counts: Counts) -> str:
    return (
        f"  {name:<22} {counts.tp + counts.fn:>5} {counts.tp + counts.fp:>5} {counts.tp:>5} "
        f"{counts.precision:>6.3f} {counts.recall:>6.3f} {counts.f1:>6.3f}"
    )


def format_report(report: Report) -> list[str]:
    """The report as printed lines."""
    lines = [f"  {'type':<22} {'gold':>5} {'pred':>5} {'tp':>5} {'prec':>6} {'recall':>6} {'f1':>6}"]
    lines += [_row(label, counts) for label, counts in report.per_type.items()]
    lines += [_row("overall", report.overall), _row("type-agnostic", report.type_agnostic)]
    lines.append(
        f"messages: {report.messages}  contains_phi accuracy: {report.message_accuracy:.3f} "
        f"({report.message_correct}/{report.messages})"
    )
    lines += [
        f"  {k.kind or '(no kind)':<24} {k.messages:>4} messages  "
        f"correct {k.correct:>4}  flagged {k.flagged:>4}"
        for k in report.per_kind
    ]
    rate = report.clinical_flag_rate
    lines.append("identifier-free clinical flagged: " + ("n/a" if rate is None else f"{rate:.3f}"))
    return lines


def cmd_eval(
    path: Path,
    *,
    out: TextIO,
    err: TextIO | None = None,
    settings: PhiSettings | None = None,
    scanner: Scanner | None = None,
) -> int:
    """Scan every text of the corpus at ``path`` and print the accuracy report."""
    err = err or sys.stderr
    try:
        with path.open(encoding="utf-8") as lines:
            examples = parse_corpus(lines, str(path))
    except OSError as exc:
        return _fail(err, UsageError(f"cannot read {path}: {exc.strerror or exc}"))
    except UnicodeDecodeError:
        return _fail(err, UsageError(f"{path}: not UTF-8 text"))
    except RelayError as exc:
        return _fail(err, exc)
    try:
        scanner = scanner or _scanner(settings)
        started = time.perf_counter()
        report = evaluate(examples, scanner)
        elapsed = time.perf_counter() - started
    except RelayError as exc:
        return _fail(err, exc)
    print(f"{path}: {len(examples)} texts scanned in {elapsed:.1f} s", file=out)
    for line in format_report(report):
        print(line, file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m relay.cli.phi_eval CORPUS.jsonl", file=sys.stderr)
        return EXIT_USAGE
    return cmd_eval(Path(args[0]), out=sys.stdout)


if __name__ == "__main__":
    sys.exit(main())

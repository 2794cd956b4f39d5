"""The accuracy harness: matching and scoring tables, the shipped corpus, one real run."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from relay.cli.phi_eval import cmd_eval
from relay.errors import UsageError
from relay.phi.evaluate import (
    CLINICAL_NO_IDENTIFIER,
    SCORED_TYPES,
    Counts,
    Example,
    Span,
    match,
    parse_corpus,
    parse_example,
    score,
    spans_match,
)
from relay.phi.scanner import PhiScanner

CORPUS = Path(__file__).parent / "data" / "phi_corpus.jsonl"
HOLDOUT = CORPUS.with_name("phi_holdout.jsonl")
BLIND = CORPUS.with_name("phi_blind.jsonl")
BLIND2 = CORPUS.with_name("phi_blind2.jsonl")
BLIND3 = CORPUS.with_name("phi_blind3.jsonl")
BLIND4 = CORPUS.with_name("phi_blind4.jsonl")
BLIND5 = CORPUS.with_name("phi_blind5.jsonl")
KINDS = {
    "appointment-reminder",
    "lab-result",
    "referral",
    "billing",
    "eob",
    "prescription",
    "discharge",
    "business",
    "business-colleague",
    CLINICAL_NO_IDENTIFIER,
}


def s(start: int, end: int, label: str = "PERSON") -> Span:
    return Span(start=start, end=end, label=label)


@pytest.mark.parametrize(
    ("gold", "predicted", "typed", "expected"),
    [
        (s(0, 8), s(0, 8), True, True),
        (s(4, 12), s(0, 12), True, True),  # "Dr. Jane Roe" against "Jane Roe"
        (s(0, 8), s(0, 4), True, True),  # first name of two: all of the shorter span
        (s(0, 13), s(9, 13), True, True),  # "Roe" of "Mary Jane Roe": shorter fully inside
        (s(0, 10), s(6, 16), True, False),  # 4 of 10 shared
        (s(0, 10), s(5, 15), True, True),  # exactly half
        (s(0, 8), s(8, 16), True, False),  # touching, no overlap
        (s(0, 8, "US_SSN"), s(0, 8, "PHONE_NUMBER"), True, False),
        (s(0, 8, "US_SSN"), s(0, 8, "PHONE_NUMBER"), False, True),
    ],
    ids=["exact", "wider", "first-name", "inside", "under-half", "half", "adjacent", "label", "agnostic"],
)
def test_spans_match(gold: Span, predicted: Span, typed: bool, expected: bool) -> None:
    assert spans_match(gold, predicted, typed=typed) is expected


@pytest.mark.parametrize(
    ("gold", "predicted", "expected"),
    [
        ([s(0, 8)], [s(0, 8)], {"PERSON": Counts(tp=1)}),
        ([s(0, 8)], [s(2, 8)], {"PERSON": Counts(tp=1)}),
        (
            [s(0, 8, "US_SSN")],
            [s(0, 8, "PHONE_NUMBER")],
            {"PHONE_NUMBER": Counts(fp=1), "US_SSN": Counts(fn=1)},
        ),
        ([s(0, 8)], [s(0, 8), s(1, 8)], {"PERSON": Counts(tp=1, fp=1)}),  # duplicate prediction
        ([s(0, 4), s(5, 9)], [s(0, 9)], {"PERSON": Counts(tp=1, fn=1)}),  # one prediction, two names
        ([], [], {}),
        ([s(0, 8)], [], {"PERSON": Counts(fn=1)}),
        ([], [s(0, 8, "US_NPI")], {"US_NPI": Counts(fp=1)}),
        (  # the greater overlap wins the gold span
            [s(0, 10)],
            [s(4, 10), s(0, 10)],
            {"PERSON": Counts(tp=1, fp=1)},
        ),
    ],
    ids=["exact", "overlap", "label-mismatch", "duplicate", "merged", "empty", "missed", "spurious", "best"],
)
def test_match(gold: list[Span], predicted: list[Span], expected: dict[str, Counts]) -> None:
    assert match(gold, predicted) == expected


def test_match_type_agnostic_counts_a_mislabeled_value_as_found() -> None:
    assert match([s(0, 8, "US_SSN")], [s(0, 8, "PHONE_NUMBER")], typed=False) == {"*": Counts(tp=1)}


@pytest.mark.parametrize(
    ("counts", "precision", "recall", "f1"),
    [
        (Counts(tp=8, fp=2, fn=0), 0.8, 1.0, 2 * 0.8 / 1.8),
        (Counts(tp=0, fp=0, fn=3), 1.0, 0.0, 0.0),
        (Counts(), 1.0, 1.0, 1.0),
        (Counts(tp=0, fp=2, fn=2), 0.0, 0.0, 0.0),
    ],
    ids=["typical", "nothing-predicted", "empty", "all-wrong"],
)
def test_counts(counts: Counts, precision: float, recall: float, f1: float) -> None:
    assert (counts.precision, counts.recall, counts.f1) == pytest.approx((precision, recall, f1))


def _example(spans: tuple[Span, ...], phi: bool, kind: str) -> Example:
    return Example(text="x" * 40, spans=spans, contains_phi=phi, kind=kind)


def test_score_sums_types_and_messages_and_ignores_unscored_types() -> None:
    examples = [
        _example((s(0, 8), s(10, 21, "US_SSN")), True, "lab-result"),
        _example((), False, CLINICAL_NO_IDENTIFIER),
        _example((), False, CLINICAL_NO_IDENTIFIER),
    ]
    predictions = [
        ([s(0, 8), s(10, 21, "PHONE_NUMBER"), s(25, 30, "DATE_TIME")], True),
        ([s(0, 5, "LOCATION")], True),
        ([], False),
    ]
    report = score(examples, predictions)
    assert report.per_type == {
        "PERSON": Counts(tp=1),
        "PHONE_NUMBER": Counts(fp=1),
        "US_SSN": Counts(fn=1),
    }
    assert report.overall == Counts(tp=1, fp=1, fn=1)
    assert report.type_agnostic == Counts(tp=2)
    assert (report.messages, report.message_correct) == (3, 2)
    assert report.clinical_flag_rate == 0.5


def test_score_of_nothing() -> None:
    report = score([], [])
    assert (report.overall, report.message_accuracy, report.clinical_flag_rate) == (Counts(), 1.0, None)


@pytest.mark.parametrize(
    ("record", "phi"),
    [
        ({"text": "MRN 1234567", "spans": [{"start": 4, "end": 11, "label": "MEDICAL_RECORD_NUMBER"}]}, True),
        ({"text": "NPI 1234567893", "spans": [{"start": 4, "end": 14, "label": "US_NPI"}]}, False),
        (
            {"text": "Jane Roe", "spans": [{"start": 0, "end": 8, "label": "PERSON"}], "contains_phi": False},
            False,
        ),
        ({"text": "nothing here"}, False),
    ],
    ids=["patient-id", "provider-id", "explicit", "no-spans"],
)
def test_parse_example_gold_label(record: dict[str, object], phi: bool) -> None:
    assert parse_example(json.dumps(record), "c:1").contains_phi is phi


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"text": "abc", "spans": [{"start": 1, "end": 9, "label": "PERSON"}]}',
        '{"text": "abc", "spans": [{"start": 2, "end": 1, "label": "PERSON"}]}',
        '{"text": "abc", "spans": {}}',
        '{"text": "abc", "contains_phi": "yes"}',
    ],
    ids=["not-json", "not-object", "outside", "reversed", "spans-not-list", "label-not-bool"],
)
def test_parse_example_rejects(line: str) -> None:
    with pytest.raises(UsageError, match=r"^c:7: "):
        parse_example(line, "c:7")


# -- the shipped corpus --------------------------------------------------------------------


def _corpus() -> list[Example]:
    with CORPUS.open(encoding="utf-8") as lines:
        return parse_corpus(lines, str(CORPUS))


def test_corpus_is_well_formed() -> None:
    examples = _corpus()  # parsing checks every span lies inside its text
    assert len(examples) >= 300
    assert {e.kind for e in examples} == KINDS
    labels = {span.label for e in examples for span in e.spans}
    assert labels <= SCORED_TYPES
    for example in examples:
        for span in example.spans:
            value = example.text[span.start : span.end]
            assert value == value.strip() and value, (example.kind, span)
    assert all(e.contains_phi is (e.kind not in {"business", "business-colleague", CLINICAL_NO_IDENTIFIER})
               for e in examples)  # fmt: skip
    assert not any(s.label == "PERSON" for e in examples if e.kind == CLINICAL_NO_IDENTIFIER for s in e.spans)


def _generated(generator: str) -> list[str]:
    """What the generator script next to the corpora writes, captured instead of written."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(generator, CORPUS.with_name(f"{generator}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[generator] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        written: list[str] = []
        module.main(written.append)
    finally:
        del sys.modules[generator]
    return written


def test_corpus_is_what_the_generator_writes() -> None:
    assert _generated("make_phi_corpus") == [CORPUS.read_text(encoding="utf-8")]


def test_holdout_is_what_its_generator_writes() -> None:
    assert _generated("make_phi_holdout") == [HOLDOUT.read_text(encoding="utf-8")]


def test_blind_corpus_is_what_its_generator_writes_and_well_formed() -> None:
    """Written by someone who did not see the detector, to measure it once after tuning."""
    assert _generated("make_phi_blind") == [BLIND.read_text(encoding="utf-8")]
    with BLIND.open(encoding="utf-8") as lines:
        blind = parse_corpus(lines, str(BLIND))
    assert len(blind) == 200
    assert {span.label for e in blind for span in e.spans} <= SCORED_TYPES
    assert not any(s.label == "PERSON" for e in blind if e.kind == CLINICAL_NO_IDENTIFIER for s in e.spans)


@pytest.mark.parametrize(
    ("generator", "path", "texts"),
    [
        ("make_phi_blind2", BLIND2, 231),
        ("make_phi_blind3", BLIND3, 209),
        ("make_phi_blind4", BLIND4, 206),
        ("make_phi_blind5", BLIND5, 201),
    ],
)
def test_later_blind_corpora_are_what_their_generators_write_and_well_formed(
    generator: str, path: Path, texts: int
) -> None:
    assert _generated(generator) == [path.read_text(encoding="utf-8")]
    with path.open(encoding="utf-8") as lines:
        blind = parse_corpus(lines, str(path))
    assert len(blind) == texts
    assert {span.label for e in blind for span in e.spans} <= SCORED_TYPES


def test_holdout_is_well_formed_and_shares_no_name_with_the_corpus() -> None:
    with HOLDOUT.open(encoding="utf-8") as lines:
        holdout = parse_corpus(lines, str(HOLDOUT))
    assert len(holdout) >= 100
    negatives = {"business", "business-colleague", CLINICAL_NO_IDENTIFIER}
    assert negatives < {e.kind for e in holdout}
    assert all(e.contains_phi is (e.kind not in negatives) for e in holdout)
    assert {span.label for e in holdout for span in e.spans} <= SCORED_TYPES
    assert any(s.label == "PERSON" for e in holdout if e.kind == "business-colleague" for s in e.spans)
    assert not any(s.label == "PERSON" for e in holdout if e.kind == CLINICAL_NO_IDENTIFIER for s in e.spans)

    def name_words(examples: list[Example]) -> set[str]:
        return {
            word.strip(",")
            for e in examples
            for s in e.spans
            if s.label == "PERSON"
            for word in e.text[s.start : s.end].split()
        }

    assert name_words(holdout).isdisjoint(name_words(_corpus()))


# -- one real run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanner() -> Iterator[PhiScanner]:
    yield PhiScanner()


def test_eval_on_a_slice_prints_the_report(scanner: PhiScanner, tmp_path: Path) -> None:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:30]
    path = tmp_path / "slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert cmd_eval(path, out=out, scanner=scanner) == 0
    text = out.getvalue().splitlines()
    assert text[0].startswith(f"{path}: 30 texts scanned in ")
    assert text[1].split() == ["type", "gold", "pred", "tp", "prec", "recall", "f1"]
    rows = {
        line.split()[0]: line.split()[1:]
        for line in text[2:]
        if line.startswith("  ") and "messages" not in line
    }
    assert {"overall", "type-agnostic", "PERSON"} <= set(rows)
    assert all(len(values) == 6 for values in rows.values())
    assert any(line.startswith("messages: 30  contains_phi accuracy: ") for line in text)
    assert text[-1].startswith("identifier-free clinical flagged: ")


def test_eval_reports_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\nnope\n', encoding="utf-8")
    err = io.StringIO()
    assert cmd_eval(path, out=io.StringIO(), err=err) == 2
    assert err.getvalue() == f"relay: error: {path}:2: not JSON (Expecting value)\n"

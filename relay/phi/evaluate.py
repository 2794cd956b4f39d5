"""Accuracy of the PHI scanner against a labeled corpus: matching and scoring, pure, plus a thin
runner that feeds the corpus to a scanner.

A corpus is JSON Lines, one labeled text a line::

    {"text": "...", "spans": [{"start": 12, "end": 23, "label": "US_SSN"}],
     "contains_phi": true, "kind": "lab-result"}

``contains_phi`` (the message-level label) and ``kind`` (a free category, used to break the
results down) are optional.

**Scored types.** Span scores cover the types that can decide the verdict
(:data:`SCORED_TYPES`: every type with a role in :mod:`relay.phi.verdict`, so patient, person and
provider identifiers and clinical codes). Types that decide nothing (``DATE_TIME``, ``LOCATION``,
``URL``, ``IP_ADDRESS``, ``NRP`` ...) are neither labeled in the corpus nor scored.

**Matching rule.** A predicted span *matches* a gold span when both have the same label and they
overlap by at least half of the shorter of the two (:data:`MIN_OVERLAP`): ``Dr. Jane Roe``
against gold ``Jane Roe`` matches, ``Jane`` against ``Jane Roe`` matches, ``Roe`` against
``Mary Jane Roe`` does not. Matching is one-to-one: pairs are taken greediest overlap first, each
gold and each predicted span used at most once, so a duplicate prediction of one gold span is
one true positive and one false positive. Unmatched predictions are false positives, unmatched
gold spans false negatives. The *type-agnostic* score applies the same rule ignoring labels
(was the value found at all, whatever it was called).

**Message level.** A text's gold ``contains_phi`` is its explicit field when present, otherwise
whether any gold span has a patient- or person-identifier role (:func:`default_contains_phi`).
Accuracy compares it with the scanner's ``contains_phi``; the *clinical flag rate* is the share
of texts of kind ``clinical-no-identifier`` (clinical wording, nobody identified) the scanner
calls PHI.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from relay.errors import UsageError
from relay.model import PhiResult, TextSegment
from relay.phi.verdict import ROLES, Role

MIN_OVERLAP = 0.5
"""Share of the shorter span two spans must share to match (the documented matching rule)."""
SCORED_TYPES = frozenset(ROLES)
"""Entity types that are labeled and scored: those that play a role in the verdict."""
CLINICAL_NO_IDENTIFIER = "clinical-no-identifier"
"""Kind of the texts with clinical wording and no identifier of a person."""
ANY_LABEL = "*"
"""Label under which type-agnostic matching compares spans."""
EVAL_BATCH = 32
"""Texts per ``scan_messages`` call: the model batches their NER."""
_DECIDING_ROLES = frozenset({Role.PATIENT_IDENTIFIER, Role.PERSON_IDENTIFIER})


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One labeled text of the corpus."""

    text: str
    spans: tuple[Span, ...]
    contains_phi: bool
    kind: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)

    @property
    def precision(self) -> float:
        """1.0 when nothing was predicted (no false positive was possible)."""
        predicted = self.tp + self.fp
        return self.tp / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        """1.0 when there was nothing to find."""
        gold = self.tp + self.fn
        return self.tp / gold if gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class KindScore:
    kind: str
    messages: int
    correct: int
    flagged: int
    """Texts the scanner called PHI."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    per_type: Mapping[str, Counts]
    overall: Counts
    type_agnostic: Counts
    messages: int
    message_correct: int
    per_kind: tuple[KindScore, ...] = field(default=())

    @property
    def message_accuracy(self) -> float:
        return self.message_correct / self.messages if self.messages else 1.0

    @property
    def clinical_flag_rate(self) -> float | None:
        """Share of identifier-free clinical texts called PHI; None when the corpus has none."""
        for score in self.per_kind:
            if score.kind == CLINICAL_NO_IDENTIFIER and score.messages:
                return score.flagged / score.messages
        return None


# -- matching and scoring (pure) -----------------------------------------------------------


def overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def spans_match(gold: Span, predicted: Span, *, typed: bool = True) -> bool:
    """The matching rule: same label (when ``typed``), overlap >= half of the shorter span."""
    if typed and gold.label != predicted.label:
        return False
    shorter = min(gold.end - gold.start, predicted.end - predicted.start)
    return shorter > 0 and overlap(gold, predicted) >= MIN_OVERLAP * shorter


def match(gold: Sequence[Span], predicted: Sequence[Span], *, typed: bool = True) -> dict[str, Counts]:
    """One-to-one matching of one text's spans, greatest overlap first: counts per label
    (under :data:`ANY_LABEL` when not ``typed``; false positives count under the predicted
    label, false negatives under the gold one)."""
    pairs = sorted(
        (
            (-overlap(g, p), gi, pi)
            for gi, g in enumerate(gold)
            for pi, p in enumerate(predicted)
            if spans_match(g, p, typed=typed)
        ),
    )
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    tp: Counter[str] = Counter()
    for _negative_overlap, gi, pi in pairs:
        if gi in used_gold or pi in used_pred:
            continue
        used_gold.add(gi)
        used_pred.add(pi)
        tp[gold[gi].label if typed else ANY_LABEL] += 1
    fp = Counter(p.label if typed else ANY_LABEL for i, p in enumerate(predicted) if i not in used_pred)
    fn = Counter(g.label if typed else ANY_LABEL for i, g in enumerate(gold) if i not in used_gold)
    return {label: Counts(tp=tp[label], fp=fp[label], fn=fn[label]) for label in sorted(tp | fp | fn)}


def default_contains_phi(spans: Iterable[Span]) -> bool:
    """Gold message label when the corpus gives none: a patient or person identifier is there."""
    return any(ROLES.get(span.label) in _DECIDING_ROLES for span in spans)


def scored(spans: Iterable[Span]) -> list[Span]:
    return [span for span in spans if span.label in SCORED_TYPES]


def score(examples: Sequence[Example], predictions: Sequence[tuple[Sequence[Span], bool]]) -> Report:
    """The report for ``examples`` given, for each, the predicted spans and ``contains_phi``."""
    per_type: dict[str, Counts] = {}
    agnostic = Counts()
    kinds: dict[str, list[int]] = {}  # kind -> [messages, correct, flagged]
    correct = 0
    for example, (predicted, flagged) in zip(examples, predictions, strict=True):
        gold, pred = scored(example.spans), scored(predicted)
        for label, counts in match(gold, pred).items():
            per_type[label] = per_type.get(label, Counts()) + counts
        agnostic = agnostic + match(gold, pred, typed=False).get(ANY_LABEL, Counts())
        right = flagged == example.contains_phi
        correct += right
        tally = kinds.setdefault(example.kind, [0, 0, 0])
        tally[0] += 1
        tally[1] += right
        tally[2] += flagged
    overall = sum(per_type.values(), Counts())
    return Report(
        per_type=dict(sorted(per_type.items())),
        overall=overall,
        type_agnostic=agnostic,
        messages=len(examples),
        message_correct=correct,
        per_kind=tuple(
            KindScore(kind=kind, messages=m, correct=c, flagged=f)
            for kind, (m, c, f) in sorted(kinds.items())
        ),
    )


# -- corpus lines (pure) -------------------------------------------------------------------


def _span(value: object, text: str, where: str) -> Span:
    if not isinstance(value, dict):
        raise UsageError(f'{where}: a span must be an object {{"start", "end", "label"}}')
    start, end, label = value.get("start"), value.get("end"), value.get("label")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str)):
        raise UsageError(f"{where}: a span needs integer start and end and a string label")
    if not 0 <= start < end <= len(text):
        raise UsageError(f"{where}: span {start}-{end} is not inside the text (length {len(text)})")
    return Span(start=start, end=end, label=label)


def parse_example(line: str, where: str) -> Example:
    """One corpus line as an :class:`Example`; ``where`` (``file:line``) prefixes errors."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not JSON ({exc.msg})") from exc
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise UsageError(f'{where}: expected an object {{"text": "...", "spans": [...]}}')
    text: str = record["text"]
    raw_spans = record.get("spans", [])
    if not isinstance(raw_spans, list):
        raise UsageError(f"{where}: spans must be a list")
    spans = tuple(_span(value, text, where) for value in raw_spans)
    label = record.get("contains_phi")
    if label is not None and not isinstance(label, bool):
        raise UsageError(f"{where}: contains_phi must be true or false")
    kind = record.get("kind", "")
    if not isinstance(kind, str):
        raise UsageError(f"{where}: kind must be a string")
    contains_phi = default_contains_phi(spans) if label is None else label
    return Example(text=text, spans=spans, contains_phi=contains_phi, kind=kind)


def parse_corpus(lines: Iterable[str], name: str) -> list[Example]:
    """Every non-blank line of a corpus, in order."""
    return [
        parse_example(line, f"{name}:{number}") for number, line in enumerate(lines, start=1) if line.strip()
    ]


# -- the runner ----------------------------------------------------------------------------


class Scanner(Protocol):
    """What the runner needs of :class:`relay.phi.scanner.PhiScanner`."""

    def scan_messages(self, messages: Sequence[Sequence[TextSegment]]) -> list[PhiResult]: ...


def prediction(result: PhiResult) -> tuple[list[Span], bool]:
    spans = [Span(start=f.start, end=f.end, label=f.entity_type) for f in result.findings]
    return spans, result.contains_phi


def evaluate(examples: Sequence[Example], scanner: Scanner, *, batch: int = EVAL_BATCH) -> Report:
    """Scan each example as one body segment and score the results."""
    predictions: list[tuple[list[Span], bool]] = []
    for first in range(0, len(examples), batch):
        chunk = examples[first : first + batch]
        messages = [[TextSegment(part="body", kind="body", text=e.text)] for e in chunk]
        predictions.extend(prediction(result) for result in scanner.scan_messages(messages))
    return score(examples, predictions)

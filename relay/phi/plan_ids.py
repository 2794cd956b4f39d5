"""Health plan member IDs that the payer, not a label, announces.

Billing and authorisation mail often names the payer and lets the member ID follow without a
``Member ID`` label: ``Ins: TriState Employee Benefits 37643955Y``, ``Evergreen Medicare
Advantage denial for Grace Yilmaz (873598857-04)``, ``(Summit Mutual Insurance, ID#
W370894881)``. Here an ID-shaped token (up to three letters, 6-12 digits, an optional letter
and an optional dependent suffix ``-01``) is a HEALTH_PLAN_ID when, on its line:

* it follows an insurance field label (``Ins:``, ``Insurance:``, ``Payer:``, ``Coverage:``)
  and is the first such token after it;
* it follows a bare ``ID#`` / ``ID:`` / ``ID no.`` and a payer word stands before it;
* it stands alone in parentheses and a payer word stands before it.

Payer words are the generic words of health insurance (``insurance``, ``Medicaid``,
``Medicare``, ``Advantage``, ``plan``, ``payer``, ``benefits``, ``HMO`` ...), not the names of
any company. Pure string work; :class:`PlanIdRecognizer` is the Presidio side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.phi import checksums
from relay.phi.rule_recognizer import RuleRecognizer

ENTITY = "HEALTH_PLAN_ID"
NAME = "relay:HEALTH_PLAN_ID:payer"
LABELLED_SCORE = 0.75
"""After a field label or ``ID#`` next to a payer: almost as sure as ``Member ID:`` (0.85)."""
PARENTHESES_SCORE = 0.6
"""Alone in parentheses with a payer named before it: less sure, nothing names the number."""
REACH = 80
"""Characters before a value searched for the payer word (one clause of a line)."""

_ID = r"[A-Z]{0,3}\d{6,12}[A-Z]?(?:-\d{1,3})?"
_FIELD = re.compile(
    rf"(?im)^[ \t]*(?:primary[ \t]+|secondary[ \t]+)?(?:ins|insurance|insurer|payer|payor|coverage|carrier)"
    rf"[ \t]*:[^\n]*?(?<![\w-])({_ID})(?![\w-])"
)
_BARE_ID = re.compile(rf"(?i)\bID[ \t]*(?:#|:|no\.?|number)[ \t:#]*({_ID})(?![\w-])")
_IN_PARENTHESES = re.compile(rf"\(({_ID})\)")
_PAYER = re.compile(
    r"(?i)\b(?:insurance|insurer|insured|medicaid|medicare|advantage|health[ \t]+plan|plan|payer|payor|"
    r"benefits|coverage|hmo|ppo|epo|mutual|blue[ \t]+(?:cross|shield))\b"
)


def _payer_before(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return _PAYER.search(text, max(line_start, start - REACH), start) is not None


def find_plan_ids(text: str) -> list[tuple[int, int, float]]:
    """(start, end, score) of the member IDs that a payer announces in ``text`` (see the module)."""
    found: dict[tuple[int, int], float] = {}
    for match in _FIELD.finditer(text):
        found[match.span(1)] = LABELLED_SCORE
    for match in _BARE_ID.finditer(text):
        if _payer_before(text, match.start()):
            found[match.span(1)] = LABELLED_SCORE
    for match in _IN_PARENTHESES.finditer(text):
        if match.span(1) not in found and _payer_before(text, match.start()):
            found[match.span(1)] = PARENTHESES_SCORE
    return [
        (start, end, score)
        for (start, end), score in sorted(found.items())
        if checksums.compact(text[start:end]).isalnum() and _varied(text[start:end])
    ]


def _varied(value: str) -> bool:
    digits = [c for c in value if c.isdigit()]
    return len(set(digits)) > 1


class PlanIdRecognizer(RuleRecognizer):
    """HEALTH_PLAN_ID announced by the payer (:func:`find_plan_ids`)."""

    def __init__(self) -> None:
        super().__init__([ENTITY], name=NAME)

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterator[tuple[str, int, int, float]]:
        return ((ENTITY, start, end, score) for start, end, score in find_plan_ids(text))

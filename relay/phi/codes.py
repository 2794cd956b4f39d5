"""Clinical codes cited without a label, in mail about health.

Coders, nurses and billers write ICD-10-CM and CPT codes where the sentence already says what
they are: ``metastatic lung cancer (C34.90)``, ``Secondary: I50.9, N18.30``, ``bill 99396``,
``CT CHEST W/O CONTRAST (71250)``, ``Services: 99497 (advance care planning), 36415``. The
labelled patterns of :mod:`relay.phi.recognizers` miss them. Here a code-shaped token is a code
when the text has health context (:func:`relay.phi.health.has_context`, or for the decimal
ICD-10 form a code word just before it) and:

* **ICD-10 with its decimals** (``E11.65``): nothing more; the shape (letter, two characters,
  a dot, one to four more) with a valid category is rare outside coding;
* **a 3-character ICD-10 category or a CPT code** (``I10``, ``99214``) only in a *code
  position*: right after a coding word (``code``, ``dx``, ``bill``, ``use``, ``Services:``),
  alone or first in parentheses (``(71250)``, ``(D50.9, 45378)``), opening a list item
  (``- I10  essential hypertension``, ``1. 96372 (``), before its description in parentheses
  (``99497 (advance care planning)``), after the procedure it bills (``mammogram 77067``);
* then, repeatedly, a token joined to a code by a list word (``,``, ``and``, ``or``, ``vs``,
  ``with``, ``rather than``), and every other occurrence of a code's value.

A five-digit number elsewhere (a ZIP code, a count) and a category elsewhere (an ``N95`` mask,
vitamin ``B12``) stay unreported. Pure functions over the text; :class:`ClinicalCodeRecognizer`
is the Presidio side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.phi import checksums, health
from relay.phi.rule_recognizer import RuleRecognizer

ICD10 = "ICD10_CODE"
CPT = "CPT_CODE"
NAME = "relay:clinical-codes"
SCORE = 0.6
"""Above the reporting threshold, under a labelled code (0.85): the position is the only label."""

_END = r"(?![\w-]|\.\w)"
_TOKEN = re.compile(
    rf"(?<![\w.$/#-])(?:(?P<icd>[A-Z]\d[0-9AB](?:\.[0-9A-Z]{{1,4}})?)|(?P<cpt>\d{{4}}[FT]|\d{{5}})){_END}"
)
"""An ICD-10 code (category, or with decimals) or a CPT code, standing alone as a token."""
_REACH = 32
"""Characters before a token read for the word that introduces it."""
_CODE_WORD = re.compile(
    r"(?i)(?:\b(?:codes?|coded|coding|icd(?:-?10)?|dx|bill(?:s|ed)?|use|add(?:s)?|link|report(?:s|ed)?|"
    r"supports?|submit(?:ted)?|maps?\s+to|hx\s+of|services?|procedures?|cpt|diagnos[a-z]*)"
    r"\s*[:#]?\s*(?:\(\s*)?|^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+|\(\s*)$"
)
"""What puts a token in a code position: a coding word (``code``, ``bill``, ``Services:``), a
list bullet or number opening the line, an opening parenthesis."""
_DESCRIBED = re.compile(r"(?: \((?:[a-z]|[A-Z]{2,}\))|  +[a-z])")
"""A token followed by its description: `` (advance care planning)``, `` (TSH)``, ``  essential``."""
_JOIN = re.compile(r"(?i)\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or|vs\.?|with|rather\s+than|to)\s)\s*")
"""What joins two codes of a list: ``I50.9, N18.30``, ``99213 vs 99214``, ``99214 with E11.9``."""
_PREVIOUS_WORD = re.compile(r"([A-Za-z][A-Za-z-]*)\s+$")


def _is_valid(match: re.Match[str]) -> bool:
    if match.group("icd") is not None:
        return checksums.icd10_valid(match.group("icd"))
    return checksums.cpt_valid(match.group("cpt"))


def _entity(match: re.Match[str]) -> str:
    return ICD10 if match.group("icd") is not None else CPT


def _in_code_position(text: str, match: re.Match[str]) -> bool:
    start = match.start()
    before = text[max(0, start - _REACH) : start]
    line_start = text.rfind("\n", 0, start) + 1
    if line_start > start - _REACH:
        before = text[line_start:start]
    if _CODE_WORD.search(before) or _DESCRIBED.match(text, match.end()):
        return True
    previous = _PREVIOUS_WORD.search(before)
    return match.group("cpt") is not None and previous is not None and health.is_procedure(previous.group(1))


def find_codes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, entity) of the codes cited in ``text`` without a label (see the module)."""
    if not health.has_context(text):
        return []
    tokens = [m for m in _TOKEN.finditer(text) if _is_valid(m)]
    if not tokens:
        return []
    sure = ["." in m.group() or _in_code_position(text, m) for m in tokens]  # decimals, or a code position
    changed = True
    while changed:  # codes joined in a list, in either direction
        changed = False
        for index in range(len(tokens) - 1):
            if sure[index] == sure[index + 1]:
                continue
            if _JOIN.fullmatch(text, tokens[index].end(), tokens[index + 1].start()) is not None:
                sure[index] = sure[index + 1] = True
                changed = True
    values = {m.group() for m, ok in zip(tokens, sure, strict=True) if ok}
    return [(m.start(), m.end(), _entity(m)) for m in tokens if m.group() in values]


class ClinicalCodeRecognizer(RuleRecognizer):
    """ICD10_CODE and CPT_CODE cited without a label (:func:`find_codes`)."""

    def __init__(self) -> None:
        super().__init__([ICD10, CPT], name=NAME)

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterator[tuple[str, int, int, float]]:
        return ((entity, start, end, SCORE) for start, end, entity in find_codes(text))

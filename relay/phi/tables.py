"""Identifiers in tables pasted into mail, typed by their column's header.

Schedules, claim batches, work lists and rosters travel as CSV (or tab- or pipe-separated) text:
a header line names the columns (``time,chair,patient,mrn,drug``) and every row below holds
values with no label beside them. The header is the label: a cell under ``mrn`` is a medical
record number, under ``patient`` a name, under ``dob`` a birth date, whatever its shape.

A header is a line of at least :data:`MIN_COLUMNS` short, digit-free fields separated by one
delimiter, at least one of which names a column of :data:`COLUMNS`; its rows are the lines right
below with the same number of fields (quoted fields may hold the delimiter: ``"Roe, Jane"``).
Each cell is checked as its type requires (a calendar date, a valid NPI, a varied number ...):
a header is not a proof, a cell that fails is skipped. Pure string work;
:class:`TableRecognizer` is the Presidio side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.phi import checksums, dates
from relay.phi.rule_recognizer import RuleRecognizer

NAME = "relay:table-column"
SCORE = 0.8
"""A value under a header naming its type: labelled, as sure as ``MRN:`` (0.85) nearly."""
MIN_COLUMNS = 3
"""Fewer fields are a sentence with commas more often than a table."""
MAX_HEADER_FIELD = 30
"""Characters of a column name; a longer field is prose."""
DELIMITERS = (",", "\t", "|", ";")

_PERSON_COLUMNS = (
    "patient|patient name|pt|pt name|name|full name|member|member name|claimant|employee|subscriber|insured|"
    "client|resident|student|provider|provider name|physician|prescriber|clinician|guarantor|"
    "last, first|last name, first name"
)
_MRN_COLUMNS = (
    "mrn|mr#|mr #|mr no|medical record|medical record number|med rec|med rec #|chart|chart #|chart no|"
    "chart number|emr|emr id|ehr id|patient id|pt id|acct/mrn|mrn/acct|record #|record number"
)
_SSN_COLUMNS = "ssn|ss#|ss #|soc sec|social security|social security number|ssn/tin"
_DOB_COLUMNS = "dob|d.o.b.|date of birth|birth date|birthdate|birthday"


def _npi(value: str) -> bool:
    return checksums.npi_valid(value)


def _varied_number(value: str) -> bool:
    digits = [c for c in value if c.isdigit()]
    shaped = re.fullmatch(r"[A-Z]{0,3}-?[\d-]+", value) is not None
    return shaped and 5 <= len(digits) <= 14 and len(set(digits)) > 1


_PERSON_CELL = re.compile(r"[^\W\d_][\w'\u2019.-]*(?:,? [^\W\d_][\w'\u2019.-]*){0,4}")


def _person(value: str) -> bool:
    return _PERSON_CELL.fullmatch(value) is not None and any(c.isupper() for c in value)


def _code(check: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda value: check(value.upper())


COLUMNS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("PERSON", _PERSON_COLUMNS, _person),
    ("MEDICAL_RECORD_NUMBER", _MRN_COLUMNS, _varied_number),
    ("US_SSN", _SSN_COLUMNS, checksums.ssn_valid),
    ("DATE_OF_BIRTH", _DOB_COLUMNS, dates.is_calendar_date),
    ("US_NPI", "npi|npi #|npi number|provider npi", _npi),
    ("ICD10_CODE", "dx|icd|icd10|icd-10|icd-10-cm|diagnosis|dx code", _code(checksums.icd10_valid)),
    ("CPT_CODE", "cpt|hcpcs|cpt/hcpcs|procedure code|cpt code", _code(checksums.cpt_valid)),
    ("NDC_CODE", "ndc|ndc code", checksums.ndc_valid),
)
"""(entity, the column names that type it, the check each cell must pass)."""
_TYPES = {name: (entity, check) for entity, names, check in COLUMNS for name in names.split("|")}
ENTITIES: tuple[str, ...] = tuple(entity for entity, _names, _check in COLUMNS)


def _fields(line: str, delimiter: str) -> list[tuple[int, int]]:
    """(start, end) of each field of ``line``, a quoted field's quotes and outer spaces excluded."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        start = pos
        while start < len(line) and line[start] == " ":
            start += 1
        if start < len(line) and line[start] == '"':
            close = line.find('"', start + 1)
            if close < 0:
                return []
            spans.append((start + 1, close))
            pos = close + 1
            nxt = line.find(delimiter, pos)
            if nxt < 0:
                return spans if not line[pos:].strip() else []
            if line[pos:nxt].strip():
                return []
            pos = nxt + 1
            continue
        nxt = line.find(delimiter, start)
        end = len(line) if nxt < 0 else nxt
        stop = end
        while stop > start and line[stop - 1] == " ":
            stop -= 1
        spans.append((start, stop))
        if nxt < 0:
            return spans
        pos = nxt + 1


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _header(line: str) -> tuple[str, list[str]] | None:
    """The delimiter and the lower-case column names, when ``line`` is a header."""
    for delimiter in DELIMITERS:
        if line.count(delimiter) < MIN_COLUMNS - 1:
            continue
        names = [line[s:e].strip().lower() for s, e in _fields(line, delimiter)]
        if len(names) < MIN_COLUMNS or any(len(n) > MAX_HEADER_FIELD or _has_digit(n) for n in names):
            continue
        if any(name in _TYPES for name in names):
            return delimiter, names
    return None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def find_cells(text: str) -> list[tuple[str, int, int]]:
    """(entity, start, end) of each cell under a typed column of a table in ``text``."""
    found: list[tuple[str, int, int]] = []
    header: tuple[str, list[str]] | None = None
    for offset, line in _lines(text):
        if header is not None:
            delimiter, names = header
            spans = _fields(line, delimiter)
            if len(spans) == len(names):
                for name, (start, end) in zip(names, spans, strict=True):
                    typed = _TYPES.get(name)
                    if typed is not None and end > start and typed[1](line[start:end]):
                        found.append((typed[0], offset + start, offset + end))
                continue
        header = _header(line) if any(d in line for d in DELIMITERS) else None
    return found


def has_table(text: str) -> bool:
    """Cheap gate: a table needs a line with two delimiters and a digit somewhere."""
    return any(c.isdigit() for c in text) and any(text.count(d) >= MIN_COLUMNS - 1 for d in DELIMITERS)


class TableRecognizer(RuleRecognizer):
    """Identifiers under the typed columns of a table (:func:`find_cells`)."""

    def __init__(self) -> None:
        super().__init__(ENTITIES, name=NAME)

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterator[tuple[str, int, int, float]]:
        return ((entity, start, end, SCORE) for entity, start, end in find_cells(text))

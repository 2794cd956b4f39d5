"""The recognizers that read names rather than patterns.

:class:`NameRecognizer` reports PERSON from the cues of :mod:`relay.phi.names`, beside the
model's NER; :class:`BirthDateAfterNameRecognizer` reports a full date alone in parentheses right
after a name (``Jane Roe (03/04/1956)``) as DATE_OF_BIRTH, in mail about health only: there is
no label, the name is the context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.phi import dates, names
from relay.phi.rule_recognizer import RuleRecognizer, ner_people
from relay.phi.settings import DEFAULT_MIN_SCORE

BIRTH_DATE_ENTITY = "DATE_OF_BIRTH"
BIRTH_DATE_NAME = "relay:DATE_OF_BIRTH:after-name"
BIRTH_DATE_SCORE = 0.6
"""A date alone in parentheses after a patient's name is a birth date far more often than not,
but without a label it is less sure than ``DOB:`` (0.9)."""


class NameRecognizer(RuleRecognizer):
    """PERSON from cues around capitalised words (:func:`relay.phi.names.find_names`), beside the
    model's NER."""

    def __init__(self, *, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self.min_score = min_score
        super().__init__([names.ENTITY], name=names.NAME)

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterator[tuple[str, int, int, float]]:
        found = names.find_names(text, ner_people(nlp_artifacts), min_score=self.min_score)
        return ((names.ENTITY, start, end, score) for start, end, score in found)


_DATE_IN_PARENTHESES = re.compile(rf"[ \t]?\(({dates.DATE_PATTERN})\)", re.IGNORECASE)


def birth_dates_after_names(
    text: str, known: Sequence[tuple[int, int]] = (), *, min_score: float = DEFAULT_MIN_SCORE
) -> list[tuple[int, int]]:
    """(start, end) of each calendar date standing alone in parentheses right after a name (known
    or found at ``min_score``), in a text with health context; none elsewhere."""
    if "(" not in text or not names.has_health_context(text):
        return []
    ends = {end for _start, end in known}
    ends.update(
        end for _start, end, value in names.find_names(text, known, min_score=min_score) if value >= min_score
    )
    found = []
    for end in sorted(ends):
        match = _DATE_IN_PARENTHESES.match(text, end)
        if match is not None and dates.is_calendar_date(match.group(1)):
            found.append(match.span(1))
    return found


class BirthDateAfterNameRecognizer(RuleRecognizer):
    """DATE_OF_BIRTH for ``<name> (<date>)`` (:func:`birth_dates_after_names`)."""

    def __init__(self, *, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self.min_score = min_score
        super().__init__([BIRTH_DATE_ENTITY], name=BIRTH_DATE_NAME)

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterator[tuple[str, int, int, float]]:
        found = birth_dates_after_names(text, ner_people(nlp_artifacts), min_score=self.min_score)
        return ((BIRTH_DATE_ENTITY, start, end, BIRTH_DATE_SCORE) for start, end in found)

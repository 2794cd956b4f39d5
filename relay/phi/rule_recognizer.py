"""The Presidio side shared by the relay's rule recognizers: pure finders in, results out.

Each rule module (:mod:`relay.phi.codes`, :mod:`relay.phi.tables`, :mod:`relay.phi.plan_ids`,
:mod:`relay.phi.name_recognizers`) keeps its finding as a pure function of the text;
:class:`RuleRecognizer` turns what it finds into Presidio results under the recognizer's name.
"""

from __future__ import annotations

from collections.abc import Iterable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class RuleRecognizer(EntityRecognizer):
    """A recognizer with nothing to load, reporting (entity, start, end, score) found by rules."""

    def __init__(self, entities: Iterable[str], *, name: str) -> None:
        self.rule_name = name
        super().__init__(supported_entities=list(entities), name=name, supported_language="en")

    def load(self) -> None:
        pass

    def find(self, text: str, nlp_artifacts: NlpArtifacts) -> Iterable[tuple[str, int, int, float]]:
        """(entity, start, end, score) of every value in ``text``; subclasses say how."""
        raise NotImplementedError

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts) -> list[RecognizerResult]:
        wanted = set(entities) & set(self.supported_entities)
        if not wanted:
            return []
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.rule_name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return [
            RecognizerResult(entity, start, end, score, recognition_metadata=dict(metadata))
            for entity, start, end, score in self.find(text, nlp_artifacts)
            if entity in wanted
        ]


def ner_people(nlp_artifacts: NlpArtifacts) -> list[tuple[int, int]]:
    """Where the model found a PERSON, as (start, end)."""
    return [(e.start_char, e.end_char) for e in nlp_artifacts.entities if e.label_ == "PERSON"]

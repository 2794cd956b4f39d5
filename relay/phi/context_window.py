"""Presidio's context boost, read from the raw text around a match instead of spaCy lemmas.

Stock Presidio boosts a candidate when one of its recognizer's context words is among the
lemmas of the five words before it, which needs spaCy's tagger, attribute ruler and lemmatizer
on every message (most of the pipeline's cost) and deep-copies every result. This enhancer
looks at the words just before (and just after) the match in the text itself. A context word
matches at the start of a word (``member`` matches ``members``, ``lic`` does not match
``clinic``), multi-word context (``medical record``) matches across the window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.phi.settings import DEFAULT_MIN_SCORE

CONTEXT_FACTOR = 0.35
"""What a supporting word adds to a score (Presidio's default)."""
MIN_SCORE_WITH_CONTEXT = DEFAULT_MIN_SCORE
"""The score a supported candidate gets at least (Presidio's default), the reporting threshold."""
PREFIX_WORDS = 6
"""Words looked at before a match: a label and a few words of filler (``MRN for this patient:``)."""
SUFFIX_WORDS = 1
"""Words after a match: ``1234567893 (NPI)``."""
_CHARS_PER_WORD = 24
"""Characters read per window word, so a window never scans the whole text."""

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY


def context_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    """One expression that finds any of ``words`` at the start of a word in lower-case text."""
    cleaned = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in cleaned)
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})")


def window(text: str, start: int, end: int, *, before: int = PREFIX_WORDS, after: int = SUFFIX_WORDS) -> str:
    """The lower-cased words around ``text[start:end]``: ``before`` words, then ``after`` words."""
    head = text[max(0, start - before * _CHARS_PER_WORD) : start].split()[-before:] if before else []
    tail = text[end : end + after * _CHARS_PER_WORD].split()[:after] if after else []
    return " ".join(head + tail).lower()


class WindowContextEnhancer(ContextAwareEnhancer):
    """Raise a result's score when its recognizer's context words are near it in the text."""

    def __init__(
        self,
        *,
        factor: float = CONTEXT_FACTOR,
        min_score: float = MIN_SCORE_WITH_CONTEXT,
        prefix_words: int = PREFIX_WORDS,
        suffix_words: int = SUFFIX_WORDS,
    ) -> None:
        super().__init__(
            context_similarity_factor=factor,
            min_score_with_context_similarity=min_score,
            context_prefix_count=prefix_words,
            context_suffix_count=suffix_words,
        )
        self._compiled: dict[str, re.Pattern[str] | None] = {}

    def _regex_for(self, recognizer: EntityRecognizer) -> re.Pattern[str] | None:
        key = recognizer.id
        if key not in self._compiled:
            self._compiled[key] = context_regex(recognizer.context or [])
        return self._compiled[key]

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        # Context words given with the request count as if they stood next to every match.
        extra = " ".join(context or []).lower()
        for result in raw_results:
            metadata = result.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(_ID, ""))
            if recognizer is None or metadata.get(_ENHANCED):
                continue
            pattern = self._regex_for(recognizer)
            if pattern is None:
                continue
            words = window(
                text,
                result.start,
                result.end,
                before=self.context_prefix_count,
                after=self.context_suffix_count,
            )
            found = pattern.search(f"{words} {extra}" if extra else words)
            if found is None:
                continue
            score = max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity)
            result.score = min(score, ContextAwareEnhancer.MAX_SCORE)
            metadata[_ENHANCED] = True
            if result.analysis_explanation is not None:
                result.analysis_explanation.set_supportive_context_word(found.group())
                result.analysis_explanation.set_improved_score(result.score)
        return raw_results

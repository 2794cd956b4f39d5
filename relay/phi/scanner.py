"""Scanning text segments for PHI in this process: findings, health signal, verdict.

For each segment the scanner decides cheaply which recognizers can match at all (a text without
a digit holds no SSN, one without ``@`` no email address, one without a capitalised word no
name), runs Presidio's ``AnalyzerEngine`` with just those, on NER output computed for all
segments of all messages in one batch, and turns Presidio's results into
:class:`~relay.model.Finding` values: type, score, part and offsets, never the text.

Sync and single-process; :mod:`relay.phi.pool` runs it off the event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from relay.model import Finding, PhiResult, TextSegment
from relay.phi import health, verdict
from relay.phi.builtins import NER_ENTITIES, Gate
from relay.phi.engine import LANGUAGE, Engine, build_engine
from relay.phi.settings import PhiSettings

SCORE_DIGITS = 3
"""Scores are rounded so results compare and print stably."""
GENERIC_TYPES = frozenset({"DATE_TIME", "URL", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT"})
"""Types that give way to a more specific finding over the same characters: the model calls an
MRN a DATE, the URL pattern sees ``john.do`` in an email address, a plan ID looks like a
licence. The identifier is still reported, under its specific type."""


WARM_UP_TEXT = (
    "Dear Jane Roe, DOB 01/02/1950, MRN 00123456, member ID XEH123456789, SSN 219-09-9999, "
    "call (617) 555-0142 or jane@example.org, see https://example.org, NPI 1234567893, DEA AB1234563, "
    "MBI 1EG4-TE5-MK73, dx E11.9, CPT 99213, NDC 0002-7510-01, a 92-year-old, from 10.0.0.1."
)
"""Scanned once at start: every pattern compiles and every library loads its data then, not
during the first message of an SMTP session."""


class PhiScanner:
    """PHI detection with one loaded engine (seconds to build; build once per process)."""

    def __init__(self, settings: PhiSettings | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            engine = build_engine(settings)
        elif settings is not None:  # the same loaded model and recognizers, another threshold
            loaded = engine.settings
            if (settings.model, settings.blis) != (loaded.model, loaded.blis):
                raise ValueError("a shared engine keeps its model; build a new one for another model")
            engine = dataclasses.replace(engine, settings=settings)
        self._engine = engine
        self.scan_text(WARM_UP_TEXT)

    @property
    def settings(self) -> PhiSettings:
        return self._engine.settings

    @property
    def engine(self) -> Engine:
        """The loaded engine, to share with another scanner (``PhiScanner(engine=...)``)."""
        return self._engine

    def scan_segments(self, segments: Sequence[TextSegment]) -> PhiResult:
        """The verdict for one message, from all its text segments."""
        return self.scan_messages([segments])[0]

    def scan_text(self, text: str, *, part: str = "text") -> PhiResult:
        """The verdict for a plain text (offsets of findings are into ``text``)."""
        return self.scan_segments([TextSegment(part=part, kind="body", text=text)])

    def scan_messages(self, messages: Sequence[Sequence[TextSegment]]) -> list[PhiResult]:
        """Verdicts for several messages, their NER batched together (the JSONL path)."""
        segments = [segment for message in messages for segment in message]
        found = iter(self.findings(segments))
        results = []
        for message in messages:
            findings = [finding for _segment in message for finding in next(found)]
            signal = health.measure(segment.text for segment in message)
            results.append(verdict.decide(findings, signal))
        return results

    def findings(self, segments: Sequence[TextSegment]) -> list[list[Finding]]:
        """The findings of each segment, in order of position."""
        artifacts = self._engine.nlp.process_texts([s.text for s in segments], LANGUAGE)
        return [self._analyze(segment, nlp) for segment, nlp in zip(segments, artifacts, strict=True)]

    def _entities(self, text: str, nlp: NlpArtifacts) -> list[str]:
        """The entity types worth asking for in ``text``: those whose recognizers' gates pass."""
        wanted: set[str] = set()
        passed: dict[Gate, bool] = {}
        for recognizer, gate in self._engine.gates:
            if gate not in passed:
                passed[gate] = gate(text)
            if passed[gate]:
                wanted.update(recognizer.supported_entities)
        wanted.update(entity.label_ for entity in nlp.entities if entity.label_ in NER_ENTITIES)
        return sorted(wanted)

    def _analyze(self, segment: TextSegment, nlp: NlpArtifacts) -> list[Finding]:
        entities = self._entities(segment.text, nlp)
        if not entities:
            return []
        results: list[RecognizerResult] = self._engine.analyzer.analyze(
            text=segment.text,
            language=LANGUAGE,
            entities=entities,
            nlp_artifacts=nlp,
            score_threshold=self.settings.min_score,
        )
        findings = {
            Finding(
                entity_type=r.entity_type,
                score=round(float(r.score), SCORE_DIGITS),
                part=segment.part,
                start=int(r.start),
                end=int(r.end),
            )
            for r in results
        }
        return sorted(prefer_specific(findings), key=lambda f: (f.start, f.end, f.entity_type))


def prefer_specific(findings: Collection[Finding]) -> list[Finding]:
    """The findings without generic ones (:data:`GENERIC_TYPES`) that a specific one overlaps."""
    specific = [f for f in findings if f.entity_type not in GENERIC_TYPES]
    return [
        f
        for f in findings
        if f.entity_type not in GENERIC_TYPES
        or not any(s.part == f.part and s.start < f.end and f.start < s.end for s in specific)
    ]

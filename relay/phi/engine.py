"""Building the Presidio AnalyzerEngine, explicitly and offline.

Nothing is left to Presidio's defaults, which would download a spaCy model and the public
suffix list and load recognizers for countries we do not serve:

* the NLP engine comes from ``NlpEngineProvider`` with an explicit configuration naming the
  model (:data:`DEFAULT_MODEL` unless configured) and the NER label mapping, built by
  :class:`~relay.phi.nlp.NerOnlySpacyNlpEngine`;
* the registry holds exactly the built-ins of :mod:`relay.phi.builtins`, the healthcare pack
  of :mod:`relay.phi.recognizers`, the name-cue PERSON recognizer (:mod:`relay.phi.names`)
  the DATE_OF_BIRTH-after-a-name recognizer, the clinical codes cited without a label
  (:mod:`relay.phi.codes`), the member IDs a payer announces (:mod:`relay.phi.plan_ids`), the
  cells of tables typed by their header (:mod:`relay.phi.tables`) and the NER recognizer;
* context comes from :class:`~relay.phi.context_window.WindowContextEnhancer`.

:class:`PhiSettings` gathers the knobs (see docs/phi.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider

from relay.phi.builtins import (
    AllOf,
    Gate,
    Mentions,
    always,
    best_score,
    builtin_recognizers,
    has_digit,
    ner_recognizer,
    offline_tld_extractor,
)
from relay.phi.codes import ClinicalCodeRecognizer
from relay.phi.context_window import WindowContextEnhancer
from relay.phi.name_recognizers import BirthDateAfterNameRecognizer, NameRecognizer
from relay.phi.nlp import NerOnlySpacyNlpEngine
from relay.phi.plan_ids import PlanIdRecognizer
from relay.phi.recognizers import healthcare_recognizers
from relay.phi.settings import PhiSettings
from relay.phi.tables import TableRecognizer, has_table

LANGUAGE = "en"

NER_LABELS = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
    "NORP": "NRP",
}
"""spaCy (OntoNotes) labels to Presidio entity names."""
NER_IGNORED = (
    "ORG", "ORGANIZATION", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT",
    "PRODUCT", "QUANTITY", "WORK_OF_ART",
)  # fmt: skip
"""Labels never reported: organisations, amounts and titles identify nobody."""


@dataclass(frozen=True, slots=True)
class Engine:
    """A loaded analyzer and, per recognizer, the cheap gate that must pass before it runs."""

    analyzer: AnalyzerEngine
    nlp: NerOnlySpacyNlpEngine
    gates: tuple[tuple[EntityRecognizer, Gate], ...]
    settings: PhiSettings


def nlp_configuration(settings: PhiSettings) -> dict[str, object]:
    """The explicit NlpEngineProvider configuration (what Presidio would read from YAML)."""
    gemm = "blis" if settings.blis else "numpy"
    return {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": LANGUAGE, "model_name": settings.model, "gemm": gemm}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": dict(NER_LABELS),
            "labels_to_ignore": list(NER_IGNORED),
            "low_score_entity_names": [],
        },
    }


def build_engine(settings: PhiSettings | None = None) -> Engine:
    """Load the model and every recognizer; seconds of work, done once per process."""
    settings = settings or PhiSettings()
    provider = NlpEngineProvider(
        nlp_engines=(NerOnlySpacyNlpEngine,), nlp_configuration=nlp_configuration(settings)
    )
    nlp = provider.create_engine()
    if not isinstance(nlp, NerOnlySpacyNlpEngine):  # the provider was given no other class
        raise TypeError(f"unexpected NLP engine {type(nlp).__name__}")
    ner = ner_recognizer()
    gates: list[tuple[EntityRecognizer, Gate]] = []
    for recognizer, gate in builtin_recognizers():
        if best_score(recognizer) < settings.min_score:  # reportable only next to a context word
            gate = AllOf(gate, Mentions(recognizer.context))
        gates.append((recognizer, gate))
    gates.append((NameRecognizer(min_score=settings.min_score), always))
    gates.append((BirthDateAfterNameRecognizer(min_score=settings.min_score), has_digit))
    gates.append((ClinicalCodeRecognizer(), has_digit))
    gates.append((PlanIdRecognizer(), has_digit))
    gates.append((TableRecognizer(), has_table))
    for recognizer, needs_context in healthcare_recognizers(settings.min_score):
        gate = AllOf(has_digit, Mentions(recognizer.context)) if needs_context else has_digit
        gates.append((recognizer, gate))
    registry = RecognizerRegistry(recognizers=[r for r, _ in gates] + [ner], supported_languages=[LANGUAGE])
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp,
        supported_languages=[LANGUAGE],
        default_score_threshold=settings.min_score,
        context_aware_enhancer=WindowContextEnhancer(),
    )
    offline_tld_extractor()("warm.example.com")  # parse the bundled suffix list now, not mid-message
    return Engine(analyzer=analyzer, nlp=nlp, gates=tuple(gates), settings=settings)

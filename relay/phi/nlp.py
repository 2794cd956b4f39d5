"""The spaCy side of the engine: named entities only, and only where a name can be.

Stock Presidio runs the whole pipeline of the model (tok2vec, tagger, parser, attribute ruler,
lemmatizer, ner) over every character of every message. PHI detection needs the entities
alone (the context boost reads the raw text, :mod:`relay.phi.context_window`), so:

* the model is loaded with only ``tok2vec`` and ``ner`` (the rest is excluded, not just
  disabled, so it costs neither time nor memory), and is never downloaded at run time: a
  model that is not installed is a configuration error;
* only the neighbourhood of capitalised words goes through the model: a few words either side
  of each capitalised word that is not an acronym or a common sentence opener ("Please",
  "The", "Thanks"), within its sentence, merged into contiguous regions. PERSON, LOCATION and
  dated entities are written with capitals in mail; text without one holds none the model
  would find;
* a region is kept only if one of its capitalised words may start a person's name: not a word
  with another use in mail ("June", "Billing") nor a word of a run naming an institution or a
  place ("Mercy General Hospital", "Main Street"). Places and dates found only there are lost;
  they decide nothing;
* regions of many texts are batched through ``nlp.pipe``, each distinct region once;
* the model's matrix products use numpy's BLAS unless ``PhiSettings.blis`` asks for spaCy's
  default BLIS (slower on the machines measured, same entities);
* NER "PERSON"s that are drugs or eponymous diseases (:func:`relay.phi.health.is_clinical_name`),
  hold a digit, or are a lone acronym ("RSVP"), common word (:mod:`relay.phi.vocabulary`) or
  field label ("Caller:") are dropped, and so are degrees taken for states ("Garcia, MD");
  entities are trimmed of the line breaks the model sometimes takes in.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import spacy
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import NumpyOps, use_ops

from relay.errors import ConfigError
from relay.phi.health import is_clinical_name
from relay.phi.settings import missing_model_error, model_installed
from relay.phi.vocabulary import NEVER_NAMES, NON_NAME_WORDS, OPENERS

NON_NER_COMPONENTS = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")
"""Pipeline components PHI detection does not need; ``ner`` only needs ``tok2vec``."""
MAX_REGION_CHARS = 50_000
"""A region longer than this is cut at a space: spaCy's cost and memory grow with doc length."""
PIPE_BATCH_SIZE = 64
"""Regions per ``nlp.pipe`` batch."""
NER_SCORE = 0.85
"""Confidence given to the model's entities (spaCy gives none; Presidio's default)."""

_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "mx",
        "st",
        "jr",
        "sr",
        "prof",
        "rev",
        "hon",
        "gen",
        "col",
        "capt",
        "lt",
        "sgt",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "univ",
        "approx",
        "no",
        "nos",
        "ft",
        "mt",
        "ave",
        "blvd",
        "rd",
        "apt",
        "ste",
        "fig",
        "al",
        "e.g",
        "i.e",
    ]
)
"""Words a period follows without ending the sentence (``Dr. Smith``)."""

WINDOW_WORDS = 3
"""Words kept on each side of a capitalised word: the model's token features reach four
tokens either way (tok2vec depth 4, window 1)."""
_CREDENTIALS = frozenset({"MD", "DO", "PA", "NP", "RN", "DDS", "DMD", "PhD", "MPH", "PharmD"})
"""Degrees after a name that the model takes for US states (Maryland, Pennsylvania ...)."""

_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*[ \t]+|\n")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?]*[\"')\]]*[ \t]+$")
_CAPITALISED = re.compile(r"(?<![\w'\u2019])[^\W\d_][^\W\d_'\u2019-]*(?:['\u2019-][^\W\d_]*)*(?!\w)")
"""A word of letters (any script: "Schröder", "Lefèvre"), apostrophes and hyphens; whether it is
capitalised is checked apart."""
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\S+")
_DETERMINER_AFTER = re.compile(r"\s+(?:the|a|an|this|these|those|your|our|all|each|every)\s")


@dataclass(frozen=True, slots=True)
class NerSpan:
    """An entity from the model, with offsets into the whole text (what Presidio reads)."""

    label_: str
    start_char: int
    end_char: int


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if boundary.group() != "\n":
            before = _WORD_BEFORE.search(text, max(0, boundary.start() - 40), boundary.end())
            word = before.group(1).lower() if before else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue  # "Dr. Smith", "J. Smith": the same sentence goes on
        if boundary.end() > start:
            yield start, boundary.end()
        start = boundary.end()
    if start < len(text):
        yield start, len(text)


def _may_be_a_name(span: str, after: str) -> bool:
    """False for the model's "PERSON"s that cannot be one: drugs and eponymous diseases
    ("Metformin", "Crohn", "Vitamin D"), anything with a digit ("Hemoglobin 10.9", "Claim
    CLM123"), and a lone word that is an acronym ("RSVP"), has another use in mail ("Agenda",
    "Mar"), labels a field (``Caller:``, told by the colon right ``after`` it) or is a verb
    before its object (``Bill the visit``: a lone word followed by a determiner)."""
    if is_clinical_name(span) or any(char.isdigit() for char in span):
        return False
    words = span.split()
    if len(words) > 1:
        return True
    word = words[0]
    if _DETERMINER_AFTER.match(after):
        return False  # "Bill the patient", "Call your pharmacy": a verb, not a name
    return not (word.isupper() or word.lower() in NON_NAME_WORDS or after.startswith(":"))


_INSTITUTION_WORDS = """
    hospital hospitals clinic clinics center centre health healthcare group associates partners
    services pharmacy laboratory laboratories labs imaging diagnostics institute foundation
    university college school academy network system systems insurance mutual assurance shield
    company corporation inc llc ltd street avenue road drive boulevard plaza square county city valley
"""
_ORGANISATION_ENDS = frozenset(_INSTITUTION_WORDS.split())
"""Last words of the names of organisations and places ("Mercy General Hospital", "Riverside
Health", "Main Street"); never a credential ("Maria Lopez RN") or a department."""


def _is_trigger(word: str) -> bool:
    """A capitalised word that may be (part of) a name or a place, wherever it stands."""
    return len(word) > 1 and not (word.isupper() and len(word) <= 3) and word.lower() not in NEVER_NAMES


def _may_start_a_name(word: str) -> bool:
    """A trigger that is not a word with another use in mail: a month, a word of organisations,
    places, headings or roles ("June", "Hospital", "Street", "Billing"). A region holding no such
    word has nobody for the model to find."""
    return word.lower() not in NON_NAME_WORDS


def _institutional(text: str, capitalised: Sequence[re.Match[str]]) -> set[int]:
    """Starts of the words of capitalised runs ("Mercy General Hospital", "Riverside Health",
    "Main Street") that end in a word of organisations or places: they name no person."""
    found: set[int] = set()
    run: list[re.Match[str]] = []
    for word in [*capitalised, None]:
        if word is not None and run and text[run[-1].end() : word.start()] == " ":
            run.append(word)
            continue
        if len(run) > 1 and run[-1].group().lower() in _ORGANISATION_ENDS:
            found.update(w.start() for w in run)
        run = [word] if word is not None else []
    return found


def ner_regions(text: str) -> list[tuple[int, int]]:
    """The parts of ``text`` worth running NER on, as (start, end), merged and bounded.

    Around each capitalised word that is not an acronym ("MRI"), a weekday, a lone letter or a
    common word opening its sentence ("Please"), ``WINDOW_WORDS`` words either side, within the
    sentence; overlapping or touching windows merge.
    """
    tokens = [match.span() for match in _TOKEN.finditer(text)]
    starts = [start for start, _end in tokens]
    sentences = list(_sentences(text))
    sentence_starts = [start for start, _end in sentences]
    regions: list[tuple[int, int]] = []
    named: list[bool] = []  # per region: whether a trigger in it may be (part of) a name
    capitalised = [word for word in _CAPITALISED.finditer(text) if word.group()[0].isupper()]
    institutional = _institutional(text, capitalised)
    for word in capitalised:
        value = word.group()
        if not _is_trigger(value):
            continue
        sentence_start, sentence_end = sentences[bisect.bisect_right(sentence_starts, word.start()) - 1]
        if value.lower() in OPENERS:
            first = _FIRST_WORD.search(text, sentence_start, sentence_end)
            if first is not None and first.start() == word.start():
                continue  # "Please", "The", "Thanks": capitalised for opening the sentence
        index = bisect.bisect_right(starts, word.start()) - 1
        first_token = bisect.bisect_left(starts, sentence_start)
        last_token = bisect.bisect_left(starts, sentence_end) - 1
        low, high = max(first_token, index - WINDOW_WORDS), min(last_token, index + WINDOW_WORDS)
        # At a sentence edge keep the edge itself: the model reads "Dear Wei Okafor,\n" as a
        # salutation and a name, "Dear Wei Okafor," without the line break as neither.
        start = sentence_start if low == first_token else tokens[low][0]
        end = sentence_end if high == last_token else tokens[high][1]
        name = _may_start_a_name(value) and word.start() not in institutional
        if regions and start <= regions[-1][1] + 1 and end - regions[-1][0] <= MAX_REGION_CHARS:
            regions[-1] = (regions[-1][0], max(end, regions[-1][1]))
            named[-1] = named[-1] or name
            continue
        while end - start > MAX_REGION_CHARS:
            cut = text.rfind(" ", start, start + MAX_REGION_CHARS)
            cut = cut if cut > start else start + MAX_REGION_CHARS
            regions.append((start, cut))
            named.append(name)
            start = cut
        regions.append((start, end))
        named.append(name)
    return [region for region, keep in zip(regions, named, strict=True) if keep]


def _load(name: str, *, blis: bool) -> Language:
    """The model's NER and what it needs, its matrix products done by BLIS or numpy's BLAS."""
    if blis:
        return spacy.load(name, exclude=list(NON_NER_COMPONENTS))
    ops = NumpyOps(use_blis=False)
    with use_ops("numpy", use_blis=False):
        nlp = spacy.load(name, exclude=list(NON_NER_COMPONENTS))
    for _name, component in nlp.pipeline:  # layers made outside the context keep the default
        model = getattr(component, "model", None)
        for node in model.walk() if model is not None else ():
            node.ops = ops
    return nlp


class NerOnlySpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loading only ``tok2vec`` + ``ner`` and running NER by region."""

    def load(self) -> None:
        self._models: dict[str, Language] = {}
        for model in self.models:
            name = model["model_name"]
            if not model_installed(name):
                raise missing_model_error(name)
            try:
                nlp = _load(name, blis=model.get("gemm") == "blis")
            except (OSError, ValueError) as exc:
                raise ConfigError(f"spaCy model {name!r} cannot be loaded: {exc}", key="phi.model") from exc
            if "ner" not in nlp.pipe_names:
                raise ConfigError(f"spaCy model {name!r} has no named-entity recognizer", key="phi.model")
            self._models[model["lang_code"]] = nlp
        # Presidio's own methods (is_loaded, is_stopword ...) read ``nlp``, declared None there.
        self.nlp = self._models  # type: ignore[assignment]

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self.process_texts([text], language)[0]

    def process_texts(self, texts: Sequence[str], language: str) -> list[NlpArtifacts]:
        """Entities of each text, running the model over the regions of all texts in batches."""
        if not self.is_loaded():
            raise ValueError("NLP engine is not loaded; call load() first")
        nlp = self._models[language]
        jobs = [(index, start, end) for index, text in enumerate(texts) for start, end in ner_regions(text)]
        # A region repeated in the batch (a signature, a quoted reply, a disclaimer) is read once:
        # its entities, as offsets into the region, are the same wherever it stands.
        unique = list(dict.fromkeys(texts[i][s:e] for i, s, e in jobs))
        docs = nlp.pipe(unique, batch_size=PIPE_BATCH_SIZE)
        entities = {text: list(self._entities(doc, 0)) for text, doc in zip(unique, docs, strict=True)}
        found: list[list[NerSpan]] = [[] for _ in texts]
        for index, offset, end in jobs:
            found[index].extend(
                NerSpan(span.label_, span.start_char + offset, span.end_char + offset)
                for span in entities[texts[index][offset:end]]
            )
        return [self._artifacts(spans, nlp, language) for spans in found]

    def _entities(self, doc: Doc, offset: int) -> Iterator[NerSpan]:
        config = self.ner_model_configuration
        mapping = config.model_to_presidio_entity_mapping or {}
        ignored = config.labels_to_ignore or ()
        for ent in doc.ents:
            label = mapping.get(ent.label_, ent.label_)
            if ent.label_ in ignored or label in ignored:
                continue
            if label == "PERSON" and not _may_be_a_name(ent.text, doc.text[ent.end_char : ent.end_char + 12]):
                continue
            if label == "LOCATION" and ent.text in _CREDENTIALS and doc.text[: ent.start_char].endswith(", "):
                continue  # "Maria Garcia, MD" is a doctor, not Maryland
            # The model sometimes takes a line break into an entity ("Bob\n"): trim it.
            start = ent.start_char + len(ent.text) - len(ent.text.lstrip())
            end = ent.end_char - len(ent.text) + len(ent.text.rstrip())
            if end > start:
                yield NerSpan(label, start + offset, end + offset)

    def _artifacts(self, spans: list[NerSpan], nlp: Language, language: str) -> NlpArtifacts:
        config = self.ner_model_configuration
        score = config.default_score if config.default_score is not None else NER_SCORE
        low = config.low_score_entity_names or ()
        factor = config.low_confidence_score_multiplier or 1.0
        scores = [score * factor if span.label_ in low else score for span in spans]
        # No tokens or lemmas: nothing downstream reads them (context comes from the raw
        # text), and SpacyRecognizer reads only label_, start_char and end_char of entities.
        return NlpArtifacts(
            entities=cast(Any, spans),
            tokens=nlp.make_doc(""),
            tokens_indices=[],
            lemmas=[],
            nlp_engine=self,
            language=language,
            scores=scores,
        )

"""The Presidio built-in recognizers the relay uses, made offline and US-focused.

* EMAIL_ADDRESS: stock ``EmailRecognizer`` validates domains with ``tldextract.extract``, whose
  module-level extractor downloads the public suffix list on first use (and prints a traceback
  when it cannot). :class:`OfflineEmailRecognizer` asks a ``TLDExtract`` that has no URLs and
  no disk cache, so it reads only the snapshot bundled with tldextract.
* PHONE_NUMBER: one pass of python-phonenumbers in the US region (numbers written with ``+``
  and a country code are found in any region) instead of eight passes over eight regions; a
  bare run of digits right after the label of another identifier (``MRN 6175550142``, ``NPI:
  1234567893``) is that identifier, not also a phone number (:class:`PhoneNumbers`).
* Dropped from Presidio's English defaults: crypto wallets, UUIDs, the UK NHS number and
  ``MedicalLicenseRecognizer`` (its DEA pattern is replaced by US_DEA_NUMBER, which checks the
  digit).

Each recognizer is paired with a cheap :data:`Gate` the scanner evaluates first: a text
without a digit cannot hold an SSN, a text without ``@`` no email address. Recognizers whose
patterns never cross whitespace run on a *masked* copy of the text (:func:`masked`): only the
tokens that could match (those with a dot before a letter for URLs, ``@`` for emails, a digit
for dates, licences, IPs ...) are kept, everything else becomes spaces, offsets unchanged.
python-phonenumbers likewise sees only stretches shaped like a phone number.
Stock Presidio's URL expression alone costs more per message than the whole rest of our
pattern matching when it is run over every position of a long text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from relay.phi.context_window import context_regex
from relay.phi.recognizers import IDENTIFIER_LABEL

NER_ENTITIES = ("PERSON", "LOCATION", "DATE_TIME", "NRP")
"""What the spaCy model contributes (ORGANIZATION is ignored: organisations are not PHI)."""
PHONE_REGIONS = ("US",)
"""Regions tried for numbers without a country code (python-phonenumbers region codes)."""

Gate = Callable[[str], bool]
_NO_VALIDATION = PatternRecognizer.validate_result

_URLISH = re.compile(r"(?i)https?://|www\d{0,3}\.|[a-z0-9-]\.[a-z]{2,}\b")
_DIGIT = re.compile(r"\d")
_SEVEN_DIGITS = re.compile(r"(?:\d\D*){7}")
_LABEL_REACH = 48
"""Characters before a number searched for an identifier's label (``medical record number: ``)."""

URL_TOKENS = re.compile(r"(?<!\S)\S*?\.[A-Za-z]\S*")
EMAIL_TOKENS = re.compile(r"(?<!\S)[^\s@]*@\S*")
DIGIT_TOKENS = re.compile(r"(?<!\S)[^\s\d]*\d\S*")
MAC_TOKENS = re.compile(r"(?<!\S)\S*[0-9A-Fa-f]{2}[:.\-][0-9A-Fa-f]{2}\S*")
PHONE_SHAPES = re.compile(
    r"(?:\+?1[\s.\-]?)?(?:\(\d{3}\)|\d{3})[\s.\-]{0,2}\d{3}[\s.\-]?\d{4}"
    r"(?:\s{0,2}(?:x|ext\.?|extension)\s{0,2}\d{1,6})?"
    r"|\+\d[\d\s().\-]{6,22}\d"
)
"""Stretches that can be a phone number: NANP shapes, or anything starting with ``+``.
python-phonenumbers then decides; it never sees the prose around them."""


@functools.cache
def offline_tld_extractor() -> tldextract.TLDExtract:
    """A suffix-list extractor that never touches the network or the disk (bundled snapshot)."""
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


@functools.lru_cache(maxsize=16)
def masked(text: str, tokens: re.Pattern[str]) -> str | None:
    """``text`` with only the matches of ``tokens`` left, the rest blanked to spaces.

    None when no token is left. Offsets are unchanged, so results stand for the original text.
    Cached: the recognizers sharing a token kind mask each text once.
    """
    pieces: list[str] = []
    last = 0
    for token in tokens.finditer(text):
        pieces.append(" " * (token.start() - last))
        pieces.append(token.group())
        last = token.end()
    if not pieces:
        return None
    pieces.append(" " * (len(text) - last))
    return "".join(pieces)


class Masked(EntityRecognizer):
    """A recognizer that runs another one on the stretches that could match only (:func:`masked`)."""

    def __init__(self, inner: EntityRecognizer, tokens: re.Pattern[str]) -> None:
        self.inner = inner
        self.tokens = tokens
        super().__init__(
            supported_entities=list(inner.supported_entities),
            name=str(vars(inner)["name"]),
            supported_language=inner.supported_language,
            context=list(inner.context),
        )

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts) -> list[RecognizerResult]:
        view = masked(text, self.tokens)
        if view is None:
            return []
        results: list[RecognizerResult] = self.inner.analyze(view, entities, nlp_artifacts)
        for result in results:  # context and thresholds are looked up by this recognizer's id
            result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY] = self.id
        return results


class PhoneNumbers(Masked):
    """Phone numbers, less the bare digit runs that the label of another identifier names.

    python-phonenumbers accepts any ten digits that fit the North American plan, so an MRN or an
    NPI after its label would be reported a second time, as a phone number. A number written as
    a phone (``(617) 555-0142``, ``617-555-0142``) stays a phone number wherever it stands.
    """

    def __init__(self) -> None:
        super().__init__(PhoneRecognizer(supported_regions=PHONE_REGIONS), PHONE_SHAPES)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts) -> list[RecognizerResult]:
        return [r for r in super().analyze(text, entities, nlp_artifacts) if not labelled_identifier(text, r)]


def labelled_identifier(text: str, result: RecognizerResult) -> bool:
    """True when ``result`` is bare digits right after an identifier's label."""
    if not text[result.start : result.end].isdigit():
        return False
    return IDENTIFIER_LABEL.search(text, max(0, result.start - _LABEL_REACH), result.start) is not None


_HEADER_LINE = re.compile(r"(?im)^(?:from|to|cc|bcc|reply-to|sender)[ \t]*:[^\n]*")
_UNIT_WORDS = (
    r"office|services?|department|dept|team|desk|center|centre|pharmacy|purchasing|staff|integrity|"
    r"nutrition|billing|admissions?|compliance|records|management|operations|support|unit|program|"
    r"committee|registration|scheduling|referrals?|intake|helpdesk|servicedesk|noreply|no-reply|info"
)
_UNIT_NAME = re.compile(rf"(?i)(?:^|[\s,;:\"])(?:[A-Z][\w&.'-]*\s+){{0,4}}(?:{_UNIT_WORDS})\"?\s*<$")
_UNIT_MAILBOX = re.compile(rf"(?i)(?:{_UNIT_WORDS})(?:[-_.](?:{_UNIT_WORDS}|[a-z]{{1,3}}))?$")


def unit_mailbox(text: str, start: int, end: int) -> bool:
    """True when the address at ``start:end`` stands on a From/To/Cc line as the mailbox of a
    department, not a person: its display name names a unit (``Compliance Office
    <compliance@...>``), or it has none and its local part is a unit's (``admissions@...``).
    An address written in the body (``email helpdesk@...``) is left alone."""
    line_start = text.rfind("\n", 0, start) + 1
    header = _HEADER_LINE.match(text, line_start)
    if header is None or header.end() < end:
        return False
    before = text[line_start:start]
    if before.rstrip().endswith("<"):
        return _UNIT_NAME.search(before.rstrip()) is not None
    return _UNIT_MAILBOX.fullmatch(text[start:end].split("@", 1)[0]) is not None


class Emails(Masked):
    """E-mail addresses, less the department mailboxes of address lines (:func:`unit_mailbox`)."""

    def __init__(self) -> None:
        super().__init__(OfflineEmailRecognizer(), EMAIL_TOKENS)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts)
        return [r for r in found if not unit_mailbox(text, r.start, r.end)]


BANK_CONTEXT = ("bank", "banking", "checking", "savings", "routing", "deposit", "debit", "aba")
"""Presidio's US_BANK_NUMBER context, less "account" and "check": a patient's billing account
(``Account: 6959472739``) is no bank account, and its digits would otherwise be lifted over the
threshold by the word "account" next to them."""


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer, validating the domain against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tld_extractor()(pattern_text).fqdn != ""


def has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def has_phone_digits(text: str) -> bool:
    """Seven digits at least: the shortest number python-phonenumbers would accept here."""
    return _SEVEN_DIGITS.search(text) is not None


def has_at(text: str) -> bool:
    return "@" in text


def has_urlish(text: str) -> bool:
    return _URLISH.search(text) is not None


def always(text: str) -> bool:
    return True


@functools.lru_cache(maxsize=4)
def _lower(text: str) -> str:
    return text.lower()


class Mentions:
    """A gate: does the text mention one of these context words anywhere?"""

    def __init__(self, words: Sequence[str]) -> None:
        self._pattern = context_regex(words)

    def __call__(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(_lower(text)) is not None


class AllOf:
    """A gate that passes when all of its gates pass (cheapest first)."""

    def __init__(self, *gates: Gate) -> None:
        self._gates = gates

    def __call__(self, text: str) -> bool:
        return all(gate(text) for gate in self._gates)


def best_score(recognizer: EntityRecognizer) -> float:
    """The highest score a recognizer gives before context (1.0 when it cannot be told)."""
    inner = recognizer.inner if isinstance(recognizer, Masked) else recognizer
    if not isinstance(inner, PatternRecognizer):
        return 1.0
    patterns: list[Pattern] = vars(inner).get("patterns") or []
    # A validated pattern match scores 1.0 in Presidio, whatever its pattern says.
    if not patterns or vars(inner).get("deny_list") or type(inner).validate_result is not _NO_VALIDATION:
        return 1.0
    return max(float(pattern.score) for pattern in patterns)


def builtin_recognizers() -> list[tuple[EntityRecognizer, Gate]]:
    """Fresh built-in recognizers, each with the gate that must pass before it runs."""
    return [
        # Patterns that may span spaces ("123 45 6789", "4111 1111 1111 1111") see the text.
        (UsSsnRecognizer(), has_digit),
        (CreditCardRecognizer(), has_digit),
        (UsItinRecognizer(), has_digit),
        (IbanRecognizer(), has_digit),
        # The others see only what could match: phone-shaped stretches, tokens (masked()).
        (PhoneNumbers(), has_phone_digits),
        (Masked(UsBankRecognizer(context=list(BANK_CONTEXT)), DIGIT_TOKENS), has_digit),
        (Masked(UsLicenseRecognizer(), DIGIT_TOKENS), has_digit),
        (Masked(UsPassportRecognizer(), DIGIT_TOKENS), has_digit),
        (Masked(IpRecognizer(), DIGIT_TOKENS), has_digit),
        (Masked(MacAddressRecognizer(), MAC_TOKENS), always),
        (Masked(DateRecognizer(), DIGIT_TOKENS), has_digit),
        (Emails(), has_at),
        (Masked(UrlRecognizer(), URL_TOKENS), has_urlish),
    ]


def ner_recognizer() -> SpacyRecognizer:
    """Presidio's recognizer that reports the NLP engine's entities."""
    return SpacyRecognizer(supported_entities=list(NER_ENTITIES))

"""PERSON names where mail puts them, found from the words around them.

The small NER model finds names in running prose, but misses them where the line gives it
nothing to go by: headings and labels (``Rx for <name>``, ``RESULTS - <name>``, ``Member:
<name>``), a name opening a line before its identifiers (``<name> (DOB ...)``), a signature
under ``Best,``, and a first name alone. :func:`find_names` looks at each run of
capitalised words and asks two questions:

* **is it shaped like a name?** One to three capitalised words (an initial may stand between),
  none of them a word with another use in mail: stop words, clinical and care words,
  months and weekdays, the words of organisations, places and headings (``Health``, ``Street``,
  ``Review``), words with the endings of abstract nouns (``-tion``, ``-ology``), acronyms;
* **does something around it say "person"?** A *cue*, each with its own score
  (:data:`CUE_SCORES`): a salutation or title before it, a role label (``Patient:``), a role
  noun, ``for``/``to``/``from``/``on behalf of``, a heading dash, a closing line above it,
  identifiers right after it (``, DOB``, ``(MRN``, ``is a 90-year-old``, ``, NPI``), the text
  speaking to it (``<name>, your results ...``), a verb whose subject is a person after it
  (``<name> called``, ``<name> will``), a titled person beside it (``<name> with Dr.``), or an
  email address of the text made of its words (``jane.roe@...``).

A first name alone is weaker evidence than a full name (:data:`SINGLE_WORD_PENALTY`); two kinds
of cue together are stronger evidence than either (:data:`COMBINED_BONUS`). Weak cues
are worth reporting only in mail about health (:data:`HEALTH_BOOST`, the signal of
:mod:`relay.phi.health`): there a missed name is missed PHI, elsewhere a doubtful one is noise.
Every word of a full name found (by the model or here) marks its other occurrences in
the text (``Please welcome Rahul Gupta ... Rahul can be reached``). A surname and a given name
found side by side as ``Last, First`` (and not in a list) are one name, reported once.

Pure string work on the segment's text (:class:`relay.phi.name_recognizers.NameRecognizer` is the
Presidio side); the model's PERSON spans come in only so that nothing is reported twice.
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS

from relay.phi import health
from relay.phi.name_words import (
    _ROLE_NOUNS,
    _SALUTATIONS,
    _TITLES,
    Word,
    _core,
    _is_title_or_initial,
    _runs,
    caps_after_labels,
    is_name_word,
    whole_word_at,
)
from relay.phi.nlp import NER_SCORE
from relay.phi.settings import DEFAULT_MIN_SCORE
from relay.phi.vocabulary import PERSON_VERBS

ENTITY = "PERSON"
NAME = "relay:PERSON"


class Cue(enum.Enum):
    """What around a candidate says it names a person."""

    SALUTATION = "salutation"  # Dear / Hi / Hello <name>; Mr. / Dr. <name>
    ROLE_LABEL = "role label"  # Patient: / Member: / Attn: <name>
    IDENTIFIERS_AFTER = "identifiers after"  # <name>, DOB ... / <name> (MRN ... / <name> is a 90-year-old
    ROLE_NOUN = "role noun"  # patient <name>
    SIGNATURE = "signature"  # a line of its own under "Best regards,"
    FOR = "for"  # Statement for <name>
    HEADING = "heading"  # RESULTS - <name>
    TO = "to"  # Congratulations to <name>
    ADDRESSED = "addressed"  # <name>, your results ... (at the start of a line)
    REPEATED = "repeated"  # a word of a full name found elsewhere in the text
    FROM = "from"  # New message from <name>
    BEHALF = "on behalf of"  # on behalf of <name> / care of <name>
    PERSON_VERB = "person verb"  # <name> called / was seen / has been promoted
    SUBJECT = "subject"  # <name> will / should / can ...
    BESIDE = "beside a titled person"  # <name> with Dr. Roe
    EMAIL = "email"  # <name> ... name.surname@example.org
    INTRODUCED = "introduced"  # this is / it's / my name is <name>
    BY = "by"  # reviewed by <name>


CUE_SCORES: dict[Cue, float] = {
    Cue.SALUTATION: 0.6,
    Cue.ROLE_LABEL: 0.6,
    Cue.IDENTIFIERS_AFTER: 0.6,
    Cue.ROLE_NOUN: 0.45,
    Cue.SIGNATURE: 0.45,
    Cue.ADDRESSED: 0.45,
    Cue.REPEATED: 0.5,
    Cue.BEHALF: 0.45,
    Cue.PERSON_VERB: 0.45,
    Cue.BESIDE: 0.45,
    Cue.EMAIL: 0.45,
    Cue.INTRODUCED: 0.45,
    Cue.BY: 0.3,
    Cue.FOR: 0.3,
    Cue.HEADING: 0.3,
    Cue.TO: 0.3,
    Cue.FROM: 0.3,
    Cue.SUBJECT: 0.3,
}
"""Score of a full name with each cue, before the health boost. The first three say "person"
outright; the last five are also how mail introduces products, teams and places (``for``,
``to``, ``from``, a heading, ``<Product> will ...``), so on their own they stay under the
reporting threshold (0.4)."""
SINGLE_WORD_PENALTY = 0.15
"""Taken off for a single word: one capitalised word is more often not a name than two are."""
HEALTH_BOOST = 0.15
"""Added in a text with health context, where a missed name is missed PHI."""
COMBINED_BONUS = 0.15
"""Added when two different cues say "person" (``Pharmacist note - <name> picked up``): each is
weak, both together are rarely a product or a team."""
STRONG_CUES = frozenset({Cue.SALUTATION})
"""Cues after which a name word is checked only against :data:`NOT_NAMES`: "Dear April May,"
is a name although both words have another use."""
MAX_NAME_WORDS = 3
"""More capitalised words in a row are a title, an organisation or a heading."""

_ROLE_LABELS = (
    r"patient(?:\s+name)?|pt\.?|name|member|insured|subscriber|beneficiary|guarantor|resident|client|"
    r"caregiver|guardian|caller|recipient|attn\.?|attention|re|regarding|"
    r"student|parent(?:/guardian)?|emergency[ \t]+contact|contact|claimant|employee|pt[ \t]+name|"
    r"prescriber|pcp|(?:referring|ordering|attending|rendering|assessing)(?:[ \t]+[a-z]+)?|"
    r"from|to|cc|bcc|reply-to|sender"
)
"""Field labels before a person's name (``Patient:``, ``Parent/Guardian:``, ``Referring:``, a
mail header's ``From:``, ``To:``, ``Cc:``)."""
_FAMILY = (
    r"niece|nephew|daughter|son|wife|husband|mother|father|mom|dad|sister|brother|grandson|granddaughter|"
    r"grandmother|grandfather|aunt|uncle|spouse|partner|fianc[eé]e?"
)
"""Words of a name are one space apart; two spaces or a tab separate columns."""
_BEFORE = {
    Cue.ROLE_LABEL: re.compile(rf"(?i)\b(?:{_ROLE_LABELS})[ \t]*:[ \t]*$"),
    Cue.SALUTATION: re.compile(
        r"(?i)(?:\b(?:dear|hi|hello|hey|thanks|good\s+(?:morning|afternoon|evening))|\b(?:mrs?|ms|mx|miss|dr|prof)\.?)"
        r"[ \t]+$"
    ),
    Cue.ROLE_NOUN: re.compile(
        rf"(?i)(?:\b(?:our|the|your|a)[ \t]+(?:patient|member|client|resident)|(?:^|[ \t])(?:pt|patient)"
        rf"|\b(?:{_FAMILY}))[ \t]+\(?$"
    ),
    Cue.FOR: re.compile(r"(?i)\b(?:for|per)[ \t]+$"),
    Cue.TO: re.compile(r"(?i)\bto[ \t]+$"),
    Cue.HEADING: re.compile(r"^[ \t]*[A-Za-z][\w'&/ ]{0,40}[ \t][-\u2013\u2014][ \t]+$"),
    Cue.FROM: re.compile(r"(?i)\bfrom[ \t]+$"),
    Cue.BY: re.compile(r"(?i)\bby[ \t]+$"),
    Cue.INTRODUCED: re.compile(r"(?i)(?:\bmy[ \t]+name[ \t]+is|\bthis[ \t]+is|\bit['\u2019]?s)[ \t]+$"),
    Cue.BEHALF: re.compile(r"(?i)\b(?:on[ \t]+behalf[ \t]+of|in[ \t]+care[ \t]+of|c/o)[ \t]+$"),
}
"""Cues read on the candidate's line before it."""
_BEFORE_CHARS = 64
"""How much of the line before a candidate its cues read: a heading is at most 40 characters and
a dash, the other cues a few words; reading more would make long lines quadratic."""
_IDENTIFIERS_AFTER = re.compile(
    r"(?i)(?:'s)?(?:[ \t]*[,(][ \t]*|[ \t]+(?:is|was)[ \t]+|  [ \t]*|\t[ \t]*)"
    r"(?:dob\b|npi\b|dea\b|d\.o\.b|date\s+of\s+birth|born\b|birth\s?date|mrn\b|mr\s?#|medical\s+record|chart\b|"
    r"patient\s+id|member\s+id|age[d]?\s*:?\s*\d|an?\s+\d{1,3}[- ]?(?:year|yr|month|week)|"
    r"\d{1,3}[- ]?(?:years?|yrs?)[- ]old|\d{1,3}\s?(?:y/?o|yo)\b)"
)
"""``, DOB``, ``(MRN``, ``(chart #``, ``, 92 years old``, `` is a 90-year-old``, ``, NPI``: what
follows a patient's or a clinician's name in clinical mail (also in the next column)."""
_AFTER = {
    Cue.PERSON_VERB: re.compile(
        r"(?:'s|\u2019s)?[ \t]+"
        r"(?:(?:has|had|have|was|is|will|has[ \t]+been|was[ \t]+being|will[ \t]+be)[ \t]+)?"
        rf"(?:{'|'.join(sorted(PERSON_VERBS))})\b"
    ),
    Cue.SUBJECT: re.compile(r"[ \t]+(?:will|would|can|could|should|must|might)[ \t]+[a-z]+\b"),
    Cue.IDENTIFIERS_AFTER: re.compile(r"[ \t]*[<(][ \t]*[\w.+-]+@[\w-]+\."),
    Cue.BESIDE: re.compile(
        r"(?i)[ \t]+(?:with|and|&|to[ \t]+see|sees|saw)[ \t]+(?:dr|mrs?|ms|mx|prof)\.?[ \t]"
    ),
}
"""Cues read right after the candidate (an email address right after a name is its owner's:
``Jane Roe <jroe@example.org>``)."""
_EMAIL_LOCAL = re.compile(r"([A-Za-z][A-Za-z0-9._-]{1,63})@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_LOCAL_PARTS = re.compile(r"[._-]")
_LAST_FIRST_GAP = re.compile(r",[ \t]+")
_LIST_BEFORE = re.compile(r"(?:,|\band|&)[ \t]*$")
_LIST_AFTER = re.compile(
    r"[ \t]*(?:,[ \t]*[A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?[ \t]*(?:[,.;\n]|and\b|&|$)|,?[ \t]+(?:and|&|or)[ \t])"
)
"""``Anna, Maria, Bob and Tom``, ``Tom, Anna, Maria.``: names in a list are not ``Last, First``."""
_ADDRESSED = re.compile(r"(?i),[ \t]+(?:you|your|you're|we|we've|we're|this\s+is|just|please)\b")
"""``<name>, your results are in``: a line opening with a name that the text then speaks to."""
_FOLLOWERS = (STOP_WORDS - {"and", "or", "nor", "of"}) | PERSON_VERBS
"""Lower-case words a name may be followed by (``<name> will``, ``to <name> on``); any other
lower-case word makes the capitalised run a modifier (``for Blue Cross members``)."""
_AFTER_NAME = re.compile(r"(?:'s|\u2019s)?(?:  |\t|[ ]?(?:[,;:(.!?)\n<\"]|-[ \t]|$)|[ ]([a-z]+)\b)")
_CLOSING = re.compile(
    r"(?i)^[ \t]*(?:thanks|thank\s+you|many\s+thanks|best|best\s+regards|kind\s+regards|warm\s+regards|"
    r"warmly|regards|sincerely|yours(?:\s+truly|\s+sincerely)?|respectfully|cheers|take\s+care|"
    r"all\s+the\s+best)[ \t]*[,.!]?[ \t]*$"
)
_SIGNATURE_REST = re.compile(
    r"[ \t]*(?:,[ \t]*[A-Za-z][\w. ]{0,30}|[ \t][A-Z]{2,5}(?:[,/ ]+[A-Z]{2,5})*)?[ \t]*$"
)
"""What may follow a signed name on its line: nothing, ``, RN`` / ``, referral coordinator``, `` RN``."""
_DASH_BEFORE = re.compile(r"(?:^|[ \t])(?:--?|\u2013|\u2014)[ \t]*$")
"""A dash signing off a note (``-- Jane Roe, RN``, ``... pls call x6350 -Keisha RN``)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A run of capitalised words with the salutation, title or role noun that opens it taken
    off (that is the run's own cue); initials stay, they are part of the name."""

    words: tuple[Word, ...]
    own_cue: Cue | None

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        last = self.words[-1]
        return last.start + len(_core(last.text))

    @property
    def names(self) -> list[str]:
        return [w.text for w in self.words if not _is_title_or_initial(w.text)]


def candidate(run: Sequence[Word]) -> Candidate | None:
    """The name part of a run, or None when the run has no name-sized part."""
    own_cue: Cue | None = None
    words = list(run)
    while words:
        lower = words[0].text.lower()
        if lower in _SALUTATIONS or lower in _TITLES:
            own_cue = Cue.SALUTATION
        elif lower in _ROLE_NOUNS and own_cue is None:
            own_cue = Cue.ROLE_NOUN
        else:
            break
        words.pop(0)
    if not words:
        return None
    found = Candidate(tuple(words), own_cue)
    return found if 0 < len(found.names) <= MAX_NAME_WORDS else None


def _ends_like_a_name(after: str) -> bool:
    match = _AFTER_NAME.match(after)
    return match is not None and (match.group(1) is None or match.group(1) in _FOLLOWERS)


def _line_before(text: str, start: int) -> str:
    return text[text.rfind("\n", 0, start) + 1 : start]


def cues(text: str, found: Candidate) -> list[Cue]:
    """Every cue around the candidate (its own, those on its line before it, what follows it,
    a closing line above it)."""
    result = [found.own_cue] if found.own_cue else []
    before = _line_before(text, found.start)
    near = before[-_BEFORE_CHARS:]  # a cue before a name is short: never rescan a long line
    result.extend(
        cue
        for cue, pattern in _BEFORE.items()
        if (cue is not Cue.HEADING or len(before) <= _BEFORE_CHARS) and pattern.search(near)
    )
    after = text[found.end : found.end + 40]
    if _IDENTIFIERS_AFTER.match(after):
        result.append(Cue.IDENTIFIERS_AFTER)
    result.extend(cue for cue, pattern in _AFTER.items() if pattern.match(after))
    if any(word.lower() in _email_words(text) for word in found.names if len(word) > 2):
        result.append(Cue.EMAIL)
    if not before.strip() and _ADDRESSED.match(after):
        result.append(Cue.ADDRESSED)
    line_rest = after.split("\n", 1)[0]
    if _DASH_BEFORE.search(near) and _SIGNATURE_REST.match(line_rest):
        result.append(Cue.SIGNATURE)
    elif not before.strip() and _SIGNATURE_REST.match(line_rest):
        above = text[: found.start - len(before)].rstrip("\n").rsplit("\n", 1)[-1]
        if _CLOSING.match(above):
            result.append(Cue.SIGNATURE)
    return result


has_health_context = health.has_context


@functools.lru_cache(maxsize=16)
def _email_words(text: str) -> frozenset[str]:
    """The lower-case words of the local parts of the text's email addresses (``jane.roe@``)."""
    if "@" not in text:
        return frozenset()
    return frozenset(
        part.lower() for match in _EMAIL_LOCAL.finditer(text) for part in _LOCAL_PARTS.split(match.group(1))
    )


def score(text: str, found: Candidate, around: Sequence[Cue]) -> float:
    """The best cue's score, less :data:`SINGLE_WORD_PENALTY` for a lone word, plus
    :data:`COMBINED_BONUS` when two kinds of cue hold, plus :data:`HEALTH_BOOST` in a text about
    health (each at most to the score of a salutation); 0 when the words are not a name for any
    cue."""
    names = found.names
    best = 0.0
    held: set[Cue] = set()
    for cue in around:
        strong = cue in STRONG_CUES
        if all(is_name_word(word, strong=strong) for word in names):
            penalty = SINGLE_WORD_PENALTY if len(names) == 1 and not strong else 0.0
            best = max(best, CUE_SCORES[cue] - penalty)
            held.add(cue)
    if len(held) > 1:
        best = max(best, min(CUE_SCORES[Cue.SALUTATION], best + COMBINED_BONUS))
    if 0.0 < best < CUE_SCORES[Cue.SALUTATION] and has_health_context(text):
        best = min(CUE_SCORES[Cue.SALUTATION], best + HEALTH_BOOST)
    return round(best, 3)


def _overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def find_names(
    text: str, known: Sequence[tuple[int, int]] = (), *, min_score: float = DEFAULT_MIN_SCORE
) -> list[tuple[int, int, float]]:
    """(start, end, score) of the names in ``text`` that the ``known`` PERSON spans (the
    model's) do not already cover, scores above 0; then, at :data:`CUE_SCORES` ``[REPEATED]``,
    the other occurrences of the words of every full name known or found at ``min_score``;
    ``Last, First`` pairs as one span."""
    return list(_find_names(text, tuple(known), min_score))


@functools.lru_cache(maxsize=16)
def _find_names(
    text: str, known: tuple[tuple[int, int], ...], min_score: float
) -> tuple[tuple[int, int, float], ...]:
    found: list[tuple[int, int, float]] = []
    for run in _runs(text):
        name = candidate(run)
        if name is None or _overlaps(known, name.start, name.end):
            continue
        if not _ends_like_a_name(text[name.end : name.end + 30]):
            continue
        value = score(text, name, cues(text, name))
        if value > 0.0:
            found.append((name.start, name.end, value))
    spans = [*known, *((start, end) for start, end, _value in found)]
    found += [
        (start, end, CUE_SCORES[Cue.ROLE_LABEL])
        for start, end in caps_after_labels(text, _ROLE_LABELS)
        if not _overlaps(spans, start, end)
    ]
    names = [*known, *((start, end) for start, end, value in found if value >= min_score)]
    found += _repeated(text, names)
    return tuple(_last_first(text, known, found, min_score))


def _last_first(
    text: str, known: Sequence[tuple[int, int]], found: list[tuple[int, int, float]], min_score: float
) -> list[tuple[int, int, float]]:
    """``found`` with every ``Last, First`` pair of names (known or found) made one span.

    The pair is one word, a comma, one or two words, not inside a list (``Anna, Maria and
    Bob``). It scores as its better part, the model's :data:`~relay.phi.nlp.NER_SCORE` for a
    known one, so that the parts the model reported are dropped as contained in it.
    """
    scores = {(start, end): NER_SCORE for start, end in known}
    scores.update({(start, end): value for start, end, value in found if value >= min_score})
    spans = sorted(scores)
    merged: list[tuple[int, int, float]] = []
    parts: set[tuple[int, int]] = set()
    for first, second in itertools.pairwise(spans):
        if first in parts or " " in text[first[0] : first[1]] or len(text[second[0] : second[1]].split()) > 2:
            continue
        if _LAST_FIRST_GAP.fullmatch(text, first[1], second[0]) is None:
            continue
        if _LIST_BEFORE.search(_line_before(text, first[0])) or _LIST_AFTER.match(text, second[1]):
            continue
        merged.append((first[0], second[1], max(scores[first], scores[second])))
        parts.update((first, second))
    if not merged:
        return found
    return [item for item in found if (item[0], item[1]) not in parts] + merged


def _repeated(text: str, names: Sequence[tuple[int, int]]) -> list[tuple[int, int, float]]:
    parts = {
        word
        for start, end in names
        if len(words := text[start:end].split()) > 1
        for word in words
        if len(word) > 2 and is_name_word(word)
    }
    found = [
        (start, start + len(part), CUE_SCORES[Cue.REPEATED])
        for part in parts
        for start in whole_word_at(text, part)
        if not _overlaps(names, start, start + len(part))
    ]
    return sorted(found)

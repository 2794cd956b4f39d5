"""The words of names: their shape, and the runs of capitalised words a name can be.

Shared by :mod:`relay.phi.names` (which runs are candidates, which words may be part of a name)
and its cues. Pure string work.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from relay.phi.vocabulary import NON_NAME_WORDS, NOT_NAMES

_NOUN_ENDINGS = ("tion", "sion", "ment", "ness", "ity", "ology", "ologist", "iatry", "ics", "ship", "ware")
"""Endings of abstract nouns and disciplines (``Registration``, ``Cardiology``), not of names."""

_UPPER = "A-Z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
_LOWER = "a-z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.islower())
"""Letters of names written in Latin script, accented ones included (``Núñez``, ``Öztürk``,
``Lefèvre``): a name is no less a name for its diacritics."""
_U, _L = f"[{_UPPER}]", f"[{_LOWER}]"
_NAME_WORD = re.compile(
    rf"{_U}{_L}+(?:['\u2019-][A-Za-z{_UPPER[3:]}{_LOWER[3:]}]{_L}+)*|{_U}{_L}?{_U}{_L}+|{_U}['\u2019]{_U}{_L}+"
)
"""``Smith``, ``Mary-Ann``, ``O'Neil`` written O'Neil, ``McDonald``, ``DeSousa``, ``Núñez``."""
_TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "prof"})
_SALUTATIONS = frozenset({"dear", "hi", "hello", "hey", "thanks"})
_ROLE_NOUNS = frozenset({"patient", "pt", "member", "client", "resident", "caller", "insured", "beneficiary"})
_CAPITALISED = re.compile(rf"(?<![\w'\u2019.-]){_U}[\w'\u2019-]*")
_RUN_GAP = re.compile(r" ")
_TITLE_GAP = re.compile(r"\.? ")


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str


def _is_title_or_initial(word: str) -> bool:
    return word.lower() in _TITLES or len(word) == 1


def _runs(text: str) -> Iterator[list[Word]]:
    """Maximal runs of capitalised words on one line, separated by spaces (and by the period of
    a title or an initial: ``Dr. J. Smith``)."""
    run: list[Word] = []
    for match in _CAPITALISED.finditer(text):
        word = Word(match.start(), match.end(), match.group())
        if run:
            gap = text[run[-1].end : word.start]
            gaps = _TITLE_GAP if _is_title_or_initial(run[-1].text) else _RUN_GAP
            if gaps.fullmatch(gap) is None:
                yield run
                run = []
        run.append(word)
    if run:
        yield run


def _core(word: str) -> str:
    """The word without a possessive ``'s``."""
    return word.removesuffix("'s").removesuffix("\u2019s")


def is_name_word(word: str, *, strong: bool = False) -> bool:
    """Shaped like a word of a person's name and with no other use in mail; after a strong
    cue only the words that address a group or a role are refused."""
    core = _core(word)
    if _NAME_WORD.fullmatch(core) is None:
        return False
    lower = core.lower()
    if strong:
        return lower not in NOT_NAMES
    return lower not in NON_NAME_WORDS and not lower.endswith(_NOUN_ENDINGS)


_CAPS_WORD = r"[A-Z][A-Z'\u2019-]+"
_CAPS_NAME = rf"(?P<name>{_CAPS_WORD},[ \t]?{_CAPS_WORD}(?:[ \t][A-Z]\.?)?)(?![\w'\u2019-])"
"""``GARCIA, MARIA`` and ``GARCIA, MARIA J``: a record system's ``LAST, FIRST`` in capitals."""


_CAPS_VALUE = re.compile(rf"[:#][ \t]*{_CAPS_NAME}")


@functools.lru_cache(maxsize=8)
def _label_before(labels: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?i:{labels})[ \t]*$")


def caps_after_labels(text: str, labels: str) -> list[tuple[int, int]]:
    """(start, end) of each ``LAST, FIRST`` in capitals right after a field label matching
    ``labels`` (``Patient: GARCIA, MARIA``) whose words are not acronyms nor words with another
    use in mail (``Re: BILLING, URGENT``)."""
    found = []
    for match in _CAPS_VALUE.finditer(text):  # the rare value first, then its label on its line
        line_start = text.rfind("\n", 0, match.start()) + 1
        if _label_before(labels).search(text, max(line_start, match.start() - 60), match.start()) is None:
            continue
        words = [w.strip(" \t.") for w in match.group("name").replace(",", " ").split()]
        full = [w for w in words if len(w) > 1]
        if len(full) >= 2 and all(is_name_word(w.title()) for w in full):
            found.append(match.span("name"))
    return found


_JOINED_BEFORE = re.compile(r"[\w'\u2019-]")
_JOINED_AFTER = re.compile(r"[\w-]")


def whole_word_at(text: str, word: str) -> Iterator[int]:
    """Where ``word`` stands on its own in ``text`` (``Ann`` not in ``Anna`` nor ``Mary-Ann``): a
    plain search per word, no expression compiled per text."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not _JOINED_BEFORE.match(text, start - 1)) and not _JOINED_AFTER.match(text, end):
            yield start
        start = text.find(word, start + 1)

"""Text patterns of the policy language, compiled once into one fast test.

A pattern is written as one of:

* ``"clinic.example"``: the whole value, exactly (case-insensitive);
* ``"*.clinic.example"``, ``"lab-?@clinic.example"``: a glob over the whole value, where ``*`` is any
  run of characters and ``?`` one character. Nothing else is special: ``[secure]`` is the literal
  text ``[secure]``, because subject tags are written with brackets and a character class there
  would silently match one letter;
* ``{contains: "[secure]"}``: the text appears anywhere in the value;
* ``{regex: "^re:"}``: a Python regular expression, searched anywhere in the value (anchor it with
  ``^`` and ``$`` for the whole value);
* a list of any of these: any one of them matches.

All matching is case-insensitive (addresses and domains are compared that way in practice, and
an admin writing ``[SECURE]`` means the same tag). Values are lower-cased once per message, so
exact patterns become one set lookup and the others one combined regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Match = Callable[[str], object]
"""A compiled pattern: takes the lower-cased value; the result is truthy when it matches.

It is a C-level callable (a set's ``__contains__`` or a compiled regex's ``search``) so that a
condition costs one Python frame, not two.
"""

_FLAGS = re.IGNORECASE | re.DOTALL
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@dataclass(frozen=True, slots=True)
class Part:
    """One written pattern: ``kind`` is ``exact``, ``glob``, ``contains`` or ``regex``."""

    kind: str
    text: str

    def __str__(self) -> str:
        verb = {"exact": "is", "glob": "matches", "contains": "contains", "regex": "matches regex"}
        return f"{verb[self.kind]} {self.text!r}"


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text


def glob_to_regex(text: str) -> str:
    """``*`` -> ``.*``, ``?`` -> ``.``, every other character literal (anchors added by the caller)."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def compile_regex(text: str) -> re.Pattern[str]:
    """Compile a written regex with the language's flags; ``re.error`` tells why it cannot be."""
    return re.compile(text, _FLAGS)


def compile_parts(parts: tuple[Part, ...]) -> Match:
    """One test for a list of patterns (any-of): a set lookup, or one regex search."""
    if all(p.kind == "exact" for p in parts):
        return frozenset(p.text.lower() for p in parts).__contains__
    whole = [
        re.escape(p.text) if p.kind == "exact" else glob_to_regex(p.text)
        for p in parts
        if p.kind in ("exact", "glob")
    ]
    pieces = [r"\A(?:" + "|".join(whole) + r")\Z"] if whole else []
    pieces += [re.escape(p.text) for p in parts if p.kind == "contains"]
    written = [p.text for p in parts if p.kind == "regex"]
    try:
        if any(_BACKREFERENCE.search(text) for text in written):
            raise re.error("a backreference cannot be combined")  # group numbers would shift
        return re.compile("|".join([*pieces, *(f"(?:{text})" for text in written)]), _FLAGS).search
    except re.error:
        # Not combinable (a backreference, a leading inline flag such as (?s), a repeated group
        # name): each written regex is searched on its own.
        searches = tuple(compile_regex(text).search for text in written)
        combined = re.compile("|".join(pieces), _FLAGS).search if pieces else None

        def match(value: str) -> bool:
            if combined is not None and combined(value) is not None:
                return True
            return any(search(value) is not None for search in searches)

        return match


def describe(parts: tuple[Part, ...]) -> str:
    """How the patterns read in a trace: ``is 'a' or matches '*.b' or matches regex '^c'``."""
    return " or ".join(str(p) for p in parts)

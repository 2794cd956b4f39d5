"""Check digits and format rules of US healthcare identifiers: pure functions of a string.

The recognizers find candidates with regular expressions; these decide whether a candidate
can be the identifier at all. Each takes the matched text (separators allowed) and returns a
bool, so they are table-tested on their own.
"""

from __future__ import annotations

import re

NPI_PREFIX = "80840"
"""The ISO card-issuer prefix CMS prepends before the Luhn check of an NPI (45 CFR 162.406)."""

DEA_FIRST_LETTERS = frozenset("ABCDEFGHJKLMPRSTUX")
"""Registrant types a DEA number may start with (DEA registration categories)."""

MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
"""Letters an MBI may use: A-Z without S, L, O, I, B, Z (CMS MBI format specification)."""

_SEPARATORS = re.compile(r"[\s\-]")
_MBI = re.compile(
    rf"[1-9][{MBI_LETTERS}][0-9{MBI_LETTERS}][0-9]"
    rf"[{MBI_LETTERS}][0-9{MBI_LETTERS}][0-9]"
    rf"[{MBI_LETTERS}][{MBI_LETTERS}][0-9][0-9]"
)


def compact(value: str) -> str:
    """The value without spaces and hyphens (how identifiers are written for display)."""
    return _SEPARATORS.sub("", value)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of digits, check digit last."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def npi_valid(value: str) -> bool:
    """A National Provider Identifier: 10 digits, starting 1 or 2, Luhn over ``80840`` + NPI."""
    digits = compact(value)
    if len(digits) != 10 or not digits.isdigit() or digits[0] not in "12":
        return False
    if len(set(digits[:-1])) == 1:  # 1111111112 and the like are test fill, not NPIs
        return False
    return luhn_valid(NPI_PREFIX + digits)


def dea_valid(value: str) -> bool:
    """A DEA registration number: registrant letter, name letter (or 9), 7 digits with a check.

    The check digit is the last digit of (d1 + d3 + d5) + 2 * (d2 + d4 + d6).
    """
    text = compact(value).upper()
    if len(text) != 9 or text[0] not in DEA_FIRST_LETTERS:
        return False
    if not (text[1].isalpha() or text[1] == "9") or not text[2:].isdigit():
        return False
    d = [int(c) for c in text[2:]]
    check = (d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])
    return check % 10 == d[6]


def mbi_valid(value: str) -> bool:
    """A Medicare Beneficiary Identifier: 11 characters, each position of the CMS class.

    Positions 1, 4, 7, 10, 11 are digits (position 1 never 0); 2, 5, 8, 9 letters; 3 and 6
    letters or digits. Letters S, L, O, I, B, Z never occur. Dashes are display-only.
    """
    return _MBI.fullmatch(compact(value).upper()) is not None


def ndc_valid(value: str) -> bool:
    """A National Drug Code in one of its printed shapes: 4-4-2, 5-3-2, 5-4-1 or 11-digit 5-4-2."""
    parts = value.split("-")
    if len(parts) == 1:
        return value.isdigit() and len(value) in (10, 11) and len(set(value)) > 1
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    shape = tuple(len(p) for p in parts)
    return shape in {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)} and any(set(p) != {"0"} for p in parts)


def cpt_valid(value: str) -> bool:
    """A CPT code (5 digits 00100-99607, or 4 digits + F/T) or a HCPCS Level II code (letter + 4).

    HCPCS Level II sections use the letters A-C, E, G-V except I, N, O, U (CMS HCPCS file);
    D codes are the dentists' CDT and are not taken.
    """
    code = value.split("-")[0].upper()
    if len(code) != 5:
        return False
    if code.isdigit():
        return 100 <= int(code) <= 99607
    if code[:4].isdigit() and code[4] in "FT":
        return True
    return code[0] in "ABCEGHJKLMPQRSTV" and code[1:].isdigit()


def icd10_valid(value: str) -> bool:
    """An ICD-10-CM code shape: letter, digit, digit or letter, then up to 4 after the dot."""
    code = value.upper()
    head, _, tail = code.partition(".")
    if len(head) != 3 or not head[0].isalpha() or not head[1].isdigit():
        return False
    if not (head[2].isdigit() or head[2] in "AB"):
        return False
    return "." not in code or (1 <= len(tail) <= 4 and tail.isalnum())


_SAMPLE_SSNS = frozenset({"123456789", "078051120", "219099999", "457555462"})
"""Numbers printed on sample cards and in advertisements, never a person's."""


def ssn_valid(value: str) -> bool:
    """Nine digits the SSA could have issued: area not 000, 666 or 900-999, group not 00, serial
    not 0000 (``123-45-6789``, ``123 45 6789`` or bare)."""
    digits = compact(value)
    if len(digits) != 9 or not digits.isdigit():
        return False
    if digits in _SAMPLE_SSNS or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"

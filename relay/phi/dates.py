"""Written dates as they appear in US mail, and whether one names a real calendar day.

Used by the DATE_OF_BIRTH recognizer: the pattern finds the date after a birth label, the
check throws out ``13/45/1980`` and other shapes that are not days.
"""

from __future__ import annotations

import datetime
import re

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"

DATE_PATTERN = (
    r"(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    rf"|{_MONTH}\s+\d{{1,2}}{_ORDINAL},?\s+\d{{4}}"
    rf"|\d{{1,2}}{_ORDINAL}\s+{_MONTH},?\s+\d{{4}})(?![\d/])"
)
"""A full date (day, month and year) in the shapes US mail uses; case-blind for month names."""

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
_MONTH_FIRST = re.compile(r"([a-z]+)\.?\s+(\d{1,2})[a-z]*,?\s+(\d{4})", re.IGNORECASE)
_DAY_FIRST = re.compile(r"(\d{1,2})[a-z]*\s+([a-z]+)\.?,?\s+(\d{4})", re.IGNORECASE)

TWO_DIGIT_YEAR_PIVOT = 30
"""``01/02/25`` is 2025 but ``01/02/45`` is 1945: birth dates lie in the past."""


def _real(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return 1850 <= year <= 2199


def is_calendar_date(text: str) -> bool:
    """True when ``text`` (a :data:`DATE_PATTERN` match) names a day that exists."""
    text = text.strip()
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _real(year, month, day)
    if match := _NUMERIC.fullmatch(text):
        first, second, year_text = match.groups()
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000 if year < TWO_DIGIT_YEAR_PIVOT else 1900
        # US order first (month/day), then day/month as written elsewhere.
        return _real(year, int(first), int(second)) or _real(year, int(second), int(first))
    for pattern, month_group, day_group in ((_MONTH_FIRST, 1, 2), (_DAY_FIRST, 2, 1)):
        if match := pattern.fullmatch(text):
            month_number = _MONTHS.get(match.group(month_group)[:3].lower())
            if month_number is None:
                return False
            return _real(int(match.group(3)), month_number, int(match.group(day_group)))
    return False

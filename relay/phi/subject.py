"""Is the health talk of a message about an individual?

A name next to health words is PHI when the health words are about someone: *your* results,
*the patient's* refill, *she* was admitted, *my* new pill makes *me* cough, a *94yo* man. A
newsletter quoting its chief medical officer on sepsis bundles, a webinar led by a cardiologist,
a press release quoting a medical director or a welcome mail for a new physician name people
and talk about health, but about no one's health. :func:`is_personal` tells the two apart from
the wording alone, with markers a clinician would name:

* a patient referred to as one (``the patient``, ``your patient``, ``pt``, ``Patient:``);
* a person's age as clinical notes give it (``94yo``, ``59-year-old``, ``92 y/o``);
* clinical events that happen to someone (``was admitted``, ``discharged``, ``diagnosed with``,
  ``presented with``, ``denies``, ``tested positive``, ``came back positive``, ``refill``);
* a family member of someone (``his daughter``, ``Kwame's son``);
* a pronoun (``he``, ``she``, ``I``, ``my``, ``you``, ``your`` ...) in the same sentence as a
  clinical term or a symptom (``your A1c``, ``makes me cough``, ``he fell``).

A generic ``a patient with diabetes`` or ``see patients`` is not a marker: guidelines, coding
tips and announcements speak of patients in general. Pure functions over strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_PATIENT = re.compile(
    r"\b(?:(?:the|this|that|your|our|my|his|her|their)\s+(?:patient|pt)(?:'s)?\b(?!s)|pt\b\.?\s|"
    r"patient\s*(?:name\s*)?:|\(patient\))"
)
_AGE = re.compile(r"\b\d{1,3}\s?(?:yo|y/o|y\.o\.|-?years?-old|\s?years?\s+old|-?months?-old|yo\s?[mf])\b")
_EVENTS = re.compile(
    r"\b(?:was|were|is|been|got|get|being)\s+(?:admitted|discharged|diagnosed|seen|treated|transferred|"
    r"hospitali[sz]ed|readmitted)\b|\b(?:diagnosed\s+with|presented\s+with|presents\s+with|complains\s+of|"
    r"c/o|denies|tested\s+(?:positive|negative)|came\s+back\s+(?:positive|negative|normal|abnormal|elevated)|"
    r"refills?\s+(?:for|of|request)|history\s+of|hx\s+of|follow[- ]up\s+with)\b"
)
_FAMILY = re.compile(
    r"(?:'s|\b(?:his|her|their|my|your))\s+(?:daughter|son|wife|husband|mother|father|mom|dad|"
    r"spouse|caregiver|guardian|parent|parents|child|baby|grandson|granddaughter|sister|brother)\b"
)
_POSSESSED_CARE = re.compile(
    r"\b(?:your|my|his|her|their)\s+(?:[a-z-]+\s+)?(?:labs?|results?|appointments?|visit|procedure|surgery|"
    r"medications?|meds|prescriptions?|refills?|dose|scan|tests?|x-ray|imaging|follow-up|treatment|"
    r"diagnosis|condition|symptoms|chart|records?|doctor|physician|provider|nurse|therapy|care|"
    r"claim|bill|balance|copay|coverage|blood|pressure|levels?|pill|shots?|vaccines?)\b"
)
_BROADCAST = re.compile(
    r"\b(?:join\s+(?:us|me)|please\s+join|webinars?|register\s+(?:today|now|here|online|by)|rsvp|"
    r"grand\s+rounds|cmes?|ceus?|continuing\s+(?:medical\s+)?education|speakers?|keynote|"
    r"will\s+(?:speak|present|lead|host|moderate|teach)|presenting|seminars?|workshops?|symposium|"
    r"conference|seats\s+are\s+limited|for\s+immediate\s+release|press\s+release|media\s+contact|"
    r"newsletter|unsubscribe|welcom(?:e|ing)\s+(?:dr\b|our\s+new|new)|joins\s+(?:us|our|the)|"
    r"credential(?:ing|ed)|license\s+renewal|health\s+fair|classes|class\s+on|sign\s+up|"
    r"from\s+the\s+(?:chief|ceo|cmo|president|medical\s+director|desk)|all[- ]staff|town\s+hall|"
    r"open\s+house|ribbon\s+cutting|corner|column|spotlight|bulletin|digest|"
    r"quality\s+(?:measures?|metrics?|improvement|report)|our\s+(?:[a-z-]+\s+){0,4}rates?|"
    r"(?:coding|billing|documentation)\s+(?:tips?|reminders?|updates?|refreshers?|guidance)|tips?\s+of\s+the|"
    r"refresher|audit\s+findings|education\s+sessions?|journal\s+club|in-?service|"
    r"surveillance|health\s+(?:alert|advisory)|outbreak|clinicians\s+should|providers\s+should|"
    r"(?:confirmed|reported|suspected)\s+cases|formulary|p&t|questions\s+(?:to|about|regarding)|"
    r"(?:committee|council|board|meeting)\b[^\n]{0,30}\bminutes|minutes\s+of\s+the|next\s+meeting|quorum|"
    r"(?:^|\n)(?:present|attendees|absent)\s*:|action\s+items|"
    r"de-?identified|abstracts?|posters?|manuscripts?|cohorts?|"
    r"no\s+patient[- ](?:level|specific|identifying|identifiable)\s+(?:data|information|details))\b"
)
"""Mail to an audience (events, speakers, press, newsletters and their columns, classes, a
department's quality rates, coding and billing education, audits, journal clubs, public-health
alerts and surveillance, formulary changes) or about a clinician's work (a new physician,
credentialing, research: an abstract, a poster, a de-identified cohort), or the minutes of a
committee (attendance, next meeting): names in it are
speakers, hosts, authors, members and staff."""
_PRONOUN = re.compile(r"\b(?:he|she|him|his|her|hers|i|i'm|i've|me|my|you|your|you're)\b")
_OWN_WORK = re.compile(
    r"\b(?:your|my|his|her|their)\s+(?:abstract|poster|paper|manuscript|talk|presentation|study|research|"
    r"grant|proposal|article|thesis|lecture|slides)\b"
)
_SENTENCE = re.compile(r"[^.!?\n]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")

_SYMPTOM_WORDS = """
    pain fever cough coughing rash fatigue tired headache headaches swelling swollen bleeding dizzy
    dizziness faint fainted injury wound infection fell fall vomiting nausea chills sore itchy
    itching shortness breath breathing sleep sleeping ache aches sick ill worse better
"""
SYMPTOMS = frozenset(_SYMPTOM_WORDS.split())
"""Words of a complaint: with a pronoun, what a patient says of themself."""


def is_broadcast(text: str) -> bool:
    """Whether ``text`` (lower case) is addressed to an audience or about a clinician's work."""
    return _BROADCAST.search(text) is not None


def is_personal(text: str, is_clinical: Callable[[str], bool]) -> bool:
    """Whether ``text`` (lower case) talks about an individual's health; ``is_clinical`` tells a
    clinical term (:mod:`relay.phi.health`)."""
    if any(p.search(text) for p in (_PATIENT, _AGE, _FAMILY, _POSSESSED_CARE)):
        return True
    if any(not _condition_before(text, event.start(), is_clinical) for event in _EVENTS.finditer(text)):
        return True
    for sentence in _SENTENCE.finditer(text):
        part = sentence.group()
        if _PRONOUN.search(part) is None or _OWN_WORK.search(part) is not None:
            continue  # "your abstract on readmissions after CABG": a clinician's work, not a body
        if any(word in SYMPTOMS or is_clinical(word) for word in _WORD.findall(part)):
            return True
    return False


_WORD_BEFORE = re.compile(r"([a-z][a-z'\-]*)\s+$")


def _condition_before(text: str, start: int, is_clinical: Callable[[str], bool]) -> bool:
    """Whether the event at ``start`` happens to a condition, not a person ("the malignancy being
    treated", "infections were treated"): the word right before it is a clinical term."""
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    return before is not None and is_clinical(before.group(1))

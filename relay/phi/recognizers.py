"""The healthcare recognizer pack, built on Presidio's PatternRecognizer.

Each entity is described once, as a :class:`Spec` (patterns, context words, a pure check
from :mod:`relay.phi.checksums` or :mod:`relay.phi.dates`), and :func:`healthcare_recognizers`
turns the specs into Presidio recognizers. Two kinds of pattern are used:

* *anchored*: the label is part of the pattern, as a variable-length lookbehind (the ``regex``
  module Presidio uses allows it), so ``MRN: 00123456`` yields the number alone, sure (0.85+);
* *bare*: the value shape alone, with a low score that only context words near it
  (:mod:`relay.phi.context_window`) lift over the reporting threshold.

A check digit is a gate, not a proof: a candidate that fails it is dropped, one that passes
keeps its pattern's score (one random number in ten passes a mod-10 check).

The recognizers that read names rather than patterns are in :mod:`relay.phi.name_recognizers`.
"""

from __future__ import annotations

import re

from presidio_analyzer import PatternRecognizer

from relay.phi import checksums, dates
from relay.phi.pattern_pack import CASE_BLIND, CheckedPatternRecognizer, Spec

_L = checksums.MBI_LETTERS


_LABEL_TAIL = r"\s{0,3}(?:[:#=]|no\.?|number|num\.?|is)?[\s:#]{0,3}"
"""What may stand between a label and its value: ``MRN: ``, ``chart # ``, ``NPI number ``."""


def _label(words: str, value: str, guard: str = r"\d") -> str:
    """``value`` right after a case-blind label (``MRN``, ``MRN:``, ``MRN #`` ...), label excluded.

    The label is a variable-length lookbehind, so Presidio reports the value alone. A lookbehind
    tried at every position of a long text is slow: the ``guard`` lookahead (how the value
    starts) is tried first, so the label is looked for only where a value can begin.
    """
    return rf"(?={guard})(?<=(?i:\b(?:{words}){_LABEL_TAIL}))" + value


_OTHER_NUMBER_LABEL = (
    r"claim|invoice|account|acct|order|reference|ref|confirmation|ticket|case|tracking|transaction|"
    r"receipt|check|room|suite|ext|extension|zip|po"
)
"""Labels of numbers that identify no person (``Claim CLM123456789``, ``Invoice 123456``)."""


def _not_after(labels: str, value: str, guard: str) -> str:
    """``value`` unless right after one of ``labels``: a bare candidate labelled as another
    identifier (``Member ID: M89458318`` is no MRN) or as a claim, invoice ... is not this one.
    The ``guard`` lookahead keeps the lookbehind to where a value can begin."""
    return rf"\b(?={guard})(?<!(?i:\b(?:{labels}){_LABEL_TAIL}))" + value


def _not_all_same(value: str) -> bool:
    digits = [c for c in value if c.isdigit()]
    return len(digits) >= 4 and len(set(digits)) > 1


_NPI_LABEL = r"npi|national\s+provider\s+(?:identifier|id)"
_DEA_LABEL = r"dea(?:\s+registration)?"
_MBI_LABEL = r"mbi|medicare(?:\s+(?:beneficiary\s+)?(?:id|number|no\.?|#))?"
_PLAN_LABEL = (
    r"(?:member|subscriber|policy(?:holder)?|insurance|ins\.?|insured|medicaid|enrollee|health\s+plan|plan\s+member)"
    r"\s*(?:id(?:entification)?|number|num\.?|no\.?|#)"
)
_MRN_LABEL = (
    r"mrn|mr\s?#|mr\s?no\.?|medical\s+record(?:\s+(?:number|no\.?|#|id))?|chart\s+(?:number|no\.?|#)"
    r"|med\.?\s+rec\.?(?:\s+(?:number|no\.?|#))?"
    r"|patient\s+(?:id|number|no\.?|#)|hospital\s+(?:number|no\.?)|record\s+(?:number|no\.?|#)"
    r"|e[mh]r(?:\s+(?:id|number|no\.?|#))?|acct\.?\s*/\s*mrn|chart\s+id|pt\.?\s*(?:id|no\.|#)|unit\s+(?:number|no\.?)"
)
MEDICAL_RECORD_NUMBER = Spec(
    entity="MEDICAL_RECORD_NUMBER",
    label=_MRN_LABEL,
    patterns=(
        ("MRN labelled", _label(_MRN_LABEL, r"[A-Z]{0,3}-?\d{5,12}\b", guard=r"[A-Z]{0,3}-?\d"), 0.85),
        ("MRN labelled, grouped", _label(_MRN_LABEL, r"\d{2,4}-\d{2,4}-\d{2,4}\b"), 0.85),
        ("MRN labelled, site-prefixed", _label(_MRN_LABEL, r"\d{2,5}-\d{5,9}\b"), 0.85),
        (
            "MRN bare (needs context)",
            _not_after(
                rf"{_PLAN_LABEL}|{_NPI_LABEL}|{_DEA_LABEL}|{_MBI_LABEL}|{_OTHER_NUMBER_LABEL}",
                r"[A-Z]{0,3}\d{6,10}\b",
                guard=r"[A-Z]{0,3}\d{6}",
            ),
            0.05,
        ),
    ),
    context=(
        "mrn",
        "medical record",
        "record number",
        "chart number",
        "mr#",
        "patient id",
        "hospital number",
        "emr",
        "chart",
    ),
    check=_not_all_same,
)

US_NPI = Spec(
    entity="US_NPI",
    label=_NPI_LABEL,
    patterns=(
        ("NPI labelled", _label(_NPI_LABEL, r"[12]\d{9}\b", guard="[12]"), 0.9),
        ("NPI bare (needs context)", r"\b[12]\d{9}\b", 0.3),
        ("NPI grouped (needs context)", r"\b[12]\d{3}[ -]\d{3}[ -]\d{3}\b", 0.3),
    ),
    context=(
        "npi",
        "national provider",
        "provider id",
        "provider number",
        "prescriber",
        "referring",
        "rendering",
    ),
    check=checksums.npi_valid,
)

_DEA = r"[A-Z][A-Z9]\d{7}\b"
US_DEA_NUMBER = Spec(
    entity="US_DEA_NUMBER",
    label=_DEA_LABEL,
    patterns=(
        ("DEA labelled", _label(_DEA_LABEL, _DEA, guard=r"[A-Z][A-Z9]\d"), 0.9),
        (
            "DEA bare",
            _not_after(
                rf"{_MRN_LABEL}|{_PLAN_LABEL}|{_NPI_LABEL}|{_MBI_LABEL}|{_OTHER_NUMBER_LABEL}",
                r"[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}\b",
                guard=r"[A-Z][A-Z9]\d{7}",
            ),
            0.5,
        ),
    ),
    context=("dea", "registration", "prescriber", "controlled substance"),
    check=checksums.dea_valid,
)

_MBI_PLAIN = rf"[1-9][{_L}][0-9{_L}]\d[{_L}][0-9{_L}]\d[{_L}][{_L}]\d\d"
_MBI_DASHED = rf"[1-9][{_L}][0-9{_L}]\d-[{_L}][0-9{_L}]\d-[{_L}][{_L}]\d\d"
US_MBI = Spec(
    entity="US_MBI",
    label=_MBI_LABEL,
    patterns=(
        ("MBI labelled", _label(_MBI_LABEL, rf"(?:{_MBI_DASHED}|{_MBI_PLAIN})\b", guard="[1-9]"), 0.9),
        ("MBI", rf"\b{_MBI_PLAIN}\b", 0.5),
        ("MBI dashed", rf"\b{_MBI_DASHED}\b", 0.6),
    ),
    context=("mbi", "medicare", "beneficiary", "hicn", "cms"),
    check=checksums.mbi_valid,
)

_PLAN_ID = r"[A-Z0-9](?:[A-Z0-9-]{4,18})[A-Z0-9]\b"
HEALTH_PLAN_ID = Spec(
    entity="HEALTH_PLAN_ID",
    label=_PLAN_LABEL,
    patterns=(
        ("plan ID labelled", _label(_PLAN_LABEL, _PLAN_ID, guard=r"\b[A-Z0-9-]{0,19}\d"), 0.85),
        (
            "plan ID bare (needs context)",
            _not_after(rf"{_MRN_LABEL}|{_OTHER_NUMBER_LABEL}", r"[A-Z]{3}\d{6,12}\b", guard=r"[A-Z]{3}\d{6}"),
            0.1,
        ),
    ),
    context=("member", "subscriber", "policy", "insurance", "insured", "medicaid", "health plan", "payer"),
    check=_not_all_same,
    flags=CASE_BLIND,
)

_ICD = r"[A-Z]\d[0-9AB](?:\.[0-9A-Z]{1,4})?\b"
_ICD_LABEL = r"icd(?:-?10)?(?:-?cm)?(?:\s+code)?|dx|diagnosis\s+code"
ICD10_CODE = Spec(
    entity="ICD10_CODE",
    label=_ICD_LABEL,
    patterns=(
        ("ICD-10 labelled", _label(_ICD_LABEL, _ICD, guard=r"[A-Z]\d"), 0.85),
        ("ICD-10 with decimals (needs context)", r"\b[A-Z]\d[0-9AB]\.[0-9A-Z]{1,4}\b", 0.3),
        ("ICD-10 category (needs context)", r"\b[A-Z]\d[0-9AB]\b", 0.1),
        ("ICD-10 in parentheses after words", r"(?<=[a-z][ \t]\()[A-Z]\d[0-9AB]\.[0-9A-Z]{1,4}(?=\))", 0.45),
    ),
    context=("icd", "diagnosis", "diagnoses", "diagnosed", "dx", "diagnostic"),
    check=checksums.icd10_valid,
)

_CPT = r"(?:\d{5}|\d{4}[FT]|[A-CEG-HJ-MP-TV]\d{4})\b"


def _after_service(guard: str, value: str, *, opening: str = "") -> str:
    """``value`` right after a lower-case word (and ``opening``) that is not the label of another
    number: how bills and letters cite a code after the service (``colonoscopy 45378 - $197.63``,
    ``office visit (99203)``). The ``guard`` lookahead is tried first, as in :func:`_label`."""
    return rf"(?={guard})(?<=[a-z][ \t]{opening})(?<!(?i:\b(?:{_OTHER_NUMBER_LABEL})[ \t]{opening}))" + value


_CPT_LABEL = r"cpt(?:\s+code)?|hcpcs(?:\s+code)?|procedure\s+code"
CPT_CODE = Spec(
    entity="CPT_CODE",
    label=_CPT_LABEL,
    patterns=(
        ("CPT labelled", _label(_CPT_LABEL, _CPT, guard=r"[A-Z]?\d"), 0.85),
        ("CPT category I (needs context)", r"\b\d{5}\b", 0.05),
        ("CPT II/III or HCPCS (needs context)", r"\b(?:\d{4}[FT]|[A-CEG-HJ-MP-TV]\d{4})\b", 0.2),
        ("CPT in parentheses after a service", _after_service(r"\w{5}\)", _CPT, opening=r"\("), 0.45),
        ("CPT before a charge", _after_service(r"\w{5}[ \t]{1,3}[-\u2013:]?[ \t]{0,3}\$\d", _CPT), 0.45),
    ),
    context=("cpt", "hcpcs", "procedure code", "billed", "billing code", "modifier", "claim line"),
    check=checksums.cpt_valid,
)

_NDC = r"(?:\d{4,5}-\d{3,4}-\d{1,2}|\d{10,11})\b"
_NDC_LABEL = r"ndc|national\s+drug\s+code"
NDC_CODE = Spec(
    entity="NDC_CODE",
    label=_NDC_LABEL,
    patterns=(
        ("NDC labelled", _label(_NDC_LABEL, _NDC), 0.9),
        ("NDC hyphenated", r"\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})\b", 0.5),
        ("NDC digits only (needs context)", r"\b\d{10,11}\b", 0.05),
    ),
    context=("ndc", "national drug code", "drug code"),
    check=checksums.ndc_valid,
)

_BIRTH_LABEL = (
    r"(?:dob|d\.\s?o\.\s?b\.?|date\s+of\s+birth|birth\s?date|birthday|born(?:\s+on)?|b\.)"
    r"(?:\s+on\s+(?:file|record))?"
)
_DATE_START = r"\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
DATE_OF_BIRTH = Spec(
    entity="DATE_OF_BIRTH",
    label=_BIRTH_LABEL,
    patterns=(
        ("date after a birth label", _label(_BIRTH_LABEL, dates.DATE_PATTERN, guard=_DATE_START), 0.9),
    ),
    context=("dob", "birth", "born"),
    check=dates.is_calendar_date,
    flags=CASE_BLIND,
)

_AGE_90_PLUS = r"(?:9\d|1[01]\d)"
_YEARS_OLD = r"[\s-]{0,2}(?:(?:years?|yrs?)[\s-]{0,2}old|y/o|y\.o\.|yo(?:[mf](?![a-z]))?)(?![a-z])"
_SEX = r"(?-i:[MF])(?![\w/.%-])"
"""``91F``, ``93 M``: an age and the patient's sex, as triage and EMS notes write them (upper case only:
``95 m`` may be metres)."""
AGE_OVER_89 = Spec(
    entity="AGE_OVER_89",
    patterns=(
        ("age before years old", rf"\b{_AGE_90_PLUS}(?={_YEARS_OLD})", 0.85),
        ("age after an age label", rf"(?=9|1[01])(?<=\bage[d]?\s{{0,2}}:?\s{{0,2}}){_AGE_90_PLUS}\b", 0.85),
        ("age before the sex", rf"\b{_AGE_90_PLUS}(?=\s?{_SEX})", 0.7),
        (
            "age after a pronoun",
            rf"(?=9|1[01])(?<=\b(?:she|he)(?:'s|\u2019s|\s+is|\s+turned|\s+turns)\s){_AGE_90_PLUS}(?![\d%./:,-]\d|\s?%)\b",
            0.6,
        ),
    ),
    context=("age", "aged", "year-old", "years old"),
    check=lambda value: 90 <= int(value) <= 119,
    flags=CASE_BLIND,
)

_SSN_LABEL = (
    r"ssn|ss\s?#|ss\s?no\.?|soc\.?\s+sec\.?(?:\s+(?:number|no\.?|#))?"
    r"|social\s+security(?:\s+(?:number|no\.?|#))?"
)
US_SSN = Spec(
    entity="US_SSN",
    label=_SSN_LABEL,
    patterns=(("SSN labelled", _label(_SSN_LABEL, r"\d{3}([- ]?)\d{2}\1\d{4}\b"), 0.85),),
    context=("ssn", "social security"),
    check=checksums.ssn_valid,
    flags=CASE_BLIND,
)
"""Presidio's SSN recognizer wants its context words near; a labelled value (``SS#``, ``soc sec``)
needs none."""

IDENTIFIER_LABEL = re.compile(
    rf"(?i)\b(?:{_MRN_LABEL}|{_SSN_LABEL}|{_NPI_LABEL}|{_DEA_LABEL}|{_MBI_LABEL}|{_PLAN_LABEL}){_LABEL_TAIL}$"
)
"""The label of one of the pack's identifiers, ending where it is searched up to: a value right
after it is that identifier, whatever else its shape fits (a 10-digit MRN is not a phone)."""

SPECS: tuple[Spec, ...] = (
    MEDICAL_RECORD_NUMBER,
    US_NPI,
    US_DEA_NUMBER,
    US_MBI,
    HEALTH_PLAN_ID,
    ICD10_CODE,
    CPT_CODE,
    NDC_CODE,
    DATE_OF_BIRTH,
    AGE_OVER_89,
    US_SSN,
)
HEALTHCARE_ENTITIES: tuple[str, ...] = tuple(spec.entity for spec in SPECS)


def healthcare_recognizers(min_score: float) -> list[tuple[PatternRecognizer, bool]]:
    """Fresh recognizers of the pack, each with whether it needs context words in the text.

    A spec's patterns that score below ``min_score`` cannot be reported without a context word
    near the match; they go to a second recognizer, which the scanner runs only on texts that
    contain one of the spec's context words at all.
    """
    built: list[tuple[PatternRecognizer, bool]] = []
    for spec in SPECS:
        anchor = f"(?<=(?i:\\b(?:{spec.label})" if spec.label else None
        labelled = [p for p in spec.patterns if anchor is not None and anchor in p[1]]
        sure = [p for p in spec.patterns if p[2] >= min_score and p not in labelled]
        weak = [p for p in spec.patterns if p[2] < min_score and p not in labelled]
        if labelled:
            recognizer = CheckedPatternRecognizer(
                spec, labelled, name=f"relay:{spec.entity}:labelled", windowed=True
            )
            built.append((recognizer, False))
        if sure:
            built.append((CheckedPatternRecognizer(spec, sure, name=f"relay:{spec.entity}"), False))
        if weak:
            built.append((CheckedPatternRecognizer(spec, weak, name=f"relay:{spec.entity}:context"), True))
    return built

"""The PHI verdict: findings plus the health signal in, a :class:`PhiResult` out. Pure.

HIPAA's PHI is individually identifiable *health* information. So the rule is:

* a **patient identifier** (MEDICAL_RECORD_NUMBER, HEALTH_PLAN_ID, US_MBI, US_SSN) is PHI on its
  own: it exists to identify a person in a health (or high-risk) record;
* a **person identifier** (a name, date of birth, age over 89, phone, email, card, licence,
  passport, bank or tax number) is PHI only *with health context about someone*: a colleague's
  name in a budget mail is not PHI, the same name next to "your A1c results" is; a webinar's
  speaker or a newsletter's author in mail that says nothing of an individual's health is not
  (:mod:`relay.phi.subject`);
* **provider identifiers** (US_NPI, US_DEA_NUMBER) identify clinicians and pharmacies, not
  patients: they never decide on their own, they only add (weak) health context;
* **clinical codes** (ICD10_CODE, CPT_CODE, NDC_CODE) describe care: strong health context;
* everything else (DATE_TIME, LOCATION, URL, IP_ADDRESS, NRP, ...) is reported but decides
  nothing: generic dates, places, organisations and links appear in every newsletter.

Every finding is kept in the result, whatever the verdict. ``phi_score`` is 0.5 or more exactly
when ``contains_phi`` holds; see :func:`decide` for the formula.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from relay.model import Finding, FindingSummary, PhiResult
from relay.phi.health import PRESENT_AT as CONTEXT_PRESENT_AT
from relay.phi.health import SATURATION as CONTEXT_SATURATION
from relay.phi.health import STRONG, WEAK, HealthSignal

PHI_THRESHOLD = 0.5
"""``contains_phi`` holds exactly when ``phi_score`` reaches this."""
MIN_DECIDING_SCORE = 0.4
"""Findings below this score are reported but never decide (Presidio's context minimum)."""


class Role(enum.Enum):
    """What an entity type means for the verdict."""

    PATIENT_IDENTIFIER = "patient"
    PERSON_IDENTIFIER = "person"
    PROVIDER_IDENTIFIER = "provider"
    CLINICAL_CODE = "code"
    OTHER = "other"


ROLES: Mapping[str, Role] = {
    "MEDICAL_RECORD_NUMBER": Role.PATIENT_IDENTIFIER,
    "HEALTH_PLAN_ID": Role.PATIENT_IDENTIFIER,
    "US_MBI": Role.PATIENT_IDENTIFIER,
    "US_SSN": Role.PATIENT_IDENTIFIER,
    "PERSON": Role.PERSON_IDENTIFIER,
    "DATE_OF_BIRTH": Role.PERSON_IDENTIFIER,
    "AGE_OVER_89": Role.PERSON_IDENTIFIER,
    "PHONE_NUMBER": Role.PERSON_IDENTIFIER,
    "EMAIL_ADDRESS": Role.PERSON_IDENTIFIER,
    "CREDIT_CARD": Role.PERSON_IDENTIFIER,
    "US_BANK_NUMBER": Role.PERSON_IDENTIFIER,
    "IBAN_CODE": Role.PERSON_IDENTIFIER,
    "US_DRIVER_LICENSE": Role.PERSON_IDENTIFIER,
    "US_PASSPORT": Role.PERSON_IDENTIFIER,
    "US_ITIN": Role.PERSON_IDENTIFIER,
    "US_NPI": Role.PROVIDER_IDENTIFIER,
    "US_DEA_NUMBER": Role.PROVIDER_IDENTIFIER,
    "ICD10_CODE": Role.CLINICAL_CODE,
    "CPT_CODE": Role.CLINICAL_CODE,
    "NDC_CODE": Role.CLINICAL_CODE,
}
"""Entity types not listed here have :attr:`Role.OTHER`."""

_CONTEXT_WEIGHT = {Role.CLINICAL_CODE: STRONG, Role.PROVIDER_IDENTIFIER: WEAK}


def role_of(entity_type: str) -> Role:
    return ROLES.get(entity_type, Role.OTHER)


def _best(findings: Sequence[Finding], role: Role) -> float:
    return max((f.score for f in findings if role_of(f.entity_type) is role), default=0.0)


_PERSONAL_TYPES = frozenset({"DATE_OF_BIRTH", "AGE_OVER_89"})
"""Person identifiers that describe the body of whom they identify: always about someone."""
CONTACT_TYPES = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"})
"""Person identifiers that are also how a department or a sender is reached (``Data questions:
epi@example.org``): next to health words about no one, they identify no patient."""


def _about_someone(deciding: Sequence[Finding], signal: HealthSignal) -> bool:
    """Whether the health context can be about a person the message identifies: not when the
    message speaks to an audience or of a clinician's work (a webinar's speaker, a new physician,
    a newsletter's author) and nothing in it is about an individual's health, nor when its only
    person identifiers are contact details (an email address, a phone number) and nothing in it
    is about an individual's health."""
    if signal.personal or any(f.entity_type in _PERSONAL_TYPES for f in deciding):
        return True
    if signal.broadcast:
        return False
    person = (f.entity_type for f in deciding if role_of(f.entity_type) is Role.PERSON_IDENTIFIER)
    return any(entity not in CONTACT_TYPES for entity in person)


def summarize(findings: Sequence[Finding]) -> tuple[FindingSummary, ...]:
    """Count and best score per entity type, in name order (what policies match on)."""
    counts: dict[str, int] = {}
    best: dict[str, float] = {}
    for finding in findings:
        counts[finding.entity_type] = counts.get(finding.entity_type, 0) + 1
        best[finding.entity_type] = max(best.get(finding.entity_type, 0.0), finding.score)
    return tuple(
        FindingSummary(entity_type=name, count=counts[name], max_score=best[name]) for name in sorted(counts)
    )


def decide(
    findings: Sequence[Finding],
    signal: HealthSignal,
    *,
    unscannable: bool = False,
    min_score: float = MIN_DECIDING_SCORE,
) -> PhiResult:
    """The verdict for one message.

    Health context is the text's signal plus, per entity type found, 1 for clinical codes and
    0.4 for provider identifiers; it is present from 1 (see :mod:`relay.phi.health`), its
    strength ``s`` is that weight over 3, capped at 1. With ``p`` the best patient-identifier
    score and ``q`` the best person-identifier score (findings under ``min_score`` ignored):

    * patient identifier found: ``phi_score = 0.5 + 0.5 * max(p, q * s)``;
    * person identifier with health context about someone (not mail to an audience or about a
      clinician's work unless it is also about an individual's health, or the identifier is a
      birth date or a great age): ``phi_score = 0.5 + 0.5 * q * s``;
    * otherwise ``phi_score = 0.25 * q + 0.2 * s`` (under 0.5: how close the message came).
    """
    deciding = [f for f in findings if f.score >= min_score]
    context_types = {f.entity_type for f in deciding if role_of(f.entity_type) in _CONTEXT_WEIGHT}
    weight = signal.weight + sum(_CONTEXT_WEIGHT[role_of(name)] for name in context_types)
    health_context = weight >= CONTEXT_PRESENT_AT
    strength = min(1.0, weight / CONTEXT_SATURATION)

    patient = _best(deciding, Role.PATIENT_IDENTIFIER)
    person = _best(deciding, Role.PERSON_IDENTIFIER)

    if patient > 0.0:
        score = PHI_THRESHOLD + 0.5 * max(patient, person * strength)
    elif person > 0.0 and health_context and _about_someone(deciding, signal):
        score = PHI_THRESHOLD + 0.5 * person * strength
    else:
        score = 0.25 * person + 0.2 * strength
    score = round(min(1.0, score), 3)
    return PhiResult(
        contains_phi=score >= PHI_THRESHOLD,
        phi_score=score,
        findings=tuple(findings),
        summary=summarize(findings),
        health_context=health_context,
        unscannable=unscannable,
    )

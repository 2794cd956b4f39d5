"""The PHI verdict (relay.phi.verdict) and the health signal (relay.phi.health): pure, table-tested."""

from __future__ import annotations

import pytest

from relay.model import Finding, FindingSummary
from relay.phi import health
from relay.phi.health import HealthSignal
from relay.phi.verdict import PHI_THRESHOLD, Role, decide, role_of, summarize

NO_CONTEXT = HealthSignal()
CLINICAL = HealthSignal(weight=2.0, terms=2)
"""Two clinical terms: health context, strength 2/3."""
WEAK_CONTEXT = HealthSignal(weight=0.8, terms=2)
"""Two care words ("clinic", "appointment"): not enough for health context."""


def f(entity_type: str, score: float = 0.85, start: int = 0, part: str = "1") -> Finding:
    return Finding(entity_type=entity_type, score=score, part=part, start=start, end=start + 5)


VERDICTS = [
    # (findings, signal, contains_phi, health_context)
    ([], NO_CONTEXT, False, False),
    ([], CLINICAL, False, True),
    ([f("MEDICAL_RECORD_NUMBER")], NO_CONTEXT, True, False),
    ([f("HEALTH_PLAN_ID")], NO_CONTEXT, True, False),
    ([f("US_MBI")], NO_CONTEXT, True, False),
    ([f("US_SSN")], NO_CONTEXT, True, False),
    ([f("PERSON")], NO_CONTEXT, False, False),
    ([f("PERSON")], WEAK_CONTEXT, False, False),
    ([f("PERSON")], CLINICAL, True, True),
    ([f("PERSON"), f("ICD10_CODE", start=10)], NO_CONTEXT, True, True),
    # a contact address next to codes, nothing about anyone's health: a bulletin's mailbox
    ([f("EMAIL_ADDRESS"), f("CPT_CODE", start=10)], NO_CONTEXT, False, True),
    ([f("EMAIL_ADDRESS"), f("CPT_CODE", start=10)], HealthSignal(personal=True), True, True),
    ([f("PHONE_NUMBER"), f("PERSON", start=10), f("CPT_CODE", start=20)], NO_CONTEXT, True, True),
    ([f("DATE_OF_BIRTH")], CLINICAL, True, True),
    ([f("DATE_OF_BIRTH")], NO_CONTEXT, False, False),
    ([f("AGE_OVER_89")], CLINICAL, True, True),
    ([f("PHONE_NUMBER")], HealthSignal(weight=2.0, terms=2, personal=True), True, True),
    ([f("US_NPI")], NO_CONTEXT, False, False),
    ([f("US_DEA_NUMBER")], CLINICAL, False, True),
    ([f("PERSON"), f("US_NPI", start=10)], NO_CONTEXT, False, False),
    ([f("PERSON"), f("US_NPI", start=10)], HealthSignal(weight=0.6, terms=1), True, True),
    ([f("DATE_TIME"), f("LOCATION", start=10), f("URL", start=20)], CLINICAL, False, True),
    ([f("ORGANIZATION"), f("NRP", start=10)], CLINICAL, False, True),
    ([f("PERSON", score=0.3)], CLINICAL, False, True),
    ([f("US_SSN", score=0.39)], NO_CONTEXT, False, False),
    ([f("ICD10_CODE"), f("NDC_CODE", start=10)], NO_CONTEXT, False, True),
]
VERDICT_IDS = [
    "nothing",
    "clinical-words-only",
    "mrn-alone",
    "plan-id-alone",
    "mbi-alone",
    "ssn-alone",
    "name-in-business-mail",
    "name-with-care-words-only",
    "name-with-clinical-context",
    "name-with-diagnosis-code",
    "contact-email-with-procedure-code-about-no-one",
    "email-with-procedure-code-about-someone",
    "name-and-phone-with-procedure-code",
    "dob-with-context",
    "dob-without-context",
    "age-over-89-with-context",
    "phone-with-context",
    "npi-alone",
    "dea-with-context",
    "provider-directory-entry",
    "name-npi-and-a-clinical-word",
    "generic-types-with-context",
    "organisation-and-nationality",
    "low-score-name",
    "low-score-ssn",
    "codes-without-identifier",
]


@pytest.mark.parametrize(("findings", "signal", "phi", "context"), VERDICTS, ids=VERDICT_IDS)
def test_verdict(findings: list[Finding], signal: HealthSignal, phi: bool, context: bool) -> None:
    result = decide(findings, signal)
    assert result.contains_phi is phi
    assert result.health_context is context
    assert 0.0 <= result.phi_score <= 1.0
    assert (result.phi_score >= PHI_THRESHOLD) is phi
    assert result.findings == tuple(findings), "every finding is reported, whatever the verdict"
    assert result.unscannable is False


def test_score_rises_with_evidence() -> None:
    name_only = decide([f("PERSON")], NO_CONTEXT).phi_score
    name_weak = decide([f("PERSON")], WEAK_CONTEXT).phi_score
    name_clinical = decide([f("PERSON")], CLINICAL).phi_score
    name_saturated = decide([f("PERSON")], HealthSignal(weight=9.0, terms=9)).phi_score
    assert name_only < name_weak < PHI_THRESHOLD <= name_clinical < name_saturated <= 1.0
    assert decide([f("US_SSN", score=1.0)], NO_CONTEXT).phi_score == 1.0


def test_unscannable_is_carried() -> None:
    result = decide([], NO_CONTEXT, unscannable=True)
    assert result.unscannable is True
    assert result.contains_phi is False


def test_min_score_is_configurable() -> None:
    assert decide([f("US_SSN", score=0.3)], NO_CONTEXT, min_score=0.2).contains_phi is True


def test_summary_counts_every_finding() -> None:
    findings = [f("PERSON"), f("PERSON", 0.6, start=9), f("US_SSN", 1.0, start=20), f("URL", 0.5, start=40)]
    assert summarize(findings) == (
        FindingSummary(entity_type="PERSON", count=2, max_score=0.85),
        FindingSummary(entity_type="URL", count=1, max_score=0.5),
        FindingSummary(entity_type="US_SSN", count=1, max_score=1.0),
    )
    assert decide(findings, NO_CONTEXT).summary == summarize(findings)


@pytest.mark.parametrize(
    ("entity_type", "role"),
    [
        ("US_SSN", Role.PATIENT_IDENTIFIER),
        ("PERSON", Role.PERSON_IDENTIFIER),
        ("US_NPI", Role.PROVIDER_IDENTIFIER),
        ("CPT_CODE", Role.CLINICAL_CODE),
        ("DATE_TIME", Role.OTHER),
        ("SOMETHING_NEW", Role.OTHER),
    ],
    ids=["ssn", "person", "npi", "cpt", "date", "unknown"],
)
def test_roles(entity_type: str, role: Role) -> None:
    assert role_of(entity_type) is role


SIGNALS = [
    ("Hi Bob, the budget meeting moved to Tuesday. Thanks, Alice", False),
    ("The clinic will have a new parking lot.", False),
    ("Your A1c results are back and your metformin dose stays the same.", True),
    ("Patient was diagnosed with type 2 diabetes.", True),
    ("She takes lisinopril and atorvastatin.", True),
    ("Start amlodipine.", True),
    ("Your appointment is confirmed.", True),
    ("A CT scan was ordered.", True),
    ("The hospital pharmacy and the clinic nurse", True),
    ("April showers bring May flowers.", False),
    ("The SQL injection was blocked; the infection on the laptop is cleaned.", False),
    ("Hartford, CT 06103", False),
    ("History of allergic rhinitis noted.", True),
    ("She is recovering from an appendectomy.", True),
    ("Colonoscopy next week.", True),
    ("With deepest sympathy and empathy from the team.", False),
    ("A dichotomy in academia, and some nostalgia.", False),
    ("The itis and emia columns are empty.", False),
    ("Reason: sleep apnea.", True),
    ("Your spirometry is tomorrow.", True),
    ("The geometry and symmetry of the logo.", False),
    ("Video visit booked for Monday.", True),
    ("Office visit by the auditors next week.", False),
    ("Your prescription for cetirizine 10 mg was sent.", True),
    ("We shipped 10 units to the warehouse.", False),
    ("Symptoms: cough and fever for 3 days. Triage today.", True),
    ("World Cup fever and a cough drop sponsor.", False),
    ("Lumbar stenosis was found.", True),
    ("Learning by osmosis, not hypnosis.", False),
    ("Thyroid panel pending.", True),
    ("Complete blood count pending.", True),
    ("Your follow-up is confirmed.", True),
    ("A follow-up on the blood drive count.", False),
]


@pytest.mark.parametrize(
    ("text", "present"),
    SIGNALS,
    ids=[
        "business",
        "one-care-word",
        "lab-and-drug",
        "diagnosis",
        "drug-names",
        "drug-by-stem",
        "patient-phrase",
        "procedure-phrase",
        "three-care-words",
        "months",
        "it-words",
        "state-code",
        "ending-itis",
        "ending-ectomy",
        "ending-oscopy",
        "everyday-pathy",
        "everyday-emia-algia-otomy",
        "bare-endings",
        "condition",
        "ending-metry",
        "everyday-metry",
        "visit-type",
        "weak-phrase-alone",
        "dose-and-antihistamine-stem",
        "units-are-no-dose",
        "symptom-words",
        "symptom-words-too-few",
        "organ-and-ending-osis",
        "everyday-osis",
        "body-system",
        "lab-test-phrase",
        "patient-directed-follow-up",
        "care-words-apart",
    ],
)
def test_health_signal(text: str, present: bool) -> None:
    assert health.measure([text]).present is present


def test_health_signal_counts_each_term_once_across_segments() -> None:
    once = health.measure(["metformin"])
    twice = health.measure(["metformin metformin", "Metformin"])
    assert once == twice == HealthSignal(weight=1.0, terms=1)
    assert 0.0 < once.strength < 1.0
    assert health.measure(["diabetes asthma metformin insulin"]).strength == 1.0


@pytest.mark.parametrize(
    ("span", "clinical"),
    [
        ("Metformin", True),
        ("Crohn", True),
        ("Parkinson's", True),
        ("Lisinopril", True),
        ("Vitamin D", True),
        ("Vitamin Dean", False),
        ("Robert Graves", False),
        ("John Smith", False),
        ("April", False),
        ("", False),
    ],
    ids=[
        "drug",
        "eponym",
        "eponym-possessive",
        "drug-stem",
        "lexicon-term-written-apart",
        "not-the-term",
        "surname-with-name",
        "name",
        "month",
        "empty",
    ],
)
def test_clinical_names(span: str, clinical: bool) -> None:
    assert health.is_clinical_name(span) is clinical


# -- whose health: an audience and a clinician's work (relay.phi.subject) -------------------

BROADCAST = HealthSignal(weight=2.0, terms=2, broadcast=True)
"""Health context in mail to an audience, with nothing about an individual."""
BROADCAST_PERSONAL = HealthSignal(weight=2.0, terms=2, broadcast=True, personal=True)


@pytest.mark.parametrize(
    ("findings", "signal", "phi"),
    [
        ([f("PERSON")], BROADCAST, False),
        ([f("PERSON"), f("PHONE_NUMBER", start=10)], BROADCAST, False),
        ([f("PERSON")], BROADCAST_PERSONAL, True),
        ([f("PERSON"), f("DATE_OF_BIRTH", start=10)], BROADCAST, True),
        ([f("AGE_OVER_89")], BROADCAST, True),
        ([f("PERSON"), f("MEDICAL_RECORD_NUMBER", start=10)], BROADCAST, True),
        ([f("PERSON")], CLINICAL, True),
    ],
    ids=[
        "speaker-name",
        "speaker-and-contact-phone",
        "announcement-about-someone",
        "birth-date-is-about-someone",
        "great-age-is-about-someone",
        "patient-identifier-decides-alone",
        "no-audience-marker",
    ],
)
def test_names_in_mail_to_an_audience(findings: list[Finding], signal: HealthSignal, phi: bool) -> None:
    result = decide(findings, signal)
    assert result.contains_phi is phi
    assert result.health_context
    assert len(result.findings) == len(findings)  # every identifier is reported whatever the verdict


@pytest.mark.parametrize(
    ("text", "personal", "broadcast"),
    [
        ("Your A1c was 8.1 and your metformin dose goes up.", True, False),
        ("Spoke with the patient; she has chest pain since Tuesday.", True, False),
        ("A 94yo man with metastatic cancer.", True, False),
        ("the new bp pill makes me cough at night", True, False),
        ("His daughter wants the admission visit tomorrow.", True, False),
        ("She was admitted overnight.", True, False),
        ("When a patient with type 2 diabetes has an A1c above goal, code E11.65.", False, False),
        ("Dr. Lee will see patients with heart failure Tuesday through Friday.", False, False),
        ("Join Dr. Lee for a free webinar on heart failure. Register today.", False, True),
        ("Please join me in welcoming Dr. Lee, who joins our cardiology group.", False, True),
        ("Grand Rounds: Dr. Lee will speak on hypertension. Lunch provided.", False, True),
        ("FOR IMMEDIATE RELEASE: a new infusion center opens. Media contact: Jo Roe.", False, True),
        ("Quality corner: our diabetic eye exam rate is 58%.", False, True),
        ("Dr. Lee's DEA registration expires; cardiology credentialing needs the NPI.", False, True),
        ("Join us to welcome Dr. Lee. Her patient, Jo Roe, was admitted.", True, True),
        ("Coding tip of the week: code E11.65 for diabetes with hyperglycemia.", False, True),
        ("Health alert: two confirmed cases of measles; clinicians should isolate.", False, True),
        ("Pt in bay 6 has chest pain; his daughter is here.", True, False),
    ],
    ids=[
        "your-results",
        "the-patient-she",
        "age-in-years",
        "first-person-symptom",
        "family-member",
        "clinical-event",
        "a-patient-in-general",
        "patients-in-general",
        "webinar",
        "new-physician",
        "speaker",
        "press-release",
        "department-rate",
        "credentialing",
        "announcement-about-someone",
        "coding-education",
        "public-health-alert",
        "page-about-a-patient",
    ],
)
def test_whose_health(text: str, personal: bool, broadcast: bool) -> None:
    signal = health.measure([text])
    assert signal.terms > 0
    assert (signal.personal, signal.broadcast) == (personal, broadcast)


def test_no_health_words_no_subject() -> None:
    signal = health.measure(["Please join me in welcoming Jo Roe to the finance team."])
    assert (signal.present, signal.personal, signal.broadcast) == (False, False, False)


@pytest.mark.parametrize(
    ("text", "personal", "broadcast"),
    [
        ("Sepsis Committee - minutes\nPresent: Jo Roe (chair)\nSepsis bundle 71%.\nNext meeting 10/23.",
         False, True),
        ("No patient-level data discussed; sepsis bundle compliance is 71%.", False, True),
        ("Sepsis committee: please review the bundle before Friday.", False, False),
        ("Sequence Z51.11 first, then the code for the malignancy being treated.", False, False),
        ("The patient was treated for sepsis.", True, False),
        ("Congrats, your abstract on readmissions after CABG was accepted as a poster.", False, True),
        ("Congrats, your CABG went well and you can go home.", True, False),
    ],
    ids=[
        "committee-minutes", "no-patient-level-data", "committee-without-minutes", "condition-being-treated",
        "patient-being-treated", "research-abstract", "your-own-surgery",
    ],
)  # fmt: skip
def test_whose_health_round7(text: str, personal: bool, broadcast: bool) -> None:
    signal = health.measure([text])
    assert signal.terms > 0
    assert (signal.personal, signal.broadcast) == (personal, broadcast)


@pytest.mark.parametrize(
    "text",
    [
        "im 3 weeks out after my gastric sleeve and threw up twice",
        "my cgm says sensor error and my sugar was 280",
        "cardiac rehab session 22 of 36 after CABG",
    ],
    ids=["bariatric", "diabetes-technology", "cardiac-rehab"],
)
def test_patient_program_words_are_health(text: str) -> None:
    assert health.measure([text]).present


def test_program_words_alone_are_not_health() -> None:
    assert not health.measure(["The sleeve of my jacket tore on the rehab center door."]).present

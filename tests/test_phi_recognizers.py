"""The healthcare recognizer pack: check digits and format rules, then each entity through the
whole engine with a valid value, an invalid check digit and a look-alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from relay.phi import builtins, checksums, dates, name_words, pattern_pack, tables
from relay.phi.names import (
    COMBINED_BONUS,
    CUE_SCORES,
    HEALTH_BOOST,
    SINGLE_WORD_PENALTY,
    Cue,
    find_names,
    is_name_word,
)
from relay.phi.nlp import NER_SCORE
from relay.phi.recognizers import HEALTHCARE_ENTITIES, SPECS, healthcare_recognizers
from relay.phi.scanner import PhiScanner
from relay.phi.settings import DEFAULT_MIN_SCORE, PhiSettings


@pytest.fixture(scope="module")
def scanner() -> Iterator[PhiScanner]:
    yield PhiScanner()


# -- pure checks ---------------------------------------------------------------------------

CHECKS = [
    (checksums.npi_valid, "1234567893", True),
    (checksums.npi_valid, "1234-567-893", True),
    (checksums.npi_valid, "2987654326", True),
    (checksums.npi_valid, "1234567890", False),
    (checksums.npi_valid, "3234567893", False),
    (checksums.npi_valid, "123456789", False),
    (checksums.npi_valid, "1111111112", False),
    (checksums.dea_valid, "AB1234563", True),
    (checksums.dea_valid, "BJ6125341", True),
    (checksums.dea_valid, "M93456781", True),
    (checksums.dea_valid, "AB1234564", False),
    (checksums.dea_valid, "ZB1234563", False),
    (checksums.dea_valid, "AB123456", False),
    (checksums.mbi_valid, "1EG4-TE5-MK73", True),
    (checksums.mbi_valid, "1EG4TE5MK73", True),
    (checksums.mbi_valid, "1eg4te5mk73", True),
    (checksums.mbi_valid, "0EG4TE5MK73", False),
    (checksums.mbi_valid, "1SG4TE5MK73", False),
    (checksums.mbi_valid, "1EG4TE5MK7", False),
    (checksums.mbi_valid, "1EG4TE5M173", False),
    (checksums.ndc_valid, "0002-7510-01", True),
    (checksums.ndc_valid, "12345-678-90", True),
    (checksums.ndc_valid, "12345-6789-1", True),
    (checksums.ndc_valid, "12345-6789-01", True),
    (checksums.ndc_valid, "00002751001", True),
    (checksums.ndc_valid, "123-4567-89", False),
    (checksums.ndc_valid, "0000-0000-00", False),
    (checksums.ndc_valid, "0000000000", False),
    (checksums.cpt_valid, "99213", True),
    (checksums.cpt_valid, "99213-25", True),
    (checksums.cpt_valid, "3074F", True),
    (checksums.cpt_valid, "0042T", True),
    (checksums.cpt_valid, "J1100", True),
    (checksums.cpt_valid, "00050", False),
    (checksums.cpt_valid, "D1110", False),
    (checksums.cpt_valid, "9921", False),
    (checksums.icd10_valid, "E11.9", True),
    (checksums.icd10_valid, "I10", True),
    (checksums.icd10_valid, "C4A.9", True),
    (checksums.icd10_valid, "S72.001A", True),
    (checksums.icd10_valid, "E1C.9", False),
    (checksums.icd10_valid, "E11.12345", False),
    (checksums.icd10_valid, "11E", False),
    (dates.is_calendar_date, "03/04/1956", True),
    (dates.is_calendar_date, "1956-03-04", True),
    (dates.is_calendar_date, "March 4, 1956", True),
    (dates.is_calendar_date, "4 Mar 1956", True),
    (dates.is_calendar_date, "25/12/1980", True),
    (dates.is_calendar_date, "02/29/2023", False),
    (dates.is_calendar_date, "13/45/1956", False),
    (dates.is_calendar_date, "Smarch 4, 1956", False),
]


@pytest.mark.parametrize(
    ("check", "value", "valid"),
    CHECKS,
    ids=[f"{check.__name__}-{value}" for check, value, _ok in CHECKS],
)
def test_checks(check: object, value: str, valid: bool) -> None:
    assert callable(check)
    assert check(value) is valid


def test_pack_has_every_entity_once() -> None:
    assert HEALTHCARE_ENTITIES == (
        "MEDICAL_RECORD_NUMBER", "US_NPI", "US_DEA_NUMBER", "US_MBI", "HEALTH_PLAN_ID",
        "ICD10_CODE", "CPT_CODE", "NDC_CODE", "DATE_OF_BIRTH", "AGE_OVER_89", "US_SSN",
    )  # fmt: skip
    built = healthcare_recognizers(0.4)
    assert {recognizer.supported_entities[0] for recognizer, _context in built} == set(HEALTHCARE_ENTITIES)
    assert all(spec.context for spec in SPECS)


# -- through the engine --------------------------------------------------------------------

# (entity, text, value the finding must cover, or None when the entity must not be found)
CASES = [
    ("US_NPI", "Referring provider NPI: 1234567893.", "1234567893"),
    ("US_NPI", "The prescriber, Dr. Okafor (NPI 2987654326), signed it.", "2987654326"),
    ("US_NPI", "Referring provider NPI: 1234567890.", None),
    ("US_NPI", "Order 1234567893 shipped on time.", None),
    ("US_DEA_NUMBER", "DEA: AB1234563", "AB1234563"),
    ("US_DEA_NUMBER", "Prescriber registration BJ6125341 on file.", "BJ6125341"),
    ("US_DEA_NUMBER", "DEA: AB1234564", None),
    ("US_DEA_NUMBER", "Part ZZ1234563 is out of stock.", None),
    ("US_MBI", "Medicare MBI 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("US_MBI", "Beneficiary 1EG4TE5MK73 was notified.", "1EG4TE5MK73"),
    ("US_MBI", "Medicare MBI 1EG4-TS5-MK73", None),
    ("US_MBI", "Reference 0EG4TE5MK73 in the ticket.", None),
    ("MEDICAL_RECORD_NUMBER", "MRN: 00123456", "00123456"),
    ("MEDICAL_RECORD_NUMBER", "Medical record number 7781234 (St. Mary's)", "7781234"),
    ("MEDICAL_RECORD_NUMBER", "The MRN for this patient is 55501234.", "55501234"),
    ("MEDICAL_RECORD_NUMBER", "MRN: 11111111", None),
    ("MEDICAL_RECORD_NUMBER", "Invoice number 00123456 is paid.", None),
    ("HEALTH_PLAN_ID", "Member ID: XEH123456789", "XEH123456789"),
    ("HEALTH_PLAN_ID", "Policy number W2345-6789", "W2345-6789"),
    ("HEALTH_PLAN_ID", "Insurance: Blue Cross, subscriber XEH987654321", "XEH987654321"),
    ("HEALTH_PLAN_ID", "Member ID: AAAAAAAA", None),
    ("HEALTH_PLAN_ID", "Tracking code XEH123456789 for your parcel.", None),
    ("ICD10_CODE", "Dx: E11.9 type 2 diabetes", "E11.9"),
    ("ICD10_CODE", "Diagnosis code I10.", "I10"),
    ("ICD10_CODE", "She was diagnosed with S72.001A after the fall.", "S72.001A"),
    ("ICD10_CODE", "Dx: E1C.9", None),
    ("ICD10_CODE", "Take the M16 exit and park in lot B52.", None),
    ("CPT_CODE", "CPT 99213 was billed.", "99213"),
    ("CPT_CODE", "HCPCS J1100 injection", "J1100"),
    ("CPT_CODE", "CPT 00050", None),
    ("CPT_CODE", "HCPCS D1110", None),
    ("CPT_CODE", "Our office is at 1 Main St, Boston, MA 02115.", None),
    ("NDC_CODE", "NDC 0002-7510-01", "0002-7510-01"),
    ("NDC_CODE", "Dispensed 12345-678-90 today.", "12345-678-90"),
    ("NDC_CODE", "NDC 00002751001", "00002751001"),
    ("NDC_CODE", "NDC 123-4567-89", None),
    ("NDC_CODE", "Call 617-555-0142 or use SSN 219-09-9999.", None),
    ("DATE_OF_BIRTH", "DOB: 03/04/1956", "03/04/1956"),
    ("DATE_OF_BIRTH", "Date of birth: March 4, 1956", "March 4, 1956"),
    ("DATE_OF_BIRTH", "She was born on 4 Mar 1956 in Ohio.", "4 Mar 1956"),
    ("DATE_OF_BIRTH", "DOB: 13/45/1956", None),
    ("DATE_OF_BIRTH", "Visit date: 03/04/1956", None),
    ("DATE_OF_BIRTH", "She was born in 1956.", None),
    ("AGE_OVER_89", "A 92-year-old woman presented with chest pain.", "92"),
    ("AGE_OVER_89", "Age: 101", "101"),
    ("AGE_OVER_89", "Patient is 95 y/o.", "95"),
    ("AGE_OVER_89", "An 89-year-old man.", None),
    ("AGE_OVER_89", "Age: 45", None),
    ("AGE_OVER_89", "95 percent of 90 days", None),
    # codes cited after the service they bill, and numbers labelled as something else
    ("CPT_CODE", "Service: joint injection (20610) for knee pain.", "20610"),
    ("CPT_CODE", "Call extension (20610) for help.", None),
    ("CPT_CODE", "Service: joint injection (00050) for knee pain.", None),
    ("CPT_CODE", "Service May 3: colonoscopy 45378 - $197.63", "45378"),
    ("CPT_CODE", "Paid invoice 45378 - $197.63 today.", None),
    ("CPT_CODE", "Colonoscopy: 45378 units shipped.", None),
    ("ICD10_CODE", "Seen for plantar fasciitis (M72.2) today.", "M72.2"),
    ("ICD10_CODE", "Seen for plantar fasciitis (E1C.9) today.", None),
    ("ICD10_CODE", "Code list: (M72.2)", None),
    ("MEDICAL_RECORD_NUMBER", "Patient ID on file: M89458318", "M89458318"),
    ("MEDICAL_RECORD_NUMBER", "Patient ID on file. Member ID: M89458318", None),
    ("MEDICAL_RECORD_NUMBER", "Patient ID on file. Claim 89458318 paid.", None),
    ("US_DEA_NUMBER", "Prescriber AB1234563 signed.", "AB1234563"),
    ("US_DEA_NUMBER", "Subscriber ID AB1234563 is active.", None),
    ("HEALTH_PLAN_ID", "Member services: Claim XEH123456789 was paid.", None),
    ("HEALTH_PLAN_ID", "Member services: XEH123456789 is on file.", "XEH123456789"),
    # clinical codes cited without a label, in mail about health (relay.phi.codes)
    ("ICD10_CODE", "Metastatic lung cancer (C34.90), no longer eating.", "C34.90"),
    ("ICD10_CODE", "Hypertension follow-up.\nSecondary: I50.9, N18.30", "N18.30"),
    ("ICD10_CODE", "Hypertension: code I10 for essential hypertension.", "I10"),
    ("ICD10_CODE", "Diabetes visit summary:\n  - I10  essential hypertension", "I10"),
    ("ICD10_CODE", "Lot C34.90 of the paper stock is back in the warehouse.", None),
    ("ICD10_CODE", "Wear an N95 mask in the clinic for flu season.", None),
    ("ICD10_CODE", "Diabetes visit summary (C3X.90) attached.", None),
    ("CPT_CODE", "Exam: CT CHEST W/O CONTRAST (71250), lung nodule.", "71250"),
    ("CPT_CODE", "Preventive visits for diabetes: bill 99396 for established patients.", "99396"),
    ("CPT_CODE", "Diabetes.\nServices: 99497 (advance care planning), 36415 (venipuncture)", "36415"),
    ("CPT_CODE", "The screening mammogram 77067 for the patient was denied.", "77067"),
    ("CPT_CODE", "Anemia workup (D50.9, 45378) for the patient.", "45378"),
    ("CPT_CODE", "The diabetes clinic moved to 100 Main St, Boston, MA 02115.", None),
    ("CPT_CODE", "Our diabetes class has 45378 members this year.", None),
    ("CPT_CODE", "Diabetes visit summary (00050) attached.", None),
    # member IDs that the payer announces (relay.phi.plan_ids), and more labels
    ("HEALTH_PLAN_ID", "Ins: TriState Employee Benefits 37643955Y", "37643955Y"),
    ("HEALTH_PLAN_ID", "The Medicare Advantage denial for Grace Roe (873598857-04) is in.", "873598857-04"),
    ("HEALTH_PLAN_ID", "Her plan (Summit Mutual Insurance, ID# W370894881) rejected it.", "W370894881"),
    ("HEALTH_PLAN_ID", "Ins ID: 41724918S", "41724918S"),
    ("HEALTH_PLAN_ID", "The denial for Grace Roe (873598857-04) came back.", None),
    ("HEALTH_PLAN_ID", "Badge ID# W370894881 opens the door.", None),
    ("HEALTH_PLAN_ID", "Ins: TriState Employee Benefits 11111111", None),
    ("MEDICAL_RECORD_NUMBER", "Pt Jo Roe (Med Rec No. 9707340) rescheduled.", "9707340"),
    ("MEDICAL_RECORD_NUMBER", "Pt Jo Roe (Med Rec No. 1111111) rescheduled.", None),
    # a verb that opens a sentence is not a name
    ("PERSON", "Long-term insulin use adds Z79.4. Bill the point-of-care A1c as 83036.", None),
    # a date alone in parentheses after a name, in mail about health
    ("DATE_OF_BIRTH", "Refill for Jane Roe (03/04/1956): lisinopril 10 mg.", "03/04/1956"),
    ("DATE_OF_BIRTH", "Dear Jane Roe (March 4, 1956), your lab results are in.", "March 4, 1956"),
    ("DATE_OF_BIRTH", "Farewell lunch for Jane Roe (03/04/2024) in room 4.", None),
    ("DATE_OF_BIRTH", "Refill for Jane Roe (03/45/1956): lisinopril 10 mg.", None),
    ("DATE_OF_BIRTH", "Refill due (03/04/1956): lisinopril 10 mg.", None),
    # round 5: label variants
    ("MEDICAL_RECORD_NUMBER", "Path on Roe (EMR ID: E464964066) signed out.", "E464964066"),
    ("MEDICAL_RECORD_NUMBER", "Your patient Jo Roe (Acct/MRN 00912345) is listed.", "00912345"),
    ("MEDICAL_RECORD_NUMBER", "MED REC #: 8167-2258825", "8167-2258825"),
    ("MEDICAL_RECORD_NUMBER", "EMR ID: 1111111", None),
    ("MEDICAL_RECORD_NUMBER", "Order 8167-2258825 shipped.", None),
    ("US_SSN", "Her SS# 219-09-9998 for billing.", "219-09-9998"),
    ("US_SSN", "soc sec 219099998, in case billing asks.", "219099998"),
    ("US_SSN", "SS# 666-09-9998 for billing.", None),
    ("US_SSN", "Ticket 219099998 closed.", None),
    ("DATE_OF_BIRTH", "DOB on file: 1945-09-03", "1945-09-03"),
    ("DATE_OF_BIRTH", "D. O. B. 03/04/1956", "03/04/1956"),
    ("DATE_OF_BIRTH", "DOB on file: 1945-19-03", None),
    ("AGE_OVER_89", "HPI: 99 YOF at assisted living, found on floor.", "99"),
    ("AGE_OVER_89", "Triage: 91F with chest pain.", "91"),
    ("AGE_OVER_89", "As you know she's 103 and lives alone.", "103"),
    ("AGE_OVER_89", "Triage: 91 m of tubing ordered.", None),
    ("AGE_OVER_89", "She is 95% sure of the date.", None),
    ("AGE_OVER_89", "Triage: 71F with chest pain.", None),
]


def _case_id(case: tuple[str, str, str | None]) -> str:
    entity, text, value = case
    return f"{entity}-{'found' if value else 'absent'}-{text[:24]}"


@pytest.mark.parametrize(("entity", "text", "value"), CASES, ids=[_case_id(c) for c in CASES])
def test_entity(scanner: PhiScanner, entity: str, text: str, value: str | None) -> None:
    found = [text[f.start : f.end] for f in scanner.scan_text(text).findings if f.entity_type == entity]
    if value is None:
        assert found == []
    else:
        assert value in found


BUILTINS = [
    ("US_SSN", "SSN: 219-09-9999", "219-09-9999"),
    ("US_SSN", "SSN: 123-45-6789", None),
    ("PHONE_NUMBER", "Call (617) 555-0142 tomorrow.", "(617) 555-0142"),
    ("PHONE_NUMBER", "Call +44 20 7946 0958 from London.", "+44 20 7946 0958"),
    ("EMAIL_ADDRESS", "Write to jane.doe@example.org today.", "jane.doe@example.org"),
    ("EMAIL_ADDRESS", "Write to jane.doe@localhost today.", None),
    # Round 6: a department's mailbox on an address line is not a person's identifier ...
    (
        "EMAIL_ADDRESS",
        "From: Jane Doe <jane.doe@example.org>\nTo: Compliance Office <compliance@example.org>\n",
        "jane.doe@example.org",
    ),
    ("EMAIL_ADDRESS", "To: Compliance Office <compliance@example.org>\n\nHello", None),
    ("EMAIL_ADDRESS", "To: admissions@example.net\n\nSending clinicals.", None),
    # ... a person's address on the same line is (look-alike), and so is a helpdesk in the body.
    ("EMAIL_ADDRESS", "To: Ingrid Moody <ingrid.moody@example.org>\n", "ingrid.moody@example.org"),
    ("EMAIL_ADDRESS", "For urgent issues email helpdesk@example.org.", "helpdesk@example.org"),
    # Round 6: "account" alone does not make a billing account number a bank account.
    ("US_BANK_NUMBER", "ACCOUNT PAST DUE\nAccount: 6959472739   Balance $120.00", None),
    ("US_BANK_NUMBER", "Direct deposit to checking account 6959472739, routing below.", "6959472739"),
    ("URL", "See https://portal.example.org/results for details.", "https://portal.example.org/results"),
    ("CREDIT_CARD", "Card 4111 1111 1111 1111 on file.", "4111 1111 1111 1111"),
    ("IP_ADDRESS", "Login from 192.168.10.5 failed.", "192.168.10.5"),
    ("PERSON", "Dear John Smith,\nyour results are in.", "John Smith"),
    ("DATE_TIME", "Seen on March 3, 2024 at the clinic.", "March 3, 2024"),
]


@pytest.mark.parametrize(("entity", "text", "value"), BUILTINS, ids=[_case_id(c) for c in BUILTINS])
def test_builtin_entity(scanner: PhiScanner, entity: str, text: str, value: str | None) -> None:
    found = [text[f.start : f.end] for f in scanner.scan_text(text).findings if f.entity_type == entity]
    if value is None:
        assert found == []
    else:
        assert value in found


NAMES = [
    ("Dear Wei Rodriguez,\n\nThis is a reminder.", "Wei Rodriguez"),
    ("Patient: Jane Roe\nDOB: unknown", "Jane Roe"),
    ("Hello Mary-Ann O'Neil, welcome.", "Mary-Ann O'Neil"),
    ("Dear Mr. Smith,", "Smith"),
    ("Dear Team,\nthe schedule changed.", None),
    ("Dear Valued Customer,", None),
    ("Dear Patient,", None),
]


@pytest.mark.parametrize(
    ("text", "name"),
    NAMES,
    ids=["salutation", "patient-label", "hyphen-apostrophe", "title", "team", "customer", "patient"],
)
def test_names_after_salutations(scanner: PhiScanner, text: str, name: str | None) -> None:
    people = [text[f.start : f.end] for f in scanner.scan_text(text).findings if f.entity_type == "PERSON"]
    assert people == ([name] if name else [])


def test_degrees_are_not_places(scanner: PhiScanner) -> None:
    text = "Best regards,\nMaria Garcia, MD\nRiverside Health"
    assert "LOCATION" not in {f.entity_type for f in scanner.scan_text(text).findings}


def test_generic_types_give_way_to_specific_ones(scanner: PhiScanner) -> None:
    text = "Email jane.doe@example.org, MRN: 12345678, CPT 99213"
    types = {(f.entity_type, text[f.start : f.end]) for f in scanner.scan_text(text).findings}
    assert ("EMAIL_ADDRESS", "jane.doe@example.org") in types
    assert ("MEDICAL_RECORD_NUMBER", "12345678") in types
    assert not any(kind in {"URL", "DATE_TIME"} for kind, _value in types)


def test_drug_names_are_not_people(scanner: PhiScanner) -> None:
    text = "Metformin and Lisinopril were continued. Crohn disease is stable."
    assert [f for f in scanner.scan_text(text).findings if f.entity_type == "PERSON"] == []


def test_min_score_setting_hides_weaker_findings(scanner: PhiScanner) -> None:
    strict = PhiScanner(PhiSettings(min_score=0.95), engine=scanner.engine)
    kinds = {f.entity_type for f in strict.scan_text("Dear John Smith, MRN: 00123456").findings}
    assert kinds == {"MEDICAL_RECORD_NUMBER"}


# -- names from the words around them (relay.phi.names) --------------------------------------

HEALTH = " Your lab results show diabetes."
"""A sentence that gives a text health context (the weak cues are reported only there)."""

# (text, the name that must be reported, or None when no PERSON may be)
NAME_CUES = [
    ("Rx for Nadia Oyelaran, DOB 11/25/1958\nlisinopril 10 mg", "Nadia Oyelaran"),
    ("RESULTS - Viktor Delgado, MRN: 00907521", "Viktor Delgado"),
    ("Tomasz Varga (chart # 4635464) was discharged today.", "Tomasz Varga"),
    ("Dolores Mbeki, 97 years old, fell at home.", "Dolores Mbeki"),
    ("Member: Sofia Brennan\nPlan: Gold", "Sofia Brennan"),
    ("Patient: Emeka Halvorsen  MRN: 00953866", "Emeka Halvorsen"),
    ("Our patient Ilse Laurent was seen today." + HEALTH, "Ilse Laurent"),
    ("Statement for Thanh Mahmoud\nAccount: 4735245" + HEALTH, "Thanh Mahmoud"),
    ("Congratulations to Mei Okoro on her recovery." + HEALTH, "Mei Okoro"),
    ("Thanks for the update.\n\nBest,\nNkechi Castillo", "Nkechi Castillo"),
    ("Prescriber Matthias Nakagawa, DEA BN6996031.", "Matthias Nakagawa"),
    ("Good morning Emil! Your results are in.", "Emil"),
    ("Statement for Thanh Mahmoud\nAccount: 4735245", None),
    ("Please RSVP by Friday.", None),
    ("Vitamin D, 25-hydroxy: 18 ng/mL" + HEALTH, None),
    ("Prior authorization is now required for Blue Cross members." + HEALTH, None),
    ("Welcome to Riverside Family Medicine." + HEALTH, None),
    ("Reminder for Cardiology Staff: call every patient." + HEALTH, None),
    ("Congratulations to the Oncology Team on the new wing." + HEALTH, None),
    ("Thank you,\nScheduling, Bayside Imaging Center" + HEALTH, None),
    ("The Quality Council meets today. Agenda: Annual Survey results.", None),
    ("Newsletter - Open Enrollment closes Mar 1." + HEALTH, None),
    ("Re: Budget Review\nAttn: Accounts Payable\n" + HEALTH, None),
]


@pytest.mark.parametrize(
    ("text", "name"),
    NAME_CUES,
    ids=[
        "for-then-dob", "heading-then-mrn", "line-start-then-chart", "then-age", "role-label",
        "role-label-column", "role-noun", "for-with-health", "to-with-health", "signature", "prescriber-dea",
        "good-morning", "for-without-health", "acronym", "lab-test", "payer-modifier", "organisation",
        "department", "team", "department-signature", "field-label", "heading-of-common-words",
        "subject-and-attention-lines",
    ],
)  # fmt: skip
def test_names_from_cues(scanner: PhiScanner, text: str, name: str | None) -> None:
    people = [text[f.start : f.end] for f in scanner.scan_text(text).findings if f.entity_type == "PERSON"]
    if name is None:
        assert people == []
    else:  # the model may take a role word in ("Prescriber Matthias Nakagawa")
        assert any(name in person for person in people), people


def test_a_found_name_marks_its_words_elsewhere() -> None:
    text = "Please welcome Rahul Gupta to accounting.\nRahul can be reached at the front desk."
    found = {text[start:end]: value for start, end, value in find_names(text, [(15, 26)])}
    assert found == {"Rahul": CUE_SCORES[Cue.REPEATED]}
    alone = find_names("Rahul can be reached at the front desk.")
    assert all(value < DEFAULT_MIN_SCORE for _start, _end, value in alone), alone


def test_health_context_lifts_weak_cues_only() -> None:
    plain = "Statement for Thanh Mahmoud\nAccount: 4735245"
    assert find_names(plain) == [(14, 27, CUE_SCORES[Cue.FOR])]
    assert find_names(plain + HEALTH) == [(14, 27, round(CUE_SCORES[Cue.FOR] + HEALTH_BOOST, 3))]
    strong = "Patient: Thanh Mahmoud."
    assert find_names(strong) == find_names(strong + HEALTH) == [(9, 22, CUE_SCORES[Cue.ROLE_LABEL])]


def test_a_lone_word_scores_less_than_a_full_name() -> None:
    full, lone = find_names("Thanks,\nRahul Gupta"), find_names("Thanks,\nRahul")
    assert full == [(8, 19, CUE_SCORES[Cue.SIGNATURE])]
    assert lone == [(8, 13, round(CUE_SCORES[Cue.SIGNATURE] - SINGLE_WORD_PENALTY, 3))]


# (text, the names find_names must report at the reporting threshold): the cues added for the
# second corpus, each with a look-alike and a case where the cue alone is too weak.
MORE_CUES = [
    ("New message from Kalina Brandt via the portal." + HEALTH, ["Kalina Brandt"]),
    ("New message from Kalina Brandt via the portal.", []),
    ("Shipped from Silver Creek Warehouse." + HEALTH, []),
    ("I am writing on behalf of Gustav Lind, whose claim was denied.", ["Gustav Lind"]),
    ("I am writing on behalf of Human Resources.", []),
    ("Video visit: Oren Falk with Dr. Lee on Monday.", ["Oren Falk", "Lee"]),
    ("Cardiology with Dr. Lee on Monday.", ["Lee"]),
    ("Leonard picked up his inhaler today." + HEALTH, ["Leonard"]),
    ("Pharmacist note - Leonard picked up the refill.", ["Leonard"]),
    ("Pharmacist note - Pharmacy called about the refill." + HEALTH, []),
    ("Leonard picked up the refill.", []),
    ("Ilse Varga has been promoted to director.", ["Ilse Varga"]),
    ("Nadia Mensah will lead the review." + HEALTH, ["Nadia Mensah"]),
    ("Nadia Mensah will lead the review.", []),
    ("Open Enrollment will close Friday." + HEALTH, []),
    ("Booked: Zoltan Adeyemi. Link: zoltan.adeyemi@example.org", ["Zoltan Adeyemi"]),
    ("Write to billing@example.org about Billing Services.", []),
    ("Grant Writing tips at tips@example.org", []),
    ("From: Layla \u00d6zt\u00fcrk <lozturk@example.org>", ["Layla \u00d6zt\u00fcrk"]),
    ("From: Billing Office <billing@example.org>", []),
    (HEALTH + "\npt Iyer, rm 521 bp 78/40 after lasix, pls call x6350 - Keisha", ["Iyer", "Keisha"]),
    ("reviewed with niece Madison Pe\u00f1a, who understood." + HEALTH, ["Madison Pe\u00f1a"]),
    ("Parent/Guardian: Bj\u00f6rn Ivanova     Phone: 651-555-0171", ["Bj\u00f6rn Ivanova"]),
    ("- Cardiology Associates" + HEALTH, []),
]


@pytest.mark.parametrize(
    ("text", "people"),
    MORE_CUES,
    ids=[
        "from-with-health", "from-alone", "from-place", "on-behalf-of", "on-behalf-of-department",
        "beside-doctor", "beside-doctor-specialty", "person-verb-lone-word", "heading-and-verb",
        "heading-and-verb-department", "person-verb-lone-word-without-health", "person-verb-full-name",
        "subject-with-health", "subject-alone", "subject-heading-words", "email", "email-role-mailbox",
        "email-other-words", "display-name", "display-name-of-an-office", "pt-and-dash-signature",
        "family-noun-accented", "guardian-label", "dash-before-an-organisation",
    ],
)  # fmt: skip
def test_more_name_cues(text: str, people: list[str]) -> None:
    found = [text[start:end] for start, end, value in find_names(text) if value >= DEFAULT_MIN_SCORE]
    assert found == people


def test_two_kinds_of_cue_are_stronger_than_one() -> None:
    one = find_names("Leonard picked up the refill.")
    both = find_names("Pharmacist note - Leonard picked up the refill.")
    assert one == [(0, 7, round(CUE_SCORES[Cue.PERSON_VERB] - SINGLE_WORD_PENALTY, 3))]
    assert both == [(18, 25, round(CUE_SCORES[Cue.PERSON_VERB] - SINGLE_WORD_PENALTY + COMBINED_BONUS, 3))]


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("Name: Xu, Camille\nDOB: 12/22/1986", [(6, 8), (10, 17)], [(6, 17, NER_SCORE)]),
        ("Case: Halvorsen, Wilhelmina (DOB Jul 9, 2001)", [(6, 15)], [(6, 27, NER_SCORE)]),
        ("Attendees: Anna, Maria and Bob", [(11, 15), (17, 22), (27, 30)], []),
        ("Attendees: Tom, Anna, Maria", [(11, 14), (16, 20), (22, 27)], []),
        ("Rx for Nadia Oyelaran, Halvorsen Clinic", [(7, 21)], []),
    ],
    ids=["both-known", "given-name-found", "list-with-and", "list-of-three", "full-name-then-words"],
)
def test_last_first_is_one_name(text: str, known: list[tuple[int, int]], expected: list[object]) -> None:
    merged = [(start, end, value) for start, end, value in find_names(text, known) if "," in text[start:end]]
    assert merged == expected
    if expected:  # the parts are not reported beside the pair
        assert [f for f in find_names(text, known) if f[2] >= DEFAULT_MIN_SCORE] == expected


def test_names_the_model_found_are_not_reported_twice() -> None:
    text = "Rx for Nadia Oyelaran, DOB 11/25/1958"
    assert find_names(text, [(7, 21)]) == []


@pytest.mark.parametrize(
    ("word", "strong", "name"),
    [
        ("Oyelaran", False, True),
        ("O'Brien", False, True),
        ("McAllister", False, True),
        ("Mary-Ann", False, True),
        ("Smith's", False, True),
        ("April", False, False),
        ("April", True, True),
        ("Team", True, False),
        ("Registration", False, False),
        ("Cardiology", False, False),
        ("RSVP", False, False),
        ("Room4", False, False),
    ],
    ids=[
        "name", "apostrophe", "inner-capital", "hyphen", "possessive", "month", "month-after-salutation",
        "group-after-salutation", "noun-ending", "discipline", "acronym", "digit",
    ],
)  # fmt: skip
def test_is_name_word(word: str, strong: bool, name: bool) -> None:
    assert is_name_word(word, strong=strong) is name


# -- a number after an identifier's label is not also a phone number -----------------------

PHONES = [
    ("MRN 6175550142", "MEDICAL_RECORD_NUMBER", False),
    ("Referring NPI: 2607625227", "US_NPI", False),
    ("Seen today (medical record number 9753684413).", "MEDICAL_RECORD_NUMBER", False),
    ("MRN 12345678, call (617) 555-0142", "MEDICAL_RECORD_NUMBER", True),
    ("Patient callback 6175550142", None, True),
    ("Order 6175550142 shipped.", None, True),
]


@pytest.mark.parametrize(
    ("text", "identifier", "phone"),
    PHONES,
    ids=["mrn", "npi", "mrn-in-parentheses", "formatted-phone-beside-mrn", "bare-phone", "order-number"],
)
def test_labelled_numbers_are_not_phones(
    scanner: PhiScanner, text: str, identifier: str | None, phone: bool
) -> None:
    types = {f.entity_type for f in scanner.scan_text(text).findings}
    assert ("PHONE_NUMBER" in types) is phone
    if identifier is not None:
        assert identifier in types


TABLE = (
    "time,chair,patient,mrn,dob,ssn,npi,drug\n"
    '09:45,6,"Bell, Dolores",8575363,03/04/1956,219-09-9998,1234567893,Remicade\n'
    '12:15,1,"Roe, Jo",1111111,13/45/1956,666-09-9998,1234567890,Remicade\n'
)


def test_labelled_patterns_run_on_label_windows_only() -> None:
    label = re.compile(r"(?i)\bmrn")
    text = "MRN 12345678 and, far away" + " x" * 60 + " mrn: 87654321"
    windows = pattern_pack.label_windows(text, label)
    assert len(windows) == 2
    assert all(end - start <= pattern_pack.LABEL_REACH for start, end in windows)
    assert pattern_pack.label_windows("no label here 12345678", label) == []
    assert pattern_pack.label_windows("MRN 1 MRN 2", label) == [(0, 11)]  # touching windows merge


def test_windowed_labelled_patterns_find_what_the_whole_text_would(scanner: PhiScanner) -> None:
    text = "Notes " + "filler words here. " * 40 + "Chart: seen. MRN: 00123456, DOB 01/02/1950."
    found = {(f.entity_type, text[f.start : f.end]) for f in scanner.scan_text(text).findings}
    assert ("MEDICAL_RECORD_NUMBER", "00123456") in found
    assert ("DATE_OF_BIRTH", "01/02/1950") in found


def test_unit_mailbox() -> None:
    line = "Cc: Patient Financial Services <billing@example.org>\n"
    start = line.index("billing")
    assert builtins.unit_mailbox(line, start, line.index(">"))
    person = "Cc: Ana Ruiz <billing@example.org>\n"
    assert not builtins.unit_mailbox(person, person.index("billing"), person.index(">"))
    body = "please write to billing@example.org"
    assert not builtins.unit_mailbox(body, body.index("billing"), len(body))


@pytest.mark.parametrize(
    ("entity", "cells"),
    [
        ("PERSON", ["Bell, Dolores", "Roe, Jo"]),
        ("MEDICAL_RECORD_NUMBER", ["8575363"]),
        ("DATE_OF_BIRTH", ["03/04/1956"]),
        ("US_SSN", ["219-09-9998"]),
        ("US_NPI", ["1234567893"]),
    ],
    ids=["person", "mrn-varied-only", "dob-calendar-only", "ssn-issuable-only", "npi-checksum-only"],
)
def test_table_columns_type_their_cells(entity: str, cells: list[str]) -> None:
    found = [TABLE[start:end] for kind, start, end in tables.find_cells(TABLE) if kind == entity]
    assert found == cells


@pytest.mark.parametrize(
    "text",
    [
        "time,chair,room\n09:45,6,8575363\n",  # no typed column
        "We saw patient, mrn, dob fields today\n09:45,6,8575363\n",  # prose, not a header
        "time,patient,mrn\n09:45,6\n",  # a row of another width
    ],
    ids=["untyped-columns", "prose-line", "ragged-row"],
)
def test_not_a_table(text: str) -> None:
    assert tables.find_cells(text) == []


# -- round 7: capitals after a label, introductions, "by" -----------------------------------

ROUND7_NAMES = [
    ("Patient: GARCIA, MARIA\nDOB: 03/04/1950", "GARCIA, MARIA"),
    ("Member name: OKAFOR, WEI J\nPlan: Gold", "OKAFOR, WEI J"),
    ("Re: BILLING, URGENT\nPlease call.", None),
    ("Patient: MRI, CBC ordered", None),
    ("hi its Destiny Harlow - i had my sleeve last week and threw up twice.", "Destiny Harlow"),
    ("Hello, this is Marisol Quintero. My insulin pump alarms at night.", "Marisol Quintero"),
    ("This is Blue Cross calling about the claim." + HEALTH, None),
    ("The chart was reviewed by Odile Varga before the visit." + HEALTH, "Odile Varga"),
    ("The chart was reviewed by Odile Varga before the visit.", None),
    ("The audit was done by Quality Council staff." + HEALTH, None),
]


@pytest.mark.parametrize(
    ("text", "name"),
    ROUND7_NAMES,
    ids=[
        "caps-last-first", "caps-with-initial", "caps-common-words", "caps-acronyms", "its-name",
        "this-is-name", "this-is-organisation", "by-with-health", "by-without-health", "by-organisation",
    ],
)  # fmt: skip
def test_round7_name_forms(text: str, name: str | None) -> None:
    people = [text[start:end] for start, end, value in find_names(text) if value >= DEFAULT_MIN_SCORE]
    if name is None:
        assert people == []
    else:
        assert name in people, people


def test_caps_after_labels_needs_the_label() -> None:
    assert name_words.caps_after_labels("GARCIA, MARIA", "patient") == []
    assert name_words.caps_after_labels("Patient: GARCIA, MARIA", "patient") == [(9, 22)]

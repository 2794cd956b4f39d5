"""Generate tests/data/phi_holdout.jsonl: a held-out corpus for `relay phi eval`.

The main corpus (make_phi_corpus.py) is what the scanner's errors were studied on; this one
checks that the fixes generalise. Nothing here is shared with it: other names (another list of
first and last names), other clinics, payers and drugs, other message kinds and wording, and
names in other places (``Re:``, ``Attn:``, ``Last, First``, possessives, sign-offs after
``Warm regards``, first names alone). Negatives include colleagues' names in business mail and
clinical bulletins full of capitalised words that are not people (``Grand Rounds``, ``Kaiser
Permanente``, ``Bell's palsy``).

Same conventions as the main generator: a fixed seed, ``[a|b]`` for a choice of wording,
``{key}`` for a value, a gold span for each labeled value, valid synthetic identifiers (NPI
Luhn over 80840, DEA check digit, MBI positions, SSN areas, 555-01xx phones, example.*
domains). Run: ``python tests/data/make_phi_holdout.py`` (rewrites the file next to it).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

SEED = 7_310_2025
OUT = Path(__file__).with_name("phi_holdout.jsonl")
PER_KIND = {
    "portal-message": 10,
    "care-coordination": 10,
    "imaging-report": 8,
    "pharmacy": 9,
    "claim-appeal": 8,
    "telehealth": 9,
    "school-form": 8,
    "sms": 10,
    "business": 12,
    "business-colleague": 18,
    "clinical-no-identifier": 20,
}
PHI_KINDS = frozenset(list(PER_KIND)[:8])

FIRST = [
    "Adaeze",
    "Bartholomew",
    "Camille",
    "Dariusz",
    "Eun-ji",
    "Florin",
    "Gwendolyn",
    "Hamid",
    "Ilse",
    "Jorge",
    "Kalani",
    "Lorenzo",
    "Marguerite",
    "Nikhil",
    "Oksana",
    "Pedro",
    "Quentin",
    "Rukmini",
    "Stellan",
    "Tendai",
    "Ulrike",
    "Valentina",
    "Wanjiru",
    "Xavier",
    "Yesenia",
    "Zoltan",
    "Bronwyn",
    "Cyrus",
    "Delphine",
    "Emil",
    "Folasade",
    "Gustavo",
    "Halima",
    "Ignacio",
    "Jolanta",
    "Keanu",
    "Lucinda",
    "Matthias",
    "Noor",
    "Orla",
    "Paloma",
    "Rasmus",
    "Svetlana",
    "Tobias",
    "Uchenna",
    "Vikram",
    "Wilhelmina",
    "Yaw",
    "Zainab",
    "Agnes",
    "Bernard",
    "Clifford",
    "Edith",
    "Frances",
    "Gordon",
    "Irene",
    "Leonard",
]
LAST = [
    "Abara",
    "Bjornsson",
    "Cavanaugh",
    "Dimitriou",
    "Eriksen",
    "Fonseca",
    "Goldberg",
    "Horvath",
    "Ishikawa",
    "Jablonski",
    "Kuznetsov",
    "Lombardi",
    "Mwangi",
    "Nakagawa",
    "Obi",
    "Papadopoulos",
    "Quintero",
    "Rasmussen",
    "Thorne",
    "Umeh",
    "Varga",
    "Whitfield",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Adeyemi",
    "Barros",
    "Chaudhry",
    "Donovan",
    "Esposito",
    "Ferreira",
    "Grabowski",
    "Halvorsen",
    "Ibrahim",
    "Jovanovic",
    "Kapoor",
    "Laurent",
    "Markovic",
    "Nakamura",
    "Osei",
    "Pham",
    "Reyes",
    "Sorensen",
    "Takeda",
    "Urquhart",
    "Villanueva",
    "Wojcik",
    "Yoon",
    "Zapata",
    "MacPherson",
    "D'Angelo",
]
LAST.append("Van der Berg")
CLINICS = (
    "Oakmont Internal Medicine",
    "Silver Creek Pulmonology",
    "Brookside Children's Clinic",
    "Granite Peak Rheumatology",
    "Willow Bend Family Practice",
    "Eastshore Medical Group",
)
PAYERS = ("Prairie Shield Health", "Coastal Mutual Insurance", "Unity Care Advantage", "Medicare")
CONDITIONS = (
    ("community-acquired pneumonia", "J18.9"),
    ("rheumatoid arthritis", "M06.9"),
    ("sleep apnea", "G47.33"),
    ("generalized anxiety disorder", "F41.1"),
    ("plantar fasciitis", "M72.2"),
    ("allergic rhinitis", "J30.9"),
    ("psoriasis", "L40.0"),
    ("type 1 diabetes", "E10.9"),
)
SERVICES = (
    ("CT of the chest with contrast", "71260"),
    ("spirometry", "94010"),
    ("sleep study", "95810"),
    ("knee x-ray, three views", "73562"),
    ("new patient office visit", "99203"),
    ("allergy skin testing", "95004"),
    ("joint injection", "20610"),
)
MEDS = (
    "prednisone 10 mg",
    "montelukast 10 mg",
    "hydroxychloroquine 200 mg",
    "escitalopram 10 mg",
    "cetirizine 10 mg",
    "adalimumab 40 mg pen",
    "budesonide inhaler",
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
AREAS = ("720", "305", "612", "804", "971", "248")
DOMAINS = ("example.net", "example.com", "portal.example.org")


def luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def npi(rng: random.Random) -> str:
    body = rng.choice("12") + "".join(str(rng.randrange(10)) for _ in range(8))
    return body + luhn_digit("80840" + body)


def dea(rng: random.Random, last: str) -> str:
    d = [rng.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return rng.choice("BCFM") + last[0].upper() + "".join(map(str, d)) + str(check)


def mbi(rng: random.Random) -> str:
    letters, digits = "ACDEFGHJKMNPQRTUVWXY", "0123456789"
    shape = ("d1", "L", "A", "d", "L", "A", "d", "L", "L", "d", "d")
    pool = {"d1": "123456789", "L": letters, "A": letters + digits, "d": digits}
    return "".join(rng.choice(pool[kind]) for kind in shape)


def ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


def phone(rng: random.Random) -> str:
    area, line = rng.choice(AREAS), f"01{rng.randint(0, 99):02d}"
    return rng.choice((f"({area}) 555-{line}", f"{area}-555-{line}", f"1-{area}-555-{line}"))


def dob(rng: random.Random) -> str:
    year, month, day = rng.randint(1928, 2016), rng.randint(1, 12), rng.randint(1, 28)
    shapes = (f"{month}/{day}/{year}", f"{MONTHS[month - 1]} {day}, {year}", f"{year}-{month:02d}-{day:02d}")
    return rng.choice(shapes)


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def day(rng: random.Random) -> str:
    return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"


LABELS = {
    "patient": "PERSON", "first": "PERSON", "last": "PERSON", "last_first": "PERSON",
    "clinician": "PERSON", "clinician_last": "PERSON", "colleague": "PERSON", "colleague2": "PERSON",
    "cfirst": "PERSON",
    "dob": "DATE_OF_BIRTH", "mrn": "MEDICAL_RECORD_NUMBER", "member": "HEALTH_PLAN_ID", "mbi": "US_MBI",
    "ssn": "US_SSN", "phone": "PHONE_NUMBER", "phone2": "PHONE_NUMBER", "email": "EMAIL_ADDRESS",
    "email2": "EMAIL_ADDRESS", "npi": "US_NPI", "dea": "US_DEA_NUMBER", "icd": "ICD10_CODE",
    "cpt": "CPT_CODE",
}  # fmt: skip
_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def render(template: str, values: dict[str, str], rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    """The text with choices made and slots filled, and a gold span for each labeled slot."""
    while _CHOICE.search(template):
        template = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template, count=1)
    out: list[str] = []
    spans: list[dict[str, object]] = []
    last = 0
    for slot in _SLOT.finditer(template):
        out.append(template[last : slot.start()])
        value, start = values[slot.group(1)], len("".join(out))
        if slot.group(1) in LABELS:
            spans.append({"start": start, "end": start + len(value), "label": LABELS[slot.group(1)]})
        out.append(value)
        last = slot.end()
    out.append(template[last:])
    return "".join(out), spans


def values_for(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    clinician = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    cfirst, clast = rng.choice(FIRST), rng.choice(LAST)
    condition, icd = rng.choice(CONDITIONS)
    service, cpt = rng.choice(SERVICES)
    local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
    return {
        "patient": f"{first} {last}", "first": first, "last": last, "last_first": f"{last}, {first}",
        "clinician": clinician, "clinician_last": clinician.split()[-1], "colleague": f"{cfirst} {clast}",
        "cfirst": cfirst, "colleague2": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "dob": dob(rng),
        "mrn": rng.choice(("E", "H", "")) + digits(rng, rng.choice((7, 8, 10))),
        "member": rng.choice("QRZ") + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        + digits(rng, 9),
        "mbi": mbi(rng), "ssn": ssn(rng), "phone": phone(rng), "phone2": phone(rng),
        "email": f"{local}@{rng.choice(DOMAINS)}",
        "email2": f"{cfirst[0].lower()}{clast.lower()}@example.com",
        "npi": npi(rng), "dea": dea(rng, clinician.split()[-1]), "icd": icd, "condition": condition,
        "cpt": cpt, "service": service, "med": rng.choice(MEDS), "clinic": rng.choice(CLINICS),
        "payer": rng.choice(PAYERS), "day": day(rng), "age": str(rng.randint(4, 17)),
        "invoice": f"INV-{rng.randint(10000, 99999)}", "amount": f"${rng.randint(20, 900)}",
        "room": f"{rng.randint(2, 9)}{rng.choice('NSEW')}-{rng.randint(10, 60)}",
    }  # fmt: skip


TEMPLATES: dict[str, tuple[str, ...]] = {
    "portal-message": (
        'New message from {patient} via the patient portal:\n"My {condition} flared up again and the '
        '{med} is not helping. Can I get an earlier visit?"\nCallback: {phone}',
        "Re: {patient}\nShe asked whether her {service} can be moved. Dx {icd}. [Please advise.|Thoughts?]",
        "[Hey|Good morning] {first}! Your test results from {clinic} are ready in the portal. Log in to "
        "read the note from Dr. {clinician_last} about your {condition}.",
        "{first}'s mother called: her asthma inhaler ran out and she wants a refill of {med}. "
        "Best number is {phone}.",
    ),
    "care-coordination": (
        "Handoff: our patient {patient}, {age} y/o, MRN {mrn}, admitted for {condition}. Family aware. "
        "Nurse line {phone}.",
        "Attn: {patient}\nYour care manager will call you this week about your {condition} plan. Member "
        "number {member}.",
        "Summary - {patient}\nMRN {mrn}\nSeen for {condition} ({icd}); start {med}.\nWarm regards,\n"
        "{clinician}, NP",
        "Case conference: {last_first} (DOB {dob}) was readmitted with {condition}. Social work "
        "consulted. PCP is Dr. {clinician}.",
    ),
    "imaging-report": (
        "IMAGING REPORT\nName: {last_first}\nDOB: {dob}\nExam: {service}\nIndication: {condition}\n"
        "Reading radiologist: Dr. {clinician}, NPI {npi}",
        "Radiology results for {patient} are final. {service} (CPT {cpt}) shows no acute findings. "
        "Ordering clinician: {clinician}.",
        "Please compare {patient}'s {service} with the prior study. Record number {mrn}.",
    ),
    "pharmacy": (
        "Refill request received for {patient} ({dob}): {med}. Prescriber {clinician}, DEA {dea}. "
        "Pick-up text goes to {phone}.",
        "Pharmacist note - {first} picked up {med} today and was counseled on side effects. "
        "Medication history reviewed for {condition}.",
        "Medication list for {patient}\nMember ID {member}\n1. {med}\n2. vitamin D3 1000 IU\n"
        "Prescriber NPI {npi}",
    ),
    "claim-appeal": (
        "Appeal letter\nRe: claim for {patient}, {payer} member {member}\nService: {service} ({cpt}) "
        "for {condition} ({icd}). The denial should be reversed.\nSincerely,\n{clinician}, MD",
        "Claim review - {patient}, SSN {ssn}, billed {amount} for {service}. Provider NPI {npi}.",
        "Good afternoon,\nI am writing on behalf of {patient}, Medicare beneficiary {mbi}, whose "
        "{service} was denied. Diagnosis {icd}.",
    ),
    "telehealth": (
        "Video visit booked: {patient} with Dr. {clinician} on {day}. Join link goes to {email}. "
        "Reason: {condition}.",
        "Thanks {first}, we received your photos of the rash. A dermatology clinician will reply within "
        "two business days about your psoriasis.",
        "Telehealth intake\nCaller: {patient}\nPhone: {phone}\nSymptoms: cough and fever for 3 days\n"
        "Triage: schedule a same-day visit",
    ),
    "school-form": (
        "Immunization record for {patient}, age {age}, born {dob}. Vaccines up to date for school entry. "
        "Signed by {clinician}, MD.",
        "Sports physical form: {last_first}, DOB {dob}. Cleared for full participation; history of "
        "{condition} noted. Parent phone {phone}.",
        "School nurse: {first} may carry an albuterol inhaler for asthma. Emergency contact {phone}.",
    ),
    "sms": (
        "{first}, your {service} is tomorrow at {clinic}. Reply Y to confirm.",
        "Hi {first} - Dr. {clinician_last}'s office here. Your prescription for {med} was sent. Call {phone} "
        "with questions.",
        "Reminder: {patient}, fasting labs tomorrow 7 AM at {clinic}.",
    ),
    "business": (
        "Facilities update: the parking garage on Level 2 closes {day} for repainting. Shuttle service "
        "runs from Lot F.",
        "Payroll notice: timesheets for the pay period ending {day} are due Monday by noon.",
        "Reminder from Human Resources: Open Enrollment closes {day}. Review Dental and Vision options.",
        "The Quality Council meets {day} in room {room}. Agenda: Annual Survey results and the "
        "Strategic Plan. Invoice {invoice} was approved.",
        "Welcome to Cedar Point! The Annual Picnic is on {day}; bring a dish to share.",
    ),
    "business-colleague": (
        "Shout-out to {colleague} for organizing the food drive! Send thank-you notes to {email2}.",
        "Farewell lunch for {colleague} on {day} in room {room}. [RSVP to|Questions to] {colleague2}.",
        "{colleague} has been promoted to director of operations. {cfirst} will start the new role on {day}.",
        "Please route invoice {invoice} to {colleague} in accounts payable ({phone2}).",
        "Meeting notes - {colleague}, {colleague2}\nAction items: finalize the vendor contract by {day}.",
        "Cheers,\n{colleague}\nProcurement Office",
    ),
    "clinical-no-identifier": (
        "Grand Rounds this week: Bell's palsy and Guillain-Barre syndrome, presented by the neurology "
        "service. CME credit available.",
        "Prior authorization is now required for Blue Cross Blue Shield members starting adalimumab. "
        "Submit chart notes with the request.",
        "Reminder for Cardiology Staff: heart failure patients need a follow-up call within 72 hours "
        "of discharge.",
        "Congratulations to the Oncology Team on the new infusion center. Patient volumes rose 12%.",
        "Clinical pearl: Down syndrome increases the risk of atlantoaxial instability; screen before "
        "contact sports.",
        "Kaiser Permanente and Johns Hopkins published new data on statin adherence after myocardial "
        "infarction.",
        "Medicare Advantage update: annual wellness visits remain covered with no copay.",
        "Infection Control Week: review isolation precautions for C. difficile and MRSA.",
        "Hodgkin lymphoma survivors need cardiac screening after mediastinal radiation.",
        "Training for New Nurses: insulin pen technique and hypoglycemia management, Tuesday in the "
        "simulation lab.",
    ),
}


def make_record(kind: str, rng: random.Random) -> dict[str, object]:
    text, spans = render(rng.choice(TEMPLATES[kind]), values_for(rng), rng)
    return {"text": text, "spans": spans, "contains_phi": kind in PHI_KINDS, "kind": kind}


def generate(seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    records = [make_record(kind, rng) for kind, count in PER_KIND.items() for _ in range(count)]
    rng.shuffle(records)
    return records


def main(write: Callable[[str], object] | None = None) -> None:
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in generate())
    (write or OUT.write_text)(lines)


if __name__ == "__main__":
    main()

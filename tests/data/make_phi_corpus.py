"""Generate tests/data/phi_corpus.jsonl: synthetic, labeled healthcare mail for `relay phi eval`.

Every value is made up here, from a fixed seed, and every gold span is computed from where the
value is inserted (never counted by hand). Identifiers are valid by the rules the recognizers
apply (relay/phi/checksums.py): NPIs pass the Luhn check over 80840, DEA numbers their check
digit, MBIs the CMS position rules, SSNs avoid areas 000, 666 and 9xx; phone numbers use the
fictional 555-01xx range and email addresses the reserved example.* domains.

Templates use ``[a|b|c]`` for a random choice of wording and ``{key}`` for a value; a value's
label (if any) becomes a gold span. Run: ``python tests/data/make_phi_corpus.py`` (rewrites the
file next to this script; same seed, same bytes).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

SEED = 20240604
OUT = Path(__file__).with_name("phi_corpus.jsonl")
PER_KIND = {
    "appointment-reminder": 32,
    "lab-result": 32,
    "referral": 30,
    "billing": 30,
    "eob": 28,
    "prescription": 30,
    "discharge": 28,
    "business": 45,
    "business-colleague": 45,
    "clinical-no-identifier": 50,
}
PHI_KINDS = frozenset(list(PER_KIND)[:7])

FIRST = [
    "Amara",
    "Wei",
    "Sofia",
    "Mateo",
    "Priya",
    "Kwame",
    "Yuki",
    "Olga",
    "Rahul",
    "Fatima",
    "Liam",
    "Chloe",
    "Diego",
    "Aisha",
    "Jamal",
    "Ingrid",
    "Tomasz",
    "Lucia",
    "Hiroshi",
    "Nkechi",
    "Elena",
    "Omar",
    "Mei",
    "Santiago",
    "Hana",
    "Dmitri",
    "Leila",
    "Kofi",
    "Isabela",
    "Arjun",
    "Siobhan",
    "Thanh",
    "Rosa",
    "Tariq",
    "Anneliese",
    "Chidi",
    "Marisol",
    "Bogdan",
    "Zanele",
    "Kenji",
    "Esperanza",
    "Farid",
    "Linnea",
    "Joao",
    "Ayumi",
    "Gabriel",
    "Nadia",
    "Emeka",
    "Carmen",
    "Viktor",
    "Soo-jin",
    "Ravi",
    "Margaret",
    "Harold",
    "Dolores",
    "Walter",
    "Beatriz",
]
LAST = [
    "Okafor",
    "Chen",
    "Rossi",
    "Hernandez",
    "Raman",
    "Mensah",
    "Tanaka",
    "Petrova",
    "Gupta",
    "Haddad",
    "Murphy",
    "Dubois",
    "Alvarez",
    "Rahman",
    "Washington",
    "Lindqvist",
    "Kowalski",
    "Moreno",
    "Sato",
    "Eze",
    "Popescu",
    "Farouk",
    "Liang",
    "Gutierrez",
    "Kim",
    "Ivanov",
    "Nasser",
    "Boateng",
    "Silva",
    "Iyer",
    "O'Brien",
    "Nguyen",
    "Delgado",
    "Qureshi",
    "Becker",
    "Nwosu",
    "Castillo",
    "Novak",
    "Dlamini",
    "Yamamoto",
    "Ramirez",
    "Karimi",
    "Johansson",
    "Pereira",
    "Fujita",
    "Mbeki",
    "Abernathy",
    "McAllister",
    "Vandenberg",
    "Oyelaran",
    "Schwartz",
    "Fitzgerald",
    "Takahashi",
    "Mahmoud",
    "Brennan",
    "Szabo",
    "Achebe",
    "DeLuca",
]
CLINICS = (
    "Riverside Family Medicine",
    "Lakeview Cardiology Associates",
    "Northgate Pediatrics",
    "Cedar Hill Orthopedics",
    "Harborview Women's Health",
    "Summit Endocrinology",
    "Maple Street Dermatology",
    "Bayside Imaging Center",
    "Westfield Community Health Center",
    "Pinecrest Behavioral Health",
)
PLANS = ("Blue Meadow Health Plan", "Evergreen Mutual", "Keystone Care PPO", "Medicaid", "Horizon Select HMO")
DIAGNOSES = (
    ("type 2 diabetes mellitus without complications", "E11.9"),
    ("essential hypertension", "I10"),
    ("hyperlipidemia, unspecified", "E78.5"),
    ("mild intermittent asthma, uncomplicated", "J45.20"),
    ("major depressive disorder, single episode", "F32.9"),
    ("hypothyroidism, unspecified", "E03.9"),
    ("chronic kidney disease, stage 3a", "N18.31"),
    ("low back pain", "M54.50"),
    ("acute bronchitis", "J20.9"),
    ("urinary tract infection", "N39.0"),
    ("gastro-esophageal reflux disease", "K21.9"),
    ("atrial fibrillation", "I48.91"),
    ("primary osteoarthritis, right knee", "M17.11"),
    ("migraine without aura", "G43.009"),
    ("iron deficiency anemia", "D50.9"),
    ("vitamin D deficiency", "E55.9"),
)
PROCEDURES = (
    ("office visit, established patient", "99213"),
    ("office visit, established patient, moderate", "99214"),
    ("comprehensive metabolic panel", "80053"),
    ("lipid panel", "80061"),
    ("hemoglobin A1c", "83036"),
    ("electrocardiogram", "93000"),
    ("chest x-ray, two views", "71046"),
    ("MRI lumbar spine without contrast", "72148"),
    ("screening mammogram", "77067"),
    ("colonoscopy", "45378"),
    ("influenza vaccine", "90686"),
    ("therapeutic exercise", "97110"),
    ("complete blood count", "85025"),
    ("thyroid stimulating hormone", "84443"),
)
DRUGS = (
    "metformin 500 mg tablets",
    "lisinopril 10 mg tablets",
    "atorvastatin 20 mg tablets",
    "levothyroxine 50 mcg tablets",
    "amlodipine 5 mg tablets",
    "sertraline 50 mg tablets",
    "albuterol HFA inhaler",
    "omeprazole 20 mg capsules",
    "losartan 50 mg tablets",
    "gabapentin 300 mg capsules",
    "apixaban 5 mg tablets",
    "insulin glargine pen",
)
LABS = (
    ("Hemoglobin A1c", "7.4 %", "4.0-5.6 %"),
    ("LDL cholesterol", "162 mg/dL", "<100 mg/dL"),
    ("TSH", "6.8 mIU/L", "0.4-4.0 mIU/L"),
    ("Creatinine", "1.4 mg/dL", "0.6-1.2 mg/dL"),
    ("Hemoglobin", "10.9 g/dL", "12.0-15.5 g/dL"),
    ("Vitamin D, 25-hydroxy", "18 ng/mL", "30-100 ng/mL"),
    ("Potassium", "4.1 mmol/L", "3.5-5.1 mmol/L"),
)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
AREA_CODES = ("617", "212", "312", "415", "503", "713", "404", "602", "919", "206")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "patients.example.org")


# -- identifiers -------------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:  # the check digit will be appended, shifting every position by one
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi(rng: random.Random) -> str:
    body = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
    return body + luhn_check_digit("80840" + body)


def dea(rng: random.Random, last_name: str) -> str:
    d = [rng.randrange(10) for _ in range(6)]
    check = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10
    return rng.choice("ABFGM") + last_name[0].upper() + "".join(map(str, d)) + str(check)


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def mbi(rng: random.Random) -> str:
    def letter() -> str:
        return rng.choice(MBI_LETTERS)

    def alnum() -> str:
        return rng.choice(MBI_LETTERS + "0123456789")

    def digit() -> str:
        return str(rng.randrange(10))

    value = str(rng.randint(1, 9)) + letter() + alnum() + digit()
    value += letter() + alnum() + digit() + letter() + letter() + digit() + digit()
    return f"{value[:4]}-{value[4:7]}-{value[7:]}" if rng.random() < 0.4 else value


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone(rng: random.Random) -> str:
    area, line = rng.choice(AREA_CODES), f"01{rng.randint(0, 99):02d}"
    return rng.choice(
        (f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}", f"+1 {area} 555 {line}")
    )


def mrn(rng: random.Random) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(rng.choice((7, 8, 9, 10))))
    return rng.choice((digits, digits, "00" + digits[:6], rng.choice(("RF", "LV", "NG", "WC")) + digits[:7]))


def plan_id(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return rng.choice(
        (letters + digits, "W" + digits, f"{letters}-{digits[:4]}-{digits[4:8]}", "M" + digits[:8])
    )


def ndc(rng: random.Random) -> str:
    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    return rng.choice(
        (
            f"{digits(4)}-{digits(4)}-{digits(2)}",
            f"{digits(5)}-{digits(3)}-{digits(2)}",
            f"{digits(5)}-{digits(4)}-{digits(2)}",
        )
    )


def birth_date(rng: random.Random) -> str:
    year, month, day = rng.randint(1931, 2012), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        (
            f"{month:02d}/{day:02d}/{year}",
            f"{month}/{day}/{year}",
            f"{year}-{month:02d}-{day:02d}",
            f"{MONTHS[month - 1]} {day}, {year}",
            f"{day} {MONTHS[month - 1][:3]} {year}",
        )
    )


def visit_date(rng: random.Random) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        (
            f"{rng.choice(WEEKDAYS)}, {MONTHS[month - 1]} {day}",
            f"{month}/{day}/2024",
            f"{MONTHS[month - 1]} {day}, 2024",
        )
    )


def clock(rng: random.Random) -> str:
    hour = rng.randint(7, 16)
    return f"{hour % 12 or 12}:{rng.choice(('00', '15', '30', '45'))} {'AM' if hour < 12 else 'PM'}"


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def email(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}{rng.randint(1, 99)}", f"{first}_{last[0]}"))
    return re.sub(r"[^a-z0-9._]", "", local.lower()) + "@" + rng.choice(DOMAINS)


# -- templates ---------------------------------------------------------------------------------

LABELS = {
    "patient": "PERSON", "pfirst": "PERSON", "plast": "PERSON", "provider": "PERSON", "colleague": "PERSON",
    "colleague2": "PERSON", "cfirst": "PERSON", "dob": "DATE_OF_BIRTH", "mrn": "MEDICAL_RECORD_NUMBER",
    "plan": "HEALTH_PLAN_ID", "mbi": "US_MBI", "ssn": "US_SSN", "phone": "PHONE_NUMBER",
    "phone2": "PHONE_NUMBER", "email": "EMAIL_ADDRESS", "email2": "EMAIL_ADDRESS", "npi": "US_NPI",
    "helpdesk": "EMAIL_ADDRESS",
    "dea": "US_DEA_NUMBER", "icd": "ICD10_CODE", "icd2": "ICD10_CODE", "cpt": "CPT_CODE", "cpt2": "CPT_CODE",
    "ndc": "NDC_CODE", "age90": "AGE_OVER_89",
}  # fmt: skip
_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def render(template: str, values: dict[str, str], rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    """The text with choices made and slots filled, and a gold span for each labeled slot."""
    while _CHOICE.search(template):
        template = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template, count=1)
    out: list[str] = []
    spans: list[dict[str, object]] = []
    length, last = 0, 0
    for slot in _SLOT.finditer(template):
        literal = template[last : slot.start()]
        out.append(literal)
        length += len(literal)
        value = values[slot.group(1)]
        if slot.group(1) in LABELS:
            spans.append({"start": length, "end": length + len(value), "label": LABELS[slot.group(1)]})
        out.append(value)
        length += len(value)
        last = slot.end()
    out.append(template[last:])
    return "".join(out), spans


def values_for(rng: random.Random) -> dict[str, str]:
    first, last = person(rng)
    prov_first, prov_last = person(rng)
    col_first, col_last = person(rng)
    col2 = person(rng)
    dx, icd = rng.choice(DIAGNOSES)
    dx2, icd2 = rng.choice(DIAGNOSES)
    proc, cpt = rng.choice(PROCEDURES)
    proc2, cpt2 = rng.choice(PROCEDURES)
    lab, result, ref = rng.choice(LABS)
    return {
        "patient": f"{first} {last}", "pfirst": first, "plast": last, "provider": f"{prov_first} {prov_last}",
        "colleague": f"{col_first} {col_last}", "cfirst": col_first, "colleague2": " ".join(col2),
        "dob": birth_date(rng), "mrn": mrn(rng), "plan": plan_id(rng), "mbi": mbi(rng), "ssn": ssn(rng),
        "phone": phone(rng), "phone2": phone(rng), "email": email(rng, first, last),
        "email2": email(rng, col_first, col_last), "npi": npi(rng), "dea": dea(rng, prov_last),
        "icd": icd, "dx": dx, "icd2": icd2, "dx2": dx2, "cpt": cpt, "proc": proc, "cpt2": cpt2,
        "proc2": proc2, "ndc": ndc(rng), "drug": rng.choice(DRUGS), "age90": str(rng.randint(90, 103)),
        "age": str(rng.randint(23, 84)), "clinic": rng.choice(CLINICS), "payer": rng.choice(PLANS),
        "date": visit_date(rng), "date2": visit_date(rng), "time": clock(rng), "lab": lab, "result": result,
        "ref": ref, "amount": f"${rng.randint(15, 2400)}.{rng.randint(0, 99):02d}",
        "amount2": f"${rng.randint(5, 300)}.{rng.randint(0, 99):02d}",
        "claim": f"CLM{rng.randint(10**8, 10**9)}",
        "acct": str(rng.randint(10**5, 10**7)), "room": f"{rng.choice('ABC')}{rng.randint(100, 420)}",
        "ticket": f"INC{rng.randint(100000, 999999)}", "po": f"PO-{rng.randint(40000, 49999)}",
        "qty": str(rng.randint(2, 40)),
        "helpdesk": rng.choice(("helpdesk", "it.support", "servicedesk")) + "@example.org",
        "year": str(rng.randint(2019, 2024)),
    }  # fmt: skip


TEMPLATES: dict[str, tuple[str, ...]] = {
    "appointment-reminder": (
        "Subject: Appointment reminder\n\n[Dear|Hello|Hi] {patient},\n\nThis is a reminder of your "
        "appointment "
        "with Dr. {provider} at {clinic} on {date} at {time}. [Please arrive 15 minutes early and bring your "
        "insurance card.|Please bring a list of your current medications.] To reschedule, call {phone}.\n\n"
        "[Thank you,|Best regards,]\n{clinic}",
        "Hi {pfirst}, your [follow-up|annual physical|blood draw] at {clinic} is [confirmed|scheduled] for "
        "{date}, {time}. Reply C to confirm. Questions? {phone}",
        "Reminder for {patient} (DOB {dob}): [MRI|ultrasound|echocardiogram] on {date} at {time}, "
        "{clinic}. Do not eat or drink for 6 hours before. MRN {mrn}.",
        "Dear Mr. {plast},\nYour [cardiology|endocrinology|dermatology] consultation has moved to {date} at "
        "{time}. Dr. {provider} will review your {dx}. If this time does not work, email us back or call "
        "{phone}.\nKind regards,\nScheduling, {clinic}",
        "Patient: {patient}\nDate of birth: {dob}\nAppointment: {date} {time}\nProvider: Dr. {provider}\n"
        "Reason: [medication review|{dx}|post-op check]\nContact on file: {email}, {phone}",
    ),
    "lab-result": (
        "Dear {patient},\n\nYour recent lab results are available. {lab}: {result} (reference {ref}). "
        "Dr. {provider} [recommends|would like] a follow-up visit to discuss your {dx}.\n\n{clinic}",
        "RESULTS - {patient}, MRN: {mrn}, DOB: {dob}\n{lab} {result} [H|L] (ref {ref})\nOrdering: Dr. "
        "{provider}, NPI {npi}\nDx: {icd}\nComment: [repeat in 3 months|discussed with patient by phone]",
        "Hi {pfirst}, good news: your [biopsy|culture|Pap test] came back negative. Your {lab} was {result}. "
        "No change to your {drug} for now. - Dr. {provider}",
        "{patient} (medical record number {mrn}) - [critical|abnormal] value: {lab} {result}. Called patient "
        "at {phone}; left message. Diagnosis code {icd}.",
        "Lab report for {patient}\nBorn: {dob}\nCollected {date}\nTest: {proc} (CPT {cpt})\n{lab}: {result}\n"
        "Please call the nurse line at {phone} with questions about your results.",
    ),
    "referral": (
        "Referral\nTo: Dr. {provider}, [Cardiology|Orthopedics|Gastroenterology]\nPatient: {patient}, DOB "
        "{dob}, MRN {mrn}\nInsurance: {payer}, Member ID: {plan}\nReason: {dx} (ICD-10 {icd})\nReferring "
        "NPI: {npi}\nPatient phone: {phone}",
        "Dear Dr. {provider},\n\nI am referring {patient}, a {age}-year-old with {dx}, for evaluation. "
        "[Recent labs attached.|An MRI was done on {date}.] Dx {icd}. Please contact my office at "
        "{phone}.\n\n"
        "Sincerely,\nDr. {colleague}\nNPI {npi}",
        "Hello, please schedule {patient} (patient ID {mrn}, {payer} subscriber ID {plan}) for "
        "{proc}, CPT {cpt}. Diagnosis: {dx}, {icd}. Thanks, {colleague}, referral coordinator",
        "Urgent referral: {patient}, {age90} years old, Medicare MBI {mbi}. [History of|Known] {dx}, "
        "recent falls. "
        "Caregiver reachable at {phone}.",
    ),
    "billing": (
        "Dear {patient},\n\nOur records show a balance of {amount} for your visit on {date} ({proc}, CPT "
        "{cpt}). Account {acct}. [You can pay online or call|Please call] our billing office at {phone}.\n\n"
        "{clinic} Billing",
        "Statement for {patient}\nAccount: {acct}\nInsurance member ID {plan}\nService {date}: {proc} "
        "{cpt} - {amount}\nAdjustment: -{amount2}\nQuestions: {email2}",
        "Hi {pfirst}, we need your updated insurance before we can submit the claim for your {proc}. "
        "Current policy number: {plan}. SSN on file: {ssn}. Reply to this email or call {phone}.",
        "Patient {patient}, Medicare number {mbi}, billed {cpt} and {cpt2} on {date}. Dx code {icd}. "
        "Total {amount}. Claim line 2 denied; please resubmit.",
    ),
    "eob": (
        "EXPLANATION OF BENEFITS - THIS IS NOT A BILL\nMember: {patient}\nMember ID: {plan}\nClaim {claim}\n"
        "Provider: Dr. {provider}\nService: {proc} (CPT {cpt})\nBilled {amount}  Plan paid {amount2}\n"
        "Diagnosis code: {icd}",
        "Dear {patient},\n{payer} processed a claim for services on {date}. Subscriber ID {plan}. "
        "Procedure code {cpt}: {proc}. Your share: {amount2}. Call member services at {phone}.",
        "{payer} EOB for {patient} (DOB {dob}). Claim {claim}: {proc}, billed {amount}, allowed {amount2}. "
        "Questions about this claim? Contact us at {email}.",
    ),
    "prescription": (
        "Rx for {patient}, DOB {dob}\n{drug}, [1 tablet by mouth daily|take twice daily with food], #90, "
        "refills 3\nNDC {ndc}\nPrescriber: Dr. {provider}, NPI {npi}, DEA {dea}",
        "Hi {pfirst}, your prescription for {drug} is ready for pickup at [Main Street|Elm Avenue] Pharmacy. "
        "Questions? Call {phone}.",
        "Pharmacy note: {patient} requests a refill of {drug}. Last fill {date}. Prescriber Dr. {provider} "
        "(DEA {dea}). Patient callback {phone}. Allergies: [penicillin|sulfa|none known].",
        "Prior authorization for {patient}, member ID {plan}: {drug} (NDC {ndc}) for {dx}, ICD-10 {icd}. "
        "Prescriber NPI {npi}. Fax determination to {phone}.",
    ),
    "discharge": (
        "DISCHARGE SUMMARY\nPatient: {patient}  MRN: {mrn}  DOB: {dob}\nAdmitted {date}, discharged {date2}\n"
        "Diagnosis: {dx} ({icd})\nDischarge medications: {drug}\nFollow up with Dr. {provider} in 1 week, "
        "{phone}.",
        "{patient} is a {age90}-year-old [woman|man] admitted with {dx}. MRN {mrn}. Discharged home with "
        "home health; daughter's number {phone}.",
        "Discharge instructions for {pfirst}: keep taking {drug}. Watch for fever or shortness of breath. "
        "Dr. {provider} will see you on {date}. Questions: {email2}",
        "Dear Dr. {provider},\n{patient} (chart # {mrn}) was discharged today after treatment for {dx}. "
        "Secondary dx {icd2}. Please see the patient within 7 days.\n{colleague}, RN",
    ),
    "business": (
        "Subject: Supply order {po}\n\nThe order of {qty} cases of nitrile gloves and {qty} boxes of printer "
        "paper has shipped. Delivery to dock B on {date}. Questions: {phone}.",
        "IT notice: the email server will be down for maintenance on {date} from 10 PM to 2 AM. Ticket "
        "{ticket}. For urgent issues contact the help desk at {phone} or {helpdesk}.",
        "Reminder: the quarterly all-hands meeting is on {date} at {time} in room {room}. Lunch will be "
        "provided. Please RSVP by Friday.",
        "Newsletter - {year} holiday schedule: the office closes at noon on December 24 and reopens "
        "January 2. Parking lot C will be resurfaced next month.",
        "Facilities: the elevator in building [A|B] is out of service until {date}. Use the east stairwell. "
        "Work order {ticket}.",
        "Finance: budget templates for fiscal {year} are due {date}. Upload them to the shared drive; "
        "invoices over $5,000 need two approvals.",
        "Open enrollment for employee benefits runs through {date}. Compare the dental and vision options on "
        "the intranet before you choose.",
    ),
    "business-colleague": (
        "Hi team,\n\n{colleague} will lead the budget review on {date} at {time} in room {room}. Please send "
        "your figures to {email2} by Thursday.\n\nThanks,\n{colleague2}",
        "Please welcome {colleague}, who joins accounting as a senior analyst. {cfirst} can be reached at "
        "{phone2}.",
        "Dear {colleague},\nThanks for covering the vendor call yesterday. Can we meet {date} to go over the "
        "contract renewal?\nBest,\n{colleague2}",
        "Out of office: I am away until {date}. For purchasing questions please contact {colleague} "
        "({email2}, {phone2}).",
        "Congratulations to {colleague} on ten years with the organization! Cake in the break room at "
        "{time}.",
        "Hello {cfirst}, the laptop you ordered (ticket {ticket}) is ready. Pick it up from {colleague2} "
        "in IT, room {room}.",
        "Minutes: {colleague} presented the [Q1|Q2|Q3|Q4] marketing plan; {colleague2} will circulate "
        "the slides "
        "by {date}.",
    ),
    "clinical-no-identifier": (
        "[Clinical update|Practice bulletin|From the medical director]: the [updated|revised] guideline "
        "recommends starting metformin at diagnosis of type 2 diabetes unless contraindicated. Target A1c is "
        "[below 7%|7% or lower] for most adults aged [40 to 75|18 to 64].",
        "Flu season reminder: offer the influenza vaccine to every patient 6 months and older. High-dose "
        "vaccine is preferred for adults 65 and older. Document refusals in the chart.",
        "Formulary change effective {date}: atorvastatin replaces simvastatin as the preferred statin. "
        "Existing prescriptions continue until the next refill.",
        "Coding tip: use ICD-10 {icd} for {dx} and add the CPT code {cpt} only when the {proc} is "
        "documented.",
        "Grand rounds on {date}: management of Crohn's disease and ulcerative colitis in adolescents, "
        "including biologics such as infliximab and adalimumab.",
        "Nursing education: assess fall risk on admission for every patient over 65. Patients with "
        "Parkinson's disease or on sedatives need a bed alarm.",
        "Quality report {year}: hypertension control [improved|rose] to [71|68|74]% of patients; statin use "
        "in diabetes rose to [84|79|81]%. [Thanks to every clinic for the effort.|Details at the next staff "
        "meeting.]",
        "Reminder: hand hygiene compliance fell to 88% last quarter. Infection prevention will audit the "
        "ICU and the surgical wards on {date2}.",
        "Patient education handout: after a colonoscopy you may feel bloated. Call the clinic if you have "
        "fever, severe abdominal pain or bleeding.",
        "New protocol: for suspected sepsis draw blood cultures and lactate, then start broad-spectrum "
        "antibiotics within one hour. Reassess at 6 hours.",
        "Pharmacy and therapeutics committee: apixaban is now preferred over warfarin for atrial "
        "fibrillation in patients without mechanical valves.",
        "Case discussion (de-identified): a woman in her 60s with [heart failure|COPD|chronic kidney "
        "disease] was readmitted twice in one month. Root cause: missed follow-up and no [diuretic|inhaler] "
        "teaching. Action: pharmacist call within 48 hours of discharge.",
        "Lab notice: the reference range for [TSH|ferritin|vitamin B12] changes on {date}. Results before "
        "and after the change are not directly comparable; flag trends with care.",
        "Antibiotic stewardship: [amoxicillin|doxycycline|nitrofurantoin] remains first line for "
        "[uncomplicated cystitis|community-acquired pneumonia in healthy adults|acute otitis media]. "
        "Avoid fluoroquinolones unless cultures require them.",
        "Reminder to prescribers: opioid prescriptions for acute pain should not exceed a 7-day supply. "
        "Check the state monitoring program before prescribing [oxycodone|hydrocodone|tramadol].",
        "Vaccine clinic hours for [October|November|the spring]: walk-ins welcome for influenza, COVID-19 "
        "and shingles vaccines. Bring your insurance card.",
        "Diabetes education class: carbohydrate counting, insulin pen technique and foot care. "
        "[Tuesdays at 5 PM|First Saturday of the month] in the community room.",
        "Screening update: the USPSTF now recommends colorectal cancer screening from age 45. Hashimoto's "
        "thyroiditis and Graves' disease workups are unchanged.",
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

"""Generate ``phi_blind.jsonl``: a blind, labeled evaluation corpus of healthcare e-mail text.

The corpus is written independently of the PHI detector and of the other corpora, to measure the
detector once, honestly, after tuning. Run ``python tests/data/make_phi_blind.py``; the output is
deterministic (fixed seed). One JSON object a line::

    {"text": str, "spans": [{"start": int, "end": int, "label": str}], "contains_phi": bool,
     "kind": str}

**Texts.** About 110 texts with PHI (kinds: portal-message, nurse-callback, prior-authorization,
pharmacy-refill, lab-critical-value, care-coordination, claim-denial, hospice-intake,
patient-reply, scheduling-change, radiology-report-summary) and about 90 without (kinds:
business-colleague, newsletter, clinical-no-identifier, vendor-it, facilities, marketing). Layouts
vary: greetings and signatures, forwarded headers, bullet lists, text tables, ALL CAPS forms,
sloppy lowercase patient writing, possessives, "Last, First" names, initials, names that are also
ordinary words (Hope, Grant, Will, Mark ...), organisation names containing such words ("Mount
Hope Community Clinic") and eponymous diseases ("Parkinson's"), which are not labeled.

**Labels.** PERSON, PHONE_NUMBER, EMAIL_ADDRESS, US_SSN, MEDICAL_RECORD_NUMBER, US_NPI,
US_DEA_NUMBER, US_MBI, HEALTH_PLAN_ID, DATE_OF_BIRTH, AGE_OVER_89, ICD10_CODE, CPT_CODE,
NDC_CODE. Every occurrence is labeled, whoever it belongs to (a colleague's name and phone are
PERSON and PHONE_NUMBER too). A span covers the value only, not its keyword or honorific: in
"MRN 00482913" the span is "00482913", in "Mr. Okafor's" it is "Okafor", in "DOB: 3/14/1962" it
is "3/14/1962". An age is labeled AGE_OVER_89 only when it is 90 or more ("92", "92-year-old").
Not labeled: dates other than birth dates, years, places and addresses, organisations, claim /
authorization / ticket / invoice numbers, ages under 90.

**Message label.** ``contains_phi`` is true exactly when the text has a patient identifier (MRN,
health plan ID, MBI, SSN) or an identifier of a person (name, phone, e-mail, birth date, age over
89) together with health information about that person. A colleague's name in business mail, a
physician named as a speaker or new hire, provider NPIs / DEA numbers and codes in a coding tip
do not make PHI. Kind ``clinical-no-identifier`` texts have clinical wording and nobody
identified at all (no PERSON either).

**Values** are synthetic and valid: NPIs pass the Luhn check with the 80840 prefix, DEA numbers
carry their check digit, MBIs follow the CMS character rules, SSNs avoid area 000/666/9xx, group
00 and serial 0000, phones are 555-01xx, e-mail domains are example.com/org/net.

**Templates.** ``{key}`` is a value of the per-text context (labeled or not), ``{key|lower}`` /
``{key|upper}`` the same value re-cased, ``{LABEL=value}`` a literal labeled value (a code that
must match the clinical story), ``{@name}`` a random snippet (signature, forwarded header ...).
Spans are computed where values are inserted and checked against the text.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 4711
OUT = Path(__file__).with_name("phi_blind.jsonl")
TODAY = date(2025, 6, 16)

# -- names --------------------------------------------------------------------------------------

FIRST = [  # (name, sex); sex "U" is decided per person
    ("Maria", "F"), ("Hope", "F"), ("Rose", "F"), ("Grace", "F"), ("Joy", "F"), ("Faith", "F"),
    ("Priya", "F"), ("Aaliyah", "F"), ("Mei", "F"), ("Fatima", "F"), ("Olga", "F"),
    ("Siobhan", "F"), ("Renée", "F"), ("Zoë", "F"), ("Ngozi", "F"), ("Ana", "F"), ("Keiko", "F"),
    ("Yesenia", "F"), ("Dorothy", "F"), ("Mary-Kate", "F"), ("Amara", "F"), ("Ingrid", "F"),
    ("Lakshmi", "F"), ("Carmen", "F"), ("Shanice", "F"), ("Leilani", "F"), ("Esperanza", "F"),
    ("Bridget", "F"), ("Summer", "F"), ("Precious", "F"), ("Will", "M"), ("Mark", "M"),
    ("Grant", "M"), ("Chidi", "M"), ("José", "M"), ("Wei", "M"), ("Mohammed", "M"),
    ("Dmitri", "M"), ("Tariq", "M"), ("Rahul", "M"), ("Kwame", "M"), ("Jean-Luc", "M"),
    ("D'Andre", "M"), ("Sean", "M"), ("Hiroshi", "M"), ("Bao", "M"), ("Mateo", "M"), ("Rob", "M"),
    ("Bill", "M"), ("Miles", "M"), ("Chase", "M"), ("Forrest", "M"), ("Eduardo", "M"),
    ("Oluwaseun", "M"), ("Jamal", "M"), ("Thanh", "M"), ("Ezekiel", "M"), ("Jordan", "U"),
    ("Taylor", "U"), ("Avery", "U"),
]
LAST = [
    "Okafor", "Nguyen", "Garcia", "Kowalski", "O'Brien", "Smith-Jones", "Patel", "Hope", "Grant",
    "Page", "Rose", "Bell", "King", "Little", "Young", "Price", "Banks", "Love", "Moody", "Strong",
    "Fox", "Wolf", "Hill", "Rivers", "Nakamura", "Kim", "Haddad", "Al-Sayed", "Mensah",
    "Abernathy", "Dubois", "Schneider", "Rossi", "Cohen", "Fernández", "Delgado", "Santos",
    "Yilmaz", "Chen", "Begay", "Tsosie", "Kealoha", "MacLeod", "D'Souza", "N'Diaye",
    "Van der Berg", "Washington", "Freeman", "Lindqvist", "Murphy-Walsh", "Le", "Singh",
    "Adeyemi", "Hernandez-Lopez", "St. Clair", "De La Cruz", "Mbeki", "Sokolov", "Whitehorse",
    "Baptiste",
]

# -- vocabulary (never labeled) ------------------------------------------------------------------

ORGS = [
    "Riverside Family Medicine", "St. Agnes Medical Center", "Lakeview Cardiology Associates",
    "Northgate Pediatrics", "Harbor Oncology Group", "Cedar Valley Health System",
    "Mount Hope Community Clinic", "Grant Street Primary Care", "Rose Hill Hospice",
    "Page Memorial Hospital", "Prairie Sky Orthopedics", "Bayview Women's Health",
]
PAYERS = [
    "Blue Horizon Health Plan", "Summit Mutual Insurance", "Keystone Community Medicaid",
    "Evergreen Medicare Advantage", "Pinnacle Health Partners", "TriState Employee Benefits",
]
PHARMACIES = [
    "Main Street Pharmacy", "CarePoint Pharmacy #4412", "Wellway Drug #0917",
    "Harbor Specialty Pharmacy", "Lindell Apothecary",
]
DRUGS = [
    "metformin 500 mg tablet", "atorvastatin 40 mg tablet", "lisinopril 10 mg tablet",
    "levothyroxine 75 mcg tablet", "sertraline 50 mg tablet", "amlodipine 5 mg tablet",
    "albuterol HFA 90 mcg inhaler", "insulin glargine 100 units/mL pen", "apixaban 5 mg tablet",
    "oxycodone-acetaminophen 5-325 mg tablet", "gabapentin 300 mg capsule",
    "alprazolam 0.5 mg tablet", "buprenorphine-naloxone 8-2 mg film", "montelukast 10 mg tablet",
]
ICD10 = [
    ("E11.9", "type 2 diabetes mellitus without complications"), ("I10", "essential hypertension"),
    ("J45.909", "unspecified asthma, uncomplicated"), ("E78.5", "hyperlipidemia, unspecified"),
    ("N18.30", "chronic kidney disease, stage 3 unspecified"), ("F32.A", "depression, unspecified"),
    ("M54.50", "low back pain, unspecified"), ("I48.91", "unspecified atrial fibrillation"),
    ("J44.1", "COPD with (acute) exacerbation"), ("E66.9", "obesity, unspecified"),
    ("K21.9", "GERD without esophagitis"), ("G47.33", "obstructive sleep apnea"),
    ("R07.9", "chest pain, unspecified"), ("I25.10", "ASHD of native coronary artery"),
    ("N39.0", "urinary tract infection, site not specified"),
    ("J18.9", "pneumonia, unspecified organism"), ("F41.1", "generalized anxiety disorder"),
    ("M17.11", "primary osteoarthritis, right knee"), ("E03.9", "hypothyroidism, unspecified"),
    ("I50.9", "heart failure, unspecified"), ("D64.9", "anemia, unspecified"),
    ("M81.0", "age-related osteoporosis"), ("R41.82", "altered mental status, unspecified"),
]
CPT = [
    ("99213", "office visit, established, low MDM"), ("99214", "office visit, established, moderate MDM"),
    ("99204", "office visit, new patient, moderate MDM"), ("93000", "ECG with interpretation"),
    ("80053", "comprehensive metabolic panel"), ("85025", "CBC with differential"),
    ("83036", "hemoglobin A1c"), ("80061", "lipid panel"), ("71046", "chest X-ray, 2 views"),
    ("93306", "transthoracic echocardiogram, complete"), ("36415", "venipuncture"),
    ("84443", "TSH"), ("96372", "therapeutic injection, IM/SC"), ("99497", "advance care planning"),
]
AREA_CODES = ["312", "617", "206", "404", "512", "919", "503", "720", "215", "414", "615", "801"]
STREETS = ["1420 Alder Ln", "88 Water St Apt 3B", "2715 N Kedzie Ave", "604 Orchard Ct", "19 Pike Rd"]
STAFF_ROLES = [
    "Referral Coordinator", "Medical Assistant", "Practice Manager", "Patient Access Representative",
    "Billing Specialist", "Care Coordinator, RN", "Prior Authorization Specialist", "Office Manager",
]

# -- identifiers --------------------------------------------------------------------------------

MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # A-Z without S, L, O, I, B, Z
DIGITS = "0123456789"


def luhn_digit(payload: str) -> str:
    """Check digit that makes ``payload + digit`` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    return luhn_digit(number[:-1]) == number[-1]


def npi(rng: random.Random) -> str:
    base = rng.choice("12") + "".join(rng.choices(DIGITS, k=8))
    return base + luhn_digit("80840" + base)


def dea_check(digits: str) -> str:
    d = [int(c) for c in digits]
    return str((d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10)


def dea(rng: random.Random, last: str) -> str:
    six = "".join(rng.choices(DIGITS, k=6))
    return rng.choice("ABFGM") + strip(last)[0].upper() + six + dea_check(six)


def mbi(rng: random.Random) -> str:
    an = MBI_LETTERS + DIGITS
    c = rng.choice
    value = (c("123456789") + c(MBI_LETTERS) + c(an) + c(DIGITS) + c(MBI_LETTERS) + c(an)
             + c(DIGITS) + c(MBI_LETTERS) + c(MBI_LETTERS) + c(DIGITS) + c(DIGITS))
    return f"{value[:4]}-{value[4:7]}-{value[7:]}" if rng.random() < 0.3 else value


def mbi_ok(value: str) -> bool:
    v = value.replace("-", "")
    L, N, A = f"[{MBI_LETTERS}]", "[0-9]", f"[{MBI_LETTERS}0-9]"
    return re.fullmatch(f"[1-9]{L}{A}{N}{L}{A}{N}{L}{L}{N}{N}", v) is not None


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    number = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    return number.replace("-", " ") if rng.random() < 0.15 else number


def ssn_ok(value: str) -> bool:
    m = re.fullmatch(r"(\d{3})[- ](\d{2})[- ](\d{4})", value)
    return bool(m) and m[1] not in ("000", "666") and m[1][0] != "9" and m[2] != "00" and m[3] != "0000"


def phone(rng: random.Random, suffix: int) -> str:
    area, line = rng.choice(AREA_CODES), f"01{suffix:02d}"
    return rng.choice([f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}",
                       f"+1 {area}-555-{line}", f"{area} 555 {line}"])


def mrn(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice([f"{n(0, 9999999):08d}", f"{rng.choice('ABEMK')}{n(0, 9999999):07d}",
                       f"{n(1000000, 9999999)}", f"M{n(0, 999999999):09d}", f"{n(10, 99)}-{n(10, 99)}-{n(1000, 9999)}"])


def plan_id(rng: random.Random) -> str:
    n, letters = rng.randint, "ABCDEFGHJKMNPRSTUVWXYZ"
    return rng.choice([
        "".join(rng.choices(letters, k=3)) + f"{n(0, 999999999):09d}", f"W{n(0, 999999999):09d}",
        f"{n(100000000, 999999999)}-0{n(1, 4)}", f"{n(10000000, 99999999)}{rng.choice(letters)}",
        f"U{n(0, 9999999):07d}0{n(1, 4)}",
    ])


def ndc(rng: random.Random) -> str:
    def d(k: int) -> str:
        return "".join(rng.choices(DIGITS, k=k))
    return rng.choice([f"0{d(4)}-{d(4)}-{d(2)}", f"{d(4)}-{d(4)}-{d(2)}", f"{rng.choice('056')}{d(4)}-{d(3)}-{d(2)}"])


def fmt_date(rng: random.Random, d: date) -> str:
    return rng.choice([f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{d:%Y-%m-%d}",
                       f"{d:%B} {d.day}, {d.year}", f"{d.day} {d:%b} {d.year}", f"{d.month}/{d.day}/{d:%y}"])


# -- people -------------------------------------------------------------------------------------

def strip(name: str) -> str:
    """ASCII letters only, for e-mail addresses."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z]", "", ascii_)


PRONOUNS = {"F": ("she", "her", "her", "Ms.", "woman", "daughter", "wife"),
            "M": ("he", "his", "him", "Mr.", "man", "son", "husband")}


def person(rng: random.Random, last: str, suffix: int, role: str) -> dict[str, tuple[str, str | None]]:
    """Every form of one person's name and contacts, as context entries prefixed by ``role``."""
    first, sex = rng.choice(FIRST)
    sex = sex if sex != "U" else rng.choice("FM")
    he, his, him, title, noun, child, spouse = PRONOUNS[sex]
    if sex == "F" and rng.random() < 0.3:
        title = "Mrs."
    f, s = strip(first).lower(), strip(last).lower()
    email = rng.choice([f"{f}.{s}", f"{f[0]}{s}", f"{f}{s[0]}{rng.randint(2, 99)}", f"{f}_{s}"])
    email += "@" + rng.choice(["example.com", "example.org", "example.net"])
    P = "PERSON"
    forms = {
        "": (f"{first} {last}", P), "_first": (first, P), "_last": (last, P),
        "_lf": (f"{last}, {first}", P), "_mid": (f"{first} {rng.choice('ACDEJLMRST')}. {last}", P),
        "_fi": (f"{first[0]}. {last}", P), "_init": (f"{first[0]}.{strip(last)[0].upper()}.", P),
        "_email": (email, "EMAIL_ADDRESS"), "_phone": (phone(rng, suffix), "PHONE_NUMBER"),
        "_he": (he, None), "_He": (he.capitalize(), None), "_his": (his, None),
        "_His": (his.capitalize(), None), "_him": (him, None), "_title": (title, None),
        "_gender": (noun, None), "_child": (child, None), "_spouse": (spouse, None),
        "_role": (rng.choice(STAFF_ROLES), None),
    }
    return {role + k: v for k, v in forms.items()}


ROLES = ["pt", "pt2", "pt3", "fam", "kid", "doc", "doc2", "rn", "staff", "mgr", "cc1"]


def context(rng: random.Random, elderly: bool) -> dict[str, tuple[str, str | None]]:
    """A fresh set of people, identifiers and clinical values for one text."""
    suffixes = rng.sample(range(100), 20)
    lasts = rng.sample(LAST, len(ROLES))
    ctx: dict[str, tuple[str, str | None]] = {}
    for i, role in enumerate(ROLES):
        ctx.update(person(rng, lasts[i], suffixes[i], role))
    if rng.random() < 0.6:  # family shares the patient's surname
        ctx.update(person(rng, ctx["pt_last"][0], suffixes[3], "fam"))
    ctx.update(person(rng, ctx["fam_last"][0], suffixes[4], "kid"))
    ctx["fam_rel"] = (rng.choice([ctx["fam_child"][0]] * 3 + [ctx["fam_spouse"][0]]), None)

    born = TODAY - timedelta(days=rng.randint(90 * 365 + 30, 101 * 365) if elderly else rng.randint(19 * 365, 88 * 365))
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    age_label = "AGE_OVER_89" if age >= 90 else None
    kid_born = TODAY - timedelta(days=rng.randint(2 * 365, 15 * 365))
    visit = TODAY - timedelta(days=rng.randint(1, 60))
    later = TODAY + timedelta(days=rng.randint(2, 45))
    soon = TODAY + timedelta(days=rng.randint(2, 45))
    icd, icd2, icd3 = rng.sample(ICD10, 3)
    cpt, cpt2 = rng.sample(CPT, 2)
    drug = rng.choice(DRUGS)
    r = rng.randint
    ctx.update({
        "dob": (fmt_date(rng, born), "DATE_OF_BIRTH"), "kid_dob": (fmt_date(rng, kid_born), "DATE_OF_BIRTH"),
        "dob_l": (rng.choice(["DOB", "DOB:", "D.O.B.", "Date of birth:", "Birthdate:"]), None),
        "age": (str(age), age_label),
        "age_yo": (rng.choice([f"{age}-year-old", f"{age} y/o", f"{age}yo", f"{age} yo"]), age_label),
        "mrn": (mrn(rng), "MEDICAL_RECORD_NUMBER"),
        "mrn_l": (rng.choice(["MRN", "MRN:", "MRN#", "MR#", "Medical record #:", "Med Rec No.", "Chart #", "Acct/MRN:"]), None),
        "plan": (plan_id(rng), "HEALTH_PLAN_ID"),
        "plan_l": (rng.choice(["Member ID", "Member ID #:", "Subscriber ID", "Policy #", "Ins ID:", "ID#"]), None),
        "mbi": (mbi(rng), "US_MBI"), "ssn": (ssn(rng), "US_SSN"),
        "npi": (npi(rng), "US_NPI"), "npi2": (npi(rng), "US_NPI"),
        "dea": (dea(rng, ctx["doc_last"][0]), "US_DEA_NUMBER"),
        "icd": (icd[0], "ICD10_CODE"), "icd_d": (icd[1], None), "icd2": (icd2[0], "ICD10_CODE"),
        "icd2_d": (icd2[1], None), "icd3": (icd3[0], "ICD10_CODE"),
        "cpt": (cpt[0], "CPT_CODE"), "cpt_d": (cpt[1], None), "cpt2": (cpt2[0], "CPT_CODE"), "cpt2_d": (cpt2[1], None),
        "ndc": (ndc(rng), "NDC_CODE"), "ndc2": (ndc(rng), "NDC_CODE"),
        "drug": (drug, None), "drug_name": (drug.split()[0], None),
        "org_phone": (phone(rng, suffixes[15]), "PHONE_NUMBER"), "org2_phone": (phone(rng, suffixes[16]), "PHONE_NUMBER"),
        "fax": (phone(rng, suffixes[17]), "PHONE_NUMBER"),
        "org": (rng.choice(ORGS), None), "org2": (rng.choice(ORGS), None), "payer": (rng.choice(PAYERS), None),
        "pharmacy": (rng.choice(PHARMACIES), None), "street": (rng.choice(STREETS), None),
        "date": (fmt_date(rng, visit), None), "date2": (fmt_date(rng, later), None),
        "day": (f"{soon:%A}, {soon:%B} {soon.day}", None),
        "sent": (f"{visit:%A}, {visit:%B} {visit.day}, {visit.year} {r(7, 11)}:{r(0, 59):02d} {rng.choice(['AM', 'PM'])}", None),
        "time": (f"{r(7, 11)}:{rng.choice(['00', '15', '20', '40', '45'])} AM", None),
        "time2": (f"{r(1, 4)}:{r(10, 59)} PM", None),
        "room": (str(r(301, 689)), None), "claim": (f"{visit.year}{r(100, 366)}{r(10000000, 99999999)}", None),
        "auth": (f"PA{r(1000000, 9999999)}", None), "ticket": (f"INC{r(1000000, 9999999)}", None),
        "invoice": (f"INV-{r(100000, 999999)}", None), "ext": (str(r(2000, 4999)), None),
        "k": (f"{rng.uniform(6.2, 7.4):.1f}", None), "na": (str(r(114, 120)), None),
        "hgb": (f"{rng.uniform(5.6, 6.8):.1f}", None), "inr": (f"{rng.uniform(5.2, 9.1):.1f}", None),
        "glu": (str(rng.choice([38, 41, 44, 512, 587, 634])), None), "a1c": (f"{rng.uniform(8.1, 11.9):.1f}", None),
    })
    return ctx


# -- rendering ----------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(?:([A-Z0-9_]+)=([^}]+)|(\w+)(?:\|(lower|upper))?)\}")


def T(s: str) -> str:
    """A template written as an indented triple-quoted string."""
    return textwrap.dedent(s).strip("\n")


def expand(template: str, rng: random.Random, subject: str) -> str:
    """Resolve ``{@snippet}`` and ``{subject}`` (they may contain placeholders themselves)."""
    for _ in range(5):
        template = template.replace("{subject}", subject)
        template = re.sub(r"\{@(\w+)\}", lambda m: rng.choice(SNIPPETS[m[1]]), template)
    assert "{@" not in template, template
    return template


def render(template: str, ctx: dict) -> tuple[str, list[dict]]:
    parts: list[str] = []
    spans: list[dict] = []
    pos = last = 0
    for m in PLACEHOLDER.finditer(template):
        literal = template[last:m.start()]
        parts.append(literal)
        pos += len(literal)
        if m[1]:
            value, label = m[2], m[1]
        else:
            value, label = ctx[m[3]]
            value = value.lower() if m[4] == "lower" else value.upper() if m[4] == "upper" else value
        parts.append(value)
        if label:
            spans.append({"start": pos, "end": pos + len(value), "label": label})
        pos += len(value)
        last = m.end()
    parts.append(template[last:])
    text = "".join(parts)
    assert "{" not in text and "}" not in text, text
    return text, spans


# -- snippets -----------------------------------------------------------------------------------

SNIPPETS = {
    "sig": [
        "Thanks,\n{staff}\n{staff_role}\n{org}\nP: {staff_phone} | F: {fax}\n{staff_email}",
        "Thank you,\n\n{staff_first}\n{staff_role} | {org}\nDirect {staff_phone}",
        "{staff}\n{org}\n{staff_phone}",
        "Best,\n{staff_first}",
        "Thanks!\n{staff}, {staff_role}\n{org} * main {org_phone} ext {ext}",
    ],
    "fwd": [
        "From: {mgr_lf} <{mgr_email}>\nSent: {sent}\nTo: {staff_lf} <{staff_email}>\nCc: {cc1}\nSubject: {subject}\n\n",
        "---------- Forwarded message ---------\nFrom: {mgr} <{mgr_email}>\nDate: {sent}\nSubject: {subject}\nTo: <{staff_email}>\n\n",
        "-----Original Message-----\nFrom: {mgr}\nSent: {sent}\nTo: {staff}; {cc1}\nSubject: {subject}\n\n",
    ],
    "fwd_top": ["FYI, see below.\n\n", "{staff_first} - can you take care of this one?\n\n", "Forwarding per our conversation.\n\n", ""],
    "footer": [
        "CONFIDENTIALITY NOTICE: This e-mail, including any attachments, is for the sole use of the intended "
        "recipient(s) and may contain confidential and privileged information, including protected health "
        "information. If you are not the intended recipient, please contact the sender and destroy all copies.",
        "This message may contain information that is privileged or confidential under HIPAA. Unauthorized "
        "review, use or disclosure is prohibited.",
        "{org} | This communication is confidential. If received in error, please notify {org_phone}.",
    ],
    "hi": ["Hi", "Hello", "Good morning", "Hi there", "Dear"],
}

# -- templates: texts with PHI -------------------------------------------------------------------

PHI_KINDS = {
    "portal-message": (["Your test results", "Message from your care team", "RE: Medication question"], [
        T("""
        {@hi} {pt_first},

        Your labs from {date} are back. Your A1c was {a1c}%, higher than our goal of under 7. Dr. {doc_last} would
        like to increase your metformin to 1000 mg twice daily (diagnosis {ICD10_CODE=E11.65}, type 2 diabetes with
        hyperglycemia) and see you again in 3 months.

        Please reply here or call the nurse line at {org_phone} if you have questions.

        {staff}, {staff_role}
        {org}
        """),
        T("""
        RE: Medication question
        --------------------------------
        From: {pt} (patient)
        Sent: {sent}
        I have been getting dizzy when I stand up since starting the lisinopril. Should I keep taking it? My blood
        pressure this morning was 98/60.
        --------------------------------
        Response from {rn}, RN:
        Hi {pt_title} {pt_last}, thank you for letting us know. Please hold the lisinopril tonight and tomorrow
        morning and drink extra fluids. I have sent this to Dr. {doc_last}, who will review today. If you feel faint
        or have chest pain, call 911.

        {org} patient portal | {mrn_l} {mrn}
        """),
        T("""
        NEW MESSAGE FROM {org|upper}

        Patient: {pt_lf}        {dob_l} {dob}        {mrn_l} {mrn}
        Visit date: {date}      Provider: {doc}, MD

        Diagnoses addressed today:
          - {icd}  {icd_d}
          - {icd2}  {icd2_d}
        Services: {cpt} ({cpt_d}), {cpt2} ({cpt2_d})

        Follow up in 6 weeks, sooner if symptoms worsen. Hope you feel better soon!
        """),
        T("""
        Hello {fam_title} {fam_last},

        This is {rn_first} from Dr. {doc_last}'s office. {kid_first}'s rapid strep test came back positive
        ({ICD10_CODE=J02.0}). We sent amoxicillin to {pharmacy}; it should be ready within the hour.
        {kid_first} can go back to school after 24 hours on the antibiotic and without fever.

        For after-hours questions call {org_phone}.
        {rn}, RN
        """),
    ]),
    "nurse-callback": (["Callback needed", "Phone note", "pt call"], [
        T("""
        TELEPHONE ENCOUNTER
        Caller: {fam} ({fam_rel}) on behalf of {pt}
        Callback #: {fam_phone}
        {mrn_l} {mrn}    {dob_l} {dob}
        Reason: pt has had fever 101.8 x2 days after chemo cycle 3, chills, no cough.
        Per Dr. {doc_last}: go to ED now for neutropenic fever eval. Caller verbalized understanding.
        -- {rn}, RN {time}
        """),
        T("""
        Dr. {doc_last},

        Spoke with {pt} this morning ({pt_phone}). {pt_He} reports weight up 4 lb in 2 days and more swelling in
        both ankles, sleeping on 3 pillows. Known HFrEF ({ICD10_CODE=I50.22}), on furosemide 40 mg daily.
        OK to double the dose x3 days and recheck BMP? {pt_He} can come in {day} if you'd rather see {pt_him}.

        {rn_first}
        """),
        T("""
        callbacks for today -
        1) {pt_fi} {pt_phone} - wants refill of {drug_name}, out since sat
        2) {pt2_lf} - home BP 170s/100s x3 days, HA, pls call back ({pt2_phone})
        3) {fam} calling re {pt3}, fell last night, no head strike, on eliquis. pls advise
        4) pharmacy re: PA - will call them back after lunch
        - {rn_init}
        """),
        T("""
        Left VM for {pt_title} {pt_last} at {pt_phone} to call back re: abnormal Pap (ASC-H). 2nd attempt.
        Letter mailed to {street}. Colposcopy referral placed with Dr. {doc2}.
        {mrn_l} {mrn} / {dob_l} {dob}
        {rn}, RN  {date}
        """),
    ]),
    "prior-authorization": (["PA request", "Prior auth status", "Peer to peer scheduled"], [
        T("""
        PRIOR AUTHORIZATION REQUEST
        Payer: {payer}          Fax: {fax}
        Member name: {pt_lf|upper}
        {plan_l} {plan}
        DOB: {dob}
        Requested service: {CPT_CODE=72148} MRI lumbar spine w/o contrast
        Diagnosis: {ICD10_CODE=M54.16} radiculopathy, lumbar region; {ICD10_CODE=M51.26} disc displacement, lumbar
        Ordering provider: {doc}, MD   NPI {npi}
        Clinical summary: 8 weeks of PT ({CPT_CODE=97110}) and NSAIDs failed; progressive L leg numbness.
        Contact: {staff} {staff_phone}
        """),
        T("""
        Hi {mgr_first},

        Per our call, attaching the PA for {pt} ({plan_l} {plan}) for Humira 40 mg/0.4 mL pen, NDC {ndc}.
        Dx {ICD10_CODE=K50.90} Crohn's disease; failed azathioprine and budesonide. {pt_His} last colonoscopy
        ({CPT_CODE=45380}) showed active ileitis. Chart notes and path report are in the packet.

        {@sig}
        """),
        T("""
        Re: PA status - {pt_lf}
        MBI {mbi}  |  DOB {dob}
        Service: {CPT_CODE=95810} attended polysomnography   Dx: {ICD10_CODE=G47.33}
        Auth # {auth} approved {date}, valid through {date2}. Sleep lab notified; {pt_first} will be called to
        schedule. Please mark the referral as complete.
        {staff_first}
        """),
        T("""
        Dr. {doc_last},

        The peer-to-peer with {payer}'s medical director for {pt_fi} ({mrn_l} {mrn}) about the denied CT
        abdomen/pelvis with contrast ({CPT_CODE=74177}) is set for {day} at {time}. They will call you at
        {doc_phone}. Indication: RLQ pain and weight loss, r/o Crohn's vs. lymphoma ({ICD10_CODE=R10.31}).

        {@sig}
        """),
    ]),
    "pharmacy-refill": (["Refill request", "Rx refill", "Insurance rejection"], [
        T("""
        REFILL AUTHORIZATION REQUEST
        From: {pharmacy}   Ph {org2_phone}   Fax {fax}
        Patient: {pt}   DOB: {dob}
        Drug: {drug}   NDC {ndc}   Qty 90   Last fill {date}
        Prescriber: {doc}   NPI {npi}   DEA {dea}
        [ ] Approved   [ ] Denied   Refills: ____
        """),
        T("""
        Dr. {doc_last} -

        {pt_lf} (DOB {dob}) is asking for an early refill of oxycodone-acetaminophen 5-325 (NDC {ndc}),
        says the bottle was stolen from {pt_his} car. Last filled {date}, #60. PDMP checked, no other
        prescribers. Pain agreement on file for {ICD10_CODE=M54.50}. OK to send? Your DEA {dea} is on the script.

        {staff_first}, MA
        """),
        T("""
        Pharmacy called: {pt_title} {pt_last}'s plan ({payer}, {plan_l} {plan}) rejected {drug_name}, needs a PA
        or a switch to a formulary alternative. NDC {ndc}. Callback {pharmacy} {org2_phone}, ref {auth}.
        """),
        T("""
        {@hi} {doc_first},

        Refills waiting in your queue:
          * {pt} - {drug}, last A1c {a1c} on {date}
          * {pt2_lf} - insulin glargine pen NDC {ndc2}, dx {ICD10_CODE=E10.65}
          * {pt3_fi} - sertraline 100 mg, due for PHQ-9 ({ICD10_CODE=F33.1})
        Please sign before 4 so they go out today.

        {@sig}
        """),
    ]),
    "lab-critical-value": (["CRITICAL VALUE", "Critical lab result", "crit lab"], [
        T("""
        *** CRITICAL VALUE NOTIFICATION ***
        Patient: {pt_lf|upper}     {mrn_l} {mrn}
        DOB: {dob}    Loc: 4 West Rm {room}
        Test: Potassium    Result: {k} mmol/L (ref 3.5-5.1)    Collected {date} {time}
        Called to {rn}, RN by {staff} (lab) at {time2}; read-back confirmed.
        """),
        T("""
        Dr. {doc_last} - critical INR {inr} on {pt} ({dob_l} {dob}), on warfarin for {ICD10_CODE=I48.91}.
        Reached {pt_him} at {pt_phone}, told to hold tonight's dose and come in for a recheck tomorrow AM.
        No bleeding reported. - {rn_first}
        """),
        T("""
        CRIT LAB - {mrn_l} {mrn}
        Hgb {hgb} g/dL (prev 9.4 on {date})
        Ordering: Dr. {doc}. Please advise re: transfusion; type & screen already sent. GI bleed suspected
        ({ICD10_CODE=K92.2}).
        """),
        T("""
        {org2} Client Services

        Patient {pt_mid}, DOB {dob}: glucose {glu} mg/dL (CRITICAL). We attempted to reach the ordering provider,
        {doc}, at {doc_phone} twice without success. Please call us back at {org2_phone}, option 3, and reference
        accession {auth}.
        """),
    ]),
    "care-coordination": (["Discharge planning", "Referral", "Huddle notes", "Transportation"], [
        T("""
        Hi team,

        {pt} ({age_yo}) is medically ready for discharge tomorrow pending PT eval. Needs SNF placement;
        {payer} auth pending ({plan_l} {plan}). {pt_His} {fam_rel} {fam} ({fam_phone}) prefers a facility near
        Elmhurst. Cc'ing {cc1} from case management. Dx: {ICD10_CODE=S72.001A}, s/p hemiarthroplasty.

        {@sig}
        """),
        T("""
        REFERRAL - CARDIOLOGY
        To: {org2}   Fax {fax}
        Pt: {pt_lf}   DOB {dob}   Ph {pt_phone}
        Ins: {payer} {plan}
        Reason: new AFib ({ICD10_CODE=I48.91}), ECG ({CPT_CODE=93000}) attached. Started apixaban 5 mg BID.
        Referring: {doc}, DO   NPI {npi}
        """),
        T("""
        Spoke with {pt_first}'s {fam_rel}, {fam}, about transportation to dialysis ({ICD10_CODE=N18.6}) three
        times a week. The county van can't do the 6 AM chair time, so per {cc1} we'll ask the dialysis center for
        the 11 AM slot. {fam_first} can be reached at {fam_phone} after 3 pm.

        {@sig}
        """),
        T("""
        Huddle notes {date}
        - {pt_init} (bed 12): CHF exacerbation, diuresing, net -2 L. Home with home health Thurs.
        - {pt2}: SW consult re housing; alcohol use disorder ({ICD10_CODE=F10.20}), CIWA scores low.
        - {pt3_lf}: waiting on records from outside hospital, {mrn_l} {mrn}.
        - Will follow up with pharmacy on the heparin drip protocol change.
        """),
    ]),
    "claim-denial": (["Claim denied", "Denial - needs rebill", "Appeal"], [
        T("""
        CLAIM DENIAL NOTICE
        Claim # {claim}      Date of service {date}
        Patient: {pt_lf|upper}      {plan_l} {plan}
        Billed: {cpt} {cpt_d}
        Diagnosis: {icd}
        Reason CO-50: these are non-covered services because this is not deemed a medical necessity by the payer.
        Rendering provider NPI: {npi}
        """),
        T("""
        {mgr_first},

        The {payer} denial for {pt} ({plan}) came back again, CO-16 missing information. They want modifier 25
        on the {CPT_CODE=99214} since we also did the knee injection ({CPT_CODE=20610}) the same day, dx
        {ICD10_CODE=M17.11}. Also the SSN in their file doesn't match ours: we have {ssn}. Can you rebill?

        {@sig}
        """),
        T("""
        Medicare denial - screening mammogram {CPT_CODE=77067} for {pt_mid}, MBI {mbi}, DOB {dob}: frequency
        limit exceeded (last screening {date}). Dx billed {ICD10_CODE=Z12.31}. Need an ABN or rebill as
        diagnostic if Dr. {doc_last} documented a palpable mass.
        """),
        T("""
        RE: Appeal of claim {claim}
        Patient: {pt}
        Member ID: {plan}
        Date of birth: {dob}

        To Whom It May Concern:

        I am writing on behalf of my patient, {pt_title} {pt_last}, to appeal the denial of total knee
        arthroplasty ({CPT_CODE=27447}). {pt_He} has end-stage osteoarthritis ({ICD10_CODE=M17.11}) with
        bone-on-bone changes and has failed six months of conservative therapy.

        Sincerely,
        {doc}, MD
        NPI {npi}
        """),
    ]),
    "hospice-intake": (["Hospice referral", "New admission", "Intake"], [
        T("""
        HOSPICE REFERRAL / INTAKE
        Patient: {pt_lf}      Age: {age}      DOB: {dob}
        Primary dx: {ICD10_CODE=G30.9} Alzheimer's disease, unspecified; FAST 7c
        Secondary: {ICD10_CODE=I50.9}, {ICD10_CODE=N18.30}
        Medicare MBI: {mbi}      SSN: {ssn}
        Contact: {fam} ({fam_rel}, POA) {fam_phone}
        Referring: Dr. {doc}  {doc_phone}
        """),
        T("""
        Hi {mgr_first},

        New referral from {org2}: {pt_title} {pt_last} is a {age_yo} {pt_gender} with metastatic lung cancer
        ({ICD10_CODE=C34.90}), PPS 30%, no longer eating much. {pt_His} {fam_rel} {fam} wants the admission visit
        tomorrow afternoon; best number is {fam_phone}. Medicare primary, MBI {mbi}.

        {@sig}
        """),
        T("""
        Admitted {pt} ({mrn_l} {mrn}) to routine home care on {date}. Age {age}. Goals of care reviewed with
        {fam_rel} {fam_first} per Dr. {doc_last}; POLST/DNR on the fridge. Comfort kit delivered. Dx
        {ICD10_CODE=I50.9} end-stage heart failure, {ICD10_CODE=Z51.5}. Chaplain visit requested.
        {rn}, RN, Case Manager
        """),
    ]),
    "patient-reply": (["Re: appointment", "question", "Re: your bill"], [
        T("""
        hi dr {doc_last|lower}, its {pt|lower}. the new bp pill makes me cough alot at
        night, cant sleep. can i switch to something else?? my number is {pt_phone} thx
        """),
        T("""
        Hello, this is {fam} - I'm {pt}'s {fam_rel}. {pt_He} has been really confused since the UTI and isn't
        eating much. {pt_His} DOB is {dob} if you need it. Can someone call me at {fam_phone}? Thank you so much
        """),
        T("""
        yes i can come thurs. also wanted to ask if my MRI results are back?? back still hurts really bad and
        the gabapentin isnt doing much. - {pt_first}

        Sent from my iPhone

        > On {date}, {staff} <{staff_email}> wrote:
        > Hi {pt_first}, we have an opening Thursday at {time} with Dr. {doc_last}. Does that work?
        """),
        T("""
        Hi,
        I got a bill for my visit on {date} but my insurance should have covered it. {plan_l} {plan}. I was there
        for my diabetes check and the nurse did my A1c. Please let me know what to do. If you need it
        my social is {ssn}.
        Thanks, {pt}
        {pt_email}
        """),
    ]),
    "scheduling-change": (["Appointment change", "Schedule changes", "Rescheduled"], [
        T("""
        {@hi} {pt_first},

        Dr. {doc_last} will be out on {day}, so we need to move your post-op visit after your knee replacement.
        We can offer {date2} at {time} with Dr. {doc2_last}. Please call {org_phone} to confirm.

        {@sig}
        """),
        T("""
        Dr. {doc} - schedule changes for {day}
        Time   | Patient              | Visit
        8:20   | {pt_lf}   | f/u {ICD10_CODE=E11.9}, A1c due
        9:00   | {pt2_lf}   | new pt, {CPT_CODE=99204}
        10:40  | {pt3_lf}   | moved to 1:15 - mammo results review
        """),
        T("""
        Pt {pt} ({mrn_l} {mrn}) rescheduled colonoscopy ({CPT_CODE=45378}) from {date} to {date2}. Prep instructions
        resent to {pt_email}; {pt_he} asked for a ride voucher. Hx of {ICD10_CODE=K50.90}.
        """),
    ]),
    "radiology-report-summary": (["Radiology result", "Imaging follow-up", "Prelim read"], [
        T("""
        RADIOLOGY REPORT SUMMARY
        Name: {pt_lf|upper}    {mrn_l} {mrn}    DOB: {dob}
        Exam: CT CHEST W/O CONTRAST ({CPT_CODE=71250})    Date: {date}
        IMPRESSION:
        1. 9 mm solid nodule, right lower lobe, new since prior. Recommend PET/CT. ({ICD10_CODE=R91.1})
        2. No pleural effusion.
        Ordering: {doc}    Read by: {doc2}, MD
        """),
        T("""
        {doc_first},

        FYI the screening mammogram ({CPT_CODE=77067}) on {pt} came back BI-RADS 0, needs diagnostic views and
        ultrasound. {pt_title} {pt_last}'s cell is {pt_phone}. I'll have {staff_first} schedule unless you want
        to call {pt_him} yourself.

        {doc2}
        """),
        T("""
        Prelim read called to Dr. {doc_last} by Dr. {doc2_last} at {time2}: {pt_fi}, {age_yo}, CT head w/o
        ({CPT_CODE=70450}) shows acute left MCA territory infarct ({ICD10_CODE=I63.512}), no hemorrhage.
        Patient in ED bay 6. Final report to follow.
        """),
    ]),
}

# -- templates: texts without PHI ---------------------------------------------------------------

NEG_KINDS = {
    "business-colleague": (["Quick update", "FYI", "RE: follow-up", "Next week"], [
        T("""
        Hi all,

        Moving Thursday's revenue cycle meeting to 2 pm in Conf Rm B. {mgr} will present the Q3 denial trends;
        please send slides to {staff_email} by Wednesday. Dial-in {org_phone}, code 448120.

        {@sig}
        """),
        T("""
        Please join me in welcoming Dr. {doc}, who joins {org} cardiology on {date2}. Dr. {doc_last} completed
        fellowship in Milwaukee and will see patients Tuesday through Friday. NPI {npi}; credentialing with
        {payer} is in progress. Questions to {staff} at {staff_phone}.
        """),
        T("""
        I will be out of the office from {date} and will return {date2} with limited access to e-mail. For
        urgent matters please contact {mgr} at {mgr_phone} or {mgr_email}.
        """),
        T("""
        {mgr_first},

        Dr. {doc_last}'s DEA registration ({dea}) expires {date2} and the state license renewal is due the same
        month. Can you send the renewal packet? We also need the updated NPI ({npi}) taxonomy for the
        credentialing file. Will check back Friday.

        {@sig}
        """),
        T("""
        ON-CALL - {day}
        Internal Medicine:   Dr. {doc}        pager {doc_phone}
        Cardiology:          Dr. {doc2}       {org2_phone}
        Nursing supervisor:  {rn}             {rn_phone}
        Page operator:       {org_phone}
        """),
        T("""
        Coding committee minutes, {date}
        Present: {mgr}, {staff}, {cc1_fi}, Dr. {doc_last}
        - {CPT_CODE=99214} share rose 8% quarter over quarter; audit a sample of 20 visits in July.
        - Unspecified codes such as {ICD10_CODE=M54.50} and {icd} remain our top query reasons.
        - Next meeting moved to the 3rd Tuesday. {staff_first} will send the invite.
        """),
        T("""
        Per {mgr_first}, staffing for the holiday weekend:
          Sat  front desk  {staff}
          Sun  front desk  {cc1}
          Mon  closed
        If you need to swap, text {mgr_phone} by Wednesday. Will post the final schedule in the break room.
        """),
        T("""
        Hi {cc1_first},

        Thanks for the notes from the grant review. {mgr_fi} and I will draft the budget narrative; can you mark
        up page 4 with the staffing numbers? Hope to send a final version to {doc} by {date2}.

        {staff_first}
        """),
    ]),
    "newsletter": (["Clinical update", "From the CMO"], [
        T("""
        FROM THE CHIEF MEDICAL OFFICER
        {doc}, MD

        Sepsis bundle compliance rose to 82% this quarter. Thank you to the ED and ICU teams. Reminder: lactate
        within 1 hour and 30 mL/kg crystalloid for hypotension. Questions: {doc_email}.
        """),
        T("""
        Mark your calendars: Dr. {doc} will speak on "Hypertension in 2025: new targets, new tools" at Grand
        Rounds on {day}, 12:00-1:00, Auditorium A. Lunch provided. RSVP to {staff} ({staff_email}).
        """),
        T("""
        Quality corner, by {mgr}, RN
        Our diabetic eye exam rate is 58%, below the 65% target. Use {CPT_CODE=92250} for in-office retinal
        photos and link {ICD10_CODE=E11.9} or {ICD10_CODE=E11.319} as appropriate. Reach me at {mgr_phone}.
        """),
    ]),
    "clinical-no-identifier": (["Coding tip", "Protocol update", "Formulary change", "Case of the month"], [
        T("""
        CODING CORNER
        When a patient with type 2 diabetes has an A1c above goal, document "with hyperglycemia" and code
        {ICD10_CODE=E11.65} rather than {ICD10_CODE=E11.9}. Long-term insulin use adds {ICD10_CODE=Z79.4}. Bill the
        point-of-care A1c as {CPT_CODE=83036}.
        """),
        T("""
        {CPT_CODE=99213} vs {CPT_CODE=99214}: since the 2021 E/M changes, level is chosen by medical decision making
        or total time on the date of the encounter. Two stable chronic illnesses plus prescription drug management
        supports {CPT_CODE=99214}. Do not count time spent on separately billed services.
        """),
        T("""
        Updated hypertension protocol (effective {date2})
        - Confirm elevated office readings with home or ambulatory monitoring.
        - First line: thiazide, ACE inhibitor, ARB or calcium channel blocker.
        - Recheck BMP 1-2 weeks after starting an ACE inhibitor.
        - Code {ICD10_CODE=I10} for essential hypertension; {ICD10_CODE=I12.9} when CKD is present.
        """),
        T("""
        Formulary change: starting {date2}, insulin glargine-yfgn (NDC {ndc}) replaces the branded pen
        (NDC {ndc2}) on the preferred list. Existing prescriptions will be converted at the pharmacy; no new
        prior authorization is needed.
        """),
        T("""
        Case of the month: a woman in her 60s presented with two weeks of fatigue and new exertional dyspnea.
        Hemoglobin was 7.9 with a low MCV; colonoscopy found a right-sided mass. Take-home point: iron deficiency
        anemia in an older adult needs a GI workup ({ICD10_CODE=D50.9}, {CPT_CODE=45378}).
        """),
        T("""
        Flu season reminder: high-dose vaccine is preferred for adults 65 and older. Bill {CPT_CODE=90662} for
        the vaccine, {CPT_CODE=90471} for administration, and {ICD10_CODE=Z23} as the diagnosis. Parkinson's and
        Alzheimer's patients in our memory clinic should be offered vaccination at every visit.
        """),
        T("""
        DOCUMENTATION TIP: heart failure
        Specify type and acuity. "CHF" alone maps to {ICD10_CODE=I50.9}; "chronic systolic heart failure" maps to
        {ICD10_CODE=I50.22} and "acute on chronic diastolic" to {ICD10_CODE=I50.33}. Specificity affects risk
        adjustment and quality reporting.
        """),
        T("""
        Preventive visits: bill {CPT_CODE=99396} for established patients 40-64 with {ICD10_CODE=Z00.00}, or
        {ICD10_CODE=Z00.01} when abnormal findings are documented. A problem addressed at the same visit may be
        billed separately with modifier 25 (for example {cpt}).
        """),
        T("""
        DRUG SHORTAGE NOTICE
        {drug} (NDC {ndc}) is on national backorder. Pharmacy will substitute an equivalent product
        (NDC {ndc2}) until supply recovers, expected {date2}. No action is needed for existing orders.
        """),
        T("""
        Stroke alert refresher: document last known well, obtain NIHSS, and get a non-contrast CT head
        ({CPT_CODE=70450}) within 25 minutes of arrival. Door-to-needle goal is under 60 minutes. Blood pressure
        must be below 185/110 before thrombolysis.
        """),
        T("""
        Lab update effective {date2}: the critical potassium limits change to below 2.8 or above 6.2 mmol/L,
        and critical sodium to below 120 or above 160 mmol/L. Critical results are phoned to the ordering unit
        and must be read back.
        """),
        T("""
        Depression screening: administer the PHQ-9 at annual visits and bill {CPT_CODE=96127} with
        {ICD10_CODE=Z13.31}. A score of 10 or more warrants follow-up; when depression is diagnosed, code
        {ICD10_CODE=F32.A} only if the episode and severity are not documented.
        """),
        T("""
        Top denial reasons this month:
        1. {cpt} ({cpt_d}) billed without a supporting diagnosis.
        2. {icd} ({icd_d}) rejected for lack of specificity.
        3. {cpt2} missing prior authorization.
        Please review the payer grids before submitting.
        """),
        T("""
        AFTER YOUR COLONOSCOPY
        You may feel bloated for a few hours. Start with light meals. Call your doctor if you have a fever
        over 101, severe belly pain, or more than a spoonful of blood in your stool. Biopsy results are usually
        ready in 7-10 days.
        """),
        T("""
        Antibiotic stewardship: for uncomplicated cystitis ({ICD10_CODE=N30.00}) in non-pregnant women, first
        line is nitrofurantoin 100 mg twice daily for 5 days. Avoid fluoroquinolones. Urine culture is not
        routinely needed for a first episode.
        """),
        T("""
        Sepsis screening reminder: two or more SIRS criteria plus a suspected infection should trigger the
        sepsis bundle. Draw lactate and blood cultures before antibiotics, and repeat lactate if the first one is
        above 2. Code {ICD10_CODE=A41.9} for sepsis, unspecified organism, with {ICD10_CODE=R65.20} for severe
        sepsis without shock.
        """),
    ]),
    "vendor-it": (["IT notice", "FW: heads up", "Please read"], [
        T("""
        PLANNED EHR DOWNTIME: {day}, 02:00-04:00. Use downtime forms in the red binders. Service desk
        {org_phone}, reference {ticket}.
        - {staff}, IT Applications
        """),
        T("""
        Hello {staff_first},

        Attached is invoice {invoice} for the March exam-table service visit. Net 30. Let me know if you need
        a W-9. You can reach me directly at {mgr_phone}.

        {mgr}
        Account Manager
        {mgr_email}
        """),
        T("""
        SECURITY ALERT: we are seeing phishing e-mails that claim to come from payroll and ask you to "verify
        your direct deposit". Do not click the link. Report suspicious messages to {staff_email} or call
        {org_phone}. - {staff}, Information Security
        """),
        T("""
        EHR upgrade training: 45-minute sessions run daily in Classroom 2 until {date2}. New features include
        the redesigned inbox and order sets. Sign up with {staff} ({staff_email}); super-users should contact
        {mgr_fi} at {mgr_phone}.
        """),
        T("""
        The fax server moves to the cloud this weekend. New numbers:
          Cardiology   {fax}
          Billing      {org2_phone}
        Contact {staff} ({staff_email}) with any issues. Will send a reminder Friday.
        """),
    ]),
    "facilities": (["Facilities notice", "FYI"], [
        T("""
        The north parking garage, levels 2-3, will be closed {day} for resurfacing. Staff should park in lot C;
        shuttles run every 10 minutes. Questions to {staff} at {staff_phone}.
        """),
        T("""
        HVAC maintenance on 3 West {date2}, 6-9 am. Rooms may be warm; portable fans are available from Engineering
        ({org_phone}). Thanks for your patience. - {mgr}, Facilities
        """),
        T("""
        Elevator B (main lobby) is out of service until {date2} for cable replacement. Patients needing
        wheelchair transport should use Elevator D near Radiology. Engineering on-call: {org_phone}.
        """),
        T("""
        Fire drill reminder: {day} at 10:00. Follow RACE and PASS. Contact {staff} ({staff_email}) if your unit
        needs a make-up drill.
        """),
    ]),
    "marketing": (["Webinar", "Reduce denials", "Health fair"], [
        T("""
        Join {doc}, MD, for a free webinar on remote patient monitoring for heart failure, {day} at 1 pm CT.
        Earn 1.0 CME. Register today or call {org_phone}. Seats are limited!
        """),
        T("""
        Tired of claim denials? ClaimPilot checks every line before it goes out, so a {CPT_CODE=99214} with
        {ICD10_CODE=E11.9} never ships without the right modifier. Book a 15-minute demo with {mgr}:
        {mgr_email} | {mgr_phone}.
        """),
        T("""
        FOR IMMEDIATE RELEASE
        {org} opens a new outpatient infusion center on {date2}, adding 18 chairs and extended evening hours.
        "We will bring care closer to home," said {doc}, MD, medical director. Media contact: {mgr},
        {mgr_phone}, {mgr_email}.
        """),
        T("""
        Living Well with Diabetes: a free 4-week class on meal planning, glucose monitoring and foot care.
        Tuesdays at 6 pm starting {date2}. No referral needed. Call {org_phone} or visit our website to sign up.
        """),
        T("""
        FREE COMMUNITY HEALTH FAIR - {day}
        Blood pressure and glucose screenings, flu shots, and a "Rose to the challenge" 5K walk. Hosted by {org}.
        Call {org_phone} for details.
        """),
    ]),
}

COUNTS = {**{k: 10 for k in PHI_KINDS}, "business-colleague": 24, "newsletter": 8,
          "clinical-no-identifier": 24, "vendor-it": 13, "facilities": 8, "marketing": 13}
NO_WRAP = {"patient-reply", "clinical-no-identifier", "marketing"}
PATIENT_IDS = {"US_SSN", "MEDICAL_RECORD_NUMBER", "US_MBI", "HEALTH_PLAN_ID", "DATE_OF_BIRTH", "AGE_OVER_89"}


def build(rng: random.Random, kind: str, template: str, subjects: list[str], phi: bool) -> dict:
    body = template
    if kind not in NO_WRAP and rng.random() < 0.25:
        body = "{@fwd_top}{@fwd}" + body
    if kind not in NO_WRAP and rng.random() < 0.25:
        body += "\n\n{@footer}"
    elderly = rng.random() < (0.85 if kind == "hospice-intake" else 0.12)
    text, spans = render(expand(body, rng, rng.choice(subjects)), context(rng, elderly))
    return {"text": text, "spans": spans, "contains_phi": phi, "kind": kind}


def check(record: dict) -> None:
    """Every span matches its value and each value is valid for its label."""
    text, spans = record["text"], record["spans"]
    validators = {
        "US_NPI": lambda v: re.fullmatch(r"[12]\d{9}", v) and luhn_ok("80840" + v),
        "US_DEA_NUMBER": lambda v: re.fullmatch(r"[A-Z]{2}\d{7}", v) and dea_check(v[2:8]) == v[8],
        "US_MBI": mbi_ok, "US_SSN": ssn_ok,
        "PHONE_NUMBER": lambda v: re.search(r"555\W?01\d\d$", v),
        "EMAIL_ADDRESS": lambda v: re.fullmatch(r"[a-z0-9._]+@example\.(com|org|net)", v),
        "CPT_CODE": lambda v: re.fullmatch(r"\d{5}", v),
        "NDC_CODE": lambda v: re.fullmatch(r"\d{5}-\d{4}-\d{2}|\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}", v),
        "ICD10_CODE": lambda v: re.fullmatch(r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?", v),
    }
    for s in spans:
        value = text[s["start"]:s["end"]]
        assert value and value == value.strip(), (value, record)
        assert validators.get(s["label"], bool)(value), (s["label"], value)
    ends = sorted((s["start"], s["end"]) for s in spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends)), "overlapping spans"
    labels = {s["label"] for s in spans}
    if record["contains_phi"]:
        assert labels & (PATIENT_IDS | {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"}), record
    else:
        assert not labels & PATIENT_IDS, record
    if record["kind"] == "clinical-no-identifier":
        assert not labels & {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"}, record
    # an identifier value never appears unlabeled elsewhere in the text
    covered = {(s["start"], s["end"]) for s in spans}
    for s in spans:
        value = text[s["start"]:s["end"]]
        if s["label"] in {"PERSON", "AGE_OVER_89", "ICD10_CODE", "CPT_CODE"} and " " not in value:
            continue
        for m in re.finditer(re.escape(value), text):
            assert any(a <= m.start() and m.end() <= b for a, b in covered), (value, text)


def generate() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    records, seen = [], set()
    for kinds, phi in ((PHI_KINDS, True), (NEG_KINDS, False)):
        for kind, (subjects, templates) in kinds.items():
            order = rng.sample(templates, len(templates))
            for i in range(COUNTS[kind]):
                record = build(rng, kind, order[i % len(order)], subjects, phi)
                while record["text"] in seen:  # no duplicate texts
                    record = build(rng, kind, rng.choice(templates), subjects, phi)
                seen.add(record["text"])
                records.append(record)
    rng.shuffle(records)
    for record in records:
        check(record)
    return records


def main(write: Callable[[str], object] | None = None) -> None:
    """Write the corpus (or hand its text to ``write``, as the test that it is up to date does)."""
    records = generate()
    (write or OUT.write_text)("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
    if write is None:
        kinds = Counter(r["kind"] for r in records)
        labels = Counter(s["label"] for r in records for s in r["spans"])
        print(f"wrote {len(records)} texts ({sum(r['contains_phi'] for r in records)} with PHI) to {OUT}")
        print("kinds:", dict(sorted(kinds.items())))
        print("labels:", dict(sorted(labels.items())))


if __name__ == "__main__":
    main()

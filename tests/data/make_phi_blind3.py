"""Generate ``phi_blind3.jsonl``: a third blind, labeled corpus of realistic healthcare email text.

Written without looking at the PHI detector, its tests or the other corpora, to be used once to
measure the tuned detector. Deterministic: one seeded ``random.Random`` drives every choice.

Templates are plain mail text with placeholders:

* ``[[LABEL:key]]`` inserts ``ctx[key]`` and records a span with ``LABEL``; for the code labels
  (ICD10_CODE, CPT_CODE, NDC_CODE) the key is the code itself, checked against the lists below;
* ``[[key]]`` inserts ``ctx[key]`` with no span (dates of service, places, ages under 90 ...).

Keys starting with a patient prefix (``pt``, ``p2`` ... ``p5``, ``kid``, ``rel``) identify a
patient or a patient's relative: a text is ``contains_phi`` exactly when its template is a PHI
template, and the checker asserts that PHI templates use such a key and no other template does.
A rendering whose labeled values also occur unlabeled in the text is redrawn (e.g. a surname
"Hall" next to a literal "Hall"), so the corpus never contains an unlabeled copy of a value.

Run ``python tests/data/make_phi_blind3.py`` to rewrite ``phi_blind3.jsonl`` next to this file.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 31_2026
OUT = Path(__file__).with_name("phi_blind3.jsonl")
TODAY = date(2025, 9, 15)

# -- names ------------------------------------------------------------------------------------

# fmt: off
FIRST = [
    "Summer", "Dawn", "Mercy", "Faith", "Hope", "Grace", "Joy", "June", "April", "Ivy",
    "Hunter", "Mason", "Will", "Carol", "Rose", "Sky", "Autumn", "Honor", "Bishop", "Major",
    "Aaliyah", "Adebayo", "Ahmad", "Aiko", "Alejandro", "Anh", "Ayesha", "Bartholomew", "Beatriz", "Chidi",
    "Chloe", "Darnell", "Dmitri", "Eun-ji", "Fatima", "Giovanni", "Guadalupe", "Hamza", "Ingrid", "Isaiah",
    "Jae-won", "Jamal", "Jean-Luc", "Kalani", "Keisha", "Lakshmi", "Leilani", "Mateo", "Mei", "Nadia",
    "Naveen", "Nkechi", "Oksana", "Olumide", "Pilar", "Priya", "Quentin", "Rashida", "Rosalind", "Santiago",
    "Siobhan", "Tariq", "Thanh", "Tomasz", "Valentina", "Wendell", "Ximena", "Yusuf", "Zainab", "Zoltan",
    "Mary Beth", "D'Andre",
]
LAST = [
    "Gray", "Brown", "Lane", "Banks", "Black", "White", "Young", "Little", "Moody", "Church",
    "Wise", "Frost", "Rivers", "Fields", "Small", "Price", "Bell", "King", "Cook", "Love",
    "Nguyen", "Tran", "Patel", "Okonkwo", "Yamamoto", "Kowalski", "Haddad", "Rahman", "Castillo", "Begay",
    "Tsosie", "Kim", "Zhang", "Ivanova", "Fernandes", "Mahmoud", "Goldberg", "Schwartz", "Lindqvist", "Nakamura",
    "Mensah", "Achebe", "Oyelaran", "Gutierrez", "Novak", "Abernathy", "Kaur", "Delacroix", "Morales", "Whitfield",
    "O'Connor", "D'Amico", "N'Diaye", "O'Malley", "Ortiz-Mendez", "Smith-Okafor", "Harper-Lowe", "Al-Sayed",
    "de la Cruz", "Van der Berg", "Del Toro", "St. Clair", "Ben-David", "da Silva", "Mac Giolla", "Le Blanc",
    "Petrosyan", "Kealoha", "Bhattacharya", "Ramirez",
]

# -- codes I know to be real ------------------------------------------------------------------

ICD10 = {
    "E11.9": "type 2 diabetes without complications",
    "E11.65": "type 2 diabetes with hyperglycemia",
    "E11.22": "type 2 diabetes with diabetic CKD",
    "E11.621": "type 2 diabetes with foot ulcer",
    "I10": "essential hypertension",
    "I48.91": "unspecified atrial fibrillation",
    "I50.22": "chronic systolic heart failure",
    "J44.1": "COPD with acute exacerbation",
    "J45.909": "unspecified asthma, uncomplicated",
    "N18.6": "end stage renal disease",
    "N18.4": "CKD stage 4",
    "Z99.2": "dependence on renal dialysis",
    "F32.9": "major depressive disorder, single episode, unspecified",
    "F41.1": "generalized anxiety disorder",
    "L89.153": "pressure ulcer of sacral region, stage 3",
    "L97.412": "non-pressure chronic ulcer of right heel and midfoot with fat layer exposed",
    "H40.1131": "primary open-angle glaucoma, bilateral, mild stage",
    "H35.3211": "exudative AMD, right eye, with active CNV",
    "H25.11": "age-related nuclear cataract, right eye",
    "H90.3": "sensorineural hearing loss, bilateral",
    "H66.90": "otitis media, unspecified, unspecified ear",
    "N97.9": "female infertility, unspecified",
    "E28.2": "polycystic ovarian syndrome",
    "Z31.41": "encounter for fertility testing",
    "O13.3": "gestational hypertension, third trimester",
    "O24.410": "gestational diabetes in pregnancy, diet controlled",
    "O47.03": "false labor before 37 weeks, third trimester",
    "Z3A.32": "32 weeks gestation",
    "Z34.83": "supervision of other normal pregnancy, third trimester",
    "Z15.01": "genetic susceptibility to malignant neoplasm of breast",
    "Z80.3": "family history of malignant neoplasm of breast",
    "E66.01": "morbid obesity due to excess calories",
    "Z68.41": "BMI 40.0-44.9, adult",
    "E43": "unspecified severe protein-calorie malnutrition",
    "E44.0": "moderate protein-calorie malnutrition",
    "R63.4": "abnormal weight loss",
    "S72.001A": "fracture of unspecified part of neck of right femur, initial",
    "W19.XXXA": "unspecified fall, initial encounter",
    "S06.0X0A": "concussion without loss of consciousness, initial",
    "R07.9": "chest pain, unspecified",
    "R10.31": "right lower quadrant pain",
    "J06.9": "acute upper respiratory infection, unspecified",
    "J02.0": "streptococcal pharyngitis",
    "U07.1": "COVID-19",
    "N39.0": "urinary tract infection, site not specified",
    "A41.9": "sepsis, unspecified organism",
    "I63.9": "cerebral infarction, unspecified",
    "G30.9": "Alzheimer's disease, unspecified",
    "M17.11": "unilateral primary osteoarthritis, right knee",
    "Z79.4": "long term (current) use of insulin",
    "Z79.01": "long term (current) use of anticoagulants",
    "C50.911": "malignant neoplasm of unspecified site of right female breast",
    "D63.1": "anemia in chronic kidney disease",
    "L03.115": "cellulitis of right lower limb",
    "F10.20": "alcohol dependence, uncomplicated",
    "Z71.3": "dietary counseling and surveillance",
    "E78.5": "hyperlipidemia, unspecified",
    "Z23": "encounter for immunization",
    "K21.9": "GERD without esophagitis",
    "R50.9": "fever, unspecified",
}
CPT = {
    "99203", "99204", "99213", "99214", "99215", "99282", "99283", "99284", "99285",
    "99221", "99222", "99223", "99231", "99232", "99238", "99239",
    "90935", "90937", "90960", "97802", "97803", "92557", "92567", "92014", "92004", "92134",
    "67028", "66984", "81162", "58970", "89250", "58974", "76817", "59025", "76805",
    "97597", "11042", "97605", "36415", "85025", "80053", "83036", "87880", "87635",
    "71046", "93000", "70450", "27236", "99497",
}
NDC = {
    "0088-2220-33": "Lantus 100 units/mL 10 mL vial",
    "0002-7510-01": "Humalog 100 units/mL 10 mL vial",
    "0003-0894-21": "Eliquis 5 mg, 60 tablets",
    "50458-0579-30": "Xarelto 20 mg, 30 tablets",
    "49502-0500-02": "EpiPen 0.3 mg 2-Pak",
    "69547-0353-02": "Narcan 4 mg nasal spray",
    "0006-3026-02": "Keytruda 100 mg/4 mL vial",
    "0006-0277-31": "Januvia 100 mg, 30 tablets",
    "0597-0152-30": "Jardiance 10 mg, 30 tablets",
    "0078-0659-20": "Entresto 24/26 mg, 60 tablets",
    "0002-1434-80": "Trulicity 1.5 mg/0.5 mL pen",
    "0069-1085-30": "Paxlovid 300/100 mg dose pack",
    "0004-0800-85": "Tamiflu 75 mg, 10 capsules",
    "58468-0130-01": "Renvela 800 mg tablets",
    "61755-0005-02": "Eylea 2 mg vial",
}
# fmt: on
CODE_SETS: dict[str, set[str]] = {"ICD10_CODE": set(ICD10), "CPT_CODE": CPT, "NDC_CODE": set(NDC)}
LABELS = {
    "PERSON",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "US_SSN",
    "MEDICAL_RECORD_NUMBER",
    "US_NPI",
    "US_DEA_NUMBER",
    "US_MBI",
    "HEALTH_PLAN_ID",
    "DATE_OF_BIRTH",
    "AGE_OVER_89",
    "ICD10_CODE",
    "CPT_CODE",
    "NDC_CODE",
}
PATIENT_PREFIXES = ("pt", "p2", "p3", "p4", "p5", "kid", "rel")

# -- valid synthetic identifiers --------------------------------------------------------------

DIGITS = "0123456789"
MBI_ALPHA = "ACDEFGHJKMNPQRTUVWXY"  # A-Z without S, L, O, I, B, Z
AREA_CODES = ["312", "617", "415", "206", "303", "404", "713", "602", "919", "503", "612", "808", "505"]
DOB_FORMATS = ["%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%d-%b-%Y", "%m-%d-%Y", "%b %d %Y"]


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_ok(value: str) -> bool:
    return bool(re.fullmatch(r"[12]\d{9}", value)) and luhn_ok("80840" + value)


def make_npi(rng: random.Random) -> str:
    base = rng.choice("12") + "".join(rng.choice(DIGITS) for _ in range(8))
    for check in DIGITS:
        if npi_ok(base + check):
            return base + check
    raise AssertionError("no Luhn digit")


def dea_ok(value: str) -> bool:
    if not re.fullmatch(r"[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}", value):
        return False
    d = [int(c) for c in value[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def make_dea(rng: random.Random, last: str) -> str:
    letters = [c for c in last.upper() if c.isalpha()]
    d = [rng.randrange(10) for _ in range(6)]
    d.append((d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10)
    return rng.choice("ABFM") + letters[0] + "".join(map(str, d))


MBI_PATTERN = re.compile(
    rf"[1-9][{MBI_ALPHA}][{MBI_ALPHA}0-9]\d[{MBI_ALPHA}][{MBI_ALPHA}0-9]\d[{MBI_ALPHA}]{{2}}\d\d"
)


def mbi_ok(value: str) -> bool:
    return bool(MBI_PATTERN.fullmatch(value.replace("-", "")))


def make_mbi(rng: random.Random) -> str:
    def a() -> str:
        return rng.choice(MBI_ALPHA)

    def n() -> str:
        return rng.choice(DIGITS)

    def an() -> str:
        return rng.choice(MBI_ALPHA + DIGITS)

    raw = rng.choice("123456789") + a() + an() + n() + a() + an() + n() + a() + a() + n() + n()
    return f"{raw[:4]}-{raw[4:7]}-{raw[7:]}" if rng.random() < 0.4 else raw


def ssn_ok(value: str) -> bool:
    m = re.fullmatch(r"(\d{3})[- ]?(\d{2})[- ]?(\d{4})", value)
    if not m:
        return False
    area, group, serial = m.groups()
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def make_ssn(rng: random.Random) -> str:
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            break
    sep = rng.choice(["-", "-", "-", " "])
    return f"{area:03d}{sep}{rng.randrange(1, 100):02d}{sep}{rng.randrange(1, 10000):04d}"


def make_phone(rng: random.Random) -> str:
    area, line = rng.choice(AREA_CODES), f"01{rng.randrange(100):02d}"
    style = rng.randrange(7)
    return [
        f"({area}) 555-{line}",
        f"{area}-555-{line}",
        f"{area}.555.{line}",
        f"+1 {area} 555 {line}",
        f"+1 ({area}) 555-{line}",
        f"{area}-555-{line}",
        f"{area} 555 {line}",
    ][style]


def phone_ok(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[3:6] == "555" and digits[6:8] == "01"


def make_mrn(rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return f"{rng.randrange(10**7):08d}"
    if style == 1:
        return "E" + "".join(rng.choice(DIGITS) for _ in range(7))
    if style == 2:
        return f"{rng.randrange(10, 100)}-{rng.randrange(10, 100)}-{rng.randrange(10, 100)}"
    if style == 3:
        return "".join(rng.choice(DIGITS) for _ in range(9))
    return "M" + "".join(rng.choice(DIGITS) for _ in range(6))


def make_member(rng: random.Random) -> str:
    style = rng.randrange(5)
    if style == 0:
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTWXYZ") for _ in range(3)) + "".join(
            rng.choice(DIGITS) for _ in range(9)
        )
    if style == 1:
        return "W" + "".join(rng.choice(DIGITS) for _ in range(9))
    if style == 2:
        return f"{rng.randrange(1000, 10000)} {rng.randrange(1000, 10000)} {rng.randrange(10, 100)}"
    if style == 3:
        return "".join(rng.choice(DIGITS) for _ in range(8)) + rng.choice("ABCDEFGH")
    return "U" + "".join(rng.choice(DIGITS) for _ in range(8)) + "01"


def make_dob(rng: random.Random, age: int) -> str:
    birthday = TODAY - timedelta(days=age * 365 + rng.randrange(30, 330))
    fmt = rng.choice(DOB_FORMATS)
    return birthday.strftime(fmt)


def dob_ok(value: str) -> bool:
    for fmt in DOB_FORMATS:
        try:
            born = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        return 1915 <= born.year <= 2025
    return False


def email_for(rng: random.Random, first: str, last: str, domain: str) -> str:
    f = re.sub(r"[^a-z]", "", first.lower())
    ln = re.sub(r"[^a-z0-9]", "", last.lower())
    style = rng.randrange(4)
    local = [f"{f}.{ln}", f"{f[0]}{ln}", f"{f}_{ln}", f"{ln}.{f[0]}"][style]
    return f"{local}@{domain}"


# -- context ----------------------------------------------------------------------------------

FACILITIES = [
    "Lakeshore Medical Center",
    "Riverbend Regional Hospital",
    "North Valley Health",
    "Prairie View Hospital",
    "Harborside Community Hospital",
    "Eastgate Medical Center",
    "Cedar Ridge Health",
]
CITIES = ["Evanston", "Tacoma", "Mesa", "Durham", "Aurora", "Lowell", "Hilo", "Beaverton", "Edina", "Decatur"]
ROLES_REL = ["daughter", "son", "wife", "husband", "partner", "niece", "mother", "sister"]
LANGS = [
    "Spanish",
    "Vietnamese",
    "Haitian Creole",
    "Somali",
    "Mandarin",
    "Arabic",
    "Russian",
    "Tagalog",
    "ASL",
]


def make_ctx(rng: random.Random) -> dict[str, str]:
    firsts = rng.sample(FIRST, 16)
    lasts = rng.sample(LAST, 16)
    ctx: dict[str, str] = {}

    def person(key: str, i: int) -> None:
        first, last = firsts[i], lasts[i]
        ctx[key] = f"{first} {last}"
        ctx[f"{key}_first"] = first
        ctx[f"{key}_last"] = last
        ctx[f"{key}_lf"] = f"{last}, {first}"
        ctx[f"{key}_LF"] = f"{last.upper()}, {first.upper()}"
        ctx[f"{key}_upper"] = f"{first.upper()} {last.upper()}"
        ctx[f"{key}_mi"] = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        ctx[f"{key}_fi"] = f"{first[0]}. {last}"

    if rng.random() < 0.4:  # a relative sometimes shares the patient's surname
        lasts[5] = lasts[0]
    if rng.random() < 0.5:  # the child often shares the relative's surname
        lasts[13] = lasts[5]
    for i, key in enumerate(
        [
            "pt",
            "p2",
            "p3",
            "p4",
            "p5",
            "rel",
            "doc",
            "doc2",
            "rn",
            "rn2",
            "staff",
            "staff2",
            "mgr",
            "kid",
            "doc3",
            "staff3",
        ]
    ):
        person(key, i)
    for key in ["pt", "p2", "p3", "p4", "p5"]:
        age = rng.randrange(19, 89)
        ctx[f"{key}_age"] = str(age)
        ctx[f"{key}_dob"] = make_dob(rng, age)
        ctx[f"{key}_mrn"] = make_mrn(rng)
        age90 = rng.randrange(90, 104)
        ctx[f"{key}_age90"] = str(age90)
        ctx[f"{key}_dob90"] = make_dob(rng, age90)
        ctx[f"{key}_member"] = make_member(rng)
        ctx[f"{key}_mbi"] = make_mbi(rng)
    kid_age = rng.randrange(2, 13)
    ctx["kid_age"] = str(kid_age)
    ctx["kid_dob"] = make_dob(rng, kid_age)
    ctx["kid_mrn"] = make_mrn(rng)
    ctx["kid_member"] = make_member(rng)
    ctx["pt_ssn"] = make_ssn(rng)
    ctx["p2_ssn"] = make_ssn(rng)
    ctx["pt_phone"] = make_phone(rng)
    ctx["pt_phone2"] = make_phone(rng)
    ctx["rel_phone"] = make_phone(rng)
    personal = rng.choice(["example.com", "example.net"])
    ctx["pt_email"] = email_for(rng, ctx["pt_first"], ctx["pt_last"] + str(rng.randrange(10, 99)), personal)
    ctx["rel_email"] = email_for(rng, ctx["rel_first"], ctx["rel_last"], personal)
    work = rng.choice(["example.org", "example.org", "example.com"])
    for key in ["doc", "doc2", "doc3", "rn", "rn2", "staff", "staff2", "staff3", "mgr"]:
        ctx[f"{key}_email"] = email_for(rng, ctx[f"{key}_first"], ctx[f"{key}_last"], work)
        ctx[f"{key}_phone"] = make_phone(rng)
    for key in ["doc", "doc2", "doc3"]:
        ctx[f"{key}_npi"] = make_npi(rng)
        ctx[f"{key}_dea"] = make_dea(rng, ctx[f"{key}_last"])
    ctx["clinic_phone"] = make_phone(rng)
    ctx["clinic_fax"] = make_phone(rng)
    ctx["ext"] = str(rng.randrange(2000, 7999))
    ctx["ext2"] = str(rng.randrange(100, 999))
    ctx["mrn_label"] = rng.choice(["MRN", "MRN", "MR#", "Med Rec #", "Medical Record No.", "EMRN"])
    ctx["member_label"] = rng.choice(["Member ID", "Subscriber ID", "Member #", "Insurance ID", "Policy #"])
    ctx["dob_label"] = rng.choice(["DOB", "DOB", "D.O.B.", "Date of birth", "Birthdate"])
    sx = rng.choice("FM")
    ctx["sx"] = sx
    ctx["he"], ctx["his"], ctx["him"] = ("she", "her", "her") if sx == "F" else ("he", "his", "him")
    ctx["He"], ctx["His"] = ctx["he"].capitalize(), ctx["his"].capitalize()
    ctx["sx_word"] = "woman" if sx == "F" else "man"
    ctx["rel_role"] = rng.choice(ROLES_REL)
    female = sx == "F"
    ctx["rel_of"] = {
        "daughter": "mother" if female else "father",
        "son": "mother" if female else "father",
        "niece": "aunt" if female else "uncle",
        "wife": "husband",
        "husband": "wife",
        "partner": "partner",
        "mother": "daughter" if female else "son",
        "sister": "sister" if female else "brother",
    }[ctx["rel_role"]]
    ctx["lang"] = rng.choice(LANGS)
    day = TODAY + timedelta(days=rng.randrange(-40, 40))
    ctx["date1"] = day.strftime("%m/%d/%Y")
    ctx["date2"] = (day + timedelta(days=rng.randrange(2, 20))).strftime("%m/%d/%Y")
    ctx["date0"] = (day - timedelta(days=rng.randrange(20, 200))).strftime("%m/%d/%Y")
    ctx["date_long"] = day.strftime("%A, %B %d")
    ctx["date_iso"] = day.isoformat()
    ctx["time"] = f"{rng.randrange(7, 18):02d}:{rng.choice(['00', '15', '20', '30', '45', '50'])}"
    ctx["time2"] = f"{rng.randrange(1, 12)}:{rng.choice(['00', '15', '30', '45'])} {rng.choice(['AM', 'PM'])}"
    ctx["facility"] = rng.choice(FACILITIES)
    ctx["city"] = rng.choice(CITIES)
    ctx["room"] = str(rng.randrange(201, 688))
    ctx["acct"] = f"{rng.randrange(100, 999)}{rng.randrange(1000000, 9999999)}"
    ctx["claim"] = f"{rng.randrange(2025, 2026)}{rng.randrange(10**9, 10**10)}"
    ctx["amount"] = f"{rng.randrange(80, 4800):,}.{rng.randrange(100):02d}"
    ctx["amount2"] = f"{rng.randrange(20, 600)}.{rng.randrange(100):02d}"
    ctx["n1"] = str(rng.randrange(3, 19))
    ctx["n2"] = str(rng.randrange(20, 60))
    ctx["age_any"] = str(rng.randrange(31, 86))
    ctx["age_young"] = str(rng.randrange(24, 43))
    ctx["ga"] = str(rng.randrange(28, 37))
    ctx["inr"] = f"{rng.randrange(14, 48) / 10:.1f}"
    ctx["a1c"] = f"{rng.randrange(68, 124) / 10:.1f}"
    ctx["k"] = f"{rng.randrange(52, 68) / 10:.1f}"
    ctx["wt"] = str(rng.randrange(48, 140))
    return ctx


# -- templates --------------------------------------------------------------------------------


def T(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# (kind, template, how many renderings)
# fmt: off
PHI: list[tuple[str, str, int]] = [
    # ---------------------------------------------------------------- ed-handoff
    ("ed-handoff", T("""\
        Subject: handoff - ED bed 14 to 5 North
        From: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:rn2]] <[[EMAIL_ADDRESS:rn2_email]]>

        S: [[PERSON:pt]], [[pt_age]][[sx]], [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]], admitted for CAP w/ sepsis ([[ICD10_CODE:A41.9]]).
        B: hx COPD w/ exacerbation ([[ICD10_CODE:J44.1]]), HTN, home O2 2L. Lives w/ [[his]] [[rel_role]] [[PERSON:rel]], cell [[PHONE_NUMBER:rel_phone]].
        A: T 38.6, HR 112, BP 98/60 after 30 mL/kg bolus, lactate 3.1 -> 2.2. Cefepime + vanc hung at [[time]].
        R: repeat lactate at 2200, blood cx x2 pending, sputum cx not collected yet. Dr. [[PERSON:doc_last]] admitting.

        [[PERSON:rn_first]]
        ED charge RN, ext [[ext]]
        """), 3),
    ("ed-handoff", T("""\
        ED TO ICU HANDOFF  [[date1]] [[time]]
        PT: [[PERSON:pt_LF]]   AGE: [[AGE_OVER_89:pt_age90]]   [[mrn_label]]: [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        CC: FOUND DOWN AT ASSISTED LIVING, UNKNOWN DOWN TIME
        DX: R HIP FX ([[ICD10_CODE:S72.001A]]) AFTER FALL ([[ICD10_CODE:W19.XXXA]]), ?NSTEMI
        CODE STATUS: DNR/DNI PER POLST, HCPOA IS [[PERSON:rel_upper]] ([[rel_role]]) [[PHONE_NUMBER:rel_phone]]
        LINES: 20G L AC, 18G R FA. FOLEY PLACED.
        MEDS GIVEN: FENTANYL 25 MCG X2, ZOFRAN 4 MG
        PENDING: TROP REPEAT, CT HEAD ([[CPT_CODE:70450]]) READ
        ACCEPTING: DR [[PERSON:doc_upper]] / ICU RN [[PERSON:rn2_upper]]
        """), 2),
    # ---------------------------------------------------------------- inpatient-census
    ("inpatient-census", T("""\
        Subject: 6 West census for rounds [[date1]]
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: 6W hospitalist team

        Rm   | Patient              | [[mrn_label]]     | Age | Dx                          | Dispo
        -----|----------------------|-----------|-----|-----------------------------|---------
        [[room]]  | [[PERSON:pt_lf]]  | [[MEDICAL_RECORD_NUMBER:pt_mrn]] | [[pt_age]]  | CHF exac [[ICD10_CODE:I50.22]]         | home w/ HH
        612B | [[PERSON:p2_lf]]  | [[MEDICAL_RECORD_NUMBER:p2_mrn]] | [[AGE_OVER_89:p2_age90]]  | UTI [[ICD10_CODE:N39.0]], dementia   | SNF pending bed
        614  | [[PERSON:p3_lf]]  | [[MEDICAL_RECORD_NUMBER:p3_mrn]] | [[p3_age]]  | cellulitis RLE [[ICD10_CODE:L03.115]]   | IV abx day 3
        617A | [[PERSON:p4_lf]]  | [[MEDICAL_RECORD_NUMBER:p4_mrn]] | [[p4_age]]  | AFib RVR [[ICD10_CODE:I48.91]]          | tele, cards to see

        Attending today: Dr. [[PERSON:doc]]. Please update dispo column before 1100 huddle.
        """), 3),
    ("inpatient-census", T("""\
        morning list - ortho/medicine co-management

        1. [[PERSON:pt_upper]] [[MEDICAL_RECORD_NUMBER:pt_mrn]] -- POD1 hemiarthroplasty ([[CPT_CODE:27236]]) for femoral neck fx, [[AGE_OVER_89:pt_age90]]yo, delirium overnight, hold seroquel
        2. [[PERSON:p2_upper]] [[MEDICAL_RECORD_NUMBER:p2_mrn]] -- TKA R knee for OA [[ICD10_CODE:M17.11]], PT cleared, d/c today
        3. [[PERSON:p3_upper]] [[MEDICAL_RECORD_NUMBER:p3_mrn]] -- hip fx, on apixaban, INR n/a, anesthesia wants 48h hold
        4. [[PERSON:p4_upper]] [[MEDICAL_RECORD_NUMBER:p4_mrn]] -- T2DM w/ hyperglycemia [[ICD10_CODE:E11.65]], BG 300s, endo consulted

        -- [[PERSON:doc2_first]] (PA-C)
        """), 2),
    # ---------------------------------------------------------------- wound-care-photo-note
    ("wound-care-photo-note", T("""\
        Subject: wound photos uploaded - [[PERSON:pt_last]], sacrum
        From: [[PERSON:rn]], RN, CWON <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        Dr. [[PERSON:doc_last]],
        Photos for [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]) are in Media tab, taken [[date1]].
        Sacral pressure injury stage 3 ([[ICD10_CODE:L89.153]]): 4.2 x 3.1 x 0.8 cm, 30% slough, no tunneling,
        periwound macerated. Did sharp debridement ([[CPT_CODE:11042]]) and restarted NPWT ([[CPT_CODE:97605]]) at -125.
        Pt says pain 3/10 with dressing change. Wife asked whether [[he]] can go home with the vac.

        [[PERSON:rn_first]]
        Wound/Ostomy, pager [[PHONE_NUMBER:rn_phone]]
        """), 3),
    ("wound-care-photo-note", T("""\
        pic attached of R heel, pt [[PERSON:pt]] [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        DFU [[ICD10_CODE:E11.621]] / [[ICD10_CODE:L97.412]], fat layer exposed, base 60% gran
        measured 2.0 x 1.6 cm (was 2.6 x 2.1 on [[date0]])
        selective debridement [[CPT_CODE:97597]] done, silver alginate + offloading boot
        A1c [[a1c]] last month -- can someone nudge endo?? [[He]] missed last 2 appts
        - [[PERSON:rn2]], LPN
        """), 2),
    # ---------------------------------------------------------------- dialysis-schedule
    ("dialysis-schedule", T("""\
        Subject: chair change for [[PERSON:pt_fi]] starting [[date2]]
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        Cc: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        Hi [[PERSON:rn_first]],
        [[PERSON:pt]] ([[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]], MBI [[US_MBI:pt_mbi]]) is moving from MWF 2nd shift
        to TTS 1st shift (chair 9) because of [[his]] new job. ESRD [[ICD10_CODE:N18.6]], dialysis dependent [[ICD10_CODE:Z99.2]].
        Transport is [[his]] [[rel_role]], [[PERSON:rel_first]], [[PHONE_NUMBER:rel_phone]].
        Binder: Renvela 800 mg, NDC [[NDC_CODE:58468-0130-01]], 2 tabs with meals, no change.
        Monthly capitation [[CPT_CODE:90960]] stays with Dr. [[PERSON:doc_last]].

        Thanks,
        [[PERSON:staff_first]], unit secretary
        """), 3),
    ("dialysis-schedule", T("""\
        WEEK OF [[date1]] - MISSED / SHORTENED TREATMENTS
        | Patient | Shift | Missed | Pre-wt (kg) | K+ | Note |
        | [[PERSON:pt_lf]] | MWF-1 | Mon | [[wt]] | [[k]] | came to ED, emergent HD ([[CPT_CODE:90935]]) |
        | [[PERSON:p2_lf]] | TTS-2 | Sat | 88.4 | 5.1 | ran 3h of 4h, cramping |
        | [[PERSON:p3_lf]] | MWF-3 | Wed | 71.0 | 4.6 | no-show, left VM at [[PHONE_NUMBER:pt_phone2]] |
        SW ([[PERSON:staff2]]) to call all three re: barriers. Anemia of CKD ([[ICD10_CODE:D63.1]]) dosing per protocol.
        """), 2),
    # ---------------------------------------------------------------- nutrition-consult
    ("nutrition-consult", T("""\
        Subject: RD consult note - [[PERSON:pt]]
        From: [[PERSON:staff]], MS, RD, LDN <[[EMAIL_ADDRESS:staff_email]]>

        Pt: [[PERSON:pt]]   [[dob_label]]: [[DATE_OF_BIRTH:pt_dob]]   Unit: 4E-[[room]]
        Reason: weight loss [[ICD10_CODE:R63.4]], poor PO intake x3 wk
        Wt [[wt]] kg (down 9% in 1 mo). Meets ASPEN criteria for severe malnutrition [[ICD10_CODE:E43]].
        Plan: Ensure Plus TID, MVI, calorie counts x72h, MNT initial [[CPT_CODE:97802]] billed.
        Spoke w/ [[rel_role]] [[PERSON:rel]] who brings food from home; OK per team.
        Will f/u [[date2]].
        """), 3),
    ("nutrition-consult", T("""\
        From: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>
        To: Outpatient Nutrition <nutrition@example.org>
        Subject: referral - bariatric pre-op

        Please schedule MNT for [[PERSON:pt_mi]], [[member_label]] [[HEALTH_PLAN_ID:pt_member]], best # [[PHONE_NUMBER:pt_phone]].
        Morbid obesity [[ICD10_CODE:E66.01]], BMI 42 [[ICD10_CODE:Z68.41]], T2DM [[ICD10_CODE:E11.9]].
        Plan requires 6 monthly RD visits ([[CPT_CODE:97802]] then [[CPT_CODE:97803]]) before sleeve.
        -- [[PERSON:doc]], MD | NPI [[US_NPI:doc_npi]]
        """), 2),
    # ---------------------------------------------------------------- audiology-report
    ("audiology-report", T("""\
        AUDIOLOGY REPORT
        Patient: [[PERSON:kid]]     [[dob_label]]: [[DATE_OF_BIRTH:kid_dob]]     [[mrn_label]]: [[MEDICAL_RECORD_NUMBER:kid_mrn]]
        Referred by: [[PERSON:doc]], MD (Pediatrics)
        Parent present: [[PERSON:rel]]

        History: recurrent otitis media [[ICD10_CODE:H66.90]], 4 episodes this year; teacher reports child
        not responding in class.
        Tympanometry ([[CPT_CODE:92567]]): Type B right, Type C left.
        Comprehensive audiometry ([[CPT_CODE:92557]]): mild conductive loss right (PTA 30 dB), left WNL.
        Recs: ENT referral for PE tubes, preferential seating, recheck after treatment.

        [[PERSON:staff]], Au.D., CCC-A
        Tel [[PHONE_NUMBER:clinic_phone]] | Fax [[PHONE_NUMBER:clinic_fax]]
        """), 3),
    ("audiology-report", T("""\
        Subject: hearing aid fitting f/u - [[PERSON:pt_last]]
        [[PERSON:pt]], [[AGE_OVER_89:pt_age90]] y/o, bilateral SNHL [[ICD10_CODE:H90.3]]. Fit w/ RIC aids [[date0]].
        Daughter [[PERSON:rel_first]] emailed ([[EMAIL_ADDRESS:rel_email]]) that [[he]] won't wear the L aid, says it whistles.
        Plan: bring in for feedback mgmt + dome change. Medicare doesn't cover aids, pt aware, MBI [[US_MBI:pt_mbi]] on file for the audiogram only.
        -[[PERSON:staff_first]]
        """), 2),
    # ---------------------------------------------------------------- ophthalmology-letter
    ("ophthalmology-letter", T("""\
        [[date_long]]

        Dear Dr. [[PERSON:doc2_last]],

        Thank you for referring [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]), whom I saw today for decreased vision
        in the right eye. Exam showed exudative macular degeneration with active choroidal neovascularization,
        right eye ([[ICD10_CODE:H35.3211]]), confirmed on OCT ([[CPT_CODE:92134]]). Visual acuity 20/80 OD, 20/30 OS.
        We started intravitreal aflibercept ([[CPT_CODE:67028]]; Eylea NDC [[NDC_CODE:61755-0005-02]]) today and will
        repeat monthly x3. [[He]] also has a visually significant nuclear cataract OD ([[ICD10_CODE:H25.11]]), which we
        will address after the macula is stable.

        Sincerely,
        [[PERSON:doc]], MD
        Retina Service | NPI [[US_NPI:doc_npi]]
        Phone [[PHONE_NUMBER:clinic_phone]]  Fax [[PHONE_NUMBER:clinic_fax]]
        """), 3),
    ("ophthalmology-letter", T("""\
        To: [[PERSON:doc2]] <[[EMAIL_ADDRESS:doc2_email]]>
        From: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>
        Subject: RE: glaucoma pt - [[PERSON:pt_lf]]

        Agree w/ starting latanoprost qhs OU. [[PERSON:pt_first]]'s IOP 26/24, C/D 0.6 OU, early arcuate defect OS.
        Coding as POAG bilat mild [[ICD10_CODE:H40.1131]]. Comprehensive exam was [[CPT_CODE:92004]] (new pt).
        Please see back in 6 wk. [[His]] [[rel_role]] will drive, [[his]] # is [[PHONE_NUMBER:pt_phone]].
        """), 2),
    # ---------------------------------------------------------------- genetic-counseling
    ("genetic-counseling", T("""\
        Subject: BRCA results - [[PERSON:pt]]
        From: [[PERSON:staff]], MS, CGC <[[EMAIL_ADDRESS:staff_email]]>
        To: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        [[PERSON:doc_first]],
        [[PERSON:pt]] ([[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]]) came back positive for a pathogenic
        BRCA2 variant on full sequencing/del-dup ([[CPT_CODE:81162]]). Please code
        [[ICD10_CODE:Z15.01]] going forward, plus family hx [[ICD10_CODE:Z80.3]] (mother and maternal aunt).
        We disclosed by phone today; [[he]] asked us to send a family letter to [[his]] sister [[PERSON:rel]].
        Next: high-risk screening plan and cascade testing for relatives.
        [[PERSON:staff_first]]
        """), 2),
    ("genetic-counseling", T("""\
        GENETIC COUNSELING INTAKE
        Name: [[PERSON:pt_mi]]
        [[dob_label]]: [[DATE_OF_BIRTH:pt_dob]]
        Phone: [[PHONE_NUMBER:pt_phone]]
        Email: [[EMAIL_ADDRESS:pt_email]]
        Reason for referral: personal hx R breast ca ([[ICD10_CODE:C50.911]]) dx age 41
        Family: father's side Ashkenazi; paternal grandmother ovarian ca
        Insurance: [[member_label]] [[HEALTH_PLAN_ID:pt_member]] -- prior auth needed for [[CPT_CODE:81162]]
        Referring: Dr. [[PERSON:doc]]
        """), 3),
    # ---------------------------------------------------------------- fertility-clinic
    ("fertility-clinic", T("""\
        Subject: retrieval schedule - [[PERSON:pt_last]]
        From: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:pt]] <[[EMAIL_ADDRESS:pt_email]]>

        Hi [[PERSON:pt_first]],
        Great news - Dr. [[PERSON:doc_last]] reviewed your scan this morning, and you are ready to trigger.
        Take your trigger shot TONIGHT at 9:30 PM exactly. Your egg retrieval ([[CPT_CODE:58970]]) is [[date2]] at 7:30 AM.
        Nothing to eat or drink after midnight, and your partner [[PERSON:rel]] needs to be here to drive you home.
        Your chart lists PCOS ([[ICD10_CODE:E28.2]]) so we will watch closely for OHSS symptoms afterward.

        [[PERSON:rn_first]], RN | IVF nurse line [[PHONE_NUMBER:clinic_phone]] ext. [[ext2]]
        """), 3),
    ("fertility-clinic", T("""\
        embryology update [[date1]]
        pt: [[PERSON:pt_LF]]  [[dob_label]] [[DATE_OF_BIRTH:pt_dob]]  [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        dx: female infertility [[ICD10_CODE:N97.9]] / [[ICD10_CODE:Z31.41]]
        14 oocytes retrieved, 11 mature, 9 fertilized (ICSI). culture day 3 ([[CPT_CODE:89250]]).
        plan fresh single ET ([[CPT_CODE:58974]]) day 5 if >=1 good blast. insurance [[HEALTH_PLAN_ID:pt_member]] covers 1 cycle only.
        -[[PERSON:staff]], embryology
        """), 2),
    # ---------------------------------------------------------------- obstetric-triage
    ("obstetric-triage", T("""\
        OB TRIAGE NOTE [[date1]] [[time]]
        [[PERSON:pt]], G2P1, [[ga]]w by early US, [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        CC: tightening q5-8 min since 0300, no LOF, +FM
        SVE 1/50/-2 unchanged x2h. NST reactive ([[CPT_CODE:59025]]). Toco irregular.
        Dx: false labor before 37 wk, 3rd tri ([[ICD10_CODE:O47.03]]); also GDM A1 ([[ICD10_CODE:O24.410]])
        Plan: d/c home, labor precautions reviewed, f/u Dr. [[PERSON:doc_last]] Tues.
        FOB [[PERSON:rel]] at bedside.
        """), 3),
    ("obstetric-triage", T("""\
        Subject: pt called L&D - elevated BP
        From: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:doc]], CNM <[[EMAIL_ADDRESS:doc_email]]>

        [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]), 32 wks ([[ICD10_CODE:Z3A.32]]), called at [[time2]]: home BP 152/98 and 148/96,
        mild headache, no vision changes. Known gestational HTN ([[ICD10_CODE:O13.3]]).
        Told her to come in for eval + labs. Cell [[PHONE_NUMBER:pt_phone]] if she doesn't show in 1h.
        [[PERSON:rn_first]]
        """), 2),
    # ---------------------------------------------------------------- urgent-care-followup
    ("urgent-care-followup", T("""\
        Subject: Your urgent care visit on [[date1]]
        To: [[EMAIL_ADDRESS:pt_email]]

        Hello [[PERSON:pt_first]],
        Your throat culture from [[facility]] Urgent Care came back POSITIVE for strep ([[ICD10_CODE:J02.0]]).
        The rapid test ([[CPT_CODE:87880]]) was negative, which is why we sent the culture.
        We sent amoxicillin to your pharmacy. Please call us at [[PHONE_NUMBER:clinic_phone]] if you have trouble swallowing.
        - [[PERSON:doc]], PA-C
        """), 2),
    ("urgent-care-followup", T("""\
        callback list UC [[date1]]
        - [[PERSON:pt]] [[PHONE_NUMBER:pt_phone]] -- covid PCR ([[CPT_CODE:87635]]) POS [[ICD10_CODE:U07.1]], [[pt_age]]yo w/ CKD4 [[ICD10_CODE:N18.4]], needs renal-dosed paxlovid (NDC [[NDC_CODE:0069-1085-30]]) -> Dr. [[PERSON:doc_last]] to call
        - [[PERSON:p2]] [[MEDICAL_RECORD_NUMBER:p2_mrn]] -- CXR ([[CPT_CODE:71046]]) overread: RLL infiltrate missed, call back for abx
        - [[PERSON:p3]] -- no answer x2, sent portal msg re: UTI [[ICD10_CODE:N39.0]] culture sens
        who's calling: [[PERSON:rn]]
        """), 3),
    # ---------------------------------------------------------------- telehealth-visit-summary
    ("telehealth-visit-summary", T("""\
        Telehealth Visit Summary
        Patient: [[PERSON:pt]] | [[dob_label]]: [[DATE_OF_BIRTH:pt_dob]] | Visit: [[date1]], video
        Provider: [[PERSON:doc]], DO
        Patient located at home in [[city]]; consent for video visit obtained.

        Depression f/u ([[ICD10_CODE:F32.9]]) and anxiety ([[ICD10_CODE:F41.1]]). PHQ-9 14 (was 19). Sertraline 100 mg,
        tolerating. Sleep better. Denies SI. Continue, add CBT referral. Level [[CPT_CODE:99214]]-95.
        Next video visit 4 weeks; link will go to [[EMAIL_ADDRESS:pt_email]].
        """), 3),
    ("telehealth-visit-summary", T("""\
        From: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>
        To: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        Subject: FW: video visit dropped

        Can you call [[PERSON:pt]] back at [[PHONE_NUMBER:pt_phone]]? Video dropped twice. We got through the
        BP review (HTN [[ICD10_CODE:I10]], home avg 138/84) and [[he]] needs the lisinopril increase sent. Bill as audio-only if we
        can't reconnect. [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]].
        thx
        """), 2),
    # ---------------------------------------------------------------- interpreter-request
    ("interpreter-request", T("""\
        Subject: [[lang]] interpreter needed [[date2]] [[time2]]
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: Language Services <interpreters@example.org>

        Patient: [[PERSON:pt]]
        [[mrn_label]]: [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        Appointment: Cardiology new pt, Dr. [[PERSON:doc]], for chest pain workup ([[ICD10_CODE:R07.9]])
        Mode: in person preferred (pt is hard of hearing, video was difficult last time)
        Length: 60 min, includes echo instructions
        Contact for pt: [[PERSON:rel]] ([[rel_role]]), [[PHONE_NUMBER:rel_phone]]
        """), 3),
    ("interpreter-request", T("""\
        NEED INTERPRETER STAT - 5 SOUTH RM [[room]]
        PT [[PERSON:pt_upper]], [[AGE_OVER_89:pt_age90]]YO, [[lang]] ONLY, FAMILY NOT AT BEDSIDE
        CONSENT FOR PEG TUBE NEEDED TODAY, DR [[PERSON:doc_last]] WAITING. CALL [[PHONE_NUMBER:rn_phone]]
        - [[PERSON:rn_upper]] RN
        """), 2),
    # ---------------------------------------------------------------- billing-dispute
    ("billing-dispute", T("""\
        Subject: Re: bill for ER visit - account [[acct]]
        From: [[PERSON:pt]] <[[EMAIL_ADDRESS:pt_email]]>
        To: Patient Financial Services <billing@example.org>

        i already called twice about this. i was in your ER on [[date0]] for chest pain and they told me it was
        heartburn (they wrote [[ICD10_CODE:K21.9]]). you billed a level 5 ([[CPT_CODE:99285]]) plus an EKG ([[CPT_CODE:93000]]) and
        a CT of my head ([[CPT_CODE:70450]]) that i never had. my insurance is [[HEALTH_PLAN_ID:pt_member]] and they said the CT
        wasnt even ordered. please fix this before it goes to collections. my number is [[PHONE_NUMBER:pt_phone]].

        [[PERSON:pt_first]]
        """), 3),
    ("billing-dispute", T("""\
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: [[PERSON:mgr]] <[[EMAIL_ADDRESS:mgr_email]]>
        Subject: escalation - Medicare pt disputing inpatient status

        [[PERSON:mgr_first]], the [[rel_role]] of [[PERSON:pt]] (MBI [[US_MBI:pt_mbi]], SSN on file [[US_SSN:pt_ssn]]) says [[he]] was
        told [[he]] was inpatient, but [[he]] was billed observation, so the SNF stay after the fall ([[ICD10_CODE:W19.XXXA]])
        isn't covered. Admit H&P was [[CPT_CODE:99222]] but UR downgraded. Can you pull the MOON notice?
        [[PERSON:staff_first]] x[[ext]]
        """), 2),
    # ---------------------------------------------------------------- collections-notice
    ("collections-notice", T("""\
        FINAL NOTICE - ACCOUNT PAST DUE

        [[PERSON:pt_upper]]
        Account: [[acct]]        Guarantor: [[PERSON:rel_upper]]
        Date of service: [[date0]]      Provider: [[PERSON:doc]], MD (NPI [[US_NPI:doc_npi]])
        Service: OFFICE VISIT EST ([[CPT_CODE:99214]]), HBA1C ([[CPT_CODE:83036]]), VENIPUNCTURE ([[CPT_CODE:36415]])
        Diagnosis: [[ICD10_CODE:E11.65]]
        Balance due: $[[amount]]

        If payment is not received in 30 days this account will be referred to an outside agency.
        Questions: [[PHONE_NUMBER:clinic_phone]], Mon-Fri 8-5.
        """), 3),
    ("collections-notice", T("""\
        Subject: pre-collections review batch [[date1]]
        acct | guarantor | patient | [[dob_label]] | bal | note
        [[acct]] | [[PERSON:rel_lf]] | [[PERSON:pt_lf]] | [[DATE_OF_BIRTH:pt_dob]] | $[[amount]] | ED [[CPT_CODE:99284]], self-pay, SSN [[US_SSN:pt_ssn]] for skip trace
        4471903 | [[PERSON:p2_lf]] | same | [[DATE_OF_BIRTH:p2_dob]] | $[[amount2]] | PT visits, charity app pending
        hold both until [[PERSON:mgr]] reviews
        """), 2),
    # ---------------------------------------------------------------- hipaa-authorization-form
    ("hipaa-authorization-form", T("""\
        AUTHORIZATION FOR RELEASE OF PROTECTED HEALTH INFORMATION

        Patient name: [[PERSON:pt_mi]]
        [[dob_label]]: [[DATE_OF_BIRTH:pt_dob]]    [[mrn_label]]: [[MEDICAL_RECORD_NUMBER:pt_mrn]]
        Social Security No.: [[US_SSN:pt_ssn]]
        I authorize [[facility]] to release: [X] progress notes  [X] lab results  [X] records of treatment for alcohol use disorder (42 CFR Part 2)
        To: [[PERSON:doc2]], MD, fax [[PHONE_NUMBER:clinic_fax]]
        Purpose: continuity of care
        Expires: one year from signature
        Signature: [[PERSON:pt]]    Date: [[date1]]
        """), 3),
    ("hipaa-authorization-form", T("""\
        Subject: signed auth attached
        From: [[PERSON:rel]] <[[EMAIL_ADDRESS:rel_email]]>

        Hi, attached is the authorization form so you can talk to me about my [[rel_of]] [[PERSON:pt]].
        [[His]] date of birth is [[DATE_OF_BIRTH:pt_dob90]]. [[He]] has Alzheimer's ([[ICD10_CODE:G30.9]]) and can't sign anymore,
        I'm the POA. Please include the neurology notes and the MRI.
        Thank you,
        [[PERSON:rel]]
        [[PHONE_NUMBER:rel_phone]]
        """), 2),
    # ---------------------------------------------------------------- release-of-information-log
    ("release-of-information-log", T("""\
        ROI LOG - [[date1]]
        Req# | Patient           | [[mrn_label]]      | Requester           | Records                      | Status
        2291 | [[PERSON:pt_lf]]  | [[MEDICAL_RECORD_NUMBER:pt_mrn]] | attorney            | ED visit + imaging           | sent
        2292 | [[PERSON:p2_lf]]  | [[MEDICAL_RECORD_NUMBER:p2_mrn]] | SSA disability      | psych notes F33.x excluded   | pending auth
        2293 | [[PERSON:p3_lf]]  | [[MEDICAL_RECORD_NUMBER:p3_mrn]] | patient (self)      | labs 2023-2025               | sent via portal
        2294 | [[PERSON:p4_lf]]  | [[MEDICAL_RECORD_NUMBER:p4_mrn]] | life insurer        | full chart                   | denied - no valid auth
        Processed by [[PERSON:staff]], HIM
        """), 3),
    ("release-of-information-log", T("""\
        Subject: ROI - subpoena received for [[PERSON:pt]]
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: [[PERSON:mgr]] <[[EMAIL_ADDRESS:mgr_email]]>

        Got a subpoena duces tecum for [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]). Chart includes SUD treatment
        (alcohol dependence, [[ICD10_CODE:F10.20]]) so we can't release those without a court order per Part 2. Everything else ready.
        Can you confirm before I send to counsel?
        """), 2),
    # ---------------------------------------------------------------- incident-report
    ("incident-report", T("""\
        SAFETY EVENT REPORT #[[n2]]-[[ext]]
        Event date/time: [[date1]] [[time]]     Unit: 7 North
        Patient: [[PERSON:pt]]   [[mrn_label]]: [[MEDICAL_RECORD_NUMBER:pt_mrn]]   Age: [[AGE_OVER_89:pt_age90]]
        Event type: Fall with injury
        Description: Pt found on floor beside bed at [[time]], bed alarm was off. Small laceration L forehead.
        CT head ([[CPT_CODE:70450]]) neg. Dx concussion w/o LOC ([[ICD10_CODE:S06.0X0A]]).
        Notified: Dr. [[PERSON:doc]], daughter [[PERSON:rel]] by phone.
        Reported by: [[PERSON:rn]], RN
        """), 3),
    ("incident-report", T("""\
        Subject: med event - wrong insulin
        From: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:mgr]] <[[EMAIL_ADDRESS:mgr_email]]>

        Filed in the safety system but FYI: [[PERSON:pt]] in [[room]] (on insulin [[ICD10_CODE:Z79.4]]) got 10 units of
        Humalog (NDC [[NDC_CODE:0002-7510-01]]) instead of Lantus ([[NDC_CODE:0088-2220-33]]) at HS. BG 54 at 0200, treated, now 132.
        Both vials were in the same bin in the pyxis. Dr. [[PERSON:doc_last]] aware. Pt and [[his]] [[rel_role]] informed.
        """), 2),
    # ---------------------------------------------------------------- quality-review-case
    ("quality-review-case", T("""\
        CONFIDENTIAL - QUALITY REVIEW (privileged under state peer review statute)
        Case: sepsis bundle fallout
        Patient: [[PERSON:pt]], [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]], [[pt_age]]yo
        Arrived ED [[date0]] [[time]], sepsis ([[ICD10_CODE:A41.9]]) with UTI source ([[ICD10_CODE:N39.0]]).
        Antibiotics given 4h12m after triage; lactate not repeated.
        Attending: [[PERSON:doc]]. Triage RN: [[PERSON:rn]].
        Reviewer ([[PERSON:doc2]]) determination: system issue, no individual practitioner concern.
        """), 3),
    ("quality-review-case", T("""\
        Subject: readmit review - [[PERSON:pt_lf]]
        [[PERSON:pt]] (MBI [[US_MBI:pt_mbi]]) readmitted within 30d for CHF ([[ICD10_CODE:I50.22]]). Index d/c [[date0]] -- discharge
        day mgmt [[CPT_CODE:99239]]. Entresto (NDC [[NDC_CODE:0078-0659-20]]) never filled: copay $410. Home health never
        reached pt at [[PHONE_NUMBER:pt_phone]]. Counts against HRRP. Send to [[PERSON:mgr]] for the CM workgroup.
        """), 2),
    # ---------------------------------------------------------------- peer-review
    ("peer-review", T("""\
        PEER REVIEW REFERRAL - PRIVILEGED & CONFIDENTIAL
        Practitioner under review: [[PERSON:doc]], MD, NPI [[US_NPI:doc_npi]], DEA [[US_DEA_NUMBER:doc_dea]]
        Trigger: opioid prescribing outlier
        Index patient: [[PERSON:pt]], [[dob_label]] [[DATE_OF_BIRTH:pt_dob]], overdose [[date0]]; naloxone (NDC [[NDC_CODE:69547-0353-02]])
        given by EMS. PDMP shows 3 overlapping prescriptions.
        Reviewer assigned: [[PERSON:doc2]], MD. Due [[date2]].
        """), 3),
    ("peer-review", T("""\
        From: [[PERSON:doc2]] <[[EMAIL_ADDRESS:doc2_email]]>
        To: Medical Staff Office <msoffice@example.org>
        Subject: review complete - case [[n1]]

        My review of Dr. [[PERSON:doc_last]]'s care of [[PERSON:pt_fi]] ([[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]]): the stroke alert
        ([[ICD10_CODE:I63.9]]) was called appropriately but tPA decision was delayed 38 min waiting for the CT read. I score this a
        level 2 (minor opportunity). Recommend education, not FPPE.
        -- [[PERSON:doc2]], MD, Chair, Neurology
        """), 2),
    # ---------------------------------------------------------------- anticoagulation-clinic
    ("anticoagulation-clinic", T("""\
        Coumadin clinic - INR calls [[date1]]
        | Pt | Phone | INR | Goal | Dose change | Next |
        | [[PERSON:pt_lf]] | [[PHONE_NUMBER:pt_phone]] | [[inr]] | 2-3 | hold x1 then 5 mg daily | 1 wk |
        | [[PERSON:p2_lf]] | [[PHONE_NUMBER:pt_phone2]] | 2.4 | 2-3 | none | 4 wk |
        Both AFib [[ICD10_CODE:I48.91]], long-term anticoag [[ICD10_CODE:Z79.01]].
        [[PERSON:rn]], RN
        """), 2),
    ("anticoagulation-clinic", T("""\
        Subject: switching [[PERSON:pt_last]] to DOAC?
        From: [[PERSON:rn]] <[[EMAIL_ADDRESS:rn_email]]>
        To: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        Dr. [[PERSON:doc_last]], [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]) has had 5 subtherapeutic INRs in a row. [[His]] plan
        ([[member_label]] [[HEALTH_PLAN_ID:pt_member]]) prefers Eliquis 5 mg BID (NDC [[NDC_CODE:0003-0894-21]]) over Xarelto
        ([[NDC_CODE:50458-0579-30]]). CrCl 58, wt [[wt]] kg, so no dose reduction. OK to switch and stop warfarin when INR < 2?
        [[PERSON:rn_first]]
        """), 3),
    # ---------------------------------------------------------------- snf-transfer
    ("snf-transfer", T("""\
        Subject: referral packet - [[PERSON:pt]]
        From: [[PERSON:staff]], LCSW <[[EMAIL_ADDRESS:staff_email]]>
        To: admissions@example.net

        Sending clinicals for [[PERSON:pt]], [[AGE_OVER_89:pt_age90]], MBI [[US_MBI:pt_mbi]], Medicare A qualifying 3-night stay met.
        Dx: R femoral neck fx s/p hemiarthroplasty ([[ICD10_CODE:S72.001A]]), dementia, A-fib on apixaban.
        Needs PT/OT 5x/wk, WBAT. Family contact [[PERSON:rel]] [[PHONE_NUMBER:rel_phone]].
        Can you accept by [[date2]]?
        [[PERSON:staff_first]] | [[PHONE_NUMBER:staff_phone]]
        """), 3),
    ("snf-transfer", T("""\
        TRANSFER FORM - HOSPITAL TO SNF
        Name: [[PERSON:pt_LF]]          [[dob_label]]: [[DATE_OF_BIRTH:pt_dob90]]  Age: [[AGE_OVER_89:pt_age90]]
        Insurance: Medicare [[US_MBI:pt_mbi]] / Supplement [[HEALTH_PLAN_ID:pt_member]]
        Code status: DNR
        Active problems: COPD ([[ICD10_CODE:J44.1]]), CKD 4 ([[ICD10_CODE:N18.4]]), moderate malnutrition ([[ICD10_CODE:E44.0]])
        Last dose Lantus 12 u at 2100
        Discharging MD: [[PERSON:doc]]  ph [[PHONE_NUMBER:doc_phone]]
        """), 2),
    # ---------------------------------------------------------------- pdmp-alert
    ("pdmp-alert", T("""\
        Subject: PDMP review flag - [[PERSON:pt_lf]]
        From: Pharmacy Clinical Services <rxclinical@example.org>
        To: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        The state PDMP shows [[PERSON:pt]] ([[dob_label]] [[DATE_OF_BIRTH:pt_dob]]) filled oxycodone 10 mg #90 on [[date0]] from a
        prescriber with DEA [[US_DEA_NUMBER:doc2_dea]] ([[PERSON:doc2]]) and your Rx for hydrocodone on [[date1]] under DEA
        [[US_DEA_NUMBER:doc_dea]]. MME now > 120/day. Naloxone (NDC [[NDC_CODE:69547-0353-02]]) not on the med list.
        Please review and document a controlled substance agreement.
        """), 2),
    ("pdmp-alert", T("""\
        PDMP ALERT: multiple prescribers
        pt [[PERSON:pt_upper]] / [[mrn_label]] [[MEDICAL_RECORD_NUMBER:pt_mrn]] / age [[pt_age]]
        4 prescribers, 3 pharmacies in 60 days. dx on file: chronic pain, alcohol dependence [[ICD10_CODE:F10.20]]
        prescriber of record: [[PERSON:doc_upper]], DEA [[US_DEA_NUMBER:doc_dea]], NPI [[US_NPI:doc_npi]]
        reviewed by [[PERSON:staff]], PharmD - call [[PHONE_NUMBER:staff_phone]]
        """), 1),
    # ---------------------------------------------------------------- duplicate-record-merge
    ("duplicate-record-merge", T("""\
        Subject: possible duplicate chart - please merge
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: HIM Data Integrity <him-di@example.org>

        Registration created a new [[mrn_label]] [[MEDICAL_RECORD_NUMBER:p2_mrn]] for [[PERSON:pt]] in the ED today, but [[he]] already
        has [[MEDICAL_RECORD_NUMBER:pt_mrn]] (same [[dob_label]] [[DATE_OF_BIRTH:pt_dob]], same SSN [[US_SSN:pt_ssn]]). The ED encounter
        ([[CPT_CODE:99283]], abdominal pain [[ICD10_CODE:R10.31]]) and the CT results are on the new chart. Please merge
        before the surgery consult tomorrow.
        [[PERSON:staff_first]], Patient Access, x[[ext]]
        """), 2),
    ("duplicate-record-merge", T("""\
        MPI OVERLAY REVIEW
        Record A: [[PERSON:pt_LF]] | [[dob_label]] [[DATE_OF_BIRTH:pt_dob]] | [[MEDICAL_RECORD_NUMBER:pt_mrn]] | SSN [[US_SSN:pt_ssn]]
        Record B: [[PERSON:p2_LF]] | [[dob_label]] [[DATE_OF_BIRTH:p2_dob]] | [[MEDICAL_RECORD_NUMBER:p2_mrn]] | SSN [[US_SSN:p2_ssn]]
        Issue: lab results (HbA1c [[CPT_CODE:83036]], CMP [[CPT_CODE:80053]]) for A were filed to B; B's diabetes dx ([[ICD10_CODE:E11.9]])
        now shows on A's problem list. Both providers notified. Reviewer: [[PERSON:staff2]].
        """), 1),
]

NEG: list[tuple[str, str, int]] = [
    # ---------------------------------------------------------------- staff-scheduling
    ("staff-scheduling", T("""\
        Subject: holiday call swap
        From: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>
        To: [[PERSON:doc2]] <[[EMAIL_ADDRESS:doc2_email]]>
        Cc: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>

        [[PERSON:doc2_first]] - any chance you'd trade Thanksgiving for Christmas Eve? My in-laws moved the dinner.
        I can also take your Sat [[date2]] clinic if that helps. [[PERSON:staff_first]], if it works please update Amion.
        Thanks, [[PERSON:doc_first]]
        """), 3),
    ("staff-scheduling", T("""\
        NIGHT SHIFT STAFFING 3W - WEEK OF [[date1]]
        Mon  [[PERSON:rn_upper]] (charge), [[PERSON:rn2_upper]], agency x1
        Tue  [[PERSON:staff_upper]] (charge), [[PERSON:rn_upper]]
        Wed  OPEN - need 1 RN, incentive pay approved
        Call the staffing office [[PHONE_NUMBER:clinic_phone]] or text [[PERSON:mgr_first]] at [[PHONE_NUMBER:mgr_phone]]
        """), 2),
    # ---------------------------------------------------------------- meeting-minutes
    ("meeting-minutes", T("""\
        Pharmacy & Therapeutics Committee - minutes [[date1]]
        Present: [[PERSON:doc]] (chair), [[PERSON:doc2]], [[PERSON:staff]], PharmD, [[PERSON:rn]], RN
        1. Formulary: added Jardiance 10 mg (NDC [[NDC_CODE:0597-0152-30]]); Januvia ([[NDC_CODE:0006-0277-31]]) moved to tier 3.
        2. Insulin pen waste: [[PERSON:staff_first]] presented 6-month data, 14% of pens discarded at discharge.
        3. Anticoagulation reversal order set revision tabled to next month.
        Next meeting: [[date2]], Conf Rm B.
        """), 3),
    ("meeting-minutes", T("""\
        Subject: notes from today's sepsis workgroup
        Hi all - quick recap:
        - [[PERSON:doc]] will present the Q3 SEP-1 compliance numbers at Med Exec
        - [[PERSON:rn]] to update the ED triage screening tool (qSOFA -> NEWS2)
        - Dr. [[PERSON:doc2_last]] questioned whether [[ICD10_CODE:A41.9]] is over-coded vs R65.20; coding will audit 30 charts
        - next mtg in 2 wks
        [[PERSON:mgr]]
        Quality Dept | [[PHONE_NUMBER:mgr_phone]]
        """), 2),
    # ---------------------------------------------------------------- cme-announcement
    ("cme-announcement", T("""\
        Subject: Grand Rounds - [[date_long]], 7:30 AM
        Speaker: [[PERSON:doc]], MD, Professor of Medicine
        Topic: "SGLT2 inhibitors beyond diabetes: heart failure and CKD"
        Location: [[facility]] auditorium and Zoom
        1.0 AMA PRA Category 1 Credit(TM). Text the attendance code to [[PHONE_NUMBER:clinic_phone]].
        Questions: [[PERSON:staff]] ([[EMAIL_ADDRESS:staff_email]])
        """), 3),
    ("cme-announcement", T("""\
        Save the date! Regional Wound Care Symposium
        Keynote by [[PERSON:doc2]], DPM, on offloading in diabetic foot ulcers.
        Breakout: coding debridement correctly ([[CPT_CODE:11042]] vs [[CPT_CODE:97597]]) with [[PERSON:staff2]], CPC.
        Register by [[date2]]; early rate ends soon. Contact [[EMAIL_ADDRESS:staff2_email]] or [[PHONE_NUMBER:staff2_phone]] ext. [[ext2]].
        """), 2),
    # ---------------------------------------------------------------- compliance-training
    ("compliance-training", T("""\
        Subject: ACTION REQUIRED: annual HIPAA training due [[date2]]
        From: Compliance Office <compliance@example.org>

        All workforce members must complete the annual Privacy & Security module in the learning portal.
        Reminder: never email patient information to a personal account, never text photos of wounds or
        charts, and use the SECURE tag in the subject line when sending PHI outside the organization.
        Report suspected breaches to [[PERSON:mgr]], Privacy Officer, [[PHONE_NUMBER:mgr_phone]].
        """), 3),
    ("compliance-training", T("""\
        Quiz answer key - module 4 (minimum necessary)
        Q1: B. A billing clerk does not need the full psychotherapy note to post a payment.
        Q2: D. A spouse may pick up a prescription without a written authorization.
        Q3: A. Dates of birth, MRNs and full-face photos are all identifiers.
        Q4: C. Ages over 89 must be aggregated into a single 90+ category in de-identified data.
        Questions to [[PERSON:staff]] at [[EMAIL_ADDRESS:staff_email]].
        """), 2),
    # ---------------------------------------------------------------- coding-education
    ("coding-education", T("""\
        CODING TIP OF THE WEEK: E/M levels
        Office visits are now leveled by MDM or total time. Established patient:
        [[CPT_CODE:99213]] low MDM or 20+ min | [[CPT_CODE:99214]] moderate MDM or 30+ min | [[CPT_CODE:99215]] high MDM or 40+ min.
        A chronic illness with exacerbation (e.g. [[ICD10_CODE:E11.65]]) plus prescription drug management supports
        moderate MDM. Don't forget [[ICD10_CODE:Z79.4]] for insulin users.
        - [[PERSON:staff]], CPC, CRC
        """), 3),
    ("coding-education", T("""\
        Subject: dialysis coding reminders
        Monthly ESRD services ([[CPT_CODE:90960]]) require 4+ face-to-face visits. Single HD session w/ one eval
        is [[CPT_CODE:90935]]; repeated evals [[CPT_CODE:90937]]. Always pair [[ICD10_CODE:N18.6]] with [[ICD10_CODE:Z99.2]].
        Anemia in CKD is [[ICD10_CODE:D63.1]] - code the CKD stage first.
        Ping [[PERSON:staff2]] ([[EMAIL_ADDRESS:staff2_email]]) for the full tip sheet.
        """), 2),
    ("coding-education", T("""\
        ED coding audit results, Q2
        Level distribution: [[CPT_CODE:99282]] 4% / [[CPT_CODE:99283]] 22% / [[CPT_CODE:99284]] 41% / [[CPT_CODE:99285]] 33%
        Most common dx: chest pain [[ICD10_CODE:R07.9]], URI [[ICD10_CODE:J06.9]], RLQ pain [[ICD10_CODE:R10.31]]
        Undercoding found in 12% of level 4 charts (missed critical care time).
        Auditor: [[PERSON:staff]] | Physician advisor: [[PERSON:doc]], MD
        """), 2),
    # ---------------------------------------------------------------- it-notice
    ("it-notice", T("""\
        Subject: Epic downtime [[date_long]] 0100-0400
        Scheduled upgrade. Use downtime forms and the read-only BCA PCs on each unit.
        Print MARs before 0030. Lab will call critical values to the unit phone.
        IT on-call: [[PERSON:staff]] [[PHONE_NUMBER:staff_phone]]
        """), 3),
    ("it-notice", T("""\
        phishing alert - do NOT click the "Payroll adjustment" email from today. It spoofs [[PERSON:mgr]]'s name.
        If you entered your password, reset it now and call the service desk at [[PHONE_NUMBER:clinic_phone]].
        -- [[PERSON:staff2]], Information Security
        """), 2),
    # ---------------------------------------------------------------- hr-benefits
    ("hr-benefits", T("""\
        Subject: open enrollment closes Friday
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>

        Reminder that benefits elections for next year close Friday at 5 PM. The HSA match is increasing and the
        vision plan now covers one pair of contacts per year. Benefits fair in the cafeteria Tuesday.
        Questions: HR Service Center [[PHONE_NUMBER:clinic_phone]].
        """), 2),
    ("hr-benefits", T("""\
        Welcome our new hires!
        * [[PERSON:rn]], RN - Cardiac ICU
        * [[PERSON:doc]], MD - Hospitalist group
        * [[PERSON:staff2]] - Patient Access, [[facility]]
        Please stop by and say hello. Reach [[PERSON:mgr_first]] at [[EMAIL_ADDRESS:mgr_email]] to set up shadowing.
        """), 2),
    # ---------------------------------------------------------------- facilities-notice
    ("facilities-notice", T("""\
        FACILITIES NOTICE: Water shutoff, B tower floors 3-5, [[date1]] 22:00-02:00
        Plumbing will replace a riser valve. Bottled water will be stocked on each unit. Dialysis
        in B4 has been rescheduled to the A tower unit for that night.
        Contact: [[PERSON:staff]], Facilities Manager, [[PHONE_NUMBER:staff_phone]]
        """), 2),
    ("facilities-notice", T("""\
        Subject: parking garage level 2 closed
        Summer resurfacing starts Monday. Staff should use the Lane Street lot; shuttle every 10 min.
        Thanks for your patience - [[PERSON:mgr]]
        """), 2),
    # ---------------------------------------------------------------- public-health-advisory
    ("public-health-advisory", T("""\
        COUNTY HEALTH ADVISORY - MEASLES EXPOSURE
        A confirmed measles case visited the [[city]] Urgent Care waiting room on [[date1]] between 1 PM and 4 PM.
        Clinicians: evaluate febrile rash illness, isolate immediately, and call the health department before sending
        specimens. Document MMR status; use [[ICD10_CODE:Z23]] for catch-up vaccination visits.
        Epidemiologist on call: [[PERSON:doc3]], [[PHONE_NUMBER:doc3_phone]]
        """), 3),
    ("public-health-advisory", T("""\
        Flu and COVID season update: test positivity rose to 11% this week. Long-term care facilities reported
        [[n1]] outbreaks, most affecting residents aged 85 and older. Consider antivirals early for high-risk patients:
        Paxlovid ([[NDC_CODE:0069-1085-30]]) or oseltamivir 75 mg ([[NDC_CODE:0004-0800-85]]) as indicated.
        - State Department of Health, Infectious Disease Branch
        """), 2),
    # ---------------------------------------------------------------- drug-shortage-notice
    ("drug-shortage-notice", T("""\
        Subject: SHORTAGE - Trulicity 1.5 mg pens
        From: Pharmacy Purchasing <rxbuyers@example.org>

        Our wholesaler has Trulicity 1.5 mg/0.5 mL (NDC [[NDC_CODE:0002-1434-80]]) on allocation through next month.
        Please do not start new patients on it. Continue existing therapy; consider alternatives per the P&T guidance.
        Questions: [[PERSON:staff]], PharmD, x[[ext]]
        """), 3),
    ("drug-shortage-notice", T("""\
        RECALL NOTICE
        Product: EpiPen 2-Pak 0.3 mg, NDC [[NDC_CODE:49502-0500-02]], select lots
        Action: quarantine affected lots in ED, OR and code carts; replacement stock arriving [[date2]].
        Pharmacy contact: [[PERSON:staff2]] [[PHONE_NUMBER:staff2_phone]]
        """), 2),
    # ---------------------------------------------------------------- credentialing
    ("credentialing", T("""\
        Subject: reappointment packet incomplete - [[PERSON:doc]]
        From: [[PERSON:staff]] <[[EMAIL_ADDRESS:staff_email]]>
        To: [[PERSON:doc]] <[[EMAIL_ADDRESS:doc_email]]>

        Dr. [[PERSON:doc_last]], your reappointment is missing a current DEA certificate. On file we have
        DEA [[US_DEA_NUMBER:doc_dea]] (expired) and NPI [[US_NPI:doc_npi]]. Please upload the renewal by [[date2]] or your
        privileges will lapse. Call me at [[PHONE_NUMBER:staff_phone]] with questions.
        [[PERSON:staff_first]], CPCS
        """), 3),
    ("credentialing", T("""\
        NEW PROVIDER ENROLLMENT - PAYER ROSTER
        Name                 | Specialty     | NPI        | Start
        [[PERSON:doc_lf]]     | Nephrology    | [[US_NPI:doc_npi]] | [[date1]]
        [[PERSON:doc2_lf]]    | OB/GYN        | [[US_NPI:doc2_npi]] | [[date2]]
        [[PERSON:doc3_lf]]    | Ophthalmology | [[US_NPI:doc3_npi]] | [[date2]]
        Submitted by [[PERSON:staff]] to all commercial payers.
        """), 2),
    # ---------------------------------------------------------------- vendor-sales
    ("vendor-sales", T("""\
        Hi Dr. [[PERSON:doc_last]],
        I'm [[PERSON:staff3]] with a remote patient monitoring company. Practices like yours are capturing
        new revenue from RPM and CCM codes while improving BP control. Could I get 15 minutes on your calendar?
        [[PERSON:staff3]] | Account Executive | [[PHONE_NUMBER:staff3_phone]] | [[EMAIL_ADDRESS:staff3_email]]
        """), 2),
    ("vendor-sales", T("""\
        Subject: quote for NPWT units
        [[PERSON:mgr_first]], attached is the quote for 6 negative pressure units and canisters. Rental billed per day;
        outpatient use billed with [[CPT_CODE:97605]]. Price held until [[date2]].
        Best, [[PERSON:staff3]], [[PHONE_NUMBER:staff3_phone]]
        """), 2),
    # ---------------------------------------------------------------- formulary-update
    ("formulary-update", T("""\
        FORMULARY CHANGES EFFECTIVE [[date2]]
        ADDED: Entresto 24/26 mg (NDC [[NDC_CODE:0078-0659-20]]) - restricted to cardiology/HF clinic
        REMOVED: brand insulin glargine vials; therapeutic interchange to biosimilar
        PA REQUIRED: Keytruda (NDC [[NDC_CODE:0006-3026-02]]) outside of oncology pathways
        Contact the P&T pharmacist, [[PERSON:staff]], with questions.
        """), 3),
    ("formulary-update", T("""\
        Subject: Eylea vs biosimilar for retina clinic
        [[PERSON:doc]] and [[PERSON:doc2]] - payer now requires step therapy through bevacizumab before
        Eylea ([[NDC_CODE:61755-0005-02]]) for new wet AMD starts ([[ICD10_CODE:H35.3211]]). Existing patients are grandfathered.
        [[PERSON:staff]], Pharmacy
        """), 2),
    # ---------------------------------------------------------------- policy-update
    ("policy-update", T("""\
        POLICY UPDATE: Interpreter use (PC-114)
        Effective immediately, family members including minors may not interpret for consent discussions.
        Use video remote interpreting or in-person interpreters. Log the interpreter ID in the note.
        Policy owner: [[PERSON:mgr]], Director of Patient Experience
        """), 2),
    ("policy-update", T("""\
        Subject: revised fall prevention policy
        The Morse threshold for high fall risk is now 45. Bed alarms are required for all high-risk patients
        and must be checked each shift. Thank you to [[PERSON:rn]] and [[PERSON:rn2]] for leading the revision.
        """), 2),
]

CLIN: list[tuple[str, str, int]] = [
    ("clinical-no-identifier", T("""\
        Case for Thursday resident conference:
        [[age_any]]-year-old [[sx_word]] with type 2 diabetes ([[ICD10_CODE:E11.22]]) and CKD stage 4 ([[ICD10_CODE:N18.4]]) presents with
        K [[k]] and peaked T waves. On lisinopril and spironolactone. What is your first step, and when would you
        call nephrology for emergent dialysis ([[CPT_CODE:90935]])?
        """), 3),
    ("clinical-no-identifier", T("""\
        curbside q: pt in [[his]] 70s, new AFib ([[ICD10_CODE:I48.91]]), CHA2DS2-VASc 4, CrCl ~40. eliquis 5 or 2.5 bid?
        only meets 1 of the 3 dose-reduction criteria so I think 5 mg. agree?
        """), 2),
    ("clinical-no-identifier", T("""\
        DIABETIC FOOT ULCER PATHWAY (outpatient)
        1. Document ulcer location, size, depth, probe-to-bone. Code diabetes with foot ulcer ([[ICD10_CODE:E11.621]]) plus site/severity (e.g. [[ICD10_CODE:L97.412]]).
        2. Offload: total contact cast or boot.
        3. Debridement: selective ([[CPT_CODE:97597]]) or subcutaneous ([[CPT_CODE:11042]]) as indicated.
        4. Check A1c ([[CPT_CODE:83036]]) if none in 90 days.
        """), 2),
    ("clinical-no-identifier", T("""\
        After your cataract surgery:
        - Use the drops exactly as directed: antibiotic 4 times a day for 1 week, steroid drops tapering over 4 weeks.
        - Wear the shield at night for one week. No lifting over 10 lb, no swimming for 2 weeks.
        - Call right away for worsening pain, decreasing vision, or a curtain over your vision.
        """), 2),
    ("clinical-no-identifier", T("""\
        OB triage protocol excerpt: any patient >= 20 wk with BP >= 160/110 on two readings 15 min apart gets
        IV labetalol or hydralazine within 60 min. Gestational HTN in the third trimester codes to [[ICD10_CODE:O13.3]];
        add the weeks-of-gestation Z3A code (e.g. [[ICD10_CODE:Z3A.32]]). NST [[CPT_CODE:59025]] if >= 28 wk.
        """), 2),
    ("clinical-no-identifier", T("""\
        Renal diet handout: limit potassium (bananas, oranges, potatoes, tomatoes), phosphorus (dark colas,
        processed cheese) and sodium under 2 g/day. Take phosphate binders with meals, not after. Fluid limit
        is usually 1 to 1.5 liters a day on hemodialysis. Ask your dietitian about your own lab targets.
        """), 2),
    ("clinical-no-identifier", T("""\
        Q3 quality summary (de-identified): [[n1]] falls with injury, [[n2]] CAUTI-free days on 5N, 2 stage 3
        pressure injuries ([[ICD10_CODE:L89.153]]) hospital-acquired. Sepsis bundle compliance 71%. No patient-level data in this email.
        """), 2),
    ("clinical-no-identifier", T("""\
        Genetic testing criteria reminder: offer BRCA1/2 testing ([[CPT_CODE:81162]]) to women with breast cancer diagnosed
        at or before 50, triple-negative disease at any age, or Ashkenazi ancestry. Use [[ICD10_CODE:Z80.3]] for family history
        and [[ICD10_CODE:Z15.01]] only once a pathogenic variant is confirmed.
        """), 2),
    ("clinical-no-identifier", T("""\
        just finished a brutal shift. had a [[age_young]]yo with DKA, a stroke alert ([[ICD10_CODE:I63.9]]) that turned out to be
        a complex migraine, and three kids with croup. who's bringing coffee tomorrow
        """), 2),
    ("clinical-no-identifier", T("""\
        Hearing screening referral criteria: refer for comprehensive audiometry ([[CPT_CODE:92557]]) and tympanometry
        ([[CPT_CODE:92567]]) any child failing a 20 dB screen in either ear, or with recurrent otitis media ([[ICD10_CODE:H66.90]]).
        Adults: bilateral SNHL ([[ICD10_CODE:H90.3]]) with word recognition below 50% warrants ENT evaluation.
        """), 2),
    ("clinical-no-identifier", T("""\
        Teaching point: a patient on warfarin with INR [[inr]] and no bleeding - hold 1-2 doses, recheck in 2-3 days.
        If switching to a DOAC, start when INR < 2.0 for apixaban. Long-term anticoagulation: [[ICD10_CODE:Z79.01]].
        """), 2),
    ("clinical-no-identifier", T("""\
        IVF protocol (antagonist): start gonadotropins day 2-3, add antagonist at follicle 13-14 mm, trigger when
        3+ follicles >= 17 mm. Retrieval ([[CPT_CODE:58970]]) 35-36 h after trigger. Culture ([[CPT_CODE:89250]]), transfer ([[CPT_CODE:58974]]).
        """), 2),
]

# fmt: on


# -- rendering and checking -------------------------------------------------------------------

TOKEN = re.compile(r"\[\[(?:([A-Z0-9_]+):)?([^\]]+)\]\]")


def render(template: str, ctx: dict[str, str]) -> tuple[str, list[dict[str, object]], list[str]]:
    out: list[str] = []
    spans: list[dict[str, object]] = []
    keys: list[str] = []
    cur = pos = 0
    for m in TOKEN.finditer(template):
        literal = template[pos : m.start()]
        out.append(literal)
        cur += len(literal)
        pos = m.end()
        label, key = m.group(1), m.group(2)
        if label in CODE_SETS:
            assert key in CODE_SETS[label], (label, key)
            value = key
        else:
            value = ctx[key]
            keys.append(key)
        out.append(value)
        if label:
            assert label in LABELS, label
            spans.append({"start": cur, "end": cur + len(value), "label": label, "_value": value})
        cur += len(value)
    out.append(template[pos:])
    text = "".join(out)
    for span in spans:
        assert text[span["start"] : span["end"]] == span.pop("_value")  # type: ignore[misc]
    return text, spans, keys


NAME_TOKENS = {t.lower() for n in FIRST + LAST for t in re.split(r"[ ,]+", n) if t}


def value_ok(label: str, value: str) -> bool:
    if label in CODE_SETS:
        return value in CODE_SETS[label]
    if label == "PERSON":
        tokens = [t for t in re.split(r"[ ,]+", value) if t]
        return all(t.lower() in NAME_TOKENS or re.fullmatch(r"[A-Z]\.", t) for t in tokens)
    if label == "PHONE_NUMBER":
        return phone_ok(value)
    if label == "EMAIL_ADDRESS":
        return bool(re.fullmatch(r"[a-z0-9._]+@example\.(com|org|net)", value))
    if label == "US_SSN":
        return ssn_ok(value)
    if label == "US_NPI":
        return npi_ok(value)
    if label == "US_DEA_NUMBER":
        return dea_ok(value)
    if label == "US_MBI":
        return mbi_ok(value)
    if label == "MEDICAL_RECORD_NUMBER":
        return bool(re.fullmatch(r"[A-Z]?[0-9-]{6,10}", value)) and sum(c.isdigit() for c in value) >= 6
    if label == "HEALTH_PLAN_ID":
        return bool(re.fullmatch(r"[A-Z0-9 ]{8,14}", value)) and sum(c.isdigit() for c in value) >= 8
    if label == "DATE_OF_BIRTH":
        return dob_ok(value)
    if label == "AGE_OVER_89":
        return value.isdigit() and 90 <= int(value) <= 120
    return False


def unlabeled_copies(text: str, spans: list[dict[str, object]]) -> list[str]:
    """Labeled values (and the name words of PERSON values) occurring outside every span."""
    ranges = [(int(s["start"]), int(s["end"])) for s in spans]  # type: ignore[call-overload]
    needles: set[str] = set()
    for s in spans:
        value = text[int(s["start"]) : int(s["end"])]  # type: ignore[call-overload]
        needles.add(value)
        if s["label"] == "PERSON":
            needles.update(t.strip(",") for t in value.split() if len(t.strip(",.")) >= 3)
    bad = []
    for needle in needles:
        for m in re.finditer(rf"(?<![\w]){re.escape(needle)}(?![\w])", text):
            if not any(a <= m.start() and m.end() <= b for a, b in ranges):
                bad.append(needle)
    return bad


def check(record: dict[str, object], keys: list[str], is_phi: bool) -> None:
    text = str(record["text"])
    spans: list[dict[str, object]] = record["spans"]  # type: ignore[assignment]
    last_end = -1
    for s in sorted(spans, key=lambda s: int(s["start"])):  # type: ignore[call-overload]
        start, end, label = int(s["start"]), int(s["end"]), str(s["label"])  # type: ignore[call-overload]
        assert 0 <= start < end <= len(text)
        assert start >= last_end, ("overlap", text[start:end])
        last_end = end
        value = text[start:end]
        assert value == value.strip() and value, (label, value)
        assert value_ok(label, value), (label, value)
    assert not unlabeled_copies(text, spans), unlabeled_copies(text, spans)
    patient = any(k.startswith(PATIENT_PREFIXES) for k in keys)
    assert record["contains_phi"] == is_phi
    assert patient == is_phi, (record["kind"], keys)
    if record["kind"] == "clinical-no-identifier":
        assert all(s["label"] in CODE_SETS for s in spans), text


def build(rng: random.Random) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for group, is_phi in ((PHI, True), (NEG, False), (CLIN, False)):
        for kind, template, count in group:
            for _ in range(count):
                for _attempt in range(500):
                    ctx = make_ctx(rng)
                    text, spans, keys = render(template, ctx)
                    if not unlabeled_copies(text, spans):
                        break
                else:
                    raise AssertionError(f"could not render {kind} without unlabeled copies")
                record: dict[str, object] = {
                    "text": text,
                    "spans": spans,
                    "contains_phi": is_phi,
                    "kind": kind,
                }
                check(record, keys, is_phi)
                records.append(record)
    rng.shuffle(records)
    return records


def main(write: Callable[[str], object] | None = None) -> None:
    rng = random.Random(SEED)
    records = build(rng)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    for line in text.splitlines():  # every line loads back
        loaded = json.loads(line)
        assert set(loaded) == {"text", "spans", "contains_phi", "kind"}
    if write is not None:
        write(text)
    else:
        OUT.write_text(text, encoding="utf-8")
    kinds = Counter(str(r["kind"]) for r in records)
    labels = Counter(str(s["label"]) for r in records for s in r["spans"])  # type: ignore[attr-defined]
    phi = sum(bool(r["contains_phi"]) for r in records)
    print(f"{len(records)} texts, {phi} with PHI, {len(records) - phi} without")
    print("kinds:", dict(sorted(kinds.items())))
    print("labels:", dict(sorted(labels.items())))


if __name__ == "__main__":
    main()

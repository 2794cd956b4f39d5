"""Generate ``tests/data/phi_blind4.jsonl``: the fourth blind, labeled PHI evaluation corpus.

Deterministic (seeded). Every text is rendered from a prose template whose placeholders are
filled with synthetic values; the offsets of each labeled value are recorded as it is inserted,
so the spans are exact by construction (and asserted). Placeholders:

* ``{key}``: a value of the per-text context (people, phones, identifiers, dates...), labeled
  when the context says so; ``{^key}`` is the same value in upper case.
* ``{ICD:E11.9}``, ``{CPT:99214}``, ``{NDC:0002-1495-80}``, ``{EMAIL:box@example.org}``: a
  literal value with its label.

Kinds of PHI texts deliberately differ from the earlier blind corpora. Texts of kind
``clinical-no-identifier`` carry clinical wording (and codes) but identify nobody.

Run: ``python tests/data/make_phi_blind4.py``.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

SEED = 4_2025_1104
OUT = Path(__file__).with_name("phi_blind4.jsonl")
TODAY = date(2025, 10, 20)

PERSON = "PERSON"
PHONE = "PHONE_NUMBER"
EMAIL = "EMAIL_ADDRESS"
SSN = "US_SSN"
MRN = "MEDICAL_RECORD_NUMBER"
NPI = "US_NPI"
DEA = "US_DEA_NUMBER"
MBI = "US_MBI"
PLAN = "HEALTH_PLAN_ID"
DOB = "DATE_OF_BIRTH"
AGE90 = "AGE_OVER_89"
ICD = "ICD10_CODE"
CPT = "CPT_CODE"
NDC = "NDC_CODE"
CODE_LABELS = {"ICD": ICD, "CPT": CPT, "NDC": NDC, "EMAIL": EMAIL}

# -- names ----------------------------------------------------------------------------------

FIRST = [
    ("Rosa", "F"), ("Tomasz", "M"), ("Aaliyah", "F"), ("Hope", "F"), ("Grace", "F"), ("Will", "M"),
    ("June", "F"), ("April", "F"), ("Faith", "F"), ("Hunter", "M"), ("Dale", "M"), ("Glen", "M"),
    ("Iris", "F"), ("Ivy", "F"), ("Destiny", "F"), ("Mei", "F"), ("Hiroshi", "M"), ("Oluwaseun", "M"),
    ("Chidi", "M"), ("Ngozi", "F"), ("Amara", "F"), ("Kwame", "M"), ("Fatima", "F"), ("Yusuf", "M"),
    ("Omar", "M"), ("Leila", "F"), ("Priya", "F"), ("Arjun", "M"), ("Lakshmi", "F"), ("Sanjay", "M"),
    ("José", "M"), ("Guadalupe", "F"), ("Luis", "M"), ("Ximena", "F"), ("Carmen", "F"), ("Alejandro", "M"),
    ("Dmitri", "M"), ("Svetlana", "F"), ("Ingrid", "F"), ("Sven", "M"), ("Siobhan", "F"), ("Declan", "M"),
    ("Maeve", "F"), ("Kateri", "F"), ("Dakota", "N"), ("Winona", "F"), ("Jamal", "M"), ("DeShawn", "M"),
    ("Latoya", "F"), ("Imani", "F"), ("Tyrone", "M"), ("Marcus", "M"), ("Connor", "M"), ("Brittany", "F"),
    ("Harold", "M"), ("Dorothy", "F"), ("Eugene", "M"), ("Mildred", "F"), ("Walter", "M"), ("Agnes", "F"),
    ("Minh", "M"), ("Linh", "F"), ("Jae-won", "M"), ("Soo-ah", "F"), ("Kai", "N"), ("Noa", "F"),
    ("Keanu", "M"), ("Leilani", "F"), ("Tevita", "M"), ("Malia", "F"), ("Bao", "M"), ("Sunny", "N"),
]

LAST = [
    "Delgado", "Okafor", "Nguyen", "Kowalski", "Park", "Patel", "Goldberg", "O'Brien", "McAllister",
    "de la Cruz", "van der Berg", "Van Dyke", "da Silva", "St. Clair", "D'Angelo", "al-Rashid",
    "Bell", "Rivers", "Young", "King", "Price", "Moody", "Strong", "Sharp", "Hill", "Brown", "White",
    "Fox", "Wolf", "Love", "Banks", "Marsh", "Frost", "Church", "Baker", "Cook", "Hunt", "Sterling",
    "Haddad", "Mansour", "Castillo", "Muñoz", "Peña", "Gutierrez", "Yamamoto", "Tanaka", "Kim", "Choi",
    "Tran", "Pham", "Petrov", "Lindqvist", "Fitzgerald", "Begay", "Yazzie", "Tsosie", "Washington",
    "Abernathy", "Whitfield", "Kapoor", "Chatterjee", "Adeyemi", "Mensah", "Kahananui", "Fonoti",
    "Schwartz", "Rossi", "Zielinski", "Novak", "Horvath", "MacLeod", "Le",
]

ROLES = ["pt", "pt2", "rel", "dr", "dr2", "rn", "st1", "st2", "st3"]

WORDS = {
    "F": {"he": "she", "He": "She", "his": "her", "His": "Her", "him": "her", "Mr": "Ms.",
          "mom": "mom", "Mom": "Mom", "mother": "mother", "child": "daughter", "spouse": "wife",
          "girl": "girl", "MF": "F", "sib": "sister"},
    "M": {"he": "he", "He": "He", "his": "his", "His": "His", "him": "him", "Mr": "Mr.",
          "mom": "dad", "Mom": "Dad", "mother": "father", "child": "son", "spouse": "husband",
          "girl": "boy", "MF": "M", "sib": "brother"},
}

AREA = ["212", "312", "415", "503", "614", "617", "702", "713", "804", "919", "206", "303", "404",
        "505", "608", "801", "907", "971", "252", "470"]
DOMAINS = ["example.com", "example.org", "example.net"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MBI_ALPHA = "ACDEFGHJKMNPQRTUVWXY"
MBI_ALNUM = MBI_ALPHA + "0123456789"

Ctx = dict[str, tuple[str, str | None]]


# -- synthetic values -----------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def make_npi(rng: random.Random) -> str:
    base = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
    return next(base + d for d in "0123456789" if luhn_ok("80840" + base + d))


def make_dea(rng: random.Random, last: str) -> str:
    d = [rng.randrange(10) for _ in range(6)]
    check = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10
    initial = next(c for c in ascii_fold(last).upper() if c.isalpha())
    return rng.choice("ABFGM") + initial + "".join(map(str, d)) + str(check)


def make_mbi(rng: random.Random) -> str:
    c = [
        rng.choice("123456789"), rng.choice(MBI_ALPHA), rng.choice(MBI_ALNUM), rng.choice("0123456789"),
        rng.choice(MBI_ALPHA), rng.choice(MBI_ALNUM), rng.choice("0123456789"), rng.choice(MBI_ALPHA),
        rng.choice(MBI_ALPHA), rng.choice("0123456789"), rng.choice("0123456789"),
    ]
    s = "".join(c)
    return f"{s[:4]}-{s[4:7]}-{s[7:]}" if rng.random() < 0.4 else s


def make_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = rng.choice(["-", "-", "-", " ", ""])
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def make_mrn(rng: random.Random) -> str:
    return rng.choice([
        lambda: "00" + digits(rng, 6),
        lambda: "E" + digits(rng, 7),
        lambda: "MR-" + digits(rng, 7),
        lambda: digits(rng, 4) + "-" + digits(rng, 4),
        lambda: "H" + digits(rng, 8),
        lambda: rng.choice("123456789") + digits(rng, 8),
        lambda: "PX" + digits(rng, 6),
        lambda: digits(rng, 3) + "-" + digits(rng, 2) + "-" + digits(rng, 2),
    ])()


def make_plan(rng: random.Random) -> str:
    return rng.choice([
        lambda: letters(rng, 3) + digits(rng, 9),
        lambda: "W" + digits(rng, 9),
        lambda: digits(rng, 9) + "-0" + rng.choice("1234"),
        lambda: letters(rng, 2) + digits(rng, 5) + letters(rng, 1),
        lambda: "ZG" + letters(rng, 1) + digits(rng, 9),
        lambda: "1" + digits(rng, 10),
        lambda: "M" + digits(rng, 8) + "0" + rng.choice("123"),
    ])()


def make_phone(rng: random.Random, suffix: int) -> str:
    a, s = rng.choice(AREA), f"01{suffix:02d}"
    return rng.choice([
        f"({a}) 555-{s}", f"{a}-555-{s}", f"{a}.555.{s}", f"+1 {a} 555 {s}", f"1-{a}-555-{s}",
        f"{a} 555 {s}", f"({a})555-{s}", f"{a}-555-{s}",
    ])


def ascii_fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def make_email(rng: random.Random, first: str, last: str) -> str:
    f = re.sub(r"[^a-z]", "", ascii_fold(first).lower())
    ln = re.sub(r"[^a-z]", "", ascii_fold(last).lower())
    local = rng.choice([f"{f}.{ln}", f"{f[0]}{ln}", f"{f}{ln[0]}{rng.randint(2, 99)}", f"{ln}.{f}", f"{f}_{ln}"])
    return f"{local}@{rng.choice(DOMAINS)}"


def fmt_dob(rng: random.Random, d: date) -> str:
    m, y = d.month, d.year
    return rng.choice([
        f"{m:02d}/{d.day:02d}/{y}", f"{m}/{d.day}/{y}", f"{y}-{m:02d}-{d.day:02d}",
        f"{MONTHS[m - 1]} {d.day}, {y}", f"{d.day:02d}-{MONTHS[m - 1][:3]}-{y}",
        f"{m:02d}/{d.day:02d}/{y % 100:02d}", f"{MONTHS[m - 1][:3]} {d.day} {y}", f"{m:02d}-{d.day:02d}-{y}",
    ])


def dob_for_age(rng: random.Random, age: int) -> date:
    if age == 0:
        return TODAY - timedelta(days=rng.randint(3, 40))
    latest = date(TODAY.year - age, TODAY.month, TODAY.day)
    return latest - timedelta(days=rng.randint(0, 360))


def fmt_event(style: int, d: date) -> str:
    m = d.month
    return [
        f"{m}/{d.day}", f"{MONTHS[m - 1][:3]} {d.day}", f"{m:02d}/{d.day:02d}/{d.year}",
        f"{d.isoformat()}", f"{DAYS[d.weekday()]} {m}/{d.day}", f"{MONTHS[m - 1]} {d.day}",
    ][style]


# -- context and rendering ------------------------------------------------------------------


def make_ctx(rng: random.Random, age_range: tuple[int, int]) -> Ctx:
    ctx: Ctx = {}
    firsts = rng.sample(FIRST, len(ROLES))
    lasts = rng.sample(LAST, len(ROLES))
    if rng.random() < 0.4:
        lasts[ROLES.index("rel")] = lasts[0]
    for role, (first, sex), last in zip(ROLES, firsts, lasts, strict=True):
        sex = sex if sex != "N" else rng.choice("FM")
        ctx[role] = (f"{first} {last}", PERSON)
        ctx[role + "_f"] = (first, PERSON)
        ctx[role + "_l"] = (last, PERSON)
        ctx[role + "_lf"] = (f"{last}, {first}", PERSON)
        ctx[role + "_em"] = (make_email(rng, first, last), EMAIL)
        for word, value in WORDS[sex].items():
            ctx[f"{role}_{word}"] = (value, None)
    suffixes = rng.sample(range(100), 6)
    for i, key in enumerate(["ph1", "ph2", "ph3", "ph4", "fax1", "fax2"]):
        ctx[key] = (make_phone(rng, suffixes[i]), PHONE)
    ctx["npi"] = (make_npi(rng), NPI)
    ctx["npi2"] = (make_npi(rng), NPI)
    ctx["dea"] = (make_dea(rng, ctx["dr_l"][0]), DEA)
    ctx["mrn"] = (make_mrn(rng), MRN)
    ctx["mrn2"] = (make_mrn(rng), MRN)
    ctx["plan"] = (make_plan(rng), PLAN)
    ctx["plan2"] = (make_plan(rng), PLAN)
    ctx["mbi"] = (make_mbi(rng), MBI)
    ctx["ssn"] = (make_ssn(rng), SSN)
    age, age2 = rng.randint(*age_range), rng.randint(38, 84)
    ctx["age"] = (str(age), None)
    ctx["age2"] = (str(age2), None)
    ctx["dob"] = (fmt_dob(rng, dob_for_age(rng, age)), DOB)
    ctx["dob2"] = (fmt_dob(rng, dob_for_age(rng, age2)), DOB)
    ctx["age90"] = (str(rng.randint(90, 103)), AGE90)
    style = rng.randrange(6)
    start = TODAY + timedelta(days=rng.randint(-20, 10))
    for i, key in enumerate(["date", "date2", "date3"]):
        ctx[key] = (fmt_event(style, start + timedelta(days=3 * i + rng.randint(1, 3))), None)
    ctx["time"] = (f"{rng.randint(7, 18)}:{rng.choice(['05', '12', '20', '34', '47', '58'])}", None)
    return ctx


PLACEHOLDER = re.compile(r"\{(\^?)([A-Za-z0-9_]+)(?::([^{}]+))?\}")


def render(template: str, ctx: Ctx) -> tuple[str, list[dict[str, object]]]:
    parts: list[str] = []
    spans: list[dict[str, object]] = []
    inserted: list[str] = []
    pos = 0
    length = 0
    for m in PLACEHOLDER.finditer(template):
        literal = template[pos : m.start()]
        parts.append(literal)
        length += len(literal)
        upper, key, literal_value = m.group(1), m.group(2), m.group(3)
        if literal_value is not None:
            value, label = literal_value, CODE_LABELS[key]
        else:
            value, label = ctx[key]
        if upper:
            value = value.upper()
        if label is not None:
            spans.append({"start": length, "end": length + len(value), "label": label})
            inserted.append(value)
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(template[pos:])
    text = "".join(parts)
    for span, value in zip(spans, inserted, strict=True):
        start, end = span["start"], span["end"]
        assert isinstance(start, int) and isinstance(end, int)
        assert value and text[start:end] == value, (span, value)
    return text, spans


def bounded(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])")


def consistent(text: str, spans: list[dict[str, object]]) -> bool:
    """No labeled value (nor a 3+ letter word of a labeled name) appears unlabeled."""
    masked = list(text)
    for span in spans:
        start, end = span["start"], span["end"]
        assert isinstance(start, int) and isinstance(end, int)
        masked[start:end] = " " * (end - start)
    rest = "".join(masked)
    for span in spans:
        start, end = span["start"], span["end"]
        assert isinstance(start, int) and isinstance(end, int)
        value = text[start:end]
        needles = {value}
        if span["label"] == PERSON:
            needles |= {w for w in re.findall(r"[^\W\d_]{3,}", value)}
            needles |= {n.upper() for n in needles} | {n.capitalize() for n in needles}
        if any(bounded(n).search(rest) for n in needles):
            return False
    return True


# -- templates: texts with PHI --------------------------------------------------------------

ADULT = (24, 84)
Template = tuple[str, bool, int, str, tuple[int, int]]

PHI: list[Template] = [
    ("chemotherapy-tox-check", True, 2, """\
Subject: tox check C3D8 - {pt_l}

Hi {dr_f},

Called {pt} (MRN {mrn}) this morning for the day-8 toxicity check after cycle 3 of FOLFOX for the sigmoid primary ({ICD:C18.7}). Grade 2 peripheral neuropathy, fingertips only, not affecting buttons yet. Grade 1 nausea, controlled with ondansetron. No fevers, no mouth sores. ANC on {date} was 1.1, so {pt_he} is still within the window, but I told {pt_him} to call the triage line at {ph1} for any temp of 100.4 or higher.

OK to keep oxaliplatin at 85 mg/m2 or do you want to dose-reduce before C4? Chair time for {CPT:96413} + {CPT:96417} is booked {date2}.

Thanks,
{rn}, RN, OCN
Outpatient Oncology | {ph2} | fax {fax1}
""", ADULT),
    ("chemotherapy-tox-check", True, 2, """\
Weekly tox check list - GI onc pod, week of {date}

| Pt | MRN | Regimen | Day | Tox | Action |
|---|---|---|---|---|---|
| {pt_lf} | {mrn} | capecitabine {NDC:0004-1101-50} | C2D10 | HFS gr 2, diarrhea gr 1 | hold x3d, recheck {date2} |
| {pt2_lf} | {mrn2} | pembrolizumab | C5D1 | TSH 8.2, fatigue gr 2 | endo referral? |

Pegfilgrastim on-body injector for {pt_f} next cycle, NDC {NDC:55513-0190-01}, dx {ICD:D70.1} per pharmacy.
{pt2_f} asked that we only call the cell, {ph1}.
ping me w/ questions - {st1_em}
""", ADULT),
    ("chemotherapy-tox-check", True, 2, """\
From: {rn} <{rn_em}>
Sent: {date} {time}
To: {dr} <{dr_em}>
Subject: day 5 call - Keytruda pt

{dr_l} -

{pt_Mr} {pt_l} ({pt_f}) on pembrolizumab {NDC:0006-3026-02} for RUL adeno ({ICD:C34.11}), C2D5. New watery diarrhea 5-6x/day since yesterday (baseline 1), mild cramping, no blood. That's grade 2 colitis territory. {pt_He} hasn't taken anything yet. I recommended loperamide is NOT the move without seeing {pt_him} - can we add {pt_him} on for labs + eval today? {pt_His} DOB is {dob} for the add-on.

{rn_f}
""", ADULT),
    ("psychiatry-med-management", True, 2, """\
---------- Forwarded message ---------
From: {dr} <{dr_em}>
Sent: {date} {time}
To: {st1} <{st1_em}>
Subject: FW: lithium level

{st1_f} - please get a level scheduled for {pt_l} next week (12 hr trough) and send to Quest. Thx.

> Pt: {pt}   DOB {dob}   MRN {mrn}
> Dx: bipolar II disorder ({ICD:F31.81}); generalized anxiety disorder ({ICD:F41.1})
> Li 0.4 on 600 mg; reports more irritability, sleeping ~5h. Increase to 900 mg qHS. Continue sertraline 100.
> Billed {CPT:99214} + {CPT:90833}.
> f/u 4 wks
""", ADULT),
    ("psychiatry-med-management", True, 2, """\
hey its {dr_f} - quick q re {pt_f} {pt_l} (chart {mrn}). pharmacy says the clozapine REMS shows last ANC from {date}, {pt_he}s overdue. can u get a cbc drawn today?? dx {ICD:F20.9}. if {pt_he} wont come in call {pt_his} {rel_mom} {rel} at {ph1}. thx
""", (19, 34)),
    ("psychiatry-med-management", True, 1, """\
MED MGMT NOTE - ADDENDUM
PATIENT: {^pt_lf}
MRN: {mrn}
DX: MDD, RECURRENT, MODERATE ({ICD:F33.1}); ADHD COMBINED ({ICD:F90.2})
CONCERTA 36 MG NDC {NDC:50458-0586-01} - PT REQUESTS EARLY FILL, STATES BOTTLE LOST ON TRIP. 2ND REQUEST THIS YEAR.
PLAN: NO EARLY FILL. UDS TODAY. DISCUSSED W/ {^dr}.
""", ADULT),
    ("cardiac-rehab", True, 2, """\
CARDIAC REHAB PHASE II - INTAKE SUMMARY
Name: {pt}
DOB: {dob}
MRN: {mrn}
Referring: {dr}, MD (NPI {npi})
Qualifying event: NSTEMI {ICD:I21.4}, s/p PCI to LAD {date}
Comorbid: HTN {ICD:I10}, T2DM {ICD:E11.9}
EF: 45%
Sessions authorized: 36 ({CPT:93798})
Member ID: {plan}
Phone: {ph1}
Notes: wants early AM slots, drives in from out of town. {pt_His} {rel_spouse} {rel} attends education classes.
""", ADULT),
    ("cardiac-rehab", True, 2, """\
Dr. {dr_l},

{pt_f} {pt_l} had an episode in session 14 today. HR jumped to 148 on the treadmill at 3.0 mph/2% with palpitations; telemetry looked like AF with RVR. Stopped, resolved in ~4 min seated, BP 138/84. {pt_He} has no known AF history. The strip is scanned into {pt_his} chart ({mrn}). I held the rest of the session. Do you want {pt_him} seen before session 15 on {date}?

{st1}, MS, ACSM-CEP
Cardiac & Pulmonary Rehab
{ph2}
""", ADULT),
    ("cardiac-rehab", True, 1, """\
rehab roster {date}\t6:30 AM group
name\tsess#\trisk\tnotes
{pt_lf}\t22/36\tmod\tCABG {ICD:Z95.1}, BP ok
{pt2_lf}\t3/36\thigh\tHFrEF {ICD:I50.22}, ICD placed, watch wt
-- {st2_f}
""", ADULT),
    ("bariatric-program", True, 2, """\
Bariatric pre-op checklist for {pt} (MRN {mrn}, DOB {dob})

1. Psych eval - done {date}, cleared
2. Nutrition visits 6/6 - complete
3. Sleep study - OSA {ICD:G47.33}, on CPAP
4. H. pylori negative
5. Weight today 286 lb, BMI 44.1 ({ICD:Z68.41}); dx {ICD:E66.01}
6. Insurance: {plan} - approval pending for {CPT:43775}
7. Surgeon: Dr. {dr}

Missing: cardiology clearance. {pt_f} says {pt_he} can come {date2}. Best # {ph1}.
""", ADULT),
    ("bariatric-program", True, 2, """\
From: {pt_em}
To: {EMAIL:bariatrics@example.org}
Subject: question after sleeve

hi its {pt} - i had my sleeve with dr {dr_l} on {date}. im 3 weeks out and cant get more than 40 oz of fluid in, and i threw up twice yesterday after a protein shake. is this normal?? my number is {ph1}. also my dob is {dob} if you need it to find me.

thanks
{pt_f}
""", ADULT),
    ("bariatric-program", True, 1, """\
Support group sign-in follow-up: {pt_f} {pt_l} ({pt_em}) mentioned at group that {pt_he} stopped the bariatric multivitamin 4 months post gastric bypass ({CPT:43644}) and has tingling in the feet. B12/thiamine/copper ordered. Status {ICD:Z98.84}. - {st1}, RD
""", ADULT),
    ("allergy-testing", True, 1, """\
Allergy skin test results - {pt} ({mrn})
DOB {dob}

Allergen\tWheal (mm)\tFlare (mm)
Histamine\t6\t20
Saline\t0\t0
Cat pelt\t9\t30
D. pteronyssinus\t7\t25
Timothy grass\t4\t12
Short ragweed\t0\t0

Coded {CPT:95004} x 42. Dx {ICD:J30.81}, {ICD:J30.1}. Start SCIT ({CPT:95165})? Discuss at f/u with Dr. {dr_l}.
- {rn}, RN
""", ADULT),
    ("allergy-testing", True, 2, """\
Dr. {dr_l},

This is {rel}, {pt_f}'s {rel_mom}. After the oral food challenge on {date}, {pt_f} got hives on {pt_his} trunk around the fourth dose. The nurse gave cetirizine and it settled. You said you would send the school a new EpiPen Jr order (we use {NDC:49502-0501-02}) and update the allergy action plan for peanut allergy ({ICD:Z91.010}). {pt_His} birthday is {dob} in case they ask. Best number is {ph1}.

Thank you,
{rel_f}
""", (4, 11)),
    ("allergy-testing", True, 1, """\
xolair shot log - {date}
{pt_lf} | {mrn} | 150 mg SC ({NDC:50242-0040-62}, {CPT:96372}) | chronic urticaria {ICD:L50.0} | observed 30 min, no rxn | next {date2}
""", ADULT),
    ("neonatal-icu-update", True, 2, """\
Subject: NICU update - Baby {pt_l}

Dear {rel},

Here is today's update on {pt_f} (born {dob}, 32 weeks). {pt_He} weighs 1.71 kg today. Still on CPAP 5 for RDS ({ICD:P22.0}); we may trial room air tomorrow. The bilirubin came down after phototherapy ({ICD:P59.9}). Feeds are 24 mL every 3 hours of your pumped milk through the NG tube.

Dr. {dr_l} will call you at {ph1} after rounds on {date}.

Warmly,
{rn}, RN
Neonatal Intensive Care
""", (0, 0)),
    ("neonatal-icu-update", True, 2, """\
NICU ROUNDS {^date} - LIST
BABY {^pt_girl} {^pt_l} ({mrn}) DOB {dob}
GA 32 WK ({ICD:P07.35}), RDS ({ICD:P22.0})
CRIT CARE SUBSEQUENT - {CPT:99469}
SYNAGIS ELIGIBLE - NDC {NDC:60574-4111-01} BEFORE D/C
{^rel_mom} {^rel} CELL {ph1}
ATTENDING {^dr}
""", (0, 0)),
    ("hearing-aid-fitting", True, 1, """\
Hearing aid fitting summary
Patient: {pt_lf}
DOB: {dob}
Acct/MRN: {mrn}
Dx: bilateral sensorineural hearing loss {ICD:H90.3}
Devices: RIC, receiver size M, closed dome 8 mm, both ears
Procedures: {CPT:92591}, real-ear verification, comprehensive audiometry {CPT:92557} (prior visit)
Medicare MBI: {mbi} (hearing aids not covered); supplemental plan ID {plan}, $1,250 allowance applied
Notes: {pt_f} struggles with phone pairing; {pt_his} {rel_child} {rel} will help at home. Follow-up 2 weeks.
{st1}, Au.D.
""", (66, 84)),
    ("hearing-aid-fitting", True, 2, """\
Subject: {pt_l} - feedback L aid

{pt_Mr} {pt_l}, {age90}, back again for whistling in the left aid. Re-ran feedback manager and swapped to a power dome. {pt_He} also reports new tinnitus on the right, worse for 2 weeks - I suggested ENT. Chart {mrn}. {pt_His} {rel_child} {rel_f} is the contact, {ph1}.

{st2}
Audiology Assistant
""", ADULT),
    ("podiatry", True, 2, """\
Diabetic foot exam - {pt} - {date}
MRN {mrn}
Dx: {ICD:E11.621} with ulcer R heel {ICD:L97.412}; onychomycosis {ICD:B35.1}
Proc: debridement of nails 6+ ({CPT:11721}); paring of callus ({CPT:11055})
Monofilament: absent 4/10 R, 6/10 L
Plan: offloading boot, f/u 1 wk w/ Dr. {dr_l}
PCP notified: {dr2}, fax {fax1}
""", ADULT),
    ("podiatry", True, 2, """\
podiatry front desk - {pt_f} {pt_l} called re bunion surgery {date}, wants to know if {pt_he} can shower w/ the dressing on. hallux valgus R ({ICD:M20.11}). cb {ph1}. dob {dob}. sent to {rn_f} to answer
""", ADULT),
    ("dermatology-biopsy", True, 2, """\
Bx results to call - Dr. {dr_l} clinic

Name | DOB | Site | Dx | Plan
{pt} | {dob} | L upper back | melanoma in situ ({ICD:D03.59}) | WLE 0.5 cm margins
{pt2} | {dob2} | R nasal ala | nodular BCC ({ICD:C44.311}) | Mohs ({CPT:17311})

Both had {CPT:11102}. Please call before Friday. {pt2_f} prefers the cell: {ph2}.
""", ADULT),
    ("dermatology-biopsy", True, 2, """\
Hi {st1_f},

The punch bx ({CPT:11104}) we took on {pt} ({mrn}) on {date} went to the hospital lab instead of dermpath. Can you call them at {ph1} and have them forward the block? Clinical dx on the req was r/o psoriasis vulgaris ({ICD:L40.0}) vs. lichen planus. {pt_He} is very anxious so I'd like to get {pt_him} an answer this week.

Thanks, {dr_f}
""", ADULT),
    ("speech-therapy", True, 2, """\
Dr. {dr_l},

Progress update for {pt} (DOB {dob}): aphasia following L MCA stroke ({ICD:I69.320}). After 12 sessions of {CPT:92507}, {pt_he} is naming 14/20 on the short form (up from 6). Swallow re-evaluation ({CPT:92610}) today: cleared for thin liquids with a chin tuck. {pt_His} {rel_spouse} {rel} asked about driving; I deferred to you.

{st1}, MS, CCC-SLP
{ph1} / fax {fax1}
""", ADULT),
    ("speech-therapy", True, 2, """\
SLP EVAL SUMMARY
child: {pt} (age {age})
parent: {rel} - {rel_em}
Medicaid ID: {plan}
eval: {CPT:92523}
dx: speech sound disorder {ICD:F80.0}; r/o childhood apraxia
recommend: 2x/wk, 30 min, reassess 12 wks
SLP: {st1}
""", (3, 6)),
    ("long-term-care-family-update", True, 2, """\
Dear {rel},

A quick update on your {pt_mother}, {pt} (room 212B). {pt_He} had a fall on {date} at about 2:30 am while getting up to the bathroom - no fracture on x-ray, a small skin tear on the left forearm. We have added a bed alarm and asked therapy to screen {pt_him}. {pt_His} dementia ({ICD:F03.90}) has been a bit worse at night, and Dr. {dr_l} is reviewing {pt_his} medications. At {age90}, {pt_he} still joins bingo most afternoons!

Please call me at {ph1} with any questions.

{st1}, RN
Unit Manager, Maple Court
""", ADULT),
    ("long-term-care-family-update", True, 2, """\
From: {rel} <{rel_em}>
To: {st1_em}
Cc: {st2_em}
Sent: {date} {time}
Subject: RE: care conference for {pt_f}

Thank you, {st1_f}. Could we move the care conference to Thursday? Also, {pt_Mom}'s Medicare number is {mbi} in case the billing office still needs it - they called me twice. Is {pt_he} still on the donepezil for the Alzheimer's ({ICD:G30.1})? {pt_He} seemed much sleepier on Sunday.

{rel_f}
""", (70, 88)),
    ("pharmacy-benefit-appeal", True, 2, """\
RE: Request for redetermination - {pt}
Member ID: {plan}
Date of birth: {dob}
Drug: Dupixent 300 mg/2 mL pen, NDC {NDC:0024-5915-02}

To the Appeals Unit:

I am writing on behalf of my patient, {pt}, to appeal the denial dated {date}. {pt_He} has severe atopic dermatitis ({ICD:L20.9}) involving 40% BSA, with documented failure of high-potency topical steroids, topical tacrolimus, and 16 weeks of methotrexate. The denial cites step therapy that {pt_he} has already completed.

Sincerely,
{dr}, MD
NPI {npi}
Phone {ph1} | Fax {fax1}
""", ADULT),
    ("pharmacy-benefit-appeal", True, 2, """\
{st1_f} - tier exception for {pt_lf} ({plan}): Mounjaro 5 mg {NDC:0002-1495-80} for T2DM {ICD:E11.65}, A1c 9.4. Plan says step through metformin + glipizide - both documented in the 2023 notes. Appeal due {date}. Prescriber {dr} ({npi}).
""", ADULT),
    ("pharmacy-benefit-appeal", True, 1, """\
APPEAL CHECKLIST
[x] denial letter (Otezla 30 mg, {NDC:59572-0631-06})
[x] chart notes - plaque psoriasis {ICD:L40.0}, BSA 12%
[ ] photos
[ ] member ID card - {plan}
Pt: {pt}   DOB: {dob}   Ph: {ph1}
""", ADULT),
    ("utilization-review", True, 2, """\
UR review - inpatient vs obs
Pt: {pt_lf} | MRN {mrn} | Payer ID {plan}
Admit {date} for CAP ({ICD:J18.9}); sepsis criteria met ({ICD:A41.9}), lactate 2.8
Screening criteria: meets IP day 1-2; day 3 no IV abx, no O2 -> does not meet
Attending {dr} wants to keep for PT eval
Requesting physician advisor review by 1400
{rn}, RN, CCM
""", ADULT),
    ("utilization-review", True, 2, """\
Call with payer UR nurse {st3} ({ph1}) re {pt}, DOB {dob}:
- concurrent review for CHF exacerbation ({ICD:I50.22}), LOS day 4
- approved through {date}
- next review due {date2}; fax clinicals to {fax1}
- member id {plan}
""", ADULT),
    ("coordination-of-benefits", True, 2, """\
Hi {st1_f},

{pt} (DOB {dob}) has two plans and we billed the wrong one first. Per the COB questionnaire {pt_he} returned, {pt_his} {rel_spouse} {rel}'s employer plan (subscriber ID {plan2}) is primary, and {pt_his} own Medicare ({mbi}) is secondary. Please rebill the {date} visit ({CPT:99214}, dx {ICD:I10}) and the A1c ({ICD:E11.9}).

{st2}
Patient Financial Services
""", (66, 84)),
    ("coordination-of-benefits", True, 2, """\
COB audit\t{date}
Patient\tPrimary\tID\tSecondary\tID\tIssue
{pt}\tAetna\t{plan}\tMedicaid\t{plan2}\tMedicaid billed primary for {CPT:99213}
{pt2}\tMedicare\t{mbi}\tnone on file\t-\tpt reports retiree plan, get card (SSN on file {ssn} - do NOT bill with SSN)
""", ADULT),
    ("student-health", True, 2, """\
Dean {st1_l},

I am writing to support a medical withdrawal for {pt} for the current term. {pt_He} has been under the care of our counseling and psychiatry staff since {date} for a major depressive episode ({ICD:F32.1}) and is not able to meet course requirements at this time. I anticipate {pt_he} will be ready to return next semester. {pt_He} has authorized this disclosure.

{dr}, MD
Student Health and Counseling
{ph1}
""", (18, 23)),
    ("student-health", True, 2, """\
{pt} ({pt_em}) - transfer student, establishing ADHD care ({ICD:F90.2}), on Vyvanse 30 mg ({NDC:59417-0103-10}). Needs controlled-substance agreement signed and records from home psychiatrist Dr. {dr2_l} before we can prescribe. Appt w/ {dr} {date}.
""", (18, 23)),
    ("occupational-health", True, 2, """\
Employee Health - post-exposure
Employee: {pt}
DOB: {dob}
SSN: {ssn}
Unit: 5 West
Exposure: needlestick {date}, hollow-bore, source patient HIV/HCV/HBsAg negative (source identity withheld)
Baseline labs drawn; PEP declined after counseling.
F/u 6 wk / 3 mo / 6 mo with {rn}, RN
Ext phone for employee: {ph1}
""", ADULT),
    ("occupational-health", True, 2, """\
To: {st1} (HR)
From: Occupational Medicine
Re: {pt} - pre-placement exam ({CPT:99385}, {ICD:Z02.1})

Cleared with restriction: no lifting over 25 lb for 3 months (recent lumbar fusion). TB screen: TST positive ({CPT:86580}), chest x-ray ({CPT:71046}) negative, coded {ICD:R76.11}; referred for latent TB treatment. May start on {date}.

{dr}, MD, MPH
""", (22, 39)),
    ("travel-clinic", True, 2, """\
Travel consult - {pt}, DOB {dob}
Itinerary: Ghana and Togo, {date} to {date2}, rural, 3 weeks
Given: yellow fever ({CPT:90717}, {NDC:49281-0915-01}), typhoid Vi ({CPT:90691}), Hep A/Hep B ({CPT:90636})
Admin: {CPT:90471} + {CPT:90472}
Malaria ppx: atovaquone-proguanil
Counseling: {ICD:Z71.84}
ICVP signed by {dr}
Note: on low-dose methotrexate for RA - discussed YF live vaccine with rheum (Dr. {dr2_l}); proceeded after a 4-week hold.
""", ADULT),
    ("travel-clinic", True, 2, """\
Hello,

My name is {pt} and I leave for Peru on {date}. Your nurse said I need the yellow fever shot, but I take prednisone 20 mg a day for lupus and my rheumatologist said I should ask you first. I'm {age}. My cell is {ph1} and my birthday is {dob}.

Thank you,
{pt_f}
""", ADULT),
    ("vaccine-adverse-event", True, 2, """\
VAERS report draft - please review before submit
Patient: {pt}
DOB: {dob}
Age: {age}
Vaccine: Shingrix (RZV), NDC {NDC:58160-0823-11}, dose 2, L deltoid, {date}
Adverse event: fever 39.2 C and rigors ~10 h post dose; injection site erythema 9 cm. Seen in clinic {date2}.
Dx: {ICD:T50.B95A}, {ICD:R50.83}
Reporter: {rn}, RN, {ph1}, {rn_em}
""", (50, 84)),
    ("vaccine-adverse-event", True, 2, """\
{dr_f}, FYI - {pt_Mr} {pt_l} ({mrn}) was admitted with ascending weakness two weeks after {pt_his} flu shot at your clinic. LP shows albuminocytologic dissociation; working dx GBS ({ICD:G61.0}), adverse effect coded {ICD:T50.B95A}. We're filing VAERS - can you send me the lot number? My cell is {ph1}.
{dr2}, MD, Neurology
""", ADULT),
    ("court-ordered-eval", True, 2, """\
IN THE MATTER OF {^pt}
Case No. 2025-MH-00417

Dear Judge {st1_l}:

Pursuant to the court's order dated {date}, I evaluated {pt} (DOB {dob}) on {date2} at the county detention center to address competency to stand trial ({CPT:90792}). {pt_He} meets criteria for schizophrenia ({ICD:F20.9}), currently with prominent persecutory delusions involving {pt_his} defense counsel. It is my opinion that {pt_he} is not presently competent and is likely to be restored with treatment.

Respectfully,
{dr}, MD
Forensic Psychiatry
""", ADULT),
    ("court-ordered-eval", True, 2, """\
Counsel -

Received the order for the evaluation of {pt_lf} (DOB {dob}). Testing is set for {date} ({CPT:96130}, {CPT:96136}). I will need prior records, including the 2022 admission for PTSD ({ICD:F43.10}). Please have your client bring photo ID. My office line is {ph1}.

{dr}, PhD, ABPP
""", ADULT),
    ("death-certificate-query", True, 2, """\
Dr. {dr_l},

The county registrar rejected the death certificate for {pt} (DOB {dob}, SSN {ssn}, died {date}) because Part I lists only cardiac arrest ({ICD:I46.9}), which is a mechanism rather than a cause. Could you amend it with the underlying cause? The hospital chart notes hypertensive heart disease with heart failure ({ICD:I11.0}). The family ({rel}, {ph1}) is waiting on certified copies.

{st1}
Funeral Director
{ph2}
""", (55, 88)),
    ("death-certificate-query", True, 2, """\
MEDICAL EXAMINER INQUIRY
DECEDENT: {^pt}
AGE: {age90}
FOUND {^date} AT RESIDENCE. PMH PER {^rel_child}: ALZHEIMER DISEASE ({ICD:G30.1}), FALLS ({ICD:Z91.81}).
ATTENDING OF RECORD {^dr} - WILL YOU SIGN AS NATURAL? PLEASE CALL INVESTIGATOR {^st2} AT {ph1}.
""", ADULT),
    ("tumor-board", True, 2, """\
Thoracic tumor board - {date}

1. {pt} ({mrn}), {age}{pt_MF}. RUL adenocarcinoma ({ICD:C34.11}), cT2aN1M0, EGFR/ALK pending. Presenter: Dr. {dr_l}. Question: neoadjuvant chemo-IO vs surgery first.
2. {pt2_lf} ({mrn2}), {age2}{pt2_MF}. Stage IV, progression on pembrolizumab ({NDC:0006-3026-02}). Presenter: {dr2}. Question: second line / trial options.

Path: {st1}. Rad onc: {st2}.
""", (50, 84)),
    ("tumor-board", True, 2, """\
Hi all - adding {pt_Mr} {pt_l} (MRN {mrn}) to Tuesday's breast conference: {age} y/o with L breast IDC ({ICD:C50.912}), ER+/PR+/HER2-, 2.4 cm, 1/3 SLN positive. Question is adjuvant palbociclib vs. ribociclib given {pt_his} QTc. Images are up in PACS. - {dr}
""", (35, 75)),
    ("medication-reconciliation", True, 2, """\
Med rec - {pt}, {age90} y/o, admitted {date}
Home meds per {pt_his} {rel_child} {rel}:
- Eliquis 5 mg BID ({NDC:0003-0894-21}) - last dose ??
- Entresto 24/26 mg BID ({NDC:0078-0659-20})
- Jardiance 10 mg daily ({NDC:0597-0152-30})
- Lipitor 20 mg qhs ({NDC:0071-0156-23})
Dx: AF {ICD:I48.91}, HFrEF {ICD:I50.22}
Flag: Xarelto also on the outside fill history ({NDC:50458-0579-30}) - possible duplicate anticoagulant. Paged {dr}.
{st1}, PharmD
""", ADULT),
    ("medication-reconciliation", True, 1, """\
Pharmacist note forwarded to clinic inbox:
pt {pt_lf}, dob {dob}, chart {mrn}. Brought in a bag of bottles. Taking Lantus SoloStar ({NDC:0088-2219-05}) 30 units but the list says 22. Also has Ozempic ({NDC:0169-4132-12}) from a different prescriber (Dr. {dr2_l}). Long-term insulin {ICD:Z79.4}. Please reconcile at next visit. {st1} ext 4410
""", ADULT),
    ("addiction-treatment", True, 2, """\
Pharmacy verification request
Patient: {pt}   DOB: {dob}
Rx: Suboxone 8 mg/2 mg film ({NDC:12496-1208-03}), 1 film BID, #28
Dx: opioid dependence ({ICD:F11.20})
Prescriber: {dr}, DEA {dea}, NPI {npi}
Question: is this a new induction? Pt states last Rx was filled out of state.
Please call back {ph1} or fax {fax1}.
""", ADULT),
    ("addiction-treatment", True, 2, """\
Per the 42 CFR Part 2 consent on file, {pt_f} {pt_l} (MRN {mrn}) started Vivitrol ({NDC:65757-0300-01}) on {date} for alcohol use disorder ({ICD:F10.20}). Next injection due {date3}. {pt_He} asked that we coordinate with you about the LFTs. Naloxone kit ({NDC:69547-0353-02}) given. Questions: {st1}, LADC, {st1_em}.
""", ADULT),
    ("device-remote-monitoring", True, 2, """\
Remote transmission alert
Patient: {pt_lf}
DOB: {dob}
Device: dual-chamber pacemaker, implanted {date}
Alert: AT/AF burden 18% in the last 7 days, longest episode 9 h 12 min
No anticoagulant on med list. AF ({ICD:I48.91}) not previously documented.
Routed to {dr} for review; pt notified by phone {ph1}
""", (60, 88)),
    ("device-remote-monitoring", True, 2, """\
device clinic call: {pt_f} {pt_l} called from {ph1}, got a shock at 6am while walking the dog, felt fine after. remote interrogation shows VF treated appropriately with 1 shock. hx chronic systolic HF {ICD:I50.22}. told {pt_him} no driving x 6 mo and to come in today. chart {mrn}. - {rn_f}
""", ADULT),
    ("diabetes-technology", True, 2, """\
Pump download review - {pt} (DOB {dob})
Closed-loop pump + CGM, 14-day report
TIR 58%, TBR 6% (mostly 2-4 am), GMI 7.6%
Dx: type 1 DM with hyperglycemia ({ICD:E10.65})
Changes: overnight basal -10%, ICR 1:10 -> 1:12 at breakfast
Sent to Dr. {dr_l} for co-sign.
{st1}, RN, CDCES | {st1_em}
""", (13, 40)),
    ("diabetes-technology", True, 2, """\
hi dr {dr_l} its {pt_f} {pt_l}. my cgm keeps saying sensor error and my sugar was 280 this morning and i did a correction. i only have 1 sensor left. my {rel_mom}s number is {ph1} if you need to call. sorry for emailing
""", (13, 17)),
    ("sports-medicine-clearance", True, 2, """\
Concussion return-to-play - {pt}, DOB {dob}
Injury: {date}, helmet-to-helmet, no LOC
Dx: concussion w/o LOC, subsequent encounter ({ICD:S06.0X0D})
Stage 5 of graduated RTP completed without symptoms
Cleared for full contact {date2}
Coach {st1} notified; parent {rel} ({rel_em})
{dr}, MD, CAQSM
""", (14, 18)),
    ("sports-medicine-clearance", True, 1, """\
{st1_f} - {pt_lf} (DOB {dob}) CANNOT play Friday. Knee MRI shows ACL tear ({ICD:S83.511A}). Parents ({rel}, {ph1}) know. Surgery consult w/ {dr2}. - {dr_f}
""", (15, 18)),
    ("crisis-follow-up", True, 2, """\
Mobile crisis follow-up
Client: {pt}
Phone: {ph1}
DOB: {dob}
Contact: {date}, 22:40, passive SI, no plan or intent; no access to firearms per client
Safety plan reviewed; {pt_his} {rel_sib} {rel} is staying over tonight ({ph2})
Dx: MDD, recurrent, moderate ({ICD:F33.1})
Outpatient intake {date2} with {st1}, LCSW
""", ADULT),
    ("crisis-follow-up", True, 1, """\
From: {st1} <{st1_em}>
To: {dr} <{dr_em}>
Subject: follow-up - {pt_l}

{dr_f}, the client you evaluated in the ED last night ({pt}, {age}) didn't answer our 24h follow-up call. Two voicemails left at {ph1}. Given the overdose history ({ICD:F11.20}) we're sending the mobile team for a welfare check. Will update.
""", ADULT),
    ("research-biobank", True, 2, """\
Biobank withdrawal request
Participant: {pt}
MRN: {mrn}
Consented {date}, samples: plasma x4, germline DNA
Reason: participant no longer wishes samples used after {pt_his} colon cancer diagnosis ({ICD:C18.7})
Please destroy remaining aliquots and confirm to {st1_em}.
""", ADULT),
    ("geriatric-assessment", True, 2, """\
Geriatric assessment - {pt_Mr} {pt_l}, {age90}
MoCA 19/30; gait speed 0.6 m/s; 2 falls in 6 months ({ICD:Z91.81}, {ICD:R26.81})
Lives alone; {rel_child} {rel} visits daily ({ph1})
Advance care planning discussed, 35 min ({CPT:99497}); wishes DNR, will sign POLST
Recommend home safety eval, deprescribe oxybutynin
{dr}, MD, Geriatrics
""", ADULT),
]

# -- templates: texts without PHI -----------------------------------------------------------

NEG: list[Template] = [
    ("staff-scheduling", False, 3, """\
Hi team,

{st1} is swapping {st1_his} Saturday day shift with {st2} ({date}). {st3} is still looking for someone to cover the 3rd night shift on {date2} - reply all if you can take it. Charge nurse cell this weekend: {ph1}.

Thanks!
{rn}, RN, Nurse Manager
""", ADULT),
    ("grand-rounds", False, 3, """\
MEDICINE GRAND ROUNDS
{date}, 12:00-1:00 pm, Auditorium B and virtual

"Sepsis bundles in 2025: what still matters"
Speaker: {dr}, MD, Associate Professor of Medicine
Moderator: {dr2}, MD

1.0 AMA PRA Category 1 Credit. Questions to {st1} ({st1_em}).
""", ADULT),
    ("newsletter", False, 3, """\
THE ROUNDS - Staff Newsletter

Welcome! Please welcome our new hospitalists, {dr}, MD, and {dr2}, DO, who join the team this month.
Farewell: After 31 years in the cath lab, {st1} retires on {date}. Cake in the 3rd floor lounge at 2 pm.
Kudos: {rn} was nominated for the DAISY Award by a family member for "kindness on a very hard night."
Submit news to {st2_em}.
""", ADULT),
    ("coding-education", False, 3, """\
Coding tip of the week

For encounters whose purpose is chemotherapy, sequence {ICD:Z51.11} first, followed by the code for the malignancy being treated (e.g., {ICD:C50.912} for a left female breast primary). When the admission is for management of a complication such as dehydration, the complication goes first.

Drug administration: {CPT:96413} for the first hour, {CPT:96415} for each additional hour; a sequential infusion of a new drug is {CPT:96417}.

Questions: {st1}, CCS, CPC - {st1_em}
""", ADULT),
    ("coding-education", False, 2, """\
E/M refresher (office/outpatient):
- {CPT:99213}: low MDM, or 20+ min total time
- {CPT:99214}: moderate MDM, or 30+ min
- {CPT:99215}: high MDM, or 40+ min
Add-on for psychotherapy with E/M: {CPT:90833} (16-37 min). Do not bill {CPT:90791} and {CPT:90792} on the same day.
Common pitfall: coding {ICD:E11.9} when the note documents hyperglycemia - use {ICD:E11.65}.
Slides from {st1}'s session are on the SharePoint.
""", ADULT),
    ("formulary-update", False, 3, """\
P&T Committee - formulary changes effective {date}

ADDED (with criteria): Wegovy 2.4 mg ({NDC:0169-4524-14}) for obesity with BMI >= 35 and an obesity-related comorbidity.
REMOVED: brand Lipitor ({NDC:0071-0156-23}); generic atorvastatin remains preferred.
NOTE: Ozempic ({NDC:0169-4132-12}) remains restricted to type 2 diabetes ({ICD:E11.9}).

{st1}, PharmD, BCPS
Clinical Pharmacy Manager | {ph1}
""", ADULT),
    ("it-downtime", False, 3, """\
PLANNED EHR DOWNTIME
{date}, 01:00-04:00

Use downtime forms in the blue binders. The read-only BCA workstations will have reports printed at 00:30. Do not enter orders in the read-only system.

Help desk: {ph1} (ticket INC0048213)
Contact: {st1}, IT Clinical Applications, {st1_em}
""", ADULT),
    ("hr-benefits", False, 3, """\
Open enrollment runs through {date}!

This year's changes: the HDHP deductible goes to $1,800, the PPO copay for specialists is $45, and the employee assistance program now includes 8 free counseling sessions. Attend a session with {st1} from Benefits, or email {EMAIL:benefits@example.com}.

Need help with the portal? Call {ph1}.
""", ADULT),
    ("facilities", False, 3, """\
Facilities notice: Elevator B (main tower) will be out of service {date} through {date2} for modernization. Patients being transported from 4 North to imaging should use Elevator D. Contact {st1}, facilities supervisor, at {ph1} with concerns.
""", ADULT),
    ("vendor-quote", False, 3, """\
From: {st1} <{st1_em}>
To: {st2} <{st2_em}>
Subject: quote - 40 bedside monitors

Hi {st2_f},

Attached is the quote for 40 bedside monitors with the 5-year service plan. Pricing is held through {date}. Happy to set up a demo on 6 West with your biomed team - my cell is {ph1}.

{st1}
Senior Account Executive
""", ADULT),
    ("public-notice", False, 3, """\
Free community flu clinic - {date}, 9 am to 1 pm, Eastside Library. No appointment needed; bring your insurance card if you have one. Adults and children 6 months and older. Questions: call the community health line at {ph1}.
""", ADULT),
    ("training-reminder", False, 3, """\
REMINDER: Annual compliance modules are due {date}.
1. HIPAA Privacy and Security (25 min)
2. Fire safety / RACE-PASS
3. Workplace violence prevention

Managers will get a completion report on {date2}. Problems logging in? Contact {st1} at {ph1}.
""", ADULT),
    ("committee-minutes", False, 3, """\
Sepsis Committee - minutes, {date}
Present: {dr} (chair), {dr2}, {rn}, {st1}, {st2}
1. SEP-1 compliance Q3: 71% (goal 80%). Main miss: repeat lactate within 6 h.
2. {rn_f} to pilot a lactate reminder in the ED.
3. Mortality O/E 0.92.
No patient-level data discussed. Next meeting {date2}.
""", ADULT),
    ("credentialing", False, 3, """\
Credentialing file - initial appointment
Applicant: {dr}, MD
NPI: {npi}
DEA: {dea}
Board: ABIM, Internal Medicine
Missing: malpractice face sheet, one peer reference
Please send to {st1} ({st1_em}) or fax {fax1}.
""", ADULT),
    ("payer-contracting", False, 3, """\
2026 fee schedule proposal (commercial)
Code\tCurrent\tProposed
{CPT:99213}\t$92.10\t$95.80
{CPT:99214}\t$131.40\t$137.00
{CPT:93000}\t$18.20\t$19.00
{CPT:80053}\t$11.60\t$11.60
Call with the payer rep ({st1}, {ph1}) {date}.
""", ADULT),
    ("journal-club", False, 3, """\
Journal club {date}: {dr2} will present the recent RCT of early rhythm control in atrial fibrillation ({ICD:I48.91}). Pizza provided. Residents, please read the paper beforehand. - {dr}
""", ADULT),
    ("staff-wellness", False, 2, """\
Staff wellness: chair yoga every Thursday at 12:15 in the chapel, led by {st1}. Massage chairs are back in the 2nd floor lounge. Peer support line (24/7, confidential): {ph1}.
""", ADULT),
    ("phone-directory-update", False, 3, """\
Directory update
Cardiology front desk: {ph1}
Cardiology fax: {fax1}
Dr. {dr}, direct: {ph2}
Practice manager {st1}: {ph3}, {st1_em}
""", ADULT),
    ("recruiting", False, 3, """\
We're hiring! NICU RN, nights, 0.9 FTE, $10k sign-on. Two years of acute care required; NRP within 90 days. Contact our recruiter {st1} at {st1_em} or {ph1}.
""", ADULT),
    ("kudos", False, 2, """\
shout out to {rn} and {st1} for keeping 7 East running last night with two call-outs and a rapid response. {st2_f} from transport too. you all rock - {dr_f}
""", ADULT),
    ("policy-update", False, 3, """\
Policy update: Chaperones for sensitive exams (policy CL-214), effective {date}. A chaperone must be offered for all breast, genital and rectal exams regardless of provider gender; document the offer and the chaperone's name in the note. Questions to {st1}, Director of Clinical Policy, {ph1}.
""", ADULT),
    ("conference-travel", False, 2, """\
{dr_f} - congrats, your abstract on readmissions after CABG ({ICD:Z95.1} cohort, 2019-2023, de-identified) was accepted as a poster. Travel request form is due {date}; {st1} can book the hotel. - {dr2}
""", ADULT),
    ("it-phishing-alert", False, 2, """\
SECURITY ALERT: Several staff received an email claiming to be from payroll asking them to "verify direct deposit." Do NOT click. Forward suspicious messages to {EMAIL:phishing@example.org}. If you entered your password, call the help desk at {ph1} immediately. - {st1}, Information Security
""", ADULT),
    ("coding-education", False, 2, """\
NDC billing reminder for physician-administered drugs: report the 11-digit NDC in 5-4-2 format with the N4 qualifier. Example: Keytruda 100 mg/4 mL vial {NDC:00006-3026-02} with {CPT:96413}; Neulasta {NDC:55513-0190-01} with {CPT:96372}. Units must match the HCPCS descriptor. - {st1}, Revenue Integrity
""", ADULT),
]

# -- clinical texts identifying nobody ------------------------------------------------------

CLINICAL: list[str] = [
    "Reminder for the afternoon clinic: any adult with new type 2 diabetes ({ICD:E11.9}) and an eGFR above 45 should be started on metformin unless contraindicated; document the A1c ({CPT:83036}) at baseline.",
    "Standing order: for patients on chemotherapy with a temperature of 100.4 F or higher, draw CBC with diff ({CPT:85025}) and blood cultures, and give the first antibiotic dose within 60 minutes.",
    "Case for teaching rounds: a 67-year-old woman with moderate persistent asthma ({ICD:J45.40}) presents with two exacerbations this year despite medium-dose ICS-LABA. What is the next step?",
    "Sleeve gastrectomy ({CPT:43775}) patients should stay on chewable multivitamins, calcium citrate 1200-1500 mg, and B12 lifelong. Check ferritin, B12, folate and vitamin D at 6 and 12 months.",
    "Allergy clinic protocol: hold antihistamines 5 days before percutaneous testing ({CPT:95004}). Beta blockers are a relative contraindication; discuss with the attending.",
    "De-identified case, M&M: a man in his 50s post PCI for NSTEMI ({ICD:I21.4}) stopped his P2Y12 inhibitor after 3 weeks because of cost and re-presented with stent thrombosis. Discussion: discharge medication access.",
    "NICU guideline: infants born before 29 weeks are eligible for palivizumab in the first RSV season; document gestational age ({ICD:P07.35} for 32 completed weeks is not eligible on age alone).",
    "Patients with bilateral sensorineural hearing loss ({ICD:H90.3}) who fail a speech-in-noise test should be counseled on remote microphone systems in addition to hearing aids.",
    "Diabetic foot checks: every visit for patients with prior ulcer ({ICD:L97.412}) or neuropathy; annual monofilament for everyone else. Nail debridement ({CPT:11721}) requires documented class findings.",
    "Biopsy technique: shave ({CPT:11102}) is fine for suspected BCC; for a pigmented lesion suspicious for melanoma, prefer excisional or deep saucerization to allow Breslow depth.",
    "Dysphagia screening after stroke: nothing by mouth until a bedside swallow screen is passed; refer for instrumental assessment ({CPT:92610}) if the screen fails. Aphasia ({ICD:R47.01}) alone is not a reason to delay.",
    "Nursing facility tip: for residents with dementia ({ICD:F03.90}) and nighttime agitation, start with non-drug measures (lighting, toileting schedule, pain check) before considering medication.",
    "Step therapy for dupilumab ({NDC:0024-5915-02}) typically requires documented failure of a medium- to high-potency topical steroid and a topical calcineurin inhibitor for atopic dermatitis ({ICD:L20.9}).",
    "Inpatient criteria reminder: pneumonia ({ICD:J18.9}) with a CURB-65 of 0-1 usually qualifies for outpatient care or observation unless hypoxic or unable to take oral medication.",
    "Medicare Secondary Payer: when the beneficiary is 65 or older and covered by a spouse's employer plan (20+ employees), the group plan pays first. Ask at every registration.",
    "College counseling: students screening positive on the PHQ-9 (score 10 or more) should be offered same-week appointments; a score of 20+ or any positive item 9 triggers a same-day risk assessment. Code {ICD:F32.1} only after a clinical diagnosis.",
    "Latent TB workup: a positive TST ({CPT:86580}) or IGRA ({CPT:86480}) with a normal chest x-ray ({CPT:71046}) is coded {ICD:R76.11} or {ICD:R76.8}; offer 3HP or 4R.",
    "Travelers to yellow fever endemic areas who are 60 or older have a higher risk of serious adverse events with the vaccine ({CPT:90717}); weigh itinerary risk carefully.",
    "Report to VAERS any anaphylaxis within 7 days, and Guillain-Barre syndrome ({ICD:G61.0}) within 42 days, after the relevant vaccines. Code the adverse effect with {ICD:T50.B95A} as appropriate.",
    "Competency evaluations ({CPT:90792}) should address the defendant's factual and rational understanding of the proceedings and ability to assist counsel.",
    "Death certificates: list a sequence in Part I ending in the underlying cause. Avoid mechanisms alone such as cardiac arrest ({ICD:I46.9}) or respiratory arrest.",
    "Pembrolizumab ({NDC:0006-3026-02}) immune-related colitis: grade 2 diarrhea warrants holding the drug and starting prednisone 0.5-1 mg/kg if symptoms persist beyond 3 days.",
    "For buprenorphine ({NDC:12496-1208-03}) induction at home, wait for moderate withdrawal (COWS 8-12) before the first dose; fentanyl users may need a low-dose start.",
    "Device clinic protocol: any AF burden over 6 minutes on a pacemaker ({ICD:I48.91} if confirmed) is routed to the physician to consider anticoagulation using CHA2DS2-VASc.",
    "after a concussion ({ICD:S06.0X0A}) athletes go through 6 stages, each at least 24 h, symptom free before moving on. no same-day return to play. ever.",
    "Geriatrics pearl: gait speed under 0.8 m/s predicts falls ({ICD:R26.81}) and mortality. Time 4 meters at usual pace; it takes one minute.",
]


def build(rng: random.Random) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for kind, phi, reps, template, age_range in PHI + NEG:
        for _ in range(reps):
            for _attempt in range(200):
                text, spans = render(template, make_ctx(rng, age_range))
                if consistent(text, spans):
                    break
            else:
                raise AssertionError(f"no consistent rendering for {kind}")
            records.append({"text": text, "spans": spans, "contains_phi": phi, "kind": kind})
    for template in CLINICAL:
        text, spans = render(template, {})
        assert consistent(text, spans)
        records.append({"text": text, "spans": spans, "contains_phi": False, "kind": "clinical-no-identifier"})
    rng.shuffle(records)
    return records


def main(write: Callable[[str], object] | None = None) -> None:
    rng = random.Random(SEED)
    records = build(rng)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if write is not None:
        write(text)
    else:
        OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""Generator of the fifth blind, labeled PHI corpus (tests/data/phi_blind5.jsonl).

Deterministic (seeded). Templates are prose with slots ``{key}``: person slots (``pt``,
``pt_first``, ``pt_last``, ``pt_email`` ... for each role), identifier slots (``mrn``, ``plan``,
``mbi``, ``ssn``, ``dob``, ``age90``, ``npi``, ``dea``, ``phone`` ...), unlabeled filler slots
(``date``, ``time``, ``org``, ``city``, ``age``) and literal labeled values written in place as
``{ICD:N40.1}``, ``{CPT:52000}``, ``{NDC:0597-0058-01}``, ``{BOX:clinic@example.org}``. Each
inserted labeled value records its span where it is inserted; a rendered text whose labeled name
word or value also appears unlabeled is drawn again with fresh values.

Run ``python tests/data/make_phi_blind5.py`` to rewrite the corpus.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 20265
OUT = Path(__file__).with_name("phi_blind5.jsonl")
YEAR = 2026

FIRST = [
    "Hope", "Rose", "Joy", "Faith", "Amber", "Dawn", "June", "Summer", "Drew", "Hunter",
    "José", "Zoë", "Renée", "Chloé", "Inés", "François", "Søren", "Björn", "Jean-Pierre", "Anne-Marie",
    "Mei-Ling", "Oluwaseun", "Chidi", "Ngozi", "Kwame", "Amara", "Priya", "Arjun", "Ananya", "Rohan",
    "Hiroshi", "Yuki", "Min-jun", "Seo-yeon", "Thanh", "Linh", "Wei", "Xiaoming", "Fatima", "Omar",
    "Yusuf", "Layla", "Dmitri", "Olga", "Katarzyna", "Mateo", "Valentina", "Santiago", "Guadalupe", "Luz",
    "Tyrone", "Keisha", "DeShawn", "Latoya", "Marcus", "Brenda", "Harold", "Gloria", "Walter", "Dorothy",
    "Kai", "Leilani", "Aiyana", "Tallulah", "Siobhan", "Padraig", "Ingrid", "Matthias", "Esperanza", "Bartholomew",
]
LAST = [
    "Fields", "Frost", "Brown", "Young", "Rich", "Wood", "Lane", "Bell", "Love", "Church",
    "Moody", "Black", "Price", "King", "Long", "Hill", "O'Connor", "O'Brien", "D'Angelo", "N'Diaye",
    "van der Berg", "de la Cruz", "Di Stefano", "Van Buren", "du Plessis", "al-Rashid", "Smith-Okafor", "Garcia-Lopez", "Nakamura-Reyes", "Lloyd-Jones",
    "Muñoz", "Peña", "Núñez", "Hernández", "Gómez", "Müller", "Søndergaard", "Ngô", "Nguyễn", "Đặng",
    "Okonkwo", "Adeyemi", "Mensah", "Abara", "Patel", "Chatterjee", "Iyer", "Reddy", "Tanaka", "Sato",
    "Kim", "Park", "Choi", "Chen", "Zhang", "Liu", "Haddad", "Khalil", "Nasser", "Kowalski",
    "Nowak", "Ivanova", "Petrov", "Yazzie", "Begay", "Kahananui", "Makoa", "Lindqvist", "Rasmussen", "Whitfield",
]
ORGS = [
    "Lakeshore Medical Group", "Riverbend Health", "North Valley Clinic", "Cedar Ridge Family Medicine",
    "Meridian Specialty Partners", "Tri-County Health System", "Bayside Medical Associates",
    "Summit Regional Medical Center", "Prairie View Physicians", "Granite State Health",
]
CITIES = ["Dayton", "Spokane", "Albany", "Tucson", "Madison", "Raleigh", "Boise", "Akron", "Fresno", "Provo"]
AREA_CODES = ["617", "312", "503", "414", "919", "215", "303", "702", "206", "512", "608", "404", "734", "801", "216"]
ROLES = {"pt", "pt2", "dr", "dr2", "rn", "np", "fam", "fam2", "st", "st2", "st3", "st4", "st5", "ph"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
LITERAL_LABELS = {"ICD": "ICD10_CODE", "CPT": "CPT_CODE", "NDC": "NDC_CODE", "BOX": "EMAIL_ADDRESS"}
MBI_ALPHA = "ACDEFGHJKMNPQRTUVWXY"


# -- identifier values ------------------------------------------------------------------------


def luhn_check_digit(payload: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def make_npi(rng: random.Random) -> str:
    base = str(rng.randint(1, 2)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return base + str(luhn_check_digit("80840" + base))


def make_dea(rng: random.Random, last: str) -> str:
    initial = ascii_fold(last).replace(" ", "").replace("'", "")[:1].upper() or "X"
    first = rng.choice("ABFGM")
    digits = [rng.randint(0, 9) for _ in range(6)]
    check = (digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])) % 10
    return first + initial + "".join(map(str, digits)) + str(check)


def make_mbi(rng: random.Random) -> str:
    def alnum() -> str:
        return rng.choice(MBI_ALPHA + "0123456789")

    chars = [
        str(rng.randint(1, 9)), rng.choice(MBI_ALPHA), alnum(), str(rng.randint(0, 9)),
        rng.choice(MBI_ALPHA), alnum(), str(rng.randint(0, 9)), rng.choice(MBI_ALPHA),
        rng.choice(MBI_ALPHA), str(rng.randint(0, 9)), str(rng.randint(0, 9)),
    ]
    mbi = "".join(chars)
    if rng.random() < 0.3:
        return f"{mbi[:4]}-{mbi[4:7]}-{mbi[7:]}"
    return mbi


def make_ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    if rng.random() < 0.15:
        return f"{area:03d} {group:02d} {serial:04d}"
    return f"{area:03d}-{group:02d}-{serial:04d}"


def make_phone(rng: random.Random) -> str:
    area, line = rng.choice(AREA_CODES), f"01{rng.randint(0, 99):02d}"
    return rng.choice([
        f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}", f"{area} 555 {line}",
        f"+1 {area}-555-{line}", f"1-{area}-555-{line}", f"({area})555-{line}",
    ])


def make_mrn(rng: random.Random) -> str:
    n = rng.randint
    return rng.choice([
        f"00{n(100000, 999999)}", f"E{n(1000000, 9999999)}", f"MR{n(100000, 999999)}",
        f"{n(1000, 9999)}-{n(100, 999)}", f"{n(100000000, 999999999)}", f"H{n(10000000, 99999999)}",
        f"{n(10, 99)}-{n(10, 99)}-{n(10, 99)}", f"RB{n(1000000, 9999999)}",
    ])


def make_plan_id(rng: random.Random) -> str:
    n = rng.randint
    letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    return rng.choice([
        f"{letters}{n(100000000, 999999999)}", f"W{n(100000000, 999999999)}",
        f"{n(100000000, 999999999)}-0{n(1, 4)}", f"9{n(10000000, 99999999)}00",
        f"ZGP{n(10000000, 99999999)}", f"M{n(1000000, 9999999)}-{n(10, 99)}",
        f"{letters[:2]}{n(1000000, 9999999)}",
    ])


def format_date(rng: random.Random, d: date) -> str:
    style = rng.randrange(7)
    if style == 0:
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if style == 1:
        return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == 2:
        return d.isoformat()
    if style == 3:
        return f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"
    if style == 4:
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    if style == 5:
        return f"{d.month}-{d.day}-{d.year}"
    return f"{MONTHS[d.month - 1][:3]}. {d.day}, {d.year}"


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D").replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def email_for(rng: random.Random, first: str, last: str) -> str:
    f = re.sub(r"[^a-z]", "", ascii_fold(first).lower())
    last_clean = re.sub(r"[^a-z]", "", ascii_fold(last).lower())
    domain = rng.choice(["example.com", "example.org", "example.net"])
    local = rng.choice([
        f"{f}.{last_clean}", f"{f[0]}{last_clean}", f"{f}_{last_clean}{rng.randint(1, 99)}",
        f"{last_clean}{f[0]}", f"{f}{last_clean[:1]}{rng.randint(60, 99)}", f"{f}.{last_clean}{rng.randint(1, 9)}",
    ])
    return f"{local}@{domain}"


# -- rendering ----------------------------------------------------------------------------------


class Ctx:
    """The values of one rendering: drawn on first use, then reused for every slot with that key."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: dict[str, tuple[str, str]] = {}
        self.values: dict[str, tuple[str, str | None]] = {}
        self.birth: date | None = None

    def person(self, role: str) -> tuple[str, str]:
        if role not in self.people:
            used = {w for p in self.people.values() for part in p for w in part.split()}
            while True:
                first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
                if role.startswith("fam") and "pt" in self.people and self.rng.random() < 0.6:
                    last = self.people["pt"][1]
                if first not in used and (last not in used or role.startswith("fam")):
                    break
            self.people[role] = (first, last)
        return self.people[role]

    def birth_date(self) -> date:
        if self.birth is None:
            age = int(self.values["age90"][0]) if "age90" in self.values else self.rng.randint(19, 84)
            start = date(YEAR - age - 1, 3, 1)
            self.birth = start + timedelta(days=self.rng.randint(0, 364))
        return self.birth

    def get(self, key: str) -> tuple[str, str | None]:
        if key in self.values:
            return self.values[key]
        rng = self.rng
        role, _, part = key.partition("_")
        value: tuple[str, str | None]
        if role in ROLES and part in {"", "first", "last", "email"}:
            first, last = self.person(role)
            if part == "first":
                value = (first, "PERSON")
            elif part == "last":
                value = (last, "PERSON")
            elif part == "email":
                value = (email_for(rng, first, last), "EMAIL_ADDRESS")
            else:
                value = (f"{first} {last}", "PERSON")
        elif re.fullmatch(r"(phone|cell|fax|tel)\d*", key):
            value = (make_phone(rng), "PHONE_NUMBER")
        elif key.startswith("mrn"):
            value = (make_mrn(rng), "MEDICAL_RECORD_NUMBER")
        elif key.startswith("plan"):
            value = (make_plan_id(rng), "HEALTH_PLAN_ID")
        elif key == "mbi":
            value = (make_mbi(rng), "US_MBI")
        elif key == "ssn":
            value = (make_ssn(rng), "US_SSN")
        elif key.startswith("npi"):
            value = (make_npi(rng), "US_NPI")
        elif key.startswith("dea"):
            holder = "dr2" if key == "dea2" else "dr"
            value = (make_dea(rng, self.person(holder)[1]), "US_DEA_NUMBER")
        elif key == "age90":
            value = (str(rng.randint(90, 103)), "AGE_OVER_89")
            self.values[key] = value
            self.birth = None
        elif key == "dob_child":
            born = date(YEAR - rng.randint(3, 15), 1, 1) + timedelta(days=rng.randint(0, 364))
            value = (format_date(rng, born), "DATE_OF_BIRTH")
        elif key == "dob":
            value = (format_date(rng, self.birth_date()), "DATE_OF_BIRTH")
        elif key == "age":
            b = self.birth_date()
            value = (str(YEAR - b.year - 1), None)
        elif key.startswith("date"):
            d = date(YEAR, 1, 5) + timedelta(days=rng.randint(0, 300))
            value = (rng.choice([f"{d.month}/{d.day}", f"{MONTHS[d.month - 1]} {d.day}", WEEKDAYS[d.weekday() % 5], f"{d.month}/{d.day}/{d.year}"]), None)
        elif key.startswith("time"):
            value = (f"{rng.randint(7, 11)}:{rng.choice(['00', '15', '30', '45'])} {rng.choice(['am', 'AM', 'a.m.'])}", None)
        elif key.startswith("org"):
            value = (rng.choice(ORGS), None)
        elif key.startswith("city"):
            value = (rng.choice(CITIES), None)
        elif key.startswith("num"):
            value = (str(rng.randint(2, 9)), None)
        else:
            raise KeyError(key)
        self.values[key] = value
        return value


Span = dict[str, Any]
SLOT = re.compile(r"\{([A-Za-z0-9_]+)(?::([^{}]+))?\}")


def render(template: str, ctx: Ctx) -> tuple[str, list[Span]]:
    out: list[str] = []
    spans: list[Span] = []
    inserted: list[str] = []
    pos = 0
    length = 0
    for m in SLOT.finditer(template):
        literal = template[pos:m.start()]
        out.append(literal)
        length += len(literal)
        key, lit = m.group(1), m.group(2)
        label: str | None
        if lit is not None:
            value, label = lit, LITERAL_LABELS[key]
        else:
            value, label = ctx.get(key)
        if label is not None:
            spans.append({"start": length, "end": length + len(value), "label": label})
            inserted.append(value)
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    text = "".join(out)
    for span, value in zip(spans, inserted, strict=True):
        assert text[span["start"]:span["end"]] == value and value == value.strip(), (value, span)
    return text, spans


def _covered(text: str, spans: list[Span], start: int, end: int) -> bool:
    """Every non-space character of text[start:end] lies in some span."""
    inside = {i for s in spans for i in range(s["start"], s["end"])}
    return all(i in inside or text[i].isspace() for i in range(start, end))


def clean(text: str, spans: list[Span]) -> bool:
    """No labeled value, nor 3+ letter word of a labeled name, also appears outside every span."""
    for span in spans:
        value = text[span["start"]:span["end"]]
        needles = [value]
        if span["label"] == "PERSON":
            needles += [w for w in re.split(r"[\s\-']+", value) if len(w) >= 3]
        for needle in needles:
            pattern = r"(?<![\w])" + re.escape(needle) + r"(?![\w])"
            for m in re.finditer(pattern, text, flags=re.IGNORECASE):
                if not _covered(text, spans, m.start(), m.end()):
                    return False
    return True


def generate(rng: random.Random, kind: str, phi: bool, template: str) -> dict[str, object]:
    for _ in range(200):
        text, spans = render(template, Ctx(rng))
        if clean(text, spans):
            return {"text": text, "spans": spans, "contains_phi": phi, "kind": kind}
    raise RuntimeError(f"no clean rendering for a {kind} template")


# -- templates: texts with PHI ------------------------------------------------------------------
# (kind, [templates], how many texts)

PHI_KINDS: list[tuple[str, list[str], int]] = [
    ("urology-followup", [
        """Subject: PSA and cysto results - {pt}

{pt_first}, your PSA came back at 6.8, up from 4.1 last spring. Given that and the prostate volume on ultrasound, Dr. {dr_last} recommends an MRI of the prostate and then likely a biopsy ({CPT:55700}). Your cystoscopy ({CPT:52000}) on {date} was normal. Working dx: {ICD:R97.20} elevated PSA, {ICD:N40.1} BPH with LUTS.

Please call the urology nurse line at {phone} to set up the MRI.

{rn}, RN
{org} Urology""",
        """hi dr {dr_last}

this is {pt} (birthday {dob}). the flomax is helping with getting up at night but I'm still dribbling a lot and the bladder scan said 240 left over. do i need to come back in before the {date} visit? my cell is {cell}

thanks
{pt_first}""",
        """Urology clinic note to PCP
Re: {pt}   MRN {mrn}   DOB {dob}
Seen {date} for right flank pain; CT showed a 7 mm right UVJ stone ({ICD:N20.1}) with mild hydro. Failed trial of passage on tamsulosin, scheduled for ureteroscopy with laser lithotripsy and stent ({CPT:52356}) on {date2}. Creatinine 1.1. Will send op note.
- {dr}, MD, {org}""",
    ], 4),
    ("vasectomy-followup", [
        """Subject: your post-vasectomy semen analysis

Hello {pt_first},

Your 12-week post-vasectomy specimen ({CPT:89321}) showed rare non-motile sperm, which meets our criteria for clearance. You may stop using backup contraception. Procedure on file: vasectomy {CPT:55250}, {ICD:Z30.2}.

If you have questions, reply to {BOX:urology.nurses@example.org} or call {phone}.

{org} Men's Health
Patient: {pt} | Acct {mrn}""",
        """Dr. {dr_last} - quick q from a patient's wife. Her husband {pt} (DOB {dob}) had his vasectomy {date} and still has a swollen left testicle and a lump the size of a grape. No fever. She wants to know if this is a hematoma and if he needs to be seen. Her number is {phone}. - {st_first} at front desk""",
    ], 4),
    ("endoscopy-prep-question", [
        """Subject: Colonoscopy tomorrow - can I take my Ozempic?

Hi GI team,
I'm {pt}, DOB {dob}, scheduled for my screening colonoscopy ({CPT:45378}) tomorrow at {time} with Dr. {dr_last}. I took my weekly Ozempic shot 4 days ago - the instructions say to hold it a week before? Also I'm type 2 diabetic ({ICD:E11.9}) so what do I do about my metformin on prep day? I've started the clear liquids.
Please call me at {phone}, I'm home all day.
{pt_first}""",
        """Pre-procedure call log
Pt: {pt_last}, {pt_first}   MRN: {mrn}
Proc: EGD w/ bx ({CPT:43239}), dx {ICD:K22.70} Barrett's, {ICD:R13.10} dysphagia
Anticoag: Eliquis ({NDC:0003-0894-21}) - per cardiology OK to hold 48h, last dose {date} evening.
Driver: {fam}, cell {cell}.
Called by {rn_first} RN {time}""",
        """From: {pt_email}
To: {BOX:endoscopy@example.org}

I did the whole jug of prep and it's still coming out brownish, not clear. My procedure is at 8. Do I cancel?? I really don't want to do this twice. {pt}, birthdate {dob}""",
    ], 4),
    ("pain-management-contract", [
        """Subject: Controlled substance agreement - {pt}

Dr. {dr_last},
{pt_first} {pt_last} (MRN {mrn}) had a random UDS ({CPT:80305}) on {date} that was negative for oxycodone, which she is prescribed 10 mg TID for {ICD:G89.4} chronic pain syndrome and {ICD:M54.16} lumbar radiculopathy. Per our agreement this is a second inconsistent screen. I'd like to discuss taper vs. referral before her visit. Naloxone ({NDC:69547-353-02}) was dispensed in March.
{np}, NP""",
        """Hi. I signed the pain contract last year and I know I'm not supposed to get pain meds anywhere else, but I broke my wrist on {date} and the ER gave me 6 Percocets. I am telling you now so I don't get kicked out of the program. I have my TFESI ({CPT:64483}) with Dr. {dr_last} next week still. - {pt}, {phone}""",
    ], 4),
    ("lactation-consult", [
        """Lactation visit summary
Mother: {pt}   DOB {dob}   MRN {mrn}
Baby boy, 9 days old, down 11% from birth weight. Latch shallow, nipple trauma bilaterally, suspected posterior tongue tie. Plan: triple feeding, pump after each feed, weighted feeds at next visit, refer to peds ENT for frenotomy eval. Dx {ICD:Z39.1}, infant {ICD:P92.5}.
{rn}, IBCLC""",
        """hi {rn_first}!! its {pt_first} {pt_last} from the breastfeeding class. my left side is red and hot and i have chills since last night, 101.4. baby is 5 weeks. is this mastitis? should i keep nursing on that side?? my number is {cell}""",
    ], 4),
    ("pulmonary-function-followup", [
        """Subject: PFT results

{pt},

Your breathing test ({CPT:94010} spirometry and {CPT:94729} diffusion) shows moderate obstruction, FEV1 58% predicted, consistent with COPD ({ICD:J44.9}). Dr. {dr_last} would like to switch you from Advair ({NDC:0173-0696-00}) to a triple inhaler and refer you to pulmonary rehab. Keep your albuterol ({NDC:0173-0682-20}) handy.

Questions? {phone}
{org} Pulmonary""",
        """{dr_last} - FYI {pt_last}, {pt_first} MRN {mrn} desatted to 84% on the 6MW ({CPT:94618}) today, walked 210 m. Worse than Jan. HRCT reads progressive fibrosis {ICD:J84.10}. I told him we'd talk about O2 and antifibrotic at the {date} visit. - {rn_first}""",
    ], 4),
    ("rheumatology-biologic-start", [
        """Dear {pt_first},

Before we start Humira ({NDC:0074-4339-02}) for your rheumatoid arthritis ({ICD:M05.79}), we need a TB blood test ({CPT:86480}) and hepatitis B and C screening ({CPT:87340}, {CPT:86803}). Orders are in; the lab at {org} is open at 7. Please stop methotrexate if you get a fever and call us at {phone}.

Dr. {dr}
Rheumatology
Re: {pt}, DOB {dob}""",
        """Subject: QuantiFERON indeterminate
{pt} / {mrn} - QFT indeterminate (low mitogen), she's on pred 20. Repeat vs. chest x-ray? Want to start the biologic before the psoriatic arthritis ({ICD:L40.50}) flare gets worse. Her member ID {plan} should cover it. - {dr_last}""",
    ], 4),
    ("ibd-flare-message", [
        """Subject: flare again

Dr. {dr_last}, it's {pt} (Crohn's, {ICD:K50.90}). I've had 8-10 bloody BMs a day since {date} and cramping. I'm due for my Entyvio infusion on the 20th. Should I come in sooner or start the prednisone you gave me last time? I can't keep anything down today.

{pt_first}
{cell}""",
        """GI fellow note to attending:
{pt_last} {pt_first}, MRN {mrn}, UC ({ICD:K51.90}), fecal calprotectin ({CPT:83993}) 1,450 up from 120. Entyvio ({NDC:64764-300-20}) q8wk. CRP 34. Stool C diff pending. Plan flex sig Thursday, considering switch to ustekinumab. Ok to schedule? - {dr2}""",
    ], 4),
    ("seizure-driving-letter", [
        """To: State Department of Motor Vehicles, Medical Review Unit

Re: {pt}
Date of birth: {dob}
License no. on file

{pt_first} {pt_last} is under my care for epilepsy ({ICD:G40.909}). The patient had a breakthrough seizure on {date} after a missed dose. Per state rules I have advised no driving for 6 months from that date. EEG ({CPT:95816}) was repeated and medication adjusted.

{dr}, MD
Neurology, {org}
NPI {npi}""",
        """Sorry to bother you Dr. {dr_last}, this is {fam}, {pt_first}'s mom. {pt_first} had another one of the staring spells at school today, maybe 30 seconds, and then was confused after. Since the levetiracetam increase it's the first. Does {pt_first} need to come in? Home {phone}""",
    ], 4),
    ("migraine-botox", [
        """Subject: Botox approval for {pt}

Hi {pt_first}, good news: your plan approved Botox ({NDC:0023-1145-01}) for chronic migraine ({ICD:G43.709}), 155 units every 12 weeks (injection code {CPT:64615}). We booked you with Dr. {dr_last} on {date} at {time}; keep your headache diary going.

Member ID on the approval: {plan}
Neurology scheduling, {phone}""",
        """{dr_last}-
my migraines are back to every day since the botox wore off, I went to the ER {date} for the cocktail. I'm on day 6 of this one. Can I get in earlier than 12 weeks?? I'm losing my job over this.
- {pt} (chart {mrn})""",
    ], 4),
    ("ckd-nephrology-followup", [
        """Subject: Kidney labs

{pt_first},
Your eGFR is 38 this month (CKD stage 3b, {ICD:N18.32}), stable from 40 in the fall, and urine albumin ({CPT:82043}) improved since starting Farxiga ({NDC:0310-6210-30}). Keep avoiding ibuprofen/naproxen. Next labs in 3 months. Dx on file also {ICD:E11.22}.

Dr. {dr}
Nephrology
({pt}, MRN {mrn})""",
        """Dr {dr_last} my father {pt} is {age90} and his kidney doctor wants to talk about dialysis. He says no. He has stage 4 ({ICD:N18.4}) and a weak heart. What happens if we just do conservative care? Can we talk by phone, {phone}. - {fam}, daughter""",
    ], 4),
    ("thyroid-nodule-followup", [
        """Subject: thyroid biopsy results - {pt}

Hi {pt_first},

Your fine needle aspiration ({CPT:10005}) came back Bethesda II, benign. That means the 2.1 cm nodule ({ICD:E04.1}) is very unlikely to be cancer. We'll repeat the ultrasound in 12-24 months. TSH ({CPT:84443}) was normal.

Dr. {dr_last}, Endocrinology
{org}
Call {phone} with questions""",
        """pt {pt}, DOB {dob}, MBI {mbi}: Graves ({ICD:E05.00}), TSH <0.01, FT4 3.2 on methimazole 20. Wants RAI rather than surgery. Please set up I-131 uptake and consult. - {dr}""",
    ], 3),
    ("sinus-surgery-postop", [
        """Post-op day 5 question

From: {pt_email}
Hi Dr. {dr_last}. I had the septoplasty and sinus surgery ({CPT:30520}, {CPT:31255}) on {date}. Tonight I have bright red blood dripping from the right side for 20 minutes that won't stop with pressure. I'm on no blood thinners. Is this an ER thing?
{pt}
{cell}""",
        """ENT after-hours call
{time}: {fam} calling for spouse {pt} (MRN {mrn}), POD 2 after FESS for chronic sinusitis {ICD:J32.9} / nasal polyps {ICD:J33.9}. Fever 100.9, packing in place, on Augmentin. Advised saline, tylenol, call back if >101.5 or vision changes. Callback {phone}. - {dr2}, ENT resident""",
    ], 4),
    ("knee-injection-followup", [
        """Subject: knee injection - still hurts

Hi, this is {pt}. I got the steroid shot in my right knee ({CPT:20610}) on {date} from Dr. {dr_last} for arthritis ({ICD:M17.11}). It helped for 2 weeks and now it's back worse. My neighbor had gel shots, can I get those instead? My insurance is through my husband, ID {plan}.
Thanks, {pt_first}""",
        """Ortho PA note
{pt_last}, {pt_first}   {mrn}
L knee OA ({ICD:M17.12}) - Kenalog-40 ({NDC:0003-0293-05}) 40 mg + lidocaine injected {date}. MRI also shows medial meniscus tear. Discussed TKA ({CPT:27447}) vs. continued conservative care; pt wants to wait until after daughter's wedding. - {dr}, PA-C""",
    ], 4),
    ("sti-results-partner-notice", [
        """Confidential - {org} Sexual Health Clinic

{pt_first}, your test from {date} was positive for chlamydia ({CPT:87491}, dx {ICD:A56.00}); gonorrhea ({CPT:87591}) negative. Please pick up doxycycline at your pharmacy today and avoid sex for 7 days after finishing. We can give you medicine for your partner too (expedited partner therapy). Call {phone} and ask for {rn_first}.
Ref: {pt}, DOB {dob}""",
        """Disease intervention note: index patient {pt} ({mrn}), RPR 1:64, rash on palms, secondary syphilis ({ICD:A51.39}). Named partner {pt2}, cell {cell}, contacted {date}, agreed to testing ({CPT:86592}) and presumptive Bicillin. - {st}, DIS""",
    ], 4),
    ("jury-duty-excuse", [
        """{date}

To the Clerk of Court:

Please excuse my patient, {pt} (date of birth {dob}), from jury service. {pt_first} {pt_last} is recovering from lumbar spine surgery for disc herniation with radiculopathy ({ICD:M51.16}) and cannot sit for more than 20 minutes. Anticipated recovery is 3 months.

Sincerely,
{dr}, DO
{org} | {phone}""",
        """Hi can Dr {dr_last} write me a letter to get out of jury duty? The summons is for {date}. You know I have the panic attacks ({ICD:F41.0}) and I can't be stuck in a courtroom. I'm {pt}, born {dob}. You can fax it to the court or email me at {pt_email}.""",
    ], 3),
    ("parking-placard-form", [
        """Subject: handicap placard form

Dr. {dr_last}, I dropped off the disabled parking form at the front desk. I can barely walk from the back of the lot with my heart failure ({ICD:I50.22}) and the oxygen. Please sign section 3 and mail it back. {pt}, {dob}, {phone}""",
        """Placard application completed for {pt} (MRN {mrn}, DOB {dob}): qualifying condition - cannot walk 200 ft without stopping, severe bilateral knee OA ({ICD:M17.0}) and chronic hypoxic respiratory failure ({ICD:J96.11}) on 2 L. Permanent placard. Signed by {dr}, NPI {npi}. Left a voicemail at {phone}. - {st_first}""",
    ], 3),
    ("fmla-certification", [
        """From: {st_email}
Subject: FMLA paperwork for {pt}

Hello, I'm with HR at {org2}. Our employee {pt} submitted FMLA forms indicating intermittent leave for Crohn's flares, 2-3 days a month. Part III wasn't completed by the provider. Can Dr. {dr_last}'s office finish it by {date}? Her DOB is {dob} and SSN {ssn} if you need them to find the chart.
{st}
Benefits Specialist""",
        """Hi, I need my FMLA form done for my mom's care. {fam} is my mother, she had a stroke ({ICD:I63.9}) on {date} and is in rehab, and I'm {pt}. Wait, I think the form is for me as the caregiver, but the doctor has to fill in her condition. Her chart number at your clinic is {mrn}. Call me {cell}.""",
    ], 3),
    ("esa-housing-letter", [
        """To whom it may concern,

{pt} has been my patient since {date} and is treated for posttraumatic stress disorder ({ICD:F43.10}) and generalized anxiety ({ICD:F41.1}). An emotional support animal is part of the treatment plan, and I support the request for a reasonable accommodation in housing.

{dr}, LCSW
{org}
{phone}""",
        """Dr. {dr_last}, my landlord says the ESA letter has to be dated within the last year and list my diagnosis. Can you redo it? You saw me on {date}. I'm {pt}, DOB {dob}, and my email is {pt_email}. Thank you so much, the dog is the only reason I'm sleeping.""",
    ], 3),
    ("controlled-rx-clarification", [
        """Pharmacy clarification request

To: Dr. {dr} (NPI {npi}, DEA {dea})
From: {ph}, PharmD, {org} Pharmacy, {phone}

Patient: {pt}, DOB {dob}
Rx: Vyvanse 30 mg ({NDC:59417-103-10}) #30, for ADHD combined type ({ICD:F90.2})
Issue: the DEA number on the e-script doesn't match the prescriber's registration state. Please resend or call. Patient is waiting.""",
        """{dr_last} - pharmacist {ph} called re: {pt_last}, {pt_first} ({mrn}). OxyContin 10 mg ({NDC:59011-410-10}) script missing quantity in words, and our DEA on it is {dea}, which they say is expired. Can you re-sign? Their number {phone}. - {st_first}""",
    ], 3),
    ("hepatitis-c-treatment", [
        """Subject: Hep C - starting Epclusa

{pt_first}, your viral load ({CPT:87522}) is 2.3 million and the FibroScan ({CPT:91200}) shows F2 fibrosis. Your plan approved Epclusa ({NDC:61958-2201-1}), 12 weeks. Avoid alcohol and check with us before any new meds. Dx {ICD:B18.2}.
Hepatology nurse {rn}, {phone}
Patient: {pt} | Member {plan}""",
        """Dr {dr_last}, I finished the hep C pills 3 months ago. Did the cure test come back? My new job wants to know. - {pt}, {dob}""",
    ], 3),
    ("hiv-prep-followup", [
        """Subject: PrEP 3-month visit

Hi {pt_first} - your HIV test ({CPT:87389}) is negative, kidney function is normal, and your Descovy ({NDC:61958-2002-1}) is refilled for 90 days. STI screens were negative. Next visit in 3 months. Reply here or call {phone}.
- {np}, NP
Chart: {pt}, MRN {mrn}""",
        """hey its {pt} - i ran out of my prep 9 days ago and had sex this weekend, condom broke. is it too late for PEP? please call {cell} not my home number""",
    ], 4),
    ("heart-failure-daily-weights", [
        """Subject: weights this week

Nurse {rn_first},
Here are Dad's weights: Mon 182, Tue 184, Wed 187, Thu 189. His ankles are swollen and he's sleeping in the recliner. He takes the Entresto ({NDC:0078-0659-20}) twice a day and furosemide 40. He's {pt}, {age90} years old, heart failure ({ICD:I50.32}). Should he take an extra water pill?
{fam}
{phone}""",
        """HF clinic: {pt_last}, {pt_first} MRN {mrn}, MBI {mbi}. +4 lb in 3 days, NYHA III, {ICD:I11.0}/{ICD:I50.22}. Doubled furosemide x3 days per protocol, BMP Friday. Family member {fam_first} manages meds. - {rn}, RN""",
    ], 4),
    ("smoking-cessation", [
        """Subject: quit day

{pt_first}, congratulations on your quit date of {date}! As we discussed ({CPT:99406}, {ICD:F17.210}), continue varenicline 1 mg twice a day for 12 weeks and use the nicotine gum for cravings. If you have vivid dreams or mood changes call {phone}. You can do this.
- {st}, Tobacco Treatment Specialist
{pt} | {mrn}""",
        """i slipped. had 4 cigarettes at the party saturday. am i back to day 1 on the chantix? - {pt}""",
    ], 3),
    ("menopause-hrt-question", [
        """Dr. {dr_last},

I'm {pt_first} {pt_last}, {dob}. The hot flashes are 15-20 a day and I'm not sleeping. My mother had breast cancer at 70. Is hormone therapy still off the table for me? The Premarin ({NDC:0046-1102-81}) my sister uses seems to work. I also had some spotting last month after a year of nothing.

{pt_first}
{cell}""",
        """GYN note - {pt} ({mrn}): postmenopausal bleeding ({ICD:N95.0}), endometrial stripe 7 mm on TVUS ({CPT:76830}). Endometrial biopsy ({CPT:58100}) done {date}. On HRT ({ICD:Z79.890}) - hold estrogen pending path. - {dr}""",
    ], 3),
    ("pediatric-growth-concern", [
        """Subject: growth check

Dr. {dr_last},
Our son {pt} (born {dob_child}) is still below the 3rd percentile and his younger brother is about to pass him. The bone age x-ray ({CPT:77072}) you ordered shows 2 years behind. Does this mean growth hormone? We're worried.
{fam} and {fam2}
{phone}""",
        """Peds endo referral: {pt}, DOB {dob_child}, MRN {mrn}. Short stature ({ICD:R62.52}), height -2.6 SD, growth velocity 3.8 cm/yr, bone age delayed. IGF-1 low-normal. Celiac and thyroid screen normal. Requesting stim test. Family contact {fam}, {cell}. - {dr}, MD""",
    ], 3),
    ("family-status-inquiry", [
        """Subject: my grandmother

Hello, I'm {fam}, I live out of state. My grandmother {pt} is {age90} and was admitted on {date} after a fall; they said she broke her hip ({ICD:S72.001A}). Is she having surgery? Nobody is answering on the floor. I am on her contact list. My number {phone}.""",
        """Hi {rn_first}, {fam_first} here again - {pt_first} seemed more confused this morning on FaceTime and was coughing. Is the pneumonia ({ICD:J18.9}) worse? She is {age90}, please don't let them send her back to the nursing home before she's eating. - {fam}""",
    ], 4),
    ("second-opinion-request", [
        """Subject: second opinion - prostate cancer

Hello,
I was diagnosed with prostate cancer ({ICD:C61}), Gleason 3+4, at {org}. They recommend robotic prostatectomy ({CPT:55866}). I'd like a second opinion on active surveillance vs. radiation before deciding. I can send the biopsy slides and MRI.

{pt}
DOB {dob}
Medicare {mbi}
{phone}""",
        """Dr. {dr_last} - my wife {pt} was told she needs a colectomy for a sigmoid mass ({ICD:C18.7}). Can your team review her CT and colonoscopy? Her insurance ID is {plan}. We'll drive from {city}. {fam}, {cell}""",
    ], 4),
    ("long-covid-clinic", [
        """Subject: Post-COVID clinic intake

{pt_first} {pt_last}, DOB {dob}
Symptoms since COVID on {date}: fatigue ({ICD:R53.83}), brain fog, heart racing on standing. Dx {ICD:U09.9}. Plan: 6-minute walk ({CPT:94618}), orthostatic vitals, ECG ({CPT:93000}), OT referral for pacing. Off work since January; disability forms list SSN {ssn}.
- {np}, NP
{org} Recovery Clinic""",
        """Dr. {dr_last} I can't do the 15 minute walk you asked for, I crashed for 3 days after 5 minutes. I think the long covid is getting worse, not better. - {pt} (MRN {mrn})""",
    ], 3),
    ("gout-flare-email", [
        """Doc - {pt} here. My big toe is on fire again, red, swollen, can't put a sheet on it. Same as the gout in March ({ICD:M10.071}). Can you call in the colchicine? I'm traveling Friday. Cell {cell}.""",
        """{dr_last}: {pt_last}, {pt_first} (DOB {dob}) - 3rd gout flare this year, uric acid 9.4, eGFR 55. Starting allopurinol 100 with colchicine cover. He asked about Uloric; told him no. - {dr2}""",
    ], 3),
    ("insurance-member-inquiry", [
        """To: {BOX:memberservices@example.com}
Subject: is my surgery covered

My member ID is {plan}. I'm {pt}, DOB {dob}. My surgeon wants to do a hernia repair with mesh. The code they gave me is {CPT:49591} for {ICD:K43.9}. Is it in network at {org}? Please call {phone}.""",
        """Member services note: caller {fam} for spouse {pt}, Medicare {mbi}. Asking why the ultrasound-guided kidney biopsy was denied; dx {ICD:N04.9}. Caller verified with SSN {ssn}. Advised that the provider must submit records. Caller ph {phone}. - {st_first} {st_last}""",
    ], 3),
]

# -- templates: texts without PHI ---------------------------------------------------------------

NEG_KINDS: list[tuple[str, list[str], int]] = [
    ("staff-coverage-swap", [
        """Subject: Swap for Saturday clinic?

Hi {st_first},

Could you take my Saturday urgent slot on {date}? I'll cover your Thursday afternoon. Let me know by tomorrow so {st2} can fix the schedule.

Thanks,
{st}
{phone}""",
        """{st_first} - I'm out {date} through the following Monday. {st2} will cover my inbox and results; for anything urgent page {st3} at {phone}. My email auto-reply is on. - {st_last}""",
        """Team,
Call schedule changes for next month: {dr} is swapping weeks with {dr2}. Please update the on-call board. Questions to {st} ({st_email}, {phone}).""",
    ], 8),
    ("committee-minutes", [
        """Pharmacy & Therapeutics Committee - Minutes
Present: {dr}, {dr2}, {ph} (PharmD), {st}
1. Formulary: approved addition of a second SGLT2 inhibitor; biosimilar adalimumab to replace the reference product July 1.
2. Heparin drip protocol revision tabled until nursing feedback.
3. Drug shortage update: {ph_first} reports IV fluids stable.
Next meeting {date}. Minutes by {st_first}.""",
        """Medical Executive Committee summary
Chair {dr} called the meeting to order at 7:02.
- Credentials: 4 new appointments approved.
- Bylaws: {dr2} presented revised language on telepresence supervision; vote next month.
- Nursing: {rn} reported the new fall-prevention bundle is rolling out on 4 West.
Adjourned 8:10. Recorder {st}.""",
        """Ethics committee - education session notes
Speaker: {dr}, palliative care. Topic: surrogate decision-making when there is no advance directive. Case discussions were hypothetical. Handouts from {st} ({st_email}). Next session led by {dr2} on {date}.""",
    ], 8),
    ("department-newsletter", [
        """Cardiology Quarterly

Welcome to {dr}, who joins our electrophysiology team from {org}, and congratulations to {rn} on her DAISY award. Our structural heart program performed its 200th TAVR this spring. Lunch-and-learn on {date} with {dr2}: "Lp(a) - who to test." Questions: {st_email}.""",
        """Family Medicine News
- Residency graduation is June 14. Keynote: {dr}.
- New walk-in hours at {org} start {date}.
- Shout-out to {st} and {st2} for the clinic's 97% patient-satisfaction score.
Contact the newsletter: {BOX:fm.news@example.org}""",
    ], 6),
    ("coding-education", [
        """Coding Tip of the Week

Type 2 diabetes with diabetic CKD: code {ICD:E11.22} plus the CKD stage, e.g., {ICD:N18.31}. Don't default to {ICD:E11.9} when complications are documented. Hypertension with CKD is {ICD:I12.9} by presumed linkage. Questions: {st}, CPC, {st_email}.""",
        """E/M refresher from {st} (CPC, CRC):
Office visits {CPT:99213} / {CPT:99214} are selected by MDM or total time. Prolonged services add-on {CPT:99417} needs total time documented. Screening colonoscopy that turns diagnostic: {CPT:45385} with modifier PT for Medicare, dx {ICD:Z12.11} first, then {ICD:K63.5}.""",
        """Webinar: ICD-10-CM updates
Presenter: {st}, RHIA
- New specificity under obesity class codes, e.g. {ICD:E66.811}
- Reminder: {ICD:U09.9} post-COVID condition is coded after the manifestations (e.g. {ICD:R53.83}).
- Long-term use of insulin {ICD:Z79.4} vs. oral hypoglycemics {ICD:Z79.84}.
Register via {BOX:him.education@example.org}.""",
        """Pharmacy coding note from {ph}, PharmD: when billing the adalimumab biosimilar, report the 11-digit NDC in 5-4-2 format, e.g. {NDC:00074-4339-02} for the reference pen, and insulin glargine vial {NDC:0088-2220-33} converts to {NDC:00088-2220-33}. Units must match the NDC package.""",
    ], 8),
    ("it-notice", [
        """IT Service Notice
The EHR will be down for upgrade {date} from 01:00 to 05:00. Downtime forms are on the shared drive. Contact the service desk at {phone} or {BOX:servicedesk@example.org}. - {st}, IT Change Management""",
        """Phishing alert: several staff received email claiming to be from payroll asking to "verify direct deposit." Do not click. Report to {BOX:security@example.net}. Thanks to {st} in Radiology for reporting it quickly. - {st2}, Information Security""",
        """{st_first}, your new laptop is ready for pickup at the IT bar, 2nd floor. Bring your badge. Ticket closes Friday. - {st2}, desktop support, ext. 4411, {phone}""",
    ], 7),
    ("hr-benefits", [
        """Open enrollment runs through {date}. Changes this year: the HSA employer contribution rises, and the dental plan adds implant coverage. Benefits office hours with {st}, {st2}. Email {BOX:benefits@example.com} or call {phone}.""",
        """Hi {st_first},
Welcome aboard! Your orientation is {date} at {time}, Room B. Please bring two forms of ID for I-9. Your preceptor will be {rn}. Parking pass from {st2}.
HR Onboarding, {phone}""",
    ], 6),
    ("facilities-notice", [
        """Facilities: Elevator 3 in the Medical Office Building will be out of service {date} for inspection. Use elevators 1-2. Contact {st}, {phone}.""",
        """The water will be shut off on the 3rd floor from 6-8 am {date} for a valve replacement. Clinics on 3 should reschedule early starts. - {st}, Plant Operations ({st_email})""",
    ], 6),
    ("vendor-outreach", [
        """Hi {dr_first},

I'm {st} with a revenue-cycle analytics company. We help practices like {org} cut denials by 30%. Would you have 15 minutes next week for a demo? My direct line is {phone}.

Best,
{st_first}""",
        """Dear {dr},
Thank you for visiting our booth. As promised, the product sheet for our portable bladder scanner is attached; pricing from your rep {st} ({st_email}). Demo units ship from {city}.""",
    ], 5),
    ("public-notice", [
        """Community Health Fair - {date}, 10 am-2 pm, {org} parking lot. Free blood pressure checks, diabetes risk screening, and car seat checks. Questions: {phone}.""",
        """Notice: Beginning {date}, the {city} outpatient pharmacy hours change to 8 am-6 pm weekdays. For after-hours prescriptions please use the 24-hour location. Info: {BOX:pharmacy.info@example.org}.""",
    ], 5),
    ("provider-credentialing", [
        """Credentialing file update
Provider: {dr}, MD
NPI: {npi}
DEA: {dea} (exp. 2027)
Board certification verified. Hospital privileges at {org} renewed. Contact: {st}, Medical Staff Office, {st_email}.""",
        """Hi {st_first}, payer enrollment for {dr} is pending - the group needs her individual NPI ({npi}) linked to our group NPI {npi2}. Can you send the CAQH attestation? - {st2}""",
        """New provider roster for the health plan:
{dr} - NPI {npi} - Internal Medicine
{dr2} - NPI {npi2} - Family Medicine, DEA {dea2}
Effective {date}. Submitted by {st}, {phone}.""",
    ], 6),
]

# Clinical wording identifying nobody: only code labels.
CLINICAL_NO_ID = [
    """Clinic protocol: for patients on SGLT2 inhibitors with diabetic CKD ({ICD:E11.22}), hold the medication 3 days before elective surgery and restart when eating. Check a BMP within 2 weeks of starting.""",
    """Case for teaching rounds: a 64-year-old man with painless hematuria and a 40 pack-year smoking history. What is the workup? Cystoscopy ({CPT:52000}) plus CT urogram; dx {ICD:R31.0} gross hematuria.""",
    """Standing order - post-vasectomy semen analysis ({CPT:89321}) at 12 weeks. If any motile sperm, repeat in 6 weeks. Counsel backup contraception until cleared.""",
    """Reminder to endoscopy staff: GLP-1 agonists - patients on weekly injections should hold one dose before sedation per anesthesia guidance; clear liquids for 24 hours if on these drugs.""",
    """Grand rounds abstract: In adults with COPD ({ICD:J44.9}) and eosinophils over 300, triple inhaled therapy reduced moderate-to-severe exacerbations compared to dual therapy. Discussion of spirometry ({CPT:94010}) thresholds followed.""",
    """Order set text: Before starting a TNF inhibitor, obtain QuantiFERON ({CPT:86480}), hepatitis B surface antigen ({CPT:87340}), and hepatitis C antibody ({CPT:86803}). Do not start in active infection.""",
    """A 29-year-old woman presents 3 weeks postpartum with a tender, erythematous wedge-shaped area of the left breast and fever. Most likely diagnosis: lactational mastitis ({ICD:O91.23}). Continue breastfeeding.""",
    """Protocol: urine drug testing for patients on long-term opioid therapy ({ICD:Z79.891}) at least annually, presumptive screen ({CPT:80305}) with confirmatory testing for unexpected results. Offer naloxone ({NDC:69547-353-02}) to all.""",
    """Board review question: Which antiseizure medication is preferred in a woman of childbearing potential with generalized epilepsy ({ICD:G40.309})? Answer: lamotrigine or levetiracetam; avoid valproate.""",
    """Migraine prevention pathway: onabotulinumtoxinA ({NDC:0023-1145-01}) for chronic migraine ({ICD:G43.709}) after failure of two oral preventives; 155 units using the PREEMPT paradigm ({CPT:64615}).""",
    """KDIGO summary for the nephrology newsletter: stage 3b CKD ({ICD:N18.32}) with albuminuria benefits from an SGLT2 inhibitor regardless of diabetes status. Monitor eGFR after initiation; an initial dip is expected.""",
    """Thyroid nodule algorithm: nodules over 1 cm with high-suspicion sonographic pattern get FNA ({CPT:10005}); Bethesda II is benign, follow ultrasound in 12-24 months. Nontoxic single nodule code {ICD:E04.1}.""",
    """Post-op instructions after septoplasty ({CPT:30520}): saline rinses twice daily, no nose blowing for 1 week, avoid heavy lifting. Call for bleeding that does not stop with 15 minutes of pressure.""",
    """Knee OA handout: corticosteroid injection ({CPT:20610}) gives relief for weeks to months; hyaluronic acid may help some patients. Weight loss and quadriceps strengthening remain first-line for {ICD:M17.0}.""",
    """Expedited partner therapy policy: for chlamydia ({ICD:A56.00}), clinicians may dispense doxycycline or azithromycin for partners without an exam. Test of reinfection at 3 months ({CPT:87491}).""",
    """Hepatitis C simplified treatment: treatment-naive adults without cirrhosis ({ICD:B18.2}) can receive sofosbuvir/velpatasvir ({NDC:61958-2201-1}) for 12 weeks. SVR12 viral load ({CPT:87522}) confirms cure.""",
    """PrEP panel: HIV Ag/Ab ({CPT:87389}) every 3 months, creatinine every 6-12 months, STI screening per risk. Emtricitabine/tenofovir alafenamide ({NDC:61958-2002-1}) not approved for receptive vaginal sex exposure.""",
    """Heart failure self-care teaching: weigh every morning after voiding. Call if weight goes up more than 2 lb in a day or 5 lb in a week. Sacubitril/valsartan ({NDC:0078-0659-20}) for {ICD:I50.22}.""",
    """Tobacco treatment: counseling 3-10 minutes ({CPT:99406}) or over 10 minutes ({CPT:99407}). For nicotine dependence ({ICD:F17.210}), combination NRT or varenicline outperforms single agents.""",
    """Menopause update: for healthy women under 60 within 10 years of menopause ({ICD:N95.1}), benefits of systemic hormone therapy generally outweigh risks. Any postmenopausal bleeding ({ICD:N95.0}) needs evaluation.""",
    """Pediatric endocrinology referral criteria: height below -2.25 SD ({ICD:R62.52}), crossing two major percentile lines, or growth velocity below 4 cm per year. Obtain bone age ({CPT:77072}) before referral.""",
    """Anonymous case for M&M: an 87-year-old woman fell at home, sustained a femoral neck fracture ({ICD:S72.001A}), and developed delirium on postoperative day 2. Discussion focused on early mobilization.""",
    """Tumor-agnostic teaching point: for low-risk localized prostate cancer ({ICD:C61}), active surveillance with PSA ({CPT:84153}) and periodic MRI is preferred over immediate prostatectomy ({CPT:55866}).""",
    """Post-COVID condition ({ICD:U09.9}) guidance: screen for postural tachycardia with a 10-minute stand test; graded exercise is not advised when post-exertional malaise is present.""",
    """Gout management pearls: start allopurinol at 100 mg daily (50 mg in stage 4 CKD) and titrate to urate below 6; give colchicine prophylaxis for 3-6 months. Acute flare of the great toe: {ICD:M10.071}.""",
]


def main(write: Callable[[str], object] | None = None) -> None:
    rng = random.Random(SEED)
    records: list[Span] = []
    for kinds, phi in ((PHI_KINDS, True), (NEG_KINDS, False)):
        for kind, templates, count in kinds:
            for i in range(count):
                records.append(generate(rng, kind, phi, templates[i % len(templates)]))
    for template in CLINICAL_NO_ID:
        records.append(generate(rng, "clinical-no-identifier", False, template))
    rng.shuffle(records)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if write is not None:
        write(text)
    else:
        OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

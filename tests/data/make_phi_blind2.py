"""Generate ``phi_blind2.jsonl``: a second blind, labeled corpus of realistic healthcare email text.

Purpose
-------
A held-back corpus, written without looking at the PHI detector, its tests or its other corpora,
to measure the detector once, honestly, after tuning. Every text is built from a template and
seeded random choices (:data:`SEED`), so the file is reproducible: ``main()`` writes it,
``main(list.append)`` hands the text to a caller (tests use that to check the file is current).

Each line is ``{"text", "spans": [{"start", "end", "label"}], "contains_phi", "kind"}``.

Contents
--------
* About 125 texts **with PHI**, in kinds other than those of the earlier corpora:
  home-health-visit-note, behavioral-health-intake, pediatric-school-form, workers-comp-claim,
  dental-referral, physical-therapy-progress, transplant-coordination, case-management,
  medical-records-request, pathology-result, ambulance-run-report, immunization-record,
  sleep-study-summary, infusion-schedule, caregiver-email, clinical-trial-screening,
  on-call-page, dme-order. Layouts vary on purpose: threads with ``> `` quoted replies,
  signatures with credentials, ``Field: value`` forms, CSV-like rows, ALL CAPS, sloppy
  lowercase, SMS brevity, long narrative, names after ``cc:``, ``attn``, ``re:``, ``pt``,
  ``mom``, ``per``, inside parentheses or ending a sentence.
* About 105 texts **without PHI** (``contains_phi`` false): staff memos naming colleagues with
  their phones and emails, CME / grand-rounds announcements naming speakers, coding education
  quoting codes with no patient, vendor / IT and HR / facilities mail, public health bulletins,
  credentialing mail carrying a clinician's NPI and DEA number, formulary updates quoting NDCs,
  and 30 texts of kind ``clinical-no-identifier`` (clinical guidance identifying nobody).

Labeling rules
--------------
* Labels: PERSON, PHONE_NUMBER, EMAIL_ADDRESS, US_SSN, MEDICAL_RECORD_NUMBER, US_NPI,
  US_DEA_NUMBER, US_MBI, HEALTH_PLAN_ID, DATE_OF_BIRTH, AGE_OVER_89, ICD10_CODE, CPT_CODE,
  NDC_CODE.
* Every occurrence is labeled, whoever it belongs to: a person's name is PERSON whether patient,
  relative, colleague, clinician or speaker, in every form used (``Ana Pérez``, ``Pérez, Ana``,
  ``Ms. Pérez`` -> ``Pérez``, ``Ana``). Titles and credentials (``Dr.``, ``Ms.``, ``RN``) are
  outside the span. Every phone and fax number and every email address is labeled, including
  departmental ones.
* Spans hold only the value: ``MRN: 00482913`` -> ``00482913``; for ``Group/ID: 44120 /
  W123456789`` only the member ID. ``AGE_OVER_89`` covers the number only (``94`` in
  ``94 y/o``); ages under 90 are not labeled. Dates other than birth dates, years,
  organisations, places, claim / accession / lot numbers, room numbers and bare extensions
  (``x4421``) are not labeled.
* HCPCS Level II codes (``E1390``, ``J1745``, ``A0427``) and CDT dental codes (``D7240``) are
  not CPT codes and are left unlabeled where they appear (realistic distractors).
* ``contains_phi`` is true exactly when the text holds a patient identifier (MRN, plan ID, MBI,
  SSN ...) or an identifier of a patient (name, phone, email, birth date, age over 89 ...)
  together with health information about that patient. Colleague contact details, speakers,
  clinician NPI / DEA numbers and codes with no patient are not PHI.

Values are synthetic and valid in form: NPIs pass the Luhn check with the 80840 prefix, DEA
numbers carry their check digit, MBIs follow the CMS character rules, SSNs avoid the never-issued
ranges, phone numbers are 555-01xx, email domains are example.com/.org/.net; ICD-10-CM, CPT and
NDC codes are real ones. :func:`check` verifies all of that, that each span matches its value,
and that no labeled value also occurs unlabeled elsewhere in the same text.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

SEED = 2_0250_602
OUT = Path(__file__).with_name("phi_blind2.jsonl")

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
AGE = "AGE_OVER_89"
ICD = "ICD10_CODE"
CPT = "CPT_CODE"
NDC = "NDC_CODE"
LABELS = (PERSON, PHONE, EMAIL, SSN, MRN, NPI, DEA, MBI, PLAN, DOB, AGE, ICD, CPT, NDC)
CLINICAL_NO_IDENTIFIER = "clinical-no-identifier"

# -- text assembly -------------------------------------------------------------------------


@dataclass(frozen=True)
class V:
    """A value to insert; ``label`` None for plain text."""

    text: str
    label: str | None = None


class Doc:
    """Text as a list of (piece, label) segments; offsets are computed when built."""

    def __init__(self, segs: list[tuple[str, str | None]] | None = None) -> None:
        self.segs = segs or []

    def __add__(self, other: Doc | V | str) -> Doc:
        return Doc(self.segs + as_doc(other).segs)

    def upper(self) -> Doc:
        return Doc([(t.upper(), lab) for t, lab in self.segs])

    def lower(self) -> Doc:
        """Sloppy lowercase: prose and names, identifiers and codes keep their case."""
        return Doc([(t.lower() if lab in (None, PERSON) else t, lab) for t, lab in self.segs])

    def quote(self, prefix: str = "> ") -> Doc:
        """An email reply quote: ``prefix`` before every line."""
        body = list(self.segs)
        while body and body[-1][1] is None and body[-1][0].endswith("\n"):
            body[-1] = (body[-1][0].rstrip("\n"), None)
        segs = [(prefix, None)] + [
            (t.replace("\n", "\n" + prefix) if lab is None else t, lab) for t, lab in body
        ]
        return Doc(segs)

    def build(self) -> tuple[str, list[dict[str, object]]]:
        """Text and spans; a first and a last name separated by one space become one span."""
        segs: list[tuple[str, str | None]] = []
        for piece, label in self.segs:
            if not piece:
                continue
            if (label == PERSON and len(segs) >= 2 and segs[-1] == (" ", None)
                    and segs[-2][1] == PERSON):
                segs[-2:] = [(segs[-2][0] + " " + piece, PERSON)]
            else:
                segs.append((piece, label))
        text, spans, pos = [], [], 0
        for piece, label in segs:
            if label is not None:
                spans.append({"start": pos, "end": pos + len(piece), "label": label})
            text.append(piece)
            pos += len(piece)
        return "".join(text), spans


def as_doc(value: Doc | V | str) -> Doc:
    if isinstance(value, Doc):
        return value
    if isinstance(value, V):
        return Doc([(value.text, value.label)])
    return Doc([(str(value), None)])


_FIELD = re.compile(r"\{([a-z_0-9]+)\}")


def T(template: str, **fields: Doc | V | str | int) -> Doc:
    """Fill ``{name}`` placeholders of a template with text, values or documents.

    A block template (a triple-quoted string opening with a newline and closing on an indented
    empty line) is dedented and loses its first newline; an inline one is used as it is."""
    if template.startswith("\n") and re.search(r"\n[ ]+$", template):
        template = textwrap.dedent(template)[1:]
    doc, pos = Doc(), 0
    for m in _FIELD.finditer(template):
        doc = doc + template[pos : m.start()]
        value = fields[m.group(1)]
        doc = doc + (value if isinstance(value, (Doc, V)) else str(value))
        pos = m.end()
    return doc + template[pos:]


def join(parts: list[Doc | V | str], sep: str = "\n") -> Doc:
    doc = Doc()
    for i, part in enumerate(parts):
        doc = doc + (sep if i else "") + part
    return doc


# -- names ---------------------------------------------------------------------------------

FIRST = [
    "April", "Faith", "Hunter", "Frank", "Bill", "Hope", "Grace", "Joy", "Dawn", "Summer",
    "Will", "Art", "Rosa", "María José", "José", "Zoë", "Renée", "Chloé", "Björn", "Siobhán",
    "Seán", "Aoife", "Ngozi", "Chidi", "Oluwaseun", "Kwame", "Amara", "Aisha", "Fatima", "Omar",
    "Yusuf", "Layla", "Mohammed", "Priya", "Arjun", "Deepak", "Ananya", "Wei", "Mei", "Jun",
    "Hiroshi", "Yuki", "Min-jun", "Seo-yeon", "Thanh", "Linh", "Mateo", "Santiago", "Valentina",
    "Camila", "Luis", "Guadalupe", "Dmitri", "Olga", "Katarzyna", "Tomasz", "Svetlana", "Emma",
    "Liam", "Olivia", "Ethan", "Harper", "Madison", "Tyrone", "Latoya", "DeShawn", "Imani",
    "Keisha", "Jean-Pierre", "Anne-Marie", "Mary Beth", "Giovanni", "Francesca", "Reza",
    "Leilani", "Kai", "Dakota", "Bernadette", "Harold", "Dolores", "Walter", "Eleanor",
]
LAST = [
    "Baker", "King", "Young", "Rich", "Bell", "Brown", "Moody", "Love", "Small", "Strong",
    "García", "Hernández", "López", "Martínez", "Núñez", "Peña", "O'Brien", "O'Connor",
    "McAllister", "MacDonald", "McKenzie", "MacLeod", "D'Angelo", "DiMaggio", "Smith-Jones",
    "Rivera-Ortiz", "Nakamura-Wells", "Okafor", "Adeyemi", "Mensah", "Nwosu", "Abubakar",
    "Haddad", "Khoury", "Al-Sayed", "Rahman", "Chowdhury", "Patel", "Iyer", "Venkataraman",
    "Reddy", "Nguyen", "Tran", "Pham", "Kim", "Park", "Choi", "Zhang", "Wang", "Liu", "Chen",
    "Tanaka", "Sato", "Kowalski", "Nowak", "Wiśniewska", "Ivanova", "Petrov", "Horvath",
    "Schröder", "Müller", "Andersen", "Johansson", "Lindqvist", "Dubois", "Lefèvre", "Rossi",
    "Esposito", "Yılmaz", "Öztürk", "Cohen", "Goldberg", "Washington", "Jefferson",  # noqa: RUF001 (Turkish dotless i)
    "Whitehorse", "Begay", "Kealoha", "Van der Berg", "St. Clair", "De La Cruz",
]
INITIALS = "ABCDEFGHJKLMNPRSTVW"


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    mi: str

    @property
    def full(self) -> V:
        return V(f"{self.first} {self.last}", PERSON)

    @property
    def fn(self) -> V:
        return V(self.first, PERSON)

    @property
    def ln(self) -> V:
        return V(self.last, PERSON)

    @property
    def lf(self) -> V:
        return V(f"{self.last}, {self.first}", PERSON)

    @property
    def mid(self) -> V:
        return V(f"{self.first} {self.mi}. {self.last}", PERSON)

    @property
    def lfm(self) -> V:
        return V(f"{self.last}, {self.first} {self.mi}", PERSON)


def ascii_fold(s: str) -> str:
    s = s.replace("\u0131", "i")  # dotless i has no decomposition
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


# -- codes (real ICD-10-CM, CPT, NDC) ------------------------------------------------------

ICD_DESC = {
    "E11.9": "type 2 diabetes mellitus without complications",
    "E11.65": "type 2 diabetes mellitus with hyperglycemia",
    "E10.9": "type 1 diabetes mellitus without complications",
    "I10": "essential (primary) hypertension",
    "I50.9": "heart failure, unspecified",
    "I48.91": "unspecified atrial fibrillation",
    "I63.9": "cerebral infarction, unspecified",
    "I69.351": "hemiplegia following cerebral infarction affecting right dominant side",
    "J44.1": "COPD with (acute) exacerbation",
    "J45.909": "unspecified asthma, uncomplicated",
    "J18.9": "pneumonia, unspecified organism",
    "Z99.81": "dependence on supplemental oxygen",
    "Z79.01": "long term (current) use of anticoagulants",
    "Z79.4": "long term (current) use of insulin",
    "L89.154": "pressure ulcer of sacral region, stage 4",
    "G30.9": "Alzheimer's disease, unspecified",
    "R26.81": "unsteadiness on feet",
    "M62.81": "muscle weakness (generalized)",
    "F33.1": "major depressive disorder, recurrent, moderate",
    "F32.9": "major depressive disorder, single episode, unspecified",
    "F41.1": "generalized anxiety disorder",
    "F41.0": "panic disorder without agoraphobia",
    "F43.10": "post-traumatic stress disorder, unspecified",
    "F10.20": "alcohol dependence, uncomplicated",
    "F11.20": "opioid dependence, uncomplicated",
    "F31.9": "bipolar disorder, unspecified",
    "F90.0": "ADHD, predominantly inattentive type",
    "F84.0": "autistic disorder",
    "G40.909": "epilepsy, unspecified, not intractable, without status epilepticus",
    "T78.40XA": "allergy, unspecified, initial encounter",
    "Z91.010": "allergy to peanuts",
    "E10.65": "type 1 diabetes mellitus with hyperglycemia",
    "S46.011A": "strain of muscle/tendon of the rotator cuff of right shoulder, initial encounter",
    "S39.012A": "strain of muscle, fascia and tendon of lower back, initial encounter",
    "G56.01": "carpal tunnel syndrome, right upper limb",
    "M54.16": "radiculopathy, lumbar region",
    "S61.411A": "laceration without foreign body of right hand, initial encounter",
    "S93.401A": "sprain of unspecified ligament of right ankle, initial encounter",
    "K01.1": "impacted teeth",
    "K04.7": "periapical abscess without sinus",
    "K02.9": "dental caries, unspecified",
    "M17.11": "unilateral primary osteoarthritis, right knee",
    "Z96.651": "presence of right artificial knee joint",
    "Z47.1": "aftercare following joint replacement surgery",
    "S83.511A": "sprain of anterior cruciate ligament of right knee, initial encounter",
    "M25.561": "pain in right knee",
    "M54.2": "cervicalgia",
    "N18.6": "end stage renal disease",
    "N18.4": "chronic kidney disease, stage 4 (severe)",
    "Z99.2": "dependence on renal dialysis",
    "Z76.82": "awaiting organ transplant status",
    "Z94.0": "kidney transplant status",
    "T86.11": "kidney transplant rejection",
    "K74.60": "unspecified cirrhosis of liver",
    "C50.911": "malignant neoplasm of unspecified site of right female breast",
    "D05.11": "intraductal carcinoma in situ of right breast",
    "D12.5": "benign neoplasm of sigmoid colon",
    "K63.5": "polyp of colon",
    "C18.7": "malignant neoplasm of sigmoid colon",
    "C44.91": "basal cell carcinoma of skin, unspecified",
    "C43.9": "malignant melanoma of skin, unspecified",
    "D22.5": "melanocytic nevi of trunk",
    "R87.613": "high grade squamous intraepithelial lesion on cytologic smear of cervix",
    "N87.1": "moderate cervical dysplasia",
    "C61": "malignant neoplasm of prostate",
    "R07.9": "chest pain, unspecified",
    "R55": "syncope and collapse",
    "S72.001A": "fracture of unspecified part of neck of right femur, initial encounter",
    "R41.82": "altered mental status, unspecified",
    "S06.0X0A": "concussion without loss of consciousness, initial encounter",
    "R56.9": "unspecified convulsions",
    "Z23": "encounter for immunization",
    "Z00.129": "routine child health exam without abnormal findings",
    "G47.33": "obstructive sleep apnea (adult) (pediatric)",
    "G47.00": "insomnia, unspecified",
    "G47.411": "narcolepsy with cataplexy",
    "G25.81": "restless legs syndrome",
    "E66.01": "morbid (severe) obesity due to excess calories",
    "K50.90": "Crohn's disease, unspecified, without complications",
    "K51.90": "ulcerative colitis, unspecified, without complications",
    "M06.9": "rheumatoid arthritis, unspecified",
    "G35": "multiple sclerosis",
    "C34.90": "malignant neoplasm of unspecified part of unspecified bronchus or lung",
    "D50.9": "iron deficiency anemia, unspecified",
    "Z51.11": "encounter for antineoplastic chemotherapy",
    "E78.5": "hyperlipidemia, unspecified",
    "N39.0": "urinary tract infection, site not specified",
    "U07.1": "COVID-19",
    "J06.9": "acute upper respiratory infection, unspecified",
    "A08.4": "viral intestinal infection, unspecified",
    "B05.9": "measles without complication",
    "A37.90": "whooping cough, unspecified species without pneumonia",
    "R50.9": "fever, unspecified",
    "Z86.73": "personal history of TIA and cerebral infarction without residual deficits",
}

CPT_DESC = {
    "99203": "new patient office visit, low MDM",
    "99204": "new patient office visit, moderate MDM",
    "99212": "established patient office visit, straightforward MDM",
    "99213": "established patient office visit, low MDM",
    "99214": "established patient office visit, moderate MDM",
    "99215": "established patient office visit, high MDM",
    "99284": "emergency department visit, moderate MDM",
    "99285": "emergency department visit, high MDM",
    "99348": "home visit, established patient, low MDM",
    "99349": "home visit, established patient, moderate MDM",
    "99495": "transitional care management, moderate complexity",
    "99496": "transitional care management, high complexity",
    "99490": "chronic care management, first 20 minutes",
    "99497": "advance care planning, first 30 minutes",
    "90791": "psychiatric diagnostic evaluation",
    "90792": "psychiatric diagnostic evaluation with medical services",
    "90834": "psychotherapy, 45 minutes",
    "90837": "psychotherapy, 60 minutes",
    "90847": "family psychotherapy with patient present",
    "96127": "brief emotional/behavioral assessment",
    "97110": "therapeutic exercise",
    "97112": "neuromuscular reeducation",
    "97140": "manual therapy",
    "97161": "PT evaluation, low complexity",
    "97162": "PT evaluation, moderate complexity",
    "97163": "PT evaluation, high complexity",
    "97164": "PT re-evaluation",
    "97530": "therapeutic activities",
    "97116": "gait training",
    "97597": "debridement, open wound, first 20 sq cm",
    "95810": "polysomnography, attended, 4 or more parameters",
    "95811": "polysomnography with CPAP titration",
    "95806": "home sleep test, unattended",
    "94660": "CPAP initiation and management",
    "88305": "surgical pathology, level IV",
    "88307": "surgical pathology, level V",
    "88342": "immunohistochemistry, first antibody",
    "45378": "colonoscopy, diagnostic",
    "45380": "colonoscopy with biopsy",
    "45385": "colonoscopy with snare removal",
    "19083": "breast biopsy with ultrasound guidance, first lesion",
    "11102": "tangential biopsy of skin, single lesion",
    "11104": "punch biopsy of skin, single lesion",
    "90471": "immunization administration, first vaccine",
    "90472": "immunization administration, each additional vaccine",
    "90686": "influenza vaccine, quadrivalent, preservative free, IM",
    "90715": "Tdap vaccine, 7 years or older, IM",
    "90707": "MMR vaccine, live, subcutaneous",
    "90716": "varicella vaccine, live, subcutaneous",
    "90700": "DTaP vaccine, younger than 7 years, IM",
    "90713": "poliovirus vaccine, inactivated",
    "90744": "hepatitis B vaccine, pediatric/adolescent, 3-dose",
    "90651": "HPV vaccine, 9-valent",
    "90734": "meningococcal conjugate vaccine (MenACWY)",
    "96365": "IV infusion, therapeutic, initial, up to 1 hour",
    "96366": "IV infusion, therapeutic, each additional hour",
    "96413": "chemotherapy IV infusion, up to 1 hour",
    "96415": "chemotherapy IV infusion, each additional hour",
    "96372": "therapeutic injection, SC or IM",
    "36415": "routine venipuncture",
    "80053": "comprehensive metabolic panel",
    "85025": "CBC with automated differential",
    "83036": "hemoglobin A1c",
    "80061": "lipid panel",
    "71046": "chest X-ray, 2 views",
    "73221": "MRI upper extremity joint without contrast",
    "73721": "MRI lower extremity joint without contrast",
    "72148": "MRI lumbar spine without contrast",
    "70450": "CT head without contrast",
    "29881": "knee arthroscopy with meniscectomy",
    "27447": "total knee arthroplasty",
    "29827": "shoulder arthroscopy with rotator cuff repair",
    "64721": "carpal tunnel release",
    "50360": "renal allotransplantation without recipient nephrectomy",
    "47135": "liver allotransplantation",
    "93000": "electrocardiogram with interpretation and report",
    "93306": "transthoracic echocardiogram, complete, with Doppler",
    "99211": "established patient office visit, minimal",
    "90750": "zoster vaccine, recombinant, adjuvanted, IM",
    "90670": "pneumococcal conjugate vaccine, 13-valent, IM",
    "99291": "critical care, first 30-74 minutes",
}

# NDC in its native segmentation (4-4-2, 5-4-2 or 5-3-2) and the product it names.
NDC_LIST = [
    ("0003-0894-21", "Eliquis (apixaban) 5 mg tablets, bottle of 60"),
    ("0088-2220-33", "Lantus (insulin glargine) 100 units/mL, 10 mL vial"),
    ("0074-4339-02", "Humira (adalimumab) 40 mg/0.8 mL pen kit"),
    ("69547-353-02", "Narcan (naloxone) 4 mg nasal spray, 2-pack"),
    ("49502-500-02", "EpiPen 0.3 mg auto-injector 2-Pak"),
    ("49502-501-02", "EpiPen Jr 0.15 mg auto-injector 2-Pak"),
    ("57894-030-01", "Remicade (infliximab) 100 mg vial"),
    ("0006-3026-02", "Keytruda (pembrolizumab) 100 mg/4 mL vial"),
    ("55513-190-01", "Neulasta (pegfilgrastim) 6 mg/0.6 mL syringe"),
    ("64764-300-20", "Entyvio (vedolizumab) 300 mg vial"),
    ("50242-150-01", "Ocrevus (ocrelizumab) 300 mg/10 mL vial"),
    ("58160-823-11", "Shingrix (zoster vaccine recombinant) single-dose kit"),
    ("49281-400-10", "Adacel (Tdap) 0.5 mL single-dose vials, 10-pack"),
    ("0006-0277-31", "Januvia (sitagliptin) 100 mg tablets, bottle of 30"),
    ("0071-0155-23", "Lipitor (atorvastatin) 10 mg tablets, bottle of 90"),
    ("0173-0682-20", "Ventolin HFA (albuterol) 90 mcg inhaler, 200 actuations"),
]
NDC_BY_NAME = {name.split(" (")[0].split(" ")[0]: code for code, name in NDC_LIST}


def ndc11(native: str) -> str:
    a, b, c = native.split("-")
    return f"{a.zfill(5)}{b.zfill(4)}{c.zfill(2)}"


NDC11 = frozenset(ndc11(code) for code, _ in NDC_LIST)

# -- value generators ----------------------------------------------------------------------

AREA_CODES = ["212", "312", "415", "503", "602", "617", "704", "713", "808", "919", "971",
              "206", "303", "404", "505", "614", "651", "720", "785", "860", "907", "248"]
PHONE_FORMATS = ["({a}) 555-{n}", "{a}-555-{n}", "{a}.555.{n}", "{a} 555 {n}", "+1 {a} 555 {n}",
                 "1-{a}-555-{n}", "{a}555{n}", "({a})555-{n}", "+1-{a}-555-{n}"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
MRN_LABELS = ["MRN:", "MRN", "MRN#", "Med Rec #:", "Med Rec #", "Chart No.", "Chart #:",
              "Acct/MRN:", "MR#", "Medical Record Number:", "EMR ID:", "Patient ID:"]
PAYERS = ["BlueCross BlueShield", "Aetna", "UnitedHealthcare", "Cigna", "Humana",
          "Bluewater Health Plan", "Keystone Community Health Plan", "Medicaid (NY)",
          "Tricare East", "Anthem", "Molina Healthcare", "Cascade Mutual"]
CITIES = ["Toledo", "Spokane", "Tucson", "Macon", "Duluth", "Fresno", "Albany", "Boise",
          "Lansing", "Wichita", "Savannah", "Eugene", "Dayton", "Reno", "Bangor"]


class G:
    """Seeded random choices and synthetic values."""

    def __init__(self, r: random.Random) -> None:
        self.r = r
        self.used: set[str] = set()

    k = 0
    """Index of the text being made within its kind: spreads the layouts evenly."""

    def variant(self, n: int) -> int:
        return self.k % n

    def choice(self, seq):  # type: ignore[no-untyped-def]
        return self.r.choice(seq)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def digits(self, n: int) -> str:
        return "".join(str(self.r.randint(0, 9)) for _ in range(n))

    def person(self, last: str | None = None) -> Person:
        while True:
            p = Person(self.choice(FIRST), last or self.choice(LAST), self.choice(INITIALS))
            if p.first not in self.used and (last or p.last not in self.used):
                self.used.update((p.first, p.last))
                return p

    def phone(self, fmt: str | None = None) -> V:
        a, n = self.choice(AREA_CODES), f"01{self.r.randint(0, 99):02d}"
        return V((fmt or self.choice(PHONE_FORMATS)).format(a=a, n=n), PHONE)

    def email(self, p: Person | None = None, local: str | None = None) -> V:
        if local is None:
            assert p is not None
            f = re.sub(r"[^a-z]", "", ascii_fold(p.first).lower())
            last = re.sub(r"[^a-z]", "", ascii_fold(p.last).lower())
            local = self.choice([f"{f}.{last}", f"{f[0]}{last}", f"{f}{last[0]}", f"{f}_{last}",
                                 f"{f}.{last}{self.r.randint(2, 99)}", f"{last}.{f[0]}"])
        return V(f"{local}@{self.choice(EMAIL_DOMAINS)}", EMAIL)

    def ssn(self) -> V:
        area = self.choice([a for a in range(1, 900) if a != 666])
        group, serial = self.r.randint(1, 99), self.r.randint(1, 9999)
        fmt = self.choice(["{}-{}-{}", "{}-{}-{}", "{} {} {}", "{}{}{}"])
        return V(fmt.format(f"{area:03d}", f"{group:02d}", f"{serial:04d}"), SSN)

    def npi(self) -> V:
        base = self.choice("12") + self.digits(8)
        return V(base + str(luhn_check_digit("80840" + base)), NPI)

    def dea(self, last: str | None = None) -> V:
        first = self.choice("ABFGM")
        second = ascii_fold(last)[0].upper() if last else self.choice("CDHJKLMPRTW")
        d = [self.r.randint(0, 9) for _ in range(6)]
        check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
        return V(first + second + "".join(map(str, d)) + str(check), DEA)

    def mbi(self, dashed: bool | None = None) -> V:
        an = MBI_LETTERS + "0123456789"
        c = [str(self.r.randint(1, 9)), self.choice(MBI_LETTERS), self.choice(an),
             str(self.r.randint(0, 9)), self.choice(MBI_LETTERS), self.choice(an),
             str(self.r.randint(0, 9)), self.choice(MBI_LETTERS), self.choice(MBI_LETTERS),
             str(self.r.randint(0, 9)), str(self.r.randint(0, 9))]
        s = "".join(c)
        if dashed if dashed is not None else self.chance(0.25):
            s = f"{s[:4]}-{s[4:7]}-{s[7:]}"
        return V(s, MBI)

    def mrn(self) -> tuple[str, V]:
        label = self.choice(MRN_LABELS)
        value = self.choice([
            "00" + self.digits(6), self.digits(7), "A" + self.digits(7), "MR-" + self.digits(7),
            f"{self.digits(2)}-{self.digits(2)}-{self.digits(3)}", "E" + self.digits(9),
            self.digits(8), f"{self.digits(4)}-{self.digits(7)}",
        ])
        return label, V(value, MRN)

    def plan(self) -> tuple[str, V]:
        """A label (as printed before the value) and a member / subscriber ID."""
        pre = "".join(self.choice("ACDFGHJKMNPQRTWXYZ") for _ in range(3))
        kinds = [
            ("Member ID:", pre + self.digits(9)),
            ("Subscriber #", f"{self.digits(9)}-0{self.r.randint(1, 4)}"),
            ("Policy No.", "H" + self.digits(8)),
            (f"Group/ID: {self.digits(5)} /", "W" + self.digits(9)),
            ("Ins ID", "W" + self.digits(9)),
            ("Member #", f"U{self.digits(8)} 0{self.r.randint(1, 3)}"),
            ("Medicaid ID:", f"{self.choice('ACDFGHJK')}{self.choice('ACDFGHJK')}"
                             f"{self.digits(5)}{self.choice('ACDFGHJK')}"),
            ("ID#", pre + self.digits(9)),
            ("Subscriber ID:", self.digits(11)),
            ("Ins. member no.", "M" + self.digits(10)),
        ]
        label, value = self.choice(kinds)
        return label, V(value, PLAN)

    def birth(self, lo: int, hi: int, fmt: str | None = None) -> tuple[V, int]:
        y, m, d = self.r.randint(lo, hi), self.r.randint(1, 12), self.r.randint(1, 28)
        months = ["January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"]
        fmts = {
            "us": f"{m:02d}/{d:02d}/{y}", "short": f"{m}/{d}/{y}", "yy": f"{m}/{d}/{y % 100:02d}",
            "iso": f"{y}-{m:02d}-{d:02d}", "long": f"{months[m - 1]} {d}, {y}",
            "dmy": f"{d} {months[m - 1][:3]} {y}", "dash": f"{m:02d}-{d:02d}-{y}",
        }
        key = fmt or self.choice(["us", "us", "short", "yy", "iso", "long", "dmy", "dash"])
        return V(fmts[key], DOB), y

    def dob(self, who: str = "adult", fmt: str | None = None) -> V:
        lo, hi = {"adult": (1940, 2000), "child": (2008, 2021), "elder": (1926, 1934),
                  "older": (1938, 1960)}[who]
        return self.birth(lo, hi, fmt)[0]

    def elder(self, fmt: str | None = None) -> tuple[V, V]:
        """Birth date and matching age (90 or more) as of mid-2025."""
        dob, y = self.birth(1924, 1934, fmt)
        return dob, V(str(2025 - y - self.r.randint(0, 1)), AGE)

    def age90(self) -> V:
        return V(str(self.r.randint(90, 103)), AGE)

    def date(self) -> str:
        m, d = self.r.randint(1, 12), self.r.randint(1, 28)
        return self.choice([f"{m}/{d}/2025", f"{m:02d}/{d:02d}/2025", f"2025-{m:02d}-{d:02d}",
                            f"{m}/{d}", f"{['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1]} {d}"])

    def time(self) -> str:
        h, mi = self.r.randint(7, 17), self.choice(["00", "15", "30", "45"])
        return self.choice([f"{h}:{mi}", f"{h:02d}{mi}", f"{(h - 1) % 12 + 1}:{mi} {'am' if h < 12 else 'pm'}"])

    def icd(self, *codes: str) -> tuple[V, str]:
        code = self.choice(codes)
        return V(code, ICD), ICD_DESC[code]

    def cpt(self, *codes: str) -> tuple[V, str]:
        code = self.choice(codes)
        return V(code, CPT), CPT_DESC[code]

    def ndc(self, *names: str, form: str | None = None) -> tuple[V, str]:
        native = NDC_BY_NAME[self.choice(names)] if names else self.choice(NDC_LIST)[0]
        product = dict(NDC_LIST)[native]
        form = form or self.choice(["native", "native", "native", "dashed11", "plain11"])
        if form == "native":
            value = native
        elif form == "plain11":
            value = ndc11(native)
        else:
            n = ndc11(native)
            value = f"{n[:5]}-{n[5:9]}-{n[9:]}"
        return V(value, NDC), product

    def city(self) -> str:
        return self.choice(CITIES)


def luhn_check_digit(number: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def sig(g: G, p: Person, cred: str, title: str, org: str, *, phone: bool = True,
        email: bool = True, fax: bool = False) -> Doc:
    """An email signature block."""
    lines: list[Doc | V | str] = [T("{name}" + (f", {cred}" if cred else ""), name=p.full)]
    if title:
        lines.append(title)
    lines.append(org)
    if phone:
        lines.append(T("{lab} {ph}", lab=g.choice(["Tel", "Phone:", "P:", "Office:", "Direct:", "o."]),
                       ph=g.phone()))
    if fax:
        lines.append(T("Fax: {ph}", ph=g.phone()))
    if email:
        lines.append(g.email(p))
    return join(lines)


# == texts with PHI =========================================================================
# Each generator returns (document, contains_phi).


def home_health_visit_note(g: G) -> tuple[Doc, bool]:
    pt, rn, doc_ = g.person(), g.person(), g.person()
    rel = g.person(last=pt.last) if g.chance(0.5) else g.person()
    ml, mrn = g.mrn()
    i1, d1 = g.icd("L89.154", "I50.9", "J44.1", "E11.65", "I69.351", "G30.9")
    i2, d2 = g.icd("Z99.81", "Z79.01", "R26.81", "M62.81", "Z79.4")
    agency = g.choice(["Lakeshore Home Health", "VNA of the Valley", "Prairie Home Care Services",
                       "Heartland Visiting Nurses", "Bayside Home Health & Hospice"])
    role = g.choice(["daughter", "son", "husband", "wife", "niece", "neighbor"])
    v = g.variant(3)
    if v == 0:
        dob, age = g.elder() if g.chance(0.5) else (g.dob("older"), None)
        doc = T("""
            {agency} - SKILLED NURSING VISIT NOTE
            Patient: {pt}
            {ml} {mrn}
            DOB: {dob}{age_line}
            Visit date: {date}   Time in: {t1}   Duration: {t2} min
            Clinician: {rn}, RN
            Primary dx: {i1} ({d1})
            Secondary: {i2} ({d2})
            Vitals: BP 148/82, HR 88 irregular, RR 20, SpO2 91% on 2L NC, wt up 3 lb since last visit
            Assessment: bilateral LE edema 2+, crackles at bases. Sacral wound 3.1 x 2.4 cm, moderate serous drainage, no odor.
            Teaching: low-sodium diet and daily weights reviewed with {role} {rel} ({relph}), who verbalized understanding.
            Plan: notify Dr. {docl} re weight gain; next SN visit {date2}.
            """, agency=agency, pt=pt.full, ml=ml, mrn=mrn, dob=dob,
                age_line=T("   Age: {a}", a=age) if age else "", date=g.date(), t1=g.time(),
                t2=g.choice(["45", "50", "60", "75"]), rn=rn.full, i1=i1, d1=d1, i2=i2, d2=d2, role=role, rel=rel.full,
                relph=g.phone(), docl=doc_.ln, date2=g.date())
    elif v == 1:
        age = g.age90()
        doc = T("""
            Subject: {ptl} - wt gain / edema

            Hi Dr. {docl},

            Saw Mrs. {ptl} at home this morning. As you know she's {age} and lives with her {role} {relf}. Weight is up 4 lb in 3 days, 2+ pitting edema to the knees, and she was more short of breath walking to the bathroom. Lungs with crackles at both bases, SpO2 90% RA. She admits she has been eating canned soup again. Her {role} says she missed two doses of furosemide last week.

            Can we get a one-time extra dose of Lasix or do you want her seen in clinic? {relf} can be reached at {relph} to set up transport. I'll be back out {date}.

            Thanks,
            {sig}
            """, ptl=pt.ln, docl=doc_.ln, age=age, role=role, relf=rel.fn, relph=g.phone(),
                date=g.date(), sig=sig(g, rn, g.choice(["RN", "RN, BSN", "RN, CWOCN"]),
                                        "Field Nurse", agency))
    else:
        mb = g.mbi()
        doc = T("""
            OASIS SOC SUMMARY - {agency}
            PT NAME: {lf}
            MBI: {mb}
            {ml} {mrn}
            DOB: {dob}
            M1021 PRIMARY DX: {i1} {d1}
            M1023 OTHER DX: {i2} {d2}
            HOMEBOUND STATUS: REQUIRES WALKER AND ASSIST OF 1, LEAVES HOME ONLY FOR MD VISITS
            VISIT PLAN: SN 2W4, PT 2W3, HHA 1W4
            CAREGIVER: {rel} ({role}) {relph}
            ASSESSING CLINICIAN: {rn}, RN
            """, agency=agency, lf=pt.lf, mb=mb, ml=ml, mrn=mrn, dob=g.dob("older"), i1=i1,
                d1=d1, i2=i2, d2=d2, rel=rel.full, role=role, relph=g.phone(), rn=rn.full).upper()
    return doc, True


def behavioral_health_intake(g: G) -> tuple[Doc, bool]:
    pt, clin, coord = g.person(), g.person(), g.person()
    org = g.choice(["Northgate Behavioral Health", "Clearwater Counseling Associates",
                    "Riverbend Community Mental Health", "Harborview Psychiatry Group"])
    i1, d1 = g.icd("F41.0", "F41.1", "F33.1", "F43.10")
    i2, d2 = g.icd("F10.20", "F11.20")
    cp, cpd = g.cpt("90791", "90792")
    pl, plan = g.plan()
    v = g.variant(3)
    if v == 0:
        ec = g.person()
        doc = T("""
            NEW CLIENT INTAKE - {org}
            Client name: {pt}          Preferred name: {ptf}
            DOB: {dob}     SSN: {ssn}     Phone: {ph}     Email: {em}
            Insurance: {payer}   {pl} {plan}
            Referral source: {src}
            Presenting concern: increased panic attacks (3-4/wk), poor sleep, missed work x2 weeks.
            PHQ-9: 17   GAD-7: 15   C-SSRS screen: negative
            Substance use: reports 4-6 drinks most nights; no prior treatment.
            Provisional dx: {i1} {d1}; {i2} {d2}
            Scheduled: {cp} ({cpd}) with {clin}, {cred} on {date} at {time}
            Emergency contact: {ec} ({ecrel}) {ecph}
            """, org=org, pt=pt.full, ptf=pt.fn, dob=g.dob(), ssn=g.ssn(), ph=g.phone(), em=g.email(pt),
                payer=g.choice(PAYERS), pl=pl, plan=plan,
                src=g.choice(["PCP", "self", "EAP", "ED discharge"]), i1=i1, d1=d1, i2=i2, d2=d2,
                cp=cp, cpd=cpd, clin=clin.full, cred=g.choice(["LCSW", "PsyD", "LPC", "PMHNP-BC"]),
                date=g.date(), time=g.time(), ec=ec.full,
                ecrel=g.choice(["sister", "partner", "father", "friend"]), ecph=g.phone())
    else:
        inner = T("""
            hey {clinf} - new intake for thurs {time}. {pt} (dob {dob}), self referred, panic attacks + drinking more since the divorce, audit-c 9, denies si. ok to leave vm at {ph}. ins is {payer} {pl} {plan}. i put him down for {cp} eval. lmk if you cant take him
            -{coordf}
            """, clinf=clin.fn, time=g.time(), pt=pt.full, dob=g.dob(), ph=g.phone(),
                  payer=g.choice(PAYERS), pl=pl, plan=plan, cp=cp, coordf=coord.fn).lower()
        if v == 1:
            doc = inner
        else:
            psy = g.person()
            doc = T("""
                Yes, I can take him Thursday. Please send the ROI for his prior psychiatrist (Dr. {psyl}) so I can get the med history before the eval - he was on sertraline at some point. Also add a {sc} for the screeners.

                {clin}, {cred}

                On {date}, {coord} <{cem}> wrote:
                """, psyl=psy.ln, clin=clin.full, cred=g.choice(["LCSW", "PsyD", "LPC"]),
                    date=g.date(), coord=coord.full, cem=g.email(coord),
                    sc=g.cpt("96127")[0]) + inner.quote()
    return doc, True


def pediatric_school_form(g: G) -> tuple[Doc, bool]:
    parent = g.person()
    child = g.person(last=parent.last) if g.chance(0.7) else g.person()
    doc_, nurse = g.person(), g.person()
    school = g.choice(["Lincoln Elementary", "Westview Middle School", "Oak Hollow Elementary",
                       "Jefferson Davis K-8", "Maple Grove Academy"])
    cond = g.choice(["allergy", "asthma", "seizure", "adhd"])
    if cond == "allergy":
        ic, dsc = g.icd("Z91.010", "T78.40XA")
        nd, prod = g.ndc("EpiPen")
        med = T("{prod}  NDC {nd}", prod=prod, nd=nd)
        when = "Give immediately for signs of anaphylaxis after known or suspected peanut exposure; call 911."
    elif cond == "asthma":
        ic, dsc = g.icd("J45.909")
        nd, prod = g.ndc("Ventolin")
        med = T("{prod}  NDC {nd}", prod=prod, nd=nd)
        when = "2 puffs with spacer every 4 hours as needed for cough or wheeze, and 15 min before PE."
    elif cond == "seizure":
        ic, dsc = g.icd("G40.909")
        med = "Diazepam rectal gel 10 mg"
        when = "For a seizure lasting longer than 5 minutes; call 911 and parent."
    else:
        ic, dsc = g.icd("F90.0")
        med = "Methylphenidate 5 mg tablet"
        when = "1 tablet at 12:00 with lunch on school days."
    v = g.variant(3)
    if v == 0:
        doc = T("""
            MEDICATION AUTHORIZATION FOR SCHOOL
            Student: {child}     DOB: {dob}     Grade: {grade}     School: {school}
            Parent/Guardian: {parent}     Phone: {ph}
            Diagnosis: {ic} - {dsc}
            Medication: {med}
            When to give: {when}
            May self-carry: {selfc}
            Prescriber: {doc}, {cred}   NPI: {npi}   Office: {dph}
            """, child=child.full, dob=g.dob("child"), grade=g.choice(["K", "2", "4", "6", "8"]),
                school=school, parent=parent.full, ph=g.phone(), ic=ic, dsc=dsc, med=med,
                when=when, selfc=g.choice(["Yes", "No"]), doc=doc_.full,
                cred=g.choice(["MD", "DO", "CPNP"]), npi=g.npi(), dph=g.phone())
    elif v == 1:
        inner = T("""
            Hello,

            I'm the nurse at {school}. {childf} {childl} (DOB {dob}) is in Ms. {teacher}'s class and her {cond} plan on file expired in June. Mom says the office has the new one - could you fax the signed form and the medication order to {fax}? Until then we can't keep {med2} in the health room.

            Thank you,
            {sig}
            """, school=school, childf=child.fn, childl=child.ln, dob=g.dob("child"),
                  teacher=g.person().ln, cond=cond if cond != "adhd" else "medication", fax=g.phone(),
                  med2="her " + ("EpiPen" if cond == "allergy" else "inhaler" if cond == "asthma" else "medication"),
                  sig=sig(g, nurse, "RN, NCSN", "School Nurse", school + ", " + g.city() + " Public Schools"))
        doc = T("""
            Re: {childf} {childl} - updated {cond} plan

            Faxed this morning to the number below, including {ic} on the form. Dr. {docl} signed it. Let me know if anything is missing.
            - {front}, front desk, Cedar Valley Pediatrics

            """, childf=child.fn, childl=child.ln, cond=cond if cond != "adhd" else "medication",
                ic=ic, docl=doc_.ln, front=g.person().fn) + inner.quote()
    else:
        doc = T("""
            hi its {parentf}, {childf}'s mom. school needs the {what} form signed by dr {docl} before monday or she cant {act}. her dob is {dob}. can u fax it to {fax}? thx
            """, parentf=parent.fn, childf=child.fn,
                what={"allergy": "epipen", "asthma": "inhaler", "seizure": "seizure plan", "adhd": "adhd med"}[cond],
                docl=doc_.ln, act=g.choice(["go on the field trip", "start school", "play soccer"]),
                dob=g.dob("child", fmt=g.choice(["short", "yy"])), fax=g.phone()).lower()
    return doc, True


def workers_comp_claim(g: G) -> tuple[Doc, bool]:
    adj, doc_ = g.person(), g.person()
    carrier = g.choice(["Keystone Workers' Comp Services", "Granite State Casualty",
                        "Pinnacle Employers Mutual", "Lone Star Comp Insurance"])
    employer = g.choice(["Midwest Pallet Co.", "Sunrise Senior Living", "Tri-County Freight",
                         "Valley Fresh Foods", "Metro Transit Authority"])
    v = g.variant(3)
    if v == 0:
        cl = g.person()
        ic, dsc = g.icd("S46.011A", "S39.012A", "G56.01", "M54.16", "S61.411A", "S93.401A")
        c1, _ = g.cpt("99203", "99204")
        c2, c2d = g.cpt("73221", "72148", "73721")
        doc = T("""
            EMPLOYER'S FIRST REPORT / PROVIDER BILLING SUMMARY
            Carrier: {carrier}     Claim #: WC-{cn}
            Claimant: {cl}     SSN: {ssn}     DOB: {dob}
            Employer: {employer}     Date of injury: {doi}
            Mechanism: lifting a 60 lb case overhead, felt a pop, immediate pain
            Diagnosis (ICD-10): {ic} - {dsc}
            Services: {c1} initial visit; {c2} ({c2d}) authorized
            Work status: modified duty, no lifting > 10 lb, no overhead reaching x 2 weeks
            Treating provider: {doc}, MD   NPI {npi}
            Adjuster: {adj}  {aph}  {aem}
            """, carrier=carrier, cn=g.digits(8), cl=cl.full, ssn=g.ssn(), dob=g.dob(),
                employer=employer, doi=g.date(), ic=ic, dsc=dsc, c1=c1, c2=c2, c2d=c2d,
                doc=doc_.full, npi=g.npi(), adj=adj.full, aph=g.phone(), aem=g.email(adj))
    elif v == 1:
        cl = g.person()
        ic, dsc = g.icd("S46.011A", "S39.012A", "G56.01", "M54.16")
        cp, cpd = g.cpt("29827", "64721", "97110")
        subj = T("RE: CLAIM WC-{cn} / {cl} / DOI {doi}", cn=g.digits(8), cl=cl.lf, doi=g.date()).upper()
        doc = subj + T("""


            attn {docf} {docl} / Occupational Medicine

            Dr. {docl}, I am the adjuster assigned to the above claim for {clf} {cll} ({employer}). We received the request for {cp} ({cpd}) for {ic}. Before UR can review I need the last two office notes, the MRI report and a current work status slip. Please also confirm whether the claimant reached MMI or if an impairment rating is pending.

            You can fax to {fax} or reply here.

            {adj}
            Senior Claims Adjuster, {carrier}
            {aph}
            """, docf=doc_.fn, docl=doc_.ln, clf=cl.fn, cll=cl.ln, employer=employer, cp=cp,
                cpd=cpd, ic=ic, fax=g.phone(), adj=adj.full, carrier=carrier, aph=g.phone())
    else:
        rows = [T("claim_no,claimant,ssn,doi,dos,icd10,cpt,charge")]
        for _ in range(g.r.randint(2, 4)):
            cl = g.person()
            ic, _d = g.icd("S46.011A", "S39.012A", "G56.01", "M54.16", "S61.411A", "S93.401A")
            cp, _c = g.cpt("99203", "99213", "97110", "97140", "73221", "72148")
            rows.append(T("WC-{cn},\"{cl}\",{ssn},{doi},{dos},{ic},{cp},{amt}", cn=g.digits(8),
                          cl=cl.lf, ssn=g.ssn(),
                          doi=g.date(), dos=g.date(), ic=ic, cp=cp, amt=f"{g.r.randint(90, 900)}.00"))
        doc = T("""
            {adjf} - attached is the batch for {carrier}, pasted below in case the attachment gets stripped. Two of these are still missing the first report.

            """, adjf=adj.fn, carrier=carrier) + join(rows) + T("\n\nThanks, {bill}\nBilling, Summit Occupational Health", bill=g.person().fn)
    return doc, True


def dental_referral(g: G) -> tuple[Doc, bool]:
    pt, dds, surg = g.person(), g.person(), g.person()
    practice = g.choice(["Harbor Point Dental", "Smile Studio of " + g.city(), "Bright Creek Family Dentistry"])
    v = g.variant(3)
    if v == 0:
        pl, plan = g.plan()
        ic, dsc = g.icd("K01.1")
        nd, prod = g.ndc("Eliquis")
        doc = T("""
            ORAL SURGERY REFERRAL
            To: Dr. {surgl}, {surgpr}
            From: {dds}, DDS - {practice} - {dph}
            Patient: {pt}    DOB: {dob}    Cell: {ph}
            Dental ins: Delta Dental   {pl} {plan}
            Reason: {ic} ({dsc}), teeth #1, 16, 17, 32; #32 mesioangular, in proximity to IAN canal
            Requested: eval for extraction (D7240 x4), IV sedation consult
            Medical hx: atrial fibrillation on apixaban ({prod}, NDC {nd}) - please coordinate hold with cardiology
            Pano (D0330) taken {date}, sent via secure email.
            """, surgl=surg.ln, surgpr=g.choice(["Lakeside Oral & Maxillofacial Surgery", "Valley OMFS"]),
                dds=dds.full, practice=practice, dph=g.phone(), pt=pt.full, dob=g.dob(),
                ph=g.phone(), pl=pl, plan=plan, ic=ic, dsc=dsc, prod=prod.split(" (")[0], nd=nd,
                date=g.date())
    elif v == 1:
        ic, dsc = g.icd("K04.7")
        ic2, _ = g.icd("E11.65")
        doc = T("""
            Subject: re: {pt} - lower left swelling

            {surgf},

            Thanks for squeezing {ptf} in. Quick summary: periapical abscess #19 ({ic}), swelling started Sunday, afebrile in our office, opens 30 mm. She is a poorly controlled diabetic ({ic2}, last A1c she reports was 10.4) so I started amoxicillin 500 tid and told her to go to the ED if the swelling spreads under the jaw. Her number is {ph} and she prefers texts.

            Best,
            {sig}
            """, pt=pt.full, surgf=surg.fn, ptf=pt.fn, ic=ic, ic2=ic2, ph=g.phone(),
                sig=sig(g, dds, "DMD", "", practice))
    else:
        ml, mrn = g.mrn()
        doc = T("""
            pt {ptf} {ptl} called 8:40, pain lower right x3 days, woke her up last night, took ibuprofen 800 no help. {ml} {mrn}. hx of caries on #30 ({ic}), was supposed to come back for the crown prep (D2740). offered 2:15 w dr {ddsl}, she accepted. cb {ph} -{front}
            """, ptf=pt.fn, ptl=pt.ln, ml=ml, mrn=mrn, ic=g.icd("K02.9")[0], ddsl=dds.ln,
                ph=g.phone(), front=g.person().fn).lower()
    return doc, True


def physical_therapy_progress(g: G) -> tuple[Doc, bool]:
    pt, ther, surg = g.person(), g.person(), g.person()
    clinic = g.choice(["Summit Physical Therapy", "MotionWorks PT", "Riverside Rehab & Sports Medicine"])
    v = g.variant(3)
    if v == 0:
        ml, mrn = g.mrn()
        codes = [g.cpt("97110")[0], g.cpt("97140")[0], g.cpt("97530", "97116", "97112")[0]]
        doc = T("""
            PHYSICAL THERAPY PROGRESS NOTE - {clinic}
            Name: {pt}     {ml} {mrn}     DOB: {dob}
            Referring: Dr. {surg}
            Dx: {i1} / {i2} / {i3}
            Visit 8 of 12 authorized.
            S: Pt reports knee pain 3/10, walking community distances with a cane, still stiff in the mornings.
            O: AROM flexion 108 deg (prev 95), extension lacks 4 deg. Quad lag resolved. TUG 11.2 s.
            A: Progressing toward goals; flexion remains limited for stair reciprocation.
            P: Continue 2x/wk x 3 wks. Billed today: {c1} x2, {c2} x1, {c3} x1.
            {ther}, PT, DPT   NPI {npi}
            """, clinic=clinic, pt=pt.full, ml=ml, mrn=mrn, dob=g.dob("older"), surg=surg.full,
                i1=g.icd("Z47.1")[0], i2=g.icd("Z96.651")[0], i3=g.icd("M17.11")[0],
                c1=codes[0], c2=codes[1], c3=codes[2], ther=ther.full, npi=g.npi())
    elif v == 1:
        doc = T("""
            Re: {lf} - 6 wk post-op TKA

            Dr. {surgl},

            Update on {ptf} ahead of her post-op visit {date}: flexion is stuck at 95 degrees despite manual therapy ({c1}) and daily HEP. Extension is full. She is off the walker but says the knee feels "tight like a drum" after 10 minutes. No signs of infection. Would you consider an MUA if she isn't at 100 by week 8? Happy to send the flowsheet.

            {ther}, PT, DPT, OCS
            {clinic}  |  {tph}
            """, lf=pt.lf, surgl=surg.ln, ptf=pt.fn, date=g.date(), c1=g.cpt("97140")[0],
                ther=ther.full, clinic=clinic, tph=g.phone())
    else:
        parent = g.person(last=pt.last)
        ic, dsc = g.icd("S83.511A")
        ce, ced = g.cpt("97164")
        doc = T("""
            RE-EVALUATION ({ce} - {ced})
            Patient: {pt} (age 16), DOB {dob}
            Dx: {ic} {dsc}; s/p ACL reconstruction with hamstring autograft
            Quad index 78%, single-leg hop 81% of uninvolved side. Not yet cleared for cutting.
            Discussed with mom ({parent}) - she asked about the fall season; explained return-to-sport testing at month 9.
            Next visit {date}.  -{ther}, DPT
            """, ce=ce, ced=ced, pt=pt.full, dob=g.birth(2008, 2009)[0], ic=ic, dsc=dsc, parent=parent.full,
                date=g.date(), ther=ther.full)
    return doc, True


def transplant_coordination(g: G) -> tuple[Doc, bool]:
    pt, coord, neph = g.person(), g.person(), g.person()
    center = g.choice(["Mercy Regional Transplant Center", "University Abdominal Transplant Program",
                       "St. Brigid Kidney & Pancreas Institute"])
    v = g.variant(3)
    if v == 0:
        donor = g.person(last=pt.last) if g.chance(0.5) else g.person()
        ml, mrn = g.mrn()
        doc = T("""
            Dr. {nephl},

            Your patient {pt} ({ml} {mrn}) remains active on the deceased donor list ({z1}); he is on HD MWF at the {city} unit for {n1}, cPRA 82%. Good news: his {rel} {donor} completed the living donor workup on {date} and was approved at committee. Crossmatch is scheduled for next week. We are tentatively holding an OR date for {cpt} in late {month}.

            Please send his most recent dialysis adequacy labs and confirm he is still on the same phosphate binder. I will call {ptf} at {ph} today to go over the plan.

            {sig}
            """, nephl=neph.ln, pt=pt.full, ml=ml, mrn=mrn, z1=g.icd("Z76.82")[0],
                city=g.city(), n1=g.icd("N18.6")[0], rel=g.choice(["sister", "brother", "cousin", "coworker"]),
                donor=donor.full, date=g.date(), cpt=g.cpt("50360")[0],
                month=g.choice(["July", "August", "September"]), ptf=pt.fn, ph=g.phone(),
                sig=sig(g, coord, "RN, CCTC", "Pre-Transplant Coordinator", center))
    elif v == 1:
        doc = T("""
            {ptf} -- your tacrolimus level from Monday was 4.1 (goal 6-8) and creatinine is up to 1.9 from 1.4. Dr. {nephl} wants you to increase to 3 mg twice a day and repeat labs Thursday before your morning dose. If you have fever, less urine, or pain over the kidney, call the transplant line right away at {tph}.

            -- {coordf}, transplant coordinator
            (re: {pt}, {z}, transplant {date})
            """, ptf=pt.fn, nephl=neph.ln, tph=g.phone(), coordf=coord.fn, pt=pt.lf,
                z=g.icd("Z94.0")[0], date=g.date())
    else:
        mb = g.mbi()
        doc = T("""
            TRANSPLANT EVALUATION REFERRAL
            Patient: {pt}
            DOB: {dob}
            Medicare (ESRD) MBI: {mb}
            Secondary: {payer}, {pl} {plan}
            Diagnoses: {n1} end stage renal disease; {z2} dependence on dialysis; {e} diabetes
            Dialysis unit: {unit}, contact {sw} (social work) {swph}
            Referring nephrologist: {neph}, MD, NPI {npi}
            Patient phone: {ph}   Preferred language: {lang}
            """, pt=pt.mid, dob=g.dob("older"), mb=mb, payer=g.choice(PAYERS), pl=g.plan()[0],
                plan=g.plan()[1], n1=g.icd("N18.6")[0], z2=g.icd("Z99.2")[0],
                e=g.icd("E11.9", "E11.65")[0], unit=g.choice(["DaVita " + g.city(), "Fresenius Northside"]),
                sw=g.person().full, swph=g.phone(), neph=neph.full, npi=g.npi(), ph=g.phone(),
                lang=g.choice(["Spanish", "Vietnamese", "English", "Arabic"]))
    return doc, True


def case_management(g: G) -> tuple[Doc, bool]:
    pt, cm, hcm = g.person(), g.person(), g.person()
    plan_name = g.choice(["Bluewater Health Plan", "Keystone Community Health Plan", "Cascade Mutual Medicare Advantage"])
    v = g.variant(3)
    if v == 0:
        pl, plan = g.plan()
        doc = T("""
            To: {hcm_em}
            cc: {cc1}; {cc2}
            Subject: High-risk member outreach

            Hi {hcmf},

            Member: {pt}     {pl} {plan}     DOB: {dob}
            Dx: {i1} ({d1}), {i2} ({d2})
            Two admissions in 30 days for volume overload. Member enrolled in our CHF program and eligible for CCM ({cp}). She told me she can't afford her torsemide copay and has no scale at home - we are mailing one. Can you make sure the discharge plan includes a cardiology follow-up within 7 days?

            {sig}
            """, hcm_em=g.email(hcm), cc1=g.person().full, cc2=g.person().full, hcmf=hcm.fn,
                pt=pt.full, pl=pl, plan=plan, dob=g.dob("older"), i1=g.icd("I50.9")[0],
                d1=ICD_DESC["I50.9"], i2=g.icd("N18.4")[0], d2=ICD_DESC["N18.4"], cp=g.cpt("99490")[0],
                sig=sig(g, cm, "RN, CCM", "Case Manager", plan_name))
    elif v == 1:
        inner = T("""
            {hcmf}, any update on discharge planning for our member ({pt})? Auth for SNF is approved through {date}.
            {cm}
            """, hcmf=hcm.fn, pt=pt.full, date=g.date(), cm=cm.full)
        doc = T("""
            {cmf},

            Family declined SNF - {ptf} is going home with home health and outpatient PT. Son is staying with her for two weeks. She still needs a rolling walker and 3-in-1 commode ordered. PCP follow-up booked with Dr. {pcpl}. TCM ({cp}) will be billed by the PCP office.

            {hcm}, MSW, LCSW
            Inpatient Care Management

            """, cmf=cm.fn, ptf=pt.fn, pcpl=g.person().ln, cp=g.cpt("99495", "99496")[0],
                hcm=hcm.full) + inner.quote()
    else:
        mb = g.mbi()
        dob, age = g.elder()
        doc = T("""
            CASE NOTE {date} - telephonic
            Member {lf}, MBI {mb}, DOB {dob} ({age} y/o). Spoke with member and granddaughter {gd}. Member fell at home last week, no fracture, now afraid to walk. {i1} and {i2} on file. Referred for home safety eval and PT; reviewed medication list - still taking an old bottle of warfarin alongside apixaban, instructed to stop warfarin and called prescriber's office. Will f/u in 3 days at {ph}.
            - {cm}, RN
            """, date=g.date(), lf=pt.lf, mb=mb, dob=dob, age=age, gd=g.person().full,
                i1=g.icd("R26.81")[0], i2=g.icd("Z79.01")[0], ph=g.phone(), cm=cm.full)
    return doc, True


def medical_records_request(g: G) -> tuple[Doc, bool]:
    pt = g.person()
    v = g.variant(3)
    if v == 0:
        atty, para = g.person(), g.person()
        doc = T("""
            VIA FAX AND EMAIL
            {date}

            Health Information Management
            St. Brigid Medical Center

            Re: Our client: {pt}
                Date of birth: {dob}
                SSN: {ssn}
                Date of injury: {doi}

            Dear Custodian of Records,

            This office represents the above-named patient for injuries sustained in a motor vehicle collision. Enclosed is a HIPAA-compliant authorization signed by our client. Please provide complete certified copies of all records, including emergency department notes, imaging reports (CT of the head and cervical spine), orthopedic clinic notes, physical therapy records and itemized billing with CPT and ICD-10 codes, for dates of service from {d1} to present.

            Please direct questions to my paralegal, {para}, at {pph} or {pem}.

            Very truly yours,
            {atty}, Esq.
            """, date=g.date(), pt=pt.full, dob=g.dob(), ssn=g.ssn(), doi=g.date(), d1=g.date(),
                para=para.full, pph=g.phone(), pem=g.email(para), atty=atty.full)
    elif v == 1:
        surg = g.person()
        doc = T("""
            Hello, I need a copy of my records from my knee surgery with Dr. {surgl} in March (meniscus repair, I think the code was {cp}) and the physical therapy after. I'm switching to a new orthopedist out of state. My name is {pt}, date of birth {dob}{ssn}. You can reach me at {ph} or this email ({em}). Thanks so much!
            """, surgl=surg.ln, cp=g.cpt("29881")[0], pt=pt.full, dob=g.dob(), ph=g.phone(),
                em=g.email(pt), ssn=T(", SSN {s}", s=g.ssn()) if g.chance(0.5) else "")
    else:
        rows = [T("logged,requester,patient,mrn,dob,records,status")]
        for _ in range(g.r.randint(2, 4)):
            p = g.person()
            _ml, mrn = g.mrn()
            rows.append(T("{d},{req},\"{p}\",{mrn},{dob},{rec},{st}", d=g.date(),
                          req=g.choice(["SSA disability", "patient", "Allstate", "law office", "new PCP"]),
                          p=p.lf, mrn=mrn, dob=g.dob(fmt="us"),
                          rec=g.choice(["ED 2024 + labs", "oncology notes", "behavioral health (needs specific auth)", "OB records", "imaging CDs"]),
                          st=g.choice(["pending auth", "sent", "invoiced", "on hold"])))
        doc = T("ROI queue as of this morning - {him}, can you take whatever is on hold?\n\n", him=g.person().fn) + join(rows)
    return doc, True


def pathology_result(g: G) -> tuple[Doc, bool]:
    pt, path, surg = g.person(), g.person(), g.person()
    case = g.choice(["colon", "breast", "skin", "cervix"])
    if case == "colon":
        spec = "Sigmoid colon polyp, snare polypectomy"
        dx = "Tubular adenoma, low-grade dysplasia. Margins free."
        ic = g.icd("D12.5", "K63.5")[0]
        proc = g.cpt("45385")[0]
        pc = g.cpt("88305")[0]
    elif case == "breast":
        spec = "Right breast, 10 o'clock, ultrasound-guided core biopsy"
        dx = "Invasive ductal carcinoma, Nottingham grade 2. ER positive (95%), PR positive (60%), HER2 equivocal (2+), FISH to follow."
        ic = g.icd("C50.911")[0]
        proc = g.cpt("19083")[0]
        pc = g.cpt("88342")[0]
    elif case == "skin":
        spec = "Skin, left upper back, shave biopsy"
        dx = "Basal cell carcinoma, nodular type, extending to deep margin."
        ic = g.icd("C44.91")[0]
        proc = g.cpt("11102")[0]
        pc = g.cpt("88305")[0]
    else:
        spec = "Cervix, colposcopic biopsies at 12 and 3 o'clock"
        dx = "High-grade squamous intraepithelial lesion (CIN 2)."
        ic = g.icd("N87.1")[0]
        proc = None
        pc = g.cpt("88305")[0]
    ml, mrn = g.mrn()
    v = g.variant(3)
    if v == 0:
        doc = T("""
            SURGICAL PATHOLOGY REPORT
            Patient: {lf}     {ml} {mrn}     DOB: {dob}     Sex: {sex}
            Accession: S25-{acc}     Collected: {date}     Received: {date2}
            Submitting physician: {surg}, MD
            Specimen: {spec}
            FINAL DIAGNOSIS: {dx}
            ICD-10: {ic}     CPT: {pc}{proc}
            Electronically signed by {path}, MD, {date2}
            """, lf=pt.lf, ml=ml, mrn=mrn, dob=g.dob("older"), sex=g.choice(["F", "M"]) if case in ("colon", "skin") else "F",
                acc=g.digits(5), date=g.date(), date2=g.date(), surg=surg.full, spec=spec, dx=dx,
                ic=ic, pc=pc, proc=T(", {p}", p=proc) if proc else "", path=path.full)
    elif v == 1:
        doc = T("""
            {surgf} - FYI on {ptl} ({ml} {mrn}), signed out this morning: {dx} I called it {ic}. Happy to show you the slides at tumor board Thursday if you want. Let me know if you want additional stains.
            {pathf}
            """, surgf=surg.fn, ptl=pt.ln, ml=ml, mrn=mrn, dx=dx, ic=ic, pathf=path.fn)
    else:
        doc = T("""
            PATHOLOGY RESULT NOTIFICATION
            PT: {lf}   DOB {dob}   {ml} {mrn}
            SPECIMEN: {spec}
            DX: {dx}
            CODES: {ic} / {pc}
            ORDERING: {surg}   CALLED TO {rn} RN AT {time}
            """, lf=pt.lf, dob=g.dob(), ml=ml, mrn=mrn, spec=spec, dx=dx, ic=ic, pc=pc,
                surg=surg.full, rn=g.person().full, time=g.time()).upper()
    return doc, True


def ambulance_run_report(g: G) -> tuple[Doc, bool]:
    pt, medic, emt = g.person(), g.person(), g.person()
    dest = g.choice(["St. Brigid Medical Center", "Mercy Regional", "County General"])
    v = g.variant(3)
    if v == 0:
        dob, age = g.elder()
        ic, dsc = g.icd("R55", "S72.001A", "R41.82", "J18.9")
        doc = T("""
            PATIENT CARE REPORT - MEDIC {unit}
            INCIDENT #{inc}   DISPATCHED {time}   DEST: {dest}
            PT: {lf}   DOB: {dob}   AGE: {age}   SEX: F
            MEDICARE MBI: {mb} (FROM FACESHEET)
            CC: FOUND ON FLOOR BY HOME AIDE, UNKNOWN DOWN TIME
            HPI: {age} YOF AT ASSISTED LIVING, AIDE STATES PT WAS LAST SEEN NORMAL AT 2200. PT ALERT TO SELF ONLY (BASELINE PER STAFF). R LEG SHORTENED AND EXTERNALLY ROTATED.
            VS: BP 108/62 HR 104 RR 22 SPO2 93% RA GCS 14
            IMPRESSION: {ic} {dsc}
            TX: C-COLLAR DEFERRED PER PROTOCOL, FENTANYL 25 MCG IV, SCOOP TO STRETCHER
            DAUGHTER {dau} NOTIFIED AT {dph}, WILL MEET AT ED
            CREW: {medic} NRP / {emt} EMT
            """, unit=g.r.randint(2, 40), inc=g.digits(7), time=g.time(), dest=dest, lf=pt.lf,
                dob=dob, age=age, mb=g.mbi(), ic=ic, dsc=dsc, dau=g.person().full, dph=g.phone(),
                medic=medic.full, emt=emt.full).upper()
    elif v == 1:
        doc = T("""
            Subject: QA review - run {run} ({ptl})

            {medicf}, good call on the 12-lead. For the chart review: pt {pt}, 58M, chest pressure x40 min, STE in II, III, aVF, cath lab activated from the field, door-to-balloon 52 min. Only issue is the aspirin time is missing from the narrative - please add an addendum. Impression should be coded {ic}, not the generic one.

            Thanks,
            {qa}, Clinical Coordinator
            cc: {emt}
            """, run=g.digits(6), ptl=pt.ln, medicf=medic.fn, pt=pt.full, ic=g.icd("R07.9")[0],
                qa=g.person().full, emt=emt.full)
    else:
        age = g.age90()
        doc = T("""
            INTERFACILITY TRANSFER REQUEST
            Sending: {snf}  Receiving: {dest}
            Patient: {pt}   Age: {age}   Wt: 52 kg
            Dx: {ic} - worsening hypoxia, needs BiPAP not available at facility
            O2: 6 L NC, SpO2 89%
            Code status: DNR/DNI - POLST in packet
            Insurance: {payer} {pl} {plan}
            Report called by {rn}, RN, {rph}
            """, snf=g.choice(["Maple Ridge SNF", "Golden Years Care Center", "Harborview Rehab"]),
                dest=dest, pt=pt.full, age=age, ic=g.icd("J44.1", "J18.9", "U07.1")[0],
                payer=g.choice(PAYERS), pl=g.plan()[0], plan=g.plan()[1], rn=g.person().full,
                rph=g.phone())
    return doc, True


def immunization_record(g: G) -> tuple[Doc, bool]:
    v = g.variant(3)
    if v == 0:
        ch = g.person()
        rows = []
        vaccines = [("90700", "DTaP", None), ("90713", "IPV", None), ("90707", "MMR", None),
                    ("90716", "Varicella", None), ("90744", "Hep B", None),
                    ("90670", "PCV13", "Prevnar"), ("90715", "Tdap", "Adacel"),
                    ("90734", "MenACWY", None), ("90651", "HPV9", None)]
        for code, name, ndcname in g.r.sample(vaccines, g.r.randint(3, 5)):
            nd = g.ndc("Adacel")[0] if ndcname == "Adacel" else None
            rows.append(T("{d}  {name} CPT {code}  {ndc}Lot {lot}  {site}", d=g.date(),
                          name=f"{name:<9}", code=V(code, CPT),
                          ndc=T("NDC {n}  ", n=nd) if nd else "", lot=g.choice("UWXYK") + g.digits(4) + g.choice("AB"),
                          site=g.choice(["L deltoid", "R deltoid", "L thigh", "R thigh"])))
        doc = T("""
            IMMUNIZATION HISTORY - Cedar Valley Pediatrics
            Name: {ch}     DOB: {dob}
            Parent/guardian: {par}
            Dx for today: {z}
            """, ch=ch.full, dob=g.dob("child"), par=g.person(last=ch.last).full,
                z=g.icd("Z23")[0]) + join(rows) + T("\nVerified by {ma}, CMA", ma=g.person().full)
    elif v == 1:
        par = g.person()
        ch = g.person(last=par.last)
        doc = T("""
            Hi! Could you email me {chf}'s shot record? Camp says she needs proof of her Tdap and meningitis shots before July. Her full name is {ch}, born {dob}. My email is {em} and my cell is {ph}. She had a reaction to the MMR as a baby (high fever) in case that matters.
            Thank you, {parf}
            """, chf=ch.fn, ch=ch.full, dob=g.dob("child"), em=g.email(par), ph=g.phone(),
                parf=par.fn)
    else:
        pt, rph = g.person(), g.person()
        nd, _p = g.ndc("Shingrix")
        doc = T("""
            Dose 2 reminder - {ptf} {ptl}

            Our records show you received your first Shingrix dose ({cp}, NDC {nd}) at our pharmacy on {date}. The second dose is due 2-6 months later. Because you told us you take methotrexate for rheumatoid arthritis ({ic}), please don't delay it. Reply to this email or call {ph} to book.

            {rph}, PharmD
            Corner Drug #{store}
            DOB on file: {dob}
            """, ptf=pt.fn, ptl=pt.ln, cp=g.cpt("90750")[0], nd=nd, date=g.date(),
                ic=g.icd("M06.9")[0], ph=g.phone(), rph=rph.full, store=g.r.randint(100, 999),
                dob=g.dob("older"))
    return doc, True


def sleep_study_summary(g: G) -> tuple[Doc, bool]:
    pt, md = g.person(), g.person()
    lab = g.choice(["Lakeview Sleep Disorders Center", "Sound Sleep Diagnostics", "Mercy Sleep Lab"])
    v = g.variant(3)
    if v == 0:
        ml, mrn = g.mrn()
        doc = T("""
            POLYSOMNOGRAPHY REPORT ({cp} - {cpd})
            Patient: {pt}   DOB: {dob}   {ml} {mrn}
            Referring: {ref}, NP
            Study date: {date}   Lab: {lab}
            Total sleep time 362 min, sleep efficiency 78%. AHI 32.4/h (supine 51.0/h), RDI 36.1/h, nadir SpO2 79%. No significant PLMs.
            Impression: severe obstructive sleep apnea ({ic}).
            Recommendation: CPAP titration ({cp2}); counsel on drowsy driving; weight management ({ic2}).
            Interpreting physician: {md}, MD, D.ABSM   NPI {npi}
            """, cp=g.cpt("95810")[0], cpd=CPT_DESC["95810"], pt=pt.full, dob=g.dob(), ml=ml,
                mrn=mrn, ref=g.person().full, date=g.date(), lab=lab, ic=g.icd("G47.33")[0],
                cp2=g.cpt("95811")[0], ic2=g.icd("E66.01")[0], md=md.full, npi=g.npi())
    elif v == 1:
        dme = g.person()
        pl, plan = g.plan()
        doc = T("""
            To: {dme_em}
            Subject: CPAP order - {pt}

            {dmef}, please set up {pt} with an auto-CPAP 5-15 cm H2O (E0601), full face mask medium (A7030) and heated humidifier. HST on {date} ({cp}) showed AHI 24/h, {ic}. Insurance is {payer}, {pl} {plan}. Her cell is {ph}; she works nights so call after 2 pm. Face-to-face note and signed order attached.

            {sig}
            """, dme_em=g.email(dme), pt=pt.full, dmef=dme.fn, date=g.date(), cp=g.cpt("95806")[0],
                ic=g.icd("G47.33")[0], payer=g.choice(PAYERS), pl=pl, plan=plan, ph=g.phone(),
                sig=sig(g, md, "MD", "Sleep Medicine", lab, fax=True))
    else:
        ic, dsc = g.icd("G47.411", "G25.81", "G47.00")
        finding = {
            "G47.411": "overnight PSG followed by MSLT. Mean sleep latency 3.2 min with 3 SOREMPs; history of cataplexy with laughter",
            "G25.81": "PSG with periodic limb movement index 48/h and an urge to move the legs in the evening, relieved by walking; ferritin 28",
            "G47.00": "PSG with sleep latency 74 min, sleep efficiency 61% and no significant apnea (AHI 3.1/h)",
        }[ic.text]
        doc = T("""
            Dr. {pcpl}, sleep study summary for your patient {pt} (DOB {dob}): {finding}. Findings support {dsc} ({ic}). We will start treatment and see {ptf} back in 6 weeks. Please avoid sedating antihistamines.
            -- {md}, MD, Sleep Medicine, {lab}
            """, pcpl=g.person().ln, pt=pt.full, dob=g.dob(), dsc=dsc, ic=ic, ptf=pt.fn, finding=finding,
                md=md.full, lab=lab)
    return doc, True


def infusion_schedule(g: G) -> tuple[Doc, bool]:
    v = g.variant(3)
    drugs = [("Remicade", "96365", "K50.90"), ("Entyvio", "96365", "K51.90"),
             ("Ocrevus", "96365", "G35"), ("Keytruda", "96413", "C34.90"),
             ("Remicade", "96365", "M06.9")]
    if v in (0, 2):
        rows = []
        for _ in range(g.r.randint(3, 5)):
            p = g.person()
            _ml, mrn = g.mrn()
            drug, cp, ic = g.choice(drugs)
            nd, _prod = g.ndc(drug)
            rows.append(T("{t},{chair},\"{p}\",{mrn},{drug},{nd},{cp},{ic}", t=g.time(),
                          chair=g.r.randint(1, 14), p=p.lf, mrn=mrn, drug=drug, nd=nd,
                          cp=V(cp, CPT), ic=V(ic, ICD)))
        head = T("""
            Infusion Center schedule for {date} - pharmacy please confirm premix times. Chair 9 is down.

            time,chair,patient,mrn,drug,ndc,cpt,dx
            """, date=g.date())
        doc = head + join(rows) + T("\n\n-- {rn}, RN, Charge", rn=g.person().full)
        if v == 2:
            doc = doc.upper()
    else:
        pt, rn = g.person(), g.person()
        nd, _prod = g.ndc("Ocrevus")
        doc = T("""
            Hi {ptf},

            We need to move your Ocrevus infusion from {d1} to {d2} at {t} because of the insurance re-authorization. Please take your Tylenol and Benadryl premeds at home 30-60 minutes before, and plan on about 4 hours in the chair. If you've had any infections or fever since your last infusion, call us first at {ph}.

            See you soon,
            {rn}, RN, OCN
            Neurology Infusion Suite

            (internal: {pt}, {ic}, {cp}/{cp2}, NDC {nd})
            """, ptf=pt.fn, d1=g.date(), d2=g.date(), t=g.time(), ph=g.phone(), rn=rn.full,
                pt=pt.lf, ic=g.icd("G35")[0], cp=g.cpt("96365")[0], cp2=g.cpt("96366")[0], nd=nd)
    return doc, True


def caregiver_email(g: G) -> tuple[Doc, bool]:
    pt, cg, doc_ = g.person(), g.person(), g.person()
    v = g.variant(3)
    if v == 0:
        dob, age = g.elder(fmt=g.choice(["us", "long"]))
        doc = T("""
            Dear Dr. {docl},

            I am writing about my mother, {pt} (DOB {dob}). She is {age} now and her memory has gotten much worse since the UTI in the spring. She is repeating questions every few minutes, got lost driving to church last week (we have taken the keys), and she has stopped taking her pills unless I set them out. Is it time for a formal evaluation for dementia? I also have her Medicare card here if the office needs it: {mb}.

            I am her healthcare proxy. The best number for me is {ph}.{ssn_line}

            Thank you,
            {cg}
            """, docl=doc_.ln, pt=pt.full, dob=dob, age=age, mb=g.mbi(), ph=g.phone(), cg=cg.full,
                ssn_line=T(" Her social security number, in case the billing office asks, is {s}.", s=g.ssn())
                if g.chance(0.5) else "")
    elif v == 1:
        doc = T("""
            hi this is {cgf} {ptl}, {ptf}'s wife. since the stroke he can't use his right hand at all and i'm having a hard time getting him in and out of the shower by myself. is there any way to get a home health aide or respite? the social worker at the hospital said to ask dr {docl}. also his blood pressure has been 170s at home. you can call me at {ph} anytime
            """, cgf=cg.fn, ptl=pt.ln, ptf=pt.fn, docl=doc_.ln, ph=g.phone()).lower()
    else:
        nurse = g.person()
        inner = T("""
            My dad ({pt}) has been sleeping most of the day and isn't eating since they started the new pain patch. He's {age} this month. Should I bring him in?
            {cgf}
            """, pt=pt.full, cgf=cg.fn, age=g.age90())
        doc = T("""
            {cgf},

            Thank you for letting us know. Please do not put on a new patch tonight, and remove the current one. Increased sleepiness and poor appetite can be side effects of fentanyl, especially at his age. Dr. {docl} would like to see {ptf} tomorrow at {t}. If he is hard to wake or breathing slowly, call 911.

            {nurse}, RN
            Geriatrics Clinic, {ph}

            -----Original Message-----
            From: {cg} <{cgem}>

            """, cgf=cg.fn, docl=doc_.ln, ptf=pt.fn, t=g.time(), nurse=nurse.full, ph=g.phone(),
                cg=cg.full, cgem=g.email(cg)) + inner.quote()
    return doc, True


def clinical_trial_screening(g: G) -> tuple[Doc, bool]:
    pi, crc = g.person(), g.person()
    study = g.choice(["GLOW-T2D", "HEART-FAST", "REMIND-AD", "SLEEP-RISE"])
    v = g.variant(3)
    if v == 0:
        rows = [T("screen_id,name,mrn,age,a1c,egfr,eligible,notes")]
        for i in range(g.r.randint(3, 5)):
            p = g.person()
            _ml, mrn = g.mrn()
            rows.append(T("S{n},\"{p}\",{mrn},{age},{a1c},{egfr},{el},{note}", n=f"{i + 101:03d}",
                          p=p.lf, mrn=mrn, age=g.r.randint(42, 74), a1c=f"{g.r.randint(70, 105) / 10}",
                          egfr=g.r.randint(28, 95), el=g.choice(["Y", "N", "pending"]),
                          note=g.choice(["on insulin - excl", "ok", "needs washout", "declined", "call back"])))
        doc = T("""
            {pif} - {study} pre-screen log, all {ic} per problem list. Three look eligible; I'll call them this week.

            """, pif=pi.fn, study=study, ic=g.icd("E11.65")[0]) + join(rows) + T("\n\n{crc}, CCRC", crc=crc.full)
    elif v == 1:
        pt = g.person()
        ml, mrn = g.mrn()
        doc = T("""
            Subject: {study} - potential subject

            Dr. {pil}, pre-screened {pt} ({ml} {mrn}) from the cardiology clinic list: {ic} with EF 35%, NYHA II, on stable GDMT > 3 months. Meets I/E on chart review except we need a BNP within 30 days. He said yes to hearing more at his visit on {date}. OK to approach?

            {crc}
            Clinical Research Coordinator | {ph} | {em}
            """, study=study, pil=pi.ln, pt=pt.full, ml=ml, mrn=mrn, ic=g.icd("I50.9")[0],
                date=g.date(), crc=crc.full, ph=g.phone(), em=g.email(crc))
    else:
        pt = g.person()
        doc = T("""
            Dear {ptf} {ptl},

            Thank you for your interest in the {study} memory study. Your consent visit is on {date} at {t} with Dr. {pil}. Please bring a study partner (you mentioned your son, {son}) and your current medication list. The visit includes memory testing and a blood draw; it will take about three hours. Questions: {ph}.

            {crc}, Research Coordinator
            """, ptf=pt.fn, ptl=pt.ln, study=study, date=g.date(), t=g.time(), pil=pi.ln,
                son=g.person(last=pt.last).fn, ph=g.phone(), crc=crc.full)
    return doc, True


def on_call_page(g: G) -> tuple[Doc, bool]:
    pt = g.person()
    v = g.variant(5)
    if v == 0:
        doc = T("pt {ptl} rm {rm} bp 78/40 after lasix, mentating ok, pls call x{ext} -{rnf} RN",
                ptl=pt.ln, rm=g.r.randint(301, 640), ext=g.digits(4), rnf=g.person().fn)
    elif v == 1:
        doc = T("CALLBACK REQ: {pt} DOB {dob} c/o chest pain since 2am, on eliquis, hx {ic}. cb {ph}",
                pt=pt.full, dob=g.dob(), ic=g.icd("I48.91")[0], ph=g.phone()).upper()
    elif v == 2:
        ml, mrn = g.mrn()
        doc = T("re: {ml} {mrn} K 6.2 on repeat, hemolyzed? ok to give kayexalate or redraw first? -{f}",
                ml=ml.lower(), mrn=mrn, f=g.person().fn)
    elif v == 3:
        mom = g.person(last=pt.last) if g.chance(0.6) else g.person()
        doc = T("Answering svc: mom ({mom}) calling re {chf}, 4yo, fever 104.1 x2 days, drinking ok, ph {ph}",
                mom=mom.full, chf=pt.fn, ph=g.phone())
    else:
        doc = T("per {rnf}: {ptf} {ptl} in ED bay 6 is yours, {age} y/o w/ {ic}, family wants to talk to you before admit. {ph}",
                rnf=g.person().fn, ptf=pt.fn, ptl=pt.ln, age=g.age90(),
                ic=g.icd("J18.9", "N39.0", "R41.82")[0], ph=g.phone())
    return doc, True


def dme_order(g: G) -> tuple[Doc, bool]:
    pt, md = g.person(), g.person()
    v = g.variant(3)
    if v == 0:
        doc = T("""
            HOME OXYGEN ORDER / CMN
            Beneficiary: {pt}     DOB: {dob}     MBI: {mb}
            Address on file; phone {ph}
            Dx: {i1} {d1}; {i2}
            Qualifying test: SpO2 86% RA at rest on {date} (room air, awake)
            Order: stationary concentrator (E1390) + portable O2 (E0431), 2 L/min continuous, length of need 99 months
            Ordering physician: {md}, MD   NPI: {npi}
            Supplier: {sup}
            """, pt=pt.full, dob=g.dob("older"), mb=g.mbi(), ph=g.phone(), i1=g.icd("J44.1")[0],
                d1=ICD_DESC["J44.1"], i2=g.icd("Z99.81")[0], date=g.date(), md=md.full, npi=g.npi(),
                sup=g.choice(["Apria", "Lincare", "Valley Medical Supply"]))
    elif v == 1:
        sup = g.person()
        pl, plan = g.plan()
        doc = T("""
            Hi {supf},

            New order for a lightweight wheelchair (K0003) with elevating leg rests for {pt}. Dx {ic} - right hemiparesis after stroke, unable to self-propel a standard chair. PT eval attached. {payer} {pl} {plan}. Patient's wife is the contact: {ph}. Please confirm delivery date.

            {sig}
            """, supf=sup.fn, pt=pt.full, ic=g.icd("I69.351")[0], payer=g.choice(PAYERS), pl=pl,
                plan=plan, ph=g.phone(), sig=sig(g, md, "NP-C", "Neurology", "Mercy Neuroscience Clinic"))
    else:
        rec = g.person()
        doc = T("""
            FAX COVER
            ATTN: {rec}, intake
            FROM: {md}, DO - Riverside Family Medicine   FAX {fax}
            RE: {lf}   DOB {dob}
            Pages: 4 (order, F2F note, last 2 sets of vitals)
            Requesting hospital bed with rails (E0260) and alternating pressure mattress for stage 4 sacral ulcer ({ic}). Patient bedbound.
            """, rec=rec.full, md=md.full, fax=g.phone(), lf=pt.lf, dob=g.dob("older"),
                ic=g.icd("L89.154")[0]).upper()
    return doc, True


PHI_KINDS: list[tuple[str, Callable[[G], tuple[Doc, bool]], int]] = [
    ("home-health-visit-note", home_health_visit_note, 7),
    ("behavioral-health-intake", behavioral_health_intake, 7),
    ("pediatric-school-form", pediatric_school_form, 7),
    ("workers-comp-claim", workers_comp_claim, 7),
    ("dental-referral", dental_referral, 7),
    ("physical-therapy-progress", physical_therapy_progress, 7),
    ("transplant-coordination", transplant_coordination, 7),
    ("case-management", case_management, 7),
    ("medical-records-request", medical_records_request, 7),
    ("pathology-result", pathology_result, 7),
    ("ambulance-run-report", ambulance_run_report, 7),
    ("immunization-record", immunization_record, 7),
    ("sleep-study-summary", sleep_study_summary, 7),
    ("infusion-schedule", infusion_schedule, 7),
    ("caregiver-email", caregiver_email, 7),
    ("clinical-trial-screening", clinical_trial_screening, 6),
    ("on-call-page", on_call_page, 8),
    ("dme-order", dme_order, 6),
]


# == texts without PHI ======================================================================


def staff_memo(g: G) -> tuple[Doc, bool]:
    a, b, c = g.person(), g.person(), g.person()
    v = g.variant(4)
    if v == 0:
        doc = T("""
            Subject: July call schedule - swaps due Friday

            Team,

            The July call schedule is posted on the shared drive. {bf} and I swapped the 4th; {cf} {cl} is covering the weekend of the 19th. If you need to trade, email {am} and copy {bm} so the operators get the update. The answering service number for after-hours questions is {svc}.

            Thanks,
            {a}, Practice Manager
            {aph}
            """, bf=b.fn, cf=c.fn, cl=c.ln, am=g.email(a), bm=g.email(b), svc=g.phone(), a=a.full,
                aph=g.phone())
    elif v == 1:
        doc = T("""
            From: {a} <{am}>
            To: Front Desk - All Sites
            cc: {b}; {c}
            Subject: new check-in workflow starts Monday

            Starting Monday the kiosks will ask for insurance cards at check-in instead of the front desk scanning them. {bf} will be on site at the north clinic Mon-Tue to troubleshoot; {cf} at the south clinic. Questions to me at {aph} (cell) - please don't text patient information to that number.
            """, a=a.full, am=g.email(a), b=b.full, c=c.full, bf=b.fn, cf=c.fn, aph=g.phone())
    elif v == 2:
        doc = T("""
            quick reminder - budget numbers for Q3 are due to {af} by the 15th. {bf} has the template if you can't find it. revenue cycle meeting moved to thurs 3pm, dial-in {ph}. - {c}
            """, af=a.fn, bf=b.fn, ph=g.phone(), c=c.full).lower()
    else:
        doc = T("""
            Welcome {a}!

            Please join me in welcoming {af} {al} to the Quality team as our new Data Analyst. {af} comes to us from the state hospital association, where they built the readmissions dashboard many of you use. Their desk is on 3 West next to {b}, extension 4471, direct line {aph}, email {am}.

            {c}
            Director, Quality & Patient Safety
            """, a=a.fn, af=a.fn, al=a.ln, b=b.full, aph=g.phone(), am=g.email(a), c=c.full)
    return doc, False


def cme_announcement(g: G) -> tuple[Doc, bool]:
    sp, sp2, coord = g.person(), g.person(), g.person()
    topic = g.choice([
        "Deprescribing in Older Adults: When Less Is More",
        "Updates in the Management of Heart Failure with Reduced Ejection Fraction",
        "Opioid Use Disorder in Primary Care: Starting Buprenorphine",
        "Pediatric Asthma: What's New in the Guidelines",
        "Sepsis Recognition in the Emergency Department",
        "Chronic Kidney Disease: Slowing Progression",
    ])
    v = g.variant(3)
    if v == 0:
        doc = T("""
            MEDICINE GRAND ROUNDS
            {topic}
            Speaker: {sp}, MD, PhD
            Professor of Medicine, {uni}
            Thursday {date}, 12:00-1:00 pm, Auditorium B and via video link
            Moderator: Dr. {sp2}

            Objectives: review current evidence; apply it to common clinical scenarios; identify barriers to implementation.
            1.0 AMA PRA Category 1 Credit(TM). Questions: {coord}, CME Office, {ph}, {em}
            """, topic=topic, sp=sp.full, uni=g.choice(["State University School of Medicine", "Lakeshore College of Medicine"]),
                date=g.date(), sp2=sp2.full, coord=coord.full, ph=g.phone(), em=g.email(coord))
    elif v == 1:
        doc = T("""
            Save the date: Regional Nursing Conference, {date}

            Keynote by {sp}, DNP, RN, FAAN, on nurse-led care transitions, followed by breakout sessions on wound care (led by {sp2f} {sp2l}, MSN, CWOCN) and falls prevention. Contact hours provided. Register by emailing {em} or calling {ph}.
            """, date=g.date(), sp=sp.full, sp2f=sp2.fn, sp2l=sp2.ln, em=g.email(None, "cne"), ph=g.phone())
    else:
        doc = T("""
            Journal club this month: {sp2f} will present "{topic}" (the new consensus statement). Pizza at noon. If you'd like to present in the fall, let {cf} know ({em}).
            -- {sp}, MD, Program Director
            """, sp2f=sp2.fn, topic=topic, cf=coord.fn, em=g.email(coord), sp=sp.full)
    return doc, False


def coding_education(g: G) -> tuple[Doc, bool]:
    educ = g.person()
    v = g.variant(6)
    if v == 0:
        doc = T("""
            Coding tip of the week: diabetes with hyperglycemia

            When the provider documents "uncontrolled" or "poorly controlled" type 2 diabetes with an elevated glucose, code {a} ({ad}) rather than {b}. Add {c} for long-term insulin use when applicable. Documentation must state the hyperglycemia; a lab value alone is not enough.
            -- {ed}, CPC, CRC
            """, a=g.icd("E11.65")[0], ad=ICD_DESC["E11.65"], b=g.icd("E11.9")[0], c=g.icd("Z79.4")[0], ed=educ.full)
    elif v == 1:
        doc = T("""
            E/M refresher: since 2021, office visit levels ({a} through {b}) are chosen by medical decision making or total time on the date of the encounter. For {c}, total time is 30-39 minutes. Do not count time spent by clinical staff. Questions to {ed} at {em}.
            """, a=g.cpt("99212")[0], b=g.cpt("99215")[0], c=g.cpt("99214")[0], ed=educ.full,
                em=g.email(educ))
    elif v == 2:
        doc = T("""
            Reminder for therapy billing: {a} (therapeutic exercise), {b} (manual therapy) and {c} (therapeutic activities) are timed codes billed in 15-minute units under the 8-minute rule. Evaluations ({d}, {e}, {f}) are untimed and billed once. A re-evaluation ({r}) requires a documented change in condition.
            Next compliance huddle: {date}. -- {ed}, {cred}
            """, date=g.date(), ed=educ.full, cred=g.choice(["CPC", "CPC, CPMA", "RHIT, CCS"]), a=g.cpt("97110")[0], b=g.cpt("97140")[0], c=g.cpt("97530")[0], d=g.cpt("97161")[0],
                e=g.cpt("97162")[0], f=g.cpt("97163")[0], r=g.cpt("97164")[0])
    elif v == 3:
        doc = T("""
            AUDIT FINDINGS - BEHAVIORAL HEALTH (Q2)
            1. Psychotherapy time: {a} requires 38-52 minutes and {b} 53 minutes or more; 14% of sampled {b} claims documented less than 53 minutes.
            2. {c} (diagnostic evaluation) billed twice in the same episode without a new problem.
            3. Unspecified codes overused: prefer {d} over {e} when episode and severity are documented.
            Education sessions will be scheduled by {ed}.
            """, a=g.cpt("90834")[0], b=g.cpt("90837")[0], c=g.cpt("90791")[0], d=g.icd("F33.1")[0],
                e=g.icd("F32.9")[0], ed=educ.full)
    elif v == 4:
        doc = T("""
            pathology coding q&a from {ed}: multiple polyps removed from different sites and submitted in separate containers are reported as separate units of {a}. a single container with several polyps is one unit. for colonoscopy, {b} is snare, {c} is cold biopsy forceps. benign polyp of sigmoid = {d}; if the site isn't documented, {e}.
            """, ed=educ.full, a=g.cpt("88305")[0], b=g.cpt("45385")[0], c=g.cpt("45380")[0], d=g.icd("D12.5")[0],
                e=g.icd("K63.5")[0]).lower()
    else:
        nd, prod = g.ndc("Remicade", "Entyvio", "Keytruda", form="native")
        doc = T("""
            Infusion claims: report the drug NDC in 11-digit format (for {prod}, {nd} is billed as {nd11}) with the unit qualifier, alongside the HCPCS code and the administration code ({a} for a non-chemotherapy infusion, {b} for chemotherapy or a monoclonal antibody for cancer). Claims missing the NDC are denied by Medicaid.
            """, nd=nd, nd11=V(ndc11(nd.text), NDC), a=g.cpt("96365")[0], b=g.cpt("96413")[0],
                prod=prod.split(" (")[0])
    return doc, False


def vendor_it(g: G) -> tuple[Doc, bool]:
    a, b = g.person(), g.person()
    v = g.variant(3)
    if v == 0:
        doc = T("""
            SCHEDULED EHR DOWNTIME: Sunday {date}, 01:00-05:00

            Downtime forms are in the red binders on each unit. Read-only access will be available on the BCA workstations. Escalations during the window go to the on-call analyst, {a}, at {aph}. Post-downtime reconciliation questions: {b} ({bm}).

            IT Service Desk | {desk}
            """, date=g.date(), a=a.full, aph=g.phone(), b=b.full, bm=g.email(b), desk=g.phone())
    elif v == 1:
        doc = T("""
            Hi {bf},

            Following up on our demo last week - I've attached pricing for the 40-seat license of our fax-to-EHR intake module, including the HL7 interface. Happy to set up a call with our implementation lead, {c}, next week. My direct line is {aph}.

            Best regards,
            {a}
            Account Executive, DocuFlow Health Solutions
            {am}
            """, bf=b.fn, c=g.person().full, aph=g.phone(), a=a.full, am=g.email(a))
    else:
        doc = T("""
            Ticket INC0{tk} updated by {a}: replaced the label printer on 4 North, test print OK. Requester {b} confirmed. Closing. If the issue recurs call the desk at {desk} or email {dm}.
            """, tk=g.digits(6), a=a.full, b=b.full, desk=g.phone(), dm=g.email(None, "servicedesk"))
    return doc, False


def hr_facilities(g: G) -> tuple[Doc, bool]:
    a, b = g.person(), g.person()
    v = g.variant(4)
    if v == 0:
        doc = T("""
            Open enrollment runs through {date}. Benefits fairs are Tuesday in the cafeteria and Wednesday at the west campus. Questions about dental or vision plans: {a}, Benefits Specialist, {aph} or {am}.
            """, date=g.date(), a=a.full, aph=g.phone(), am=g.email(a))
    elif v == 1:
        doc = T("""
            FACILITIES NOTICE: The east parking garage levels 3-4 will be closed for resurfacing {date} through the following Friday. Shuttle service from the overflow lot runs every 10 minutes. Contact {a} in Facilities at {aph} with questions.
            """, date=g.date(), a=a.full, aph=g.phone()).upper()
    elif v == 2:
        doc = T("""
            All staff: annual fire drill on 2 South Thursday morning. Unit leads please confirm your evacuation routes with {af} {al} (Safety Officer) beforehand. {bf} from Engineering will reset the doors afterward.
            """, af=a.fn, al=a.ln, bf=b.fn)
    else:
        doc = T("""
            Hi {bf}, your badge access to the pharmacy has been approved by {a}. Please stop by Security (B-level) any weekday 7-3 to update it. Questions: {ph}.
            Thanks, Human Resources
            """, bf=b.fn, a=a.full, ph=g.phone())
    return doc, False


def public_health_bulletin(g: G) -> tuple[Doc, bool]:
    officer = g.person()
    county = g.choice(["Marion County", "Lakes Region", "Tri-County", "Northern Valley"])
    v = g.variant(3)
    if v == 0:
        doc = T("""
            HEALTH ALERT: {county} Measles Exposure

            Two confirmed measles cases ({ic}) have been reported in {county} in unvaccinated children. Exposures occurred at a pediatric urgent care and a grocery store between {d1} and {d2}. Clinicians should consider measles in patients with fever and rash, isolate suspected cases immediately, and report to public health by phone at {ph} without waiting for lab confirmation. Verify MMR status ({cp}) for staff and patients.

            {officer}, MD, MPH
            Health Officer
            """, county=county, ic=g.icd("B05.9")[0], d1=g.date(), d2=g.date(), ph=g.phone(),
                cp=g.cpt("90707")[0], officer=officer.full)
    elif v == 1:
        doc = T("""
            Weekly respiratory surveillance, {county}: influenza-like illness at 3.8% of ED visits (up from 2.9%); COVID-19 ({ic}) hospitalizations stable; RSV declining. Pertussis ({ic2}): 6 cases this month, mostly adolescents. Data questions: {em}.
            """, county=county, ic=g.icd("U07.1")[0], ic2=g.icd("A37.90")[0], em=g.email(None, "epi"))
    else:
        doc = T("""
            Heat advisory in effect through the weekend. Older adults, outdoor workers and people taking diuretics or anticholinergic medications are at higher risk. Cooling centers open at all public libraries. For clinical questions contact the county epidemiologist, {officer}, at {ph}.
            """, officer=officer.full, ph=g.phone())
    return doc, False


def credentialing(g: G) -> tuple[Doc, bool]:
    md, cs = g.person(), g.person()
    v = g.variant(2)
    if v == 0:
        doc = T("""
            Subject: Credentialing file - {md}, MD

            Hi {csf}, for the payer enrollment packet: {mdf} {mdl}'s NPI is {npi}, DEA {dea} (exp. 2027), state license and board certificate are attached. CAQH attestation is current. Start date is {date}. Let me know what else you need.

            {sig}
            """, md=md.full, csf=cs.fn, mdf=md.fn, mdl=md.ln, npi=g.npi(), dea=g.dea(md.last),
                date=g.date(), sig=sig(g, g.person(), "CPMSM", "Medical Staff Office", "St. Brigid Medical Center"))
    else:
        rows = [T("provider,credential,npi,dea,specialty")]
        for _ in range(g.r.randint(2, 4)):
            p = g.person()
            rows.append(T("\"{p}\",{cred},{npi},{dea},{sp}", p=p.lf, cred=g.choice(["MD", "DO", "NP", "PA-C"]),
                          npi=g.npi(), dea=g.dea(p.last), sp=g.choice(["Family Medicine", "Psychiatry", "Urgent Care", "Pain Medicine"])))
        doc = T("New providers for the July roster (please load into the pharmacy system so e-prescriptions don't reject):\n\n") + join(rows) + T("\n\n{cs}, Credentialing", cs=cs.full)
    return doc, False


def formulary_update(g: G) -> tuple[Doc, bool]:
    rph = g.person()
    v = g.variant(2)
    if v == 0:
        n1, p1 = g.ndc("Lantus")
        n2, p2 = g.ndc("Januvia", "Lipitor", "Eliquis")
        doc = T("""
            P&T COMMITTEE - FORMULARY CHANGES EFFECTIVE {date}
            * Added: {p1}, NDC {n1}; restricted to patients failing preferred basal insulin.
            * Tier change: {p2} (NDC {n2}) moves to tier 2.
            * Removed: brand products with an AB-rated generic available.
            Questions: {rph}, PharmD, Clinical Pharmacy Manager, {ph}
            """, date=g.date(), p1=p1, n1=n1, p2=p2, n2=n2, rph=rph.full, ph=g.phone())
    else:
        n1, p1 = g.ndc("Narcan")
        doc = T("""
            stock alert: {p1} ({n1}) back-ordered at our wholesaler until next month. clinics can substitute the generic naloxone 4 mg nasal spray; update the naloxone co-prescribing smartset accordingly. - {rph}, pharmacy
            """, p1=p1, n1=n1, rph=rph.full).lower()
    return doc, False


# Clinical wording that identifies nobody: guidance, protocols, hypothetical cases.
CLINICAL: list[Callable[[G], Doc]] = [
    lambda g: T("""
        Reminder from the diabetes committee: for most non-pregnant adults with type 2 diabetes ({ic}) the A1c goal remains below 7%, individualized upward for frail older adults or those with recurrent hypoglycemia. Consider an SGLT2 inhibitor or GLP-1 RA when there is established ASCVD, heart failure or CKD, independent of A1c.
        """, ic=g.icd("E11.9")[0]),
    lambda g: T("""
        Sepsis bundle, hour-1: measure lactate, draw blood cultures before antibiotics, give broad-spectrum antibiotics, start 30 mL/kg crystalloid for hypotension or lactate >= 4 mmol/L, and start vasopressors if MAP stays below 65 mmHg. Re-measure lactate within {h} hours if the first is elevated.
        """, h=g.choice(["2", "2-4"])),
    lambda g: T("""
        FALLS PREVENTION: every inpatient gets a Morse score on admission and each shift. Score 45 or higher = high risk: bed alarm on, non-skid socks, hourly rounding, toileting schedule, and review of sedatives and antihypertensives with pharmacy. Post-fall huddle within 1 hour of any fall.
        """),
    lambda g: T("""
        Anticoagulation bridging: for most patients with atrial fibrillation ({ic}) on warfarin, bridging with LMWH is not needed for elective procedures and increases bleeding. Hold warfarin 5 days before; check INR the day before. DOACs are held 1-4 days depending on renal function and bleeding risk of the procedure, without bridging.
        """, ic=g.icd("I48.91")[0]),
    lambda g: T("""
        Inpatient hypoglycemia protocol: if blood glucose is below 70 mg/dL and the patient can swallow, give 15 g fast-acting carbohydrate and recheck in 15 minutes; repeat until above 100. If NPO or unable to swallow, give 25 mL of D50 IV or glucagon 1 mg IM. Notify the provider and review the insulin orders.
        """),
    lambda g: T("""
        triage guidance for phone nurses: infants under 3 months with a rectal temp of 100.4 or higher go to the ED, no exceptions. age 3-36 months with fever and no source can usually be seen same day in clinic unless lethargic, poor feeding, fewer than 3 wet diapers a day or a rash that doesn't blanch.
        """).lower(),
    lambda g: T("""
        Opioid safety: offer naloxone to any patient on 50 MME/day or more, on concurrent benzodiazepines, or with a history of overdose or opioid use disorder ({ic}). When tapering, reduce by 10% per month for long-term users; faster tapers raise overdose and suicide risk.
        """, ic=g.icd("F11.20")[0]),
    lambda g: T("""
        Pressure injury staging refresher: Stage 1 is intact skin with non-blanchable erythema; stage 2 is partial-thickness loss with exposed dermis; stage 3 is full-thickness skin loss with visible fat; stage 4 exposes fascia, muscle, tendon or bone. Unstageable when slough or eschar hides the base. A sacral stage 4 codes to {ic}.
        """, ic=g.icd("L89.154")[0]),
    lambda g: T("""
        Post-op total knee protocol: weight bearing as tolerated day 0 with a walker; CPM not routinely used. Goals: 90 degrees flexion by week 2, 110 by week 6, full extension throughout. Outpatient PT typically 2-3x/week for 6-8 weeks ({a}, {b}).
        """, a=g.cpt("97110")[0], b=g.cpt("97140")[0]),
    lambda g: T("""
        CPAP adherence for coverage: use of 4 hours or more per night on 70% of nights during a consecutive 30-day period within the first 3 months, plus a face-to-face re-evaluation documenting benefit. Common fixes for poor adherence: mask refit, heated humidification, treating nasal congestion.
        """),
    lambda g: T("""
        Infusion reactions to infliximab: mild (flushing, headache) - slow the rate by 50% and give acetaminophen and diphenhydramine; moderate (chest tightness, hypotension) - stop, give steroids, restart at a lower rate once resolved; severe or anaphylaxis - stop permanently, epinephrine 0.3-0.5 mg IM.
        """),
    lambda g: T("""
        Tdap during pregnancy: give one dose during each pregnancy, ideally between 27 and 36 weeks, regardless of prior Tdap history, to protect the newborn against pertussis. Bill {a} with administration {b}; diagnosis {ic}.
        """, a=g.cpt("90715")[0], b=g.cpt("90471")[0], ic=g.icd("Z23")[0]),
    lambda g: T("""
        Depression screening workflow: PHQ-2 at every adult annual visit; if positive, complete PHQ-9. Scores 10-14 moderate, 15-19 moderately severe, 20+ severe. Any positive answer to item 9 triggers same-day safety assessment by the provider. Document the tool used and bill the screening separately.
        """),
    lambda g: T("""
        Return to learn after concussion ({ic}): 24-48 hours of relative rest, then gradual return to school with accommodations (shortened days, rest breaks, no tests) before return to sport. Symptoms lasting more than 4 weeks in children warrant referral.
        """, ic=g.icd("S06.0X0A")[0]),
    lambda g: T("""
        ASTHMA STEP THERAPY SUMMARY: STEP 1-2 AS-NEEDED LOW-DOSE ICS-FORMOTEROL FOR AGES 12 AND UP; STEP 3 DAILY AND AS-NEEDED LOW-DOSE ICS-FORMOTEROL; STEP 4 MEDIUM DOSE. CHECK INHALER TECHNIQUE AND ADHERENCE BEFORE STEPPING UP. UNCOMPLICATED ASTHMA CODES TO {ic}.
        """, ic=g.icd("J45.909")[0]),
    lambda g: T("""
        Stroke alert metrics for the quarter: median door-to-needle 41 minutes (goal under 45), door-to-CT 18 minutes. Eleven of fourteen eligible patients received thrombolysis within 60 minutes. Main delay was weight estimation; the ED will now use bed scales.
        """),
    lambda g: T("""
        Nephrology referral criteria: eGFR below 30 mL/min/1.73m2 (CKD stage 4, {ic}), a sustained decline of more than 5 mL/min per year, albumin-to-creatinine ratio above 300 mg/g, or resistant hypertension. Avoid NSAIDs and adjust metformin when eGFR falls below 45.
        """, ic=g.icd("N18.4")[0]),
    lambda g: T("""
        Hand hygiene audit, May: 4 North 92%, 5 South 88%, ICU 95%, ED 81%. Most missed opportunities were on exit from the patient room. Units under 90% will get a just-in-time coaching session this month.
        """),
    lambda g: T("""
        Case for discussion: a hypothetical {age}-year-old man with COPD ({ic}) presents with increased dyspnea and sputum purulence. SpO2 88% on room air. Which patients need antibiotics, what is the steroid duration (5 days), and when is NIV indicated (pH below 7.35 with hypercapnia)?
        """, age=g.r.randint(55, 78), ic=g.icd("J44.1")[0]),
    lambda g: T("""
        Critical value change: effective next month, the lab will call potassium below 2.8 or above 6.2 mmol/L (previously 3.0 and 6.0), and sodium below 120 or above 160. Read-back is required for every critical result called to a nurse or provider.
        """),
    lambda g: T("""
        Measles exposure guidance: exposed people without evidence of immunity should receive MMR within 72 hours or immune globulin within 6 days. Exclude non-immune exposed staff from day 5 through day 21 after exposure. Airborne isolation for suspected cases; the negative-pressure rooms on 6 West are available.
        """),
    lambda g: T("""
        heart failure discharge checklist: daily weights with a call if up 2 lb in a day or 5 lb in a week, 2 g sodium diet, meds reconciled including GDMT doses, follow-up within 7 days, and a TCM visit ({a} or {b}) booked before the patient leaves.
        """, a=g.cpt("99495")[0], b=g.cpt("99496")[0]).lower(),
    lambda g: T("""
        Lipid screening update: adults 40-75 with LDL 70-189 mg/dL and a 10-year ASCVD risk of 7.5% or more should be offered a moderate-intensity statin. A lipid panel ({a}) does not need to be fasting for most screening purposes.
        """, a=g.cpt("80061")[0]),
    lambda g: T("""
        Shingles vaccine: recombinant zoster vaccine is recommended for adults 50 and older and for immunocompromised adults 19 and older, two doses 2-6 months apart. It can be given regardless of prior shingles or prior live vaccine. Product: NDC {n}; administration billed with {a}.
        """, n=g.ndc("Shingrix")[0], a=g.cpt("90750")[0]),
    lambda g: T("""
        Alcohol withdrawal: use CIWA-Ar every 4 hours; symptom-triggered benzodiazepines for scores of 10 or more. Give thiamine before glucose. Patients with prior seizures or delirium tremens need closer monitoring. Alcohol dependence without complications codes to {ic}.
        """, ic=g.icd("F10.20")[0]),
    lambda g: T("""
        Pediatric weight-based dosing reminder: acetaminophen 15 mg/kg every 4-6 hours (max 75 mg/kg/day), ibuprofen 10 mg/kg every 6-8 hours for infants over 6 months. Always confirm the concentration of the liquid product on hand; the infant and children's suspensions are now both 160 mg/5 mL.
        """),
    lambda g: T("""
        Colorectal cancer screening now starts at 45 for average-risk adults. Options: colonoscopy every 10 years ({a}), annual FIT, or stool DNA every 3 years. A positive stool test requires follow-up colonoscopy, which is diagnostic, not screening.
        """, a=g.cpt("45378")[0]),
    lambda g: T("""
        Epinephrine for anaphylaxis: 0.01 mg/kg IM in the anterolateral thigh, max 0.5 mg in adults and 0.3 mg in children; repeat every 5-15 minutes as needed. Auto-injectors: 0.15 mg for 15-30 kg, 0.3 mg above 30 kg. Antihistamines are adjuncts only.
        """),
    lambda g: T("""
        Sleep hygiene handout for clinic use: keep a regular wake time, limit naps to 30 minutes, no caffeine after noon, keep the bedroom cool and dark, and get out of bed if unable to sleep after 20 minutes. CBT-I is first-line for chronic insomnia ({ic}) before hypnotics.
        """, ic=g.icd("G47.00")[0]),
    lambda g: T("""
        WOUND CARE FORMULARY: FOAM DRESSINGS FOR MODERATE EXUDATE, ALGINATE FOR HEAVY, HYDROGEL FOR DRY WOUND BEDS. NEGATIVE PRESSURE REQUIRES A WOUND CARE NURSE CONSULT. DOCUMENT LENGTH X WIDTH X DEPTH WEEKLY AND PHOTOGRAPH PER POLICY.
        """),
]


def clinical_no_identifier(g: G, i: int) -> tuple[Doc, bool]:
    return CLINICAL[i % len(CLINICAL)](g), False


NEG_KINDS: list[tuple[str, Callable[[G], tuple[Doc, bool]], int]] = [
    ("staff-memo", staff_memo, 12),
    ("cme-announcement", cme_announcement, 10),
    ("coding-education", coding_education, 12),
    ("vendor-it", vendor_it, 10),
    ("hr-facilities", hr_facilities, 10),
    ("public-health-bulletin", public_health_bulletin, 8),
    ("credentialing", credentialing, 8),
    ("formulary-update", formulary_update, 6),
]

# -- checking ------------------------------------------------------------------------------

_MBI_RE = re.compile(
    rf"[1-9][{MBI_LETTERS}][{MBI_LETTERS}0-9][0-9][{MBI_LETTERS}][{MBI_LETTERS}0-9][0-9]"
    rf"[{MBI_LETTERS}]{{2}}[0-9]{{2}}"
)


def _valid(label: str, value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if label == PERSON:
        return bool(value.strip()) and not re.search(r"\d", value)
    if label == PHONE:
        d = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        return len(d) == 10 and d[3:6] == "555" and d[6:8] == "01"
    if label == EMAIL:
        return re.fullmatch(r"[A-Za-z0-9._%+-]+@example\.(com|org|net)", value, re.I) is not None
    if label == SSN:
        return (len(digits) == 9 and digits[:3] not in ("000", "666") and digits[0] != "9"
                and digits[3:5] != "00" and digits[5:] != "0000")
    if label == NPI:
        return len(digits) == 10 == len(value) and luhn_check_digit("80840" + value[:9]) == int(value[9])
    if label == DEA:
        m = re.fullmatch(r"[A-Z]{2}(\d{7})", value.upper())
        if not m:
            return False
        d = [int(c) for c in m.group(1)]
        return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
    if label == MBI:
        return _MBI_RE.fullmatch(value.upper().replace("-", "")) is not None
    if label in (MRN, PLAN):
        return bool(digits) and len(value) >= 6
    if label == DOB:
        return bool(re.search(r"\d", value))
    if label == AGE:
        return value.isdigit() and int(value) >= 90
    if label == ICD:
        return value.upper() in ICD_DESC
    if label == CPT:
        return value in CPT_DESC
    if label == NDC:
        return (len(digits) == 11 and digits in NDC11) or any(value == c for c, _ in NDC_LIST)
    return False


class Collision(Exception):
    """A labeled value also occurs unlabeled in the text (e.g. a name that is also a word)."""


def check(record: dict[str, object]) -> None:
    """Assert a record is well formed; raise :class:`Collision` on an unlabeled repeat."""
    text, spans = record["text"], record["spans"]
    assert isinstance(text, str) and isinstance(spans, list)
    assert isinstance(record["contains_phi"], bool) and isinstance(record["kind"], str)
    last_end = 0
    for span in sorted(spans, key=lambda s: s["start"]):
        assert span["label"] in LABELS, span
        assert span["start"] >= last_end, f"overlapping spans in {text!r}"
        value = text[span["start"] : span["end"]]
        assert value and value == value.strip(), (value, text)
        assert _valid(span["label"], value), (span["label"], value)
        last_end = span["end"]
    ordered = sorted(spans, key=lambda s: s["start"])
    for left, right in pairwise(ordered):
        split = left["label"] == right["label"] == PERSON and text[left["end"] : right["start"]] == " "
        assert not split, f"a name split in two spans in {text!r}"
    for span in spans:
        if span["label"] == AGE:
            continue
        value = text[span["start"] : span["end"]]
        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            if not any(s["start"] <= m.start() and m.end() <= s["end"] for s in spans):
                raise Collision(f"unlabeled {value!r} in {record['kind']}")
    labels = {s["label"] for s in spans}
    if record["kind"] == CLINICAL_NO_IDENTIFIER:
        assert labels <= {ICD, CPT, NDC}, labels
        assert not record["contains_phi"]
    if record["contains_phi"]:
        assert labels & {PERSON, PHONE, EMAIL, SSN, MRN, MBI, PLAN, DOB, AGE}, text


# -- corpus --------------------------------------------------------------------------------


def _record(kind: str, doc: Doc, contains_phi: bool) -> dict[str, object]:
    text, spans = doc.build()
    return {"text": text.strip("\n"), "spans": spans, "contains_phi": contains_phi, "kind": kind}


def build() -> list[dict[str, object]]:
    g = G(random.Random(SEED))
    plan: list[tuple[str, Callable[[G], tuple[Doc, bool]]]] = []
    for kind, fn, n in PHI_KINDS + NEG_KINDS:
        plan += [(kind, fn)] * n
    for i in range(30):
        plan.append((CLINICAL_NO_IDENTIFIER, lambda g, i=i: clinical_no_identifier(g, i)))
    records = []
    seen: Counter[str] = Counter()
    for kind, fn in plan:
        g.k = seen[kind]
        seen[kind] += 1
        for _attempt in range(50):
            g.used = set()
            doc, phi = fn(g)
            record = _record(kind, doc, phi)
            try:
                check(record)
            except Collision:
                continue
            records.append(record)
            break
        else:
            raise RuntimeError(f"could not build a clean {kind} text")
    g.r.shuffle(records)
    return records


def main(write: Callable[[str], object] | None = None) -> None:
    records = build()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if write is not None:
        write(text)
    else:
        OUT.write_text(text, encoding="utf-8")


def summary(records: list[dict[str, object]]) -> str:
    kinds = Counter(r["kind"] for r in records)
    labels = Counter(s["label"] for r in records for s in r["spans"])  # type: ignore[union-attr]
    phi = sum(1 for r in records if r["contains_phi"])
    lines = [f"{len(records)} texts, {phi} with PHI"]
    lines += [f"  {k}: {n}" for k, n in sorted(kinds.items())]
    lines += [f"  {k}: {n}" for k, n in sorted(labels.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
    print(summary([json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines()]))

"""The health-context signal: does the text talk about someone's health?

Identifiers alone do not make PHI (a colleague's name in a budget mail is not PHI); an
identifier of a person *together with* health information does. This module measures the
second half from the words of the message: diagnoses, medications (also by their INN stems),
procedures, lab tests and patient-directed phrasing ("your results") weigh 1, generic care
words ("clinic", "appointment") weigh 0.4; each distinct term counts once. The verdict
(:mod:`relay.phi.verdict`) adds the clinical codes the recognizers found.

It also answers whether an NER "PERSON" is really a drug or an eponymous disease
(``Metformin``, ``Crohn``), the small model's most common false positive in clinical text.

Pure functions over strings; the lexicon is deliberately small and documented in docs/phi.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from relay.phi import subject

STRONG = 1.0
WEAK = 0.4
PRESENT_AT = 1.0
"""Weight from which a message has health context: one clinical term, or three care words."""
SATURATION = 3.0
"""Weight at which the signal's strength reaches 1."""

_DIAGNOSES = """
diabetes diabetic hypertension hypertensive cancer carcinoma tumor tumour malignancy malignant
metastatic metastasis lymphoma leukemia melanoma sarcoma asthma copd emphysema bronchitis
pneumonia influenza covid covid-19 sars-cov-2 hiv hepatitis cirrhosis tuberculosis sepsis
uti stroke dementia alzheimer alzheimer's parkinson parkinson's epilepsy seizure
seizures migraine depression depressive anxiety bipolar schizophrenia ptsd adhd autism
anorexia bulimia obesity hyperlipidemia hypothyroidism hyperthyroidism arthritis osteoporosis
osteoarthritis lupus fibromyalgia gout fracture concussion anemia hemophilia thrombosis
embolism arrhythmia fibrillation tachycardia bradycardia angina myocardial infarction
cardiomyopathy chf neuropathy nephropathy retinopathy glaucoma cataract dermatitis eczema
psoriasis cellulitis pregnancy pregnant miscarriage preeclampsia chlamydia gonorrhea
syphilis herpes hpv opioid overdose addiction alcoholism substance-abuse crohn crohn's colitis
ibs gerd ulcer pancreatitis appendicitis kidney-disease ckd dialysis sclerosis
apnea insomnia narcolepsy shingles measles mumps rubella varicella chickenpox strep mrsa norovirus
rsv mononucleosis hernia hemorrhoids incontinence endometriosis pcos infertility menopause
osteopenia scoliosis sciatica stenosis fibrosis tendinitis tendonitis bursitis aneurysm
atherosclerosis hyperglycemia hypoglycemia prediabetes ketoacidosis hypotension syncope vertigo
tinnitus palsy delirium psychosis ocd suicidal self-harm celiac ibd afib dvt copd rheumatoid
concussion laceration sprain dislocation neoplasm polyp polyps cyst nodule lesion hematoma myeloma
adenoma glioma mesothelioma allergic anaphylaxis heart-failure heart-attack kidney-stones
eating-disorder nausea vomiting diarrhea wheezing palpitations numbness shortness-of-breath
chest-pain sore-throat
"""
_MEDICATIONS = """
metformin insulin glipizide lisinopril losartan amlodipine atorvastatin simvastatin
rosuvastatin metoprolol carvedilol warfarin apixaban eliquis xarelto clopidogrel aspirin
ibuprofen acetaminophen naproxen oxycodone hydrocodone morphine fentanyl tramadol
buprenorphine suboxone methadone naloxone gabapentin pregabalin sertraline fluoxetine
citalopram escitalopram bupropion venlafaxine duloxetine trazodone alprazolam lorazepam
clonazepam diazepam zolpidem quetiapine olanzapine risperidone aripiprazole
levothyroxine synthroid prednisone methylprednisolone albuterol inhaler fluticasone
montelukast amoxicillin azithromycin doxycycline ciprofloxacin cephalexin penicillin
omeprazole pantoprazole ozempic semaglutide wegovy mounjaro tirzepatide jardiance
lipitor zoloft prozac xanax adderall methotrexate humira chemotherapy antibiotic antibiotics
antidepressant statin vaccine vaccination immunization lidocaine nebulizer epipen
antihistamine steroid steroids corticosteroid antiviral anticoagulant opioids insulin-pump
"""
_PROCEDURES = """
mri ct-scan pet-ct x-ray xray ultrasound echocardiogram ekg ecg eeg mammogram mammography
colonoscopy endoscopy biopsy surgery surgical appendectomy mastectomy hysterectomy
angioplasty catheterization bypass-surgery transplant dialysis chemotherapy radiotherapy
physiotherapy intubation anesthesia infusion transfusion sutures amputation cesarean
c-section ivf angiogram angiography echocardiography sonogram polysomnography radiograph
fluoroscopy dexa pap-smear psychotherapy chiropractic acupuncture ct-scan cat-scan pet-scan
sleep-study stress-test bone-density flu-shot physical-therapy occupational-therapy speech-therapy
prenatal postpartum ob-gyn obgyn well-child cabg pci bariatric bariatrics gastric-sleeve
gastric-bypass lap-band cgm cardiac-rehab pulmonary-rehab
"""
_LABS = """
a1c hba1c glucose cholesterol ldl hdl triglycerides creatinine egfr potassium
hemoglobin hematocrit platelets platelet wbc tsh inr urinalysis blood-culture
pathology cytology troponin bilirubin ferritin vitamin-d lipid-panel metabolic-panel
urine urinalysis blood-pressure blood-sugar heart-rate vital-signs pulmonary-function biopsy
thyroid hormone hormones antibody antibodies strep-test covid-test allergy-testing skin-test
blood-count
"""
_ORGANS = """
cardiac cardiovascular pulmonary respiratory renal hepatic gastrointestinal abdominal pelvic lumbar
bowel gallbladder esophagus esophageal intestinal uterine ovarian prostate pancreas
"""
"""Organs and body systems named only in talk about a body: clinical terms (weight 1)."""
_PHRASES = (
    "lab results",
    "test results",
    "your results",
    "blood test",
    "blood work",
    "diagnosed with",
    "diagnosis of",
    "prescription refill",
    "mg daily",
    "twice daily",
    "once daily",
    "discharge summary",
    "admitted to the hospital",
    "treatment plan",
    "follow-up visit",
    "your appointment",
    "your visit",
    "your procedure",
    "your surgery",
    "your medication",
    "your condition",
    "your treatment",
    "your diagnosis",
    "symptoms",
    "side effects",
    "allergic to",
    "history of present illness",
    "chief complaint",
    "tested positive",
    "tested negative",
    "medical history",
    "progress note",
    "clinical note",
    "prior authorization",
    "explanation of benefits",
    "video visit",
    "virtual visit",
    "telehealth visit",
    "sick visit",
    "wellness visit",
    "well visit",
    "annual physical",
    "physical exam",
    "urgent care",
    "emergency room",
    "your test",
    "your scan",
    "your labs",
    "your prescription",
    "your refill",
    "your dose",
    "your ct",
    "your mri",
    "your follow-up",
    "your checkup",
    "your check-up",
    "gastric sleeve",
    "gastric bypass",
    "cardiac rehab",
    "pulmonary rehab",
    "threw up",
    "throwing up",
    "my sugar",
    "my sugars",
    "blood sugar",
    "blood sugars",
    "glucose monitor",
    "insulin pump",
)
_WEAK_PHRASES = ("office visit", "new patient", "same-day visit", "fasting labs", "side effect")
"""Phrases that speak of care without saying what for (weight 0.4, like a care word)."""
_CARE_WORDS = """
patient patients clinic hospital doctor physician nurse appointment appointments medical
healthcare treatment therapy referral pharmacy diagnosis prognosis clinical outpatient
inpatient icu pcp cbc cmp bmp psa mg prescribed prescription dosage symptoms discharged
allergies visit follow-up followup post-op postop check-up checkup copay co-pay deductible
coinsurance provider medicine imaging pediatrics dermatology cardiology oncology radiology
neurology orthopedics urology gynecology obstetrics psychiatry behavioral consultation blood
draw pain exam physical medicaid medicare eob
telehealth telemedicine triage intake admitted readmitted admission refill refills rx tablet
tablets capsule capsules pill pills dose doses dosing mcg pharmacist counseled fasting lab labs
fever cough rash fatigue headache headaches swelling bleeding dizziness dizzy injury wound
infection syndrome disorder chest heart lung lungs liver kidney kidneys knee spine spinal
shoulder abdomen stomach joint ct screening vaccines injection specialist
pulmonology rheumatology gastroenterology endocrinology nephrology hematology ophthalmology
otolaryngology podiatry allergy immunology pulmonologist rheumatologist cardiologist oncologist
neurologist dermatologist radiologist urologist gynecologist pediatrician allergist surgeon
therapist chiropractor optometrist dentist dental rehab hfref hfpef sensor sleeve
"""
_DRUG_STEMS = (
    "pril",
    "sartan",
    "statin",
    "olol",
    "dipine",
    "mycin",
    "cillin",
    "cycline",
    "floxacin",
    "prazole",
    "tidine",
    "oxetine",
    "azepam",
    "azolam",
    "gliptin",
    "glutide",
    "gliflozin",
    "formin",
    "mab",
    "tinib",
    "vir",
    "parin",
    "triptan",
    "semide",
    "thiazide",
    "izine",
    "tadine",
    "lukast",
    "onide",
    "asone",
    "isone",
    "olone",
    "oquine",
    "azole",
    "xaban",
    "terol",
    "tropium",
    "codone",
    "apine",
    "profen",
)
"""International Nonproprietary Name stems: ``-pril`` ACE inhibitors, ``-statin`` ... (WHO)."""
_CLINICAL_SUFFIXES = (
    "itis", "emia", "pathy", "algia", "ectomy", "otomy", "ostomy", "oscopy", "plasty",
    "metry", "osis", "iasis", "uria", "penia", "rrhea", "pnea", "plegia", "blastoma",
)  # fmt: skip
"""Endings of medical terms: inflammations (``rhinitis``, ``fasciitis``), blood conditions
(``anemia``), diseases of an organ (``neuropathy``), pain (``myalgia``), removals, openings,
scopes and repairs (``appendectomy``, ``colonoscopy``, ``angioplasty``), measurements
(``spirometry``), conditions (``stenosis``, ``psoriasis``), findings in urine (``hematuria``),
too few cells (``neutropenia``), flows (``diarrhea``), breathing (``dyspnea``), paralysis
(``hemiplegia``) and tumours of immature cells (``neuroblastoma``). A word with one of them
weighs as a clinical term, like a drug by its INN stem."""
_EVERYDAY = """
    sympathy empathy antipathy telepathy academia nostalgia dichotomy geometry symmetry asymmetry
    telemetry photometry trigonometry osmosis symbiosis apotheosis metamorphosis hypnosis diagnosis
    prognosis
"""
_NOT_CLINICAL = frozenset(_EVERYDAY.split())
"""Everyday words with those endings (and the two words of care that stay care words)."""
_DOSE = re.compile(r"\b\d+(?:\.\d+)?[ ]?(?:mg|mcg|g/dl|mg/dl|mmol/l|mmhg)\b")
"""A dose or a clinical measurement (``10 mg``, ``120/80 mmHg``, ``7.2 mg/dL``): a clinical term."""
_MIN_STEM_WORD = 7
"""Words shorter than this are not taken for a drug by their ending (``april``, ``parin``)."""
_EPONYM_WORDS = """
crohn crohn's parkinson parkinson's alzheimer alzheimer's hodgkin hodgkin's huntington
huntington's cushing cushing's addison addison's graves hashimoto hashimoto's tourette
tourette's asperger asperger's kaposi wilms ewing raynaud raynaud's sjogren guillain barre
meniere epstein barr lyme bell's down apgar glasgow
"""
_EPONYMS = frozenset(_EPONYM_WORDS.split())

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


_STRONG_WORDS = frozenset((_DIAGNOSES + _MEDICATIONS + _PROCEDURES + _LABS + _ORGANS).split())
_WEAK_WORDS = frozenset(_CARE_WORDS.split()) - _STRONG_WORDS
# A hyphenated entry also stands for its words written apart ("kidney-disease", "sleep study").
_STRONG_PHRASES = frozenset(
    {w.replace("-", " ") for w in _STRONG_WORDS if "-" in w} | {p for p in _PHRASES if " " in p}
)
_WEAK_PHRASE_SET = frozenset(_WEAK_PHRASES) - _STRONG_PHRASES
CLINICAL_WORDS = _STRONG_WORDS | _WEAK_WORDS
"""Single words of the lexicon (lower case)."""
_PHRASE_STARTS = frozenset(p.split()[0] for p in _STRONG_PHRASES | _WEAK_PHRASE_SET)
_MAX_PHRASE_WORDS = max(len(p.split()) for p in _STRONG_PHRASES | _WEAK_PHRASE_SET)


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthSignal:
    """How much health information the words of a message carry (no words are kept)."""

    weight: float = 0.0
    terms: int = 0
    personal: bool = False
    """Whether the health talk is about an individual (:mod:`relay.phi.subject`)."""
    broadcast: bool = False
    """Whether the message speaks to an audience or of a clinician's work (:mod:`relay.phi.subject`)."""

    @property
    def present(self) -> bool:
        return self.weight >= PRESENT_AT

    @property
    def strength(self) -> float:
        return min(1.0, self.weight / SATURATION)


NONE = HealthSignal()


def _is_drug_by_stem(word: str) -> bool:
    return len(word) >= _MIN_STEM_WORD and word.endswith(_DRUG_STEMS)


def _is_clinical_by_ending(word: str) -> bool:
    return len(word) >= _MIN_STEM_WORD and word.endswith(_CLINICAL_SUFFIXES) and word not in _NOT_CLINICAL


def is_clinical_term(word: str) -> bool:
    """A lower-case word that weighs as a clinical term (lexicon, INN stem or medical ending)."""
    return word in _STRONG_WORDS or _is_drug_by_stem(word) or _is_clinical_by_ending(word)


@dataclass(frozen=True, slots=True)
class _Terms:
    """The distinct health terms of one text, and whether its talk is personal or a broadcast."""

    strong: frozenset[str]
    weak: frozenset[str]
    personal: bool
    broadcast: bool


@functools.lru_cache(maxsize=16)
def _terms(text: str) -> _Terms:
    """One text's terms (cached: the verdict and several recognizers ask about the same text)."""
    strong: set[str] = set()
    weak: set[str] = set()
    lower = text.lower()
    words = _WORD.findall(lower)
    for index, word in enumerate(words):
        if word in _STRONG_WORDS or _is_drug_by_stem(word) or _is_clinical_by_ending(word):
            strong.add(word)
        elif word in _WEAK_WORDS:
            weak.add(word)
        if word in _PHRASE_STARTS:
            for size in range(2, _MAX_PHRASE_WORDS + 1):
                phrase = " ".join(words[index : index + size])
                if phrase in _STRONG_PHRASES:
                    strong.add(phrase)
                elif phrase in _WEAK_PHRASE_SET:
                    weak.add(phrase)
    if (dose := _DOSE.search(lower)) is not None:
        strong.add(dose.group())
    found = bool(strong or weak)  # a text without terms is read only after one with some
    return _Terms(
        strong=frozenset(strong),
        weak=frozenset(weak),
        personal=found and subject.is_personal(lower, is_clinical_term),
        broadcast=found and subject.is_broadcast(lower),
    )


def measure(texts: Iterable[str]) -> HealthSignal:
    """The health signal of a whole message (all its segments), each distinct term once.

    Whether the talk is personal or a broadcast is read from the segments from the first one
    with a health term on."""
    strong: set[str] = set()
    weak: set[str] = set()
    personal = broadcast = False
    for text in texts:
        terms = _terms(text)
        strong |= terms.strong
        weak |= terms.weak
        if terms.strong or terms.weak:
            personal = personal or terms.personal
            broadcast = broadcast or terms.broadcast
        elif strong or weak:
            lower = text.lower()
            personal = personal or subject.is_personal(lower, is_clinical_term)
            broadcast = broadcast or subject.is_broadcast(lower)
    return HealthSignal(
        weight=STRONG * len(strong) + WEAK * len(weak),
        terms=len(strong) + len(weak),
        personal=personal,
        broadcast=broadcast,
    )


def has_context(text: str) -> bool:
    """Whether one text alone has health context."""
    return measure([text]).present


_BILLED_VISITS = " visit exam consult consultation injection vaccine screening panel test"
_PROCEDURE_WORDS = frozenset((_PROCEDURES + _LABS + _BILLED_VISITS).split())
_PROCEDURE_ENDINGS = ("ectomy", "otomy", "oscopy", "plasty", "graphy", "gram")


def is_procedure(word: str) -> bool:
    """True for a procedure, test or visit that a CPT code right after it bills (``mammogram``)."""
    lower = word.lower()
    return lower in _PROCEDURE_WORDS or (len(lower) >= _MIN_STEM_WORD and lower.endswith(_PROCEDURE_ENDINGS))


def is_clinical_name(span: str) -> bool:
    """True when an NER "PERSON" is a drug, an eponymous disease or another clinical term."""
    words = _WORD.findall(span.lower())
    if not words:
        return False
    if "-".join(words) in _STRONG_WORDS:  # "Vitamin D", written apart from the lexicon's "vitamin-d"
        return True
    return all(
        w in _STRONG_WORDS or w in _EPONYMS or w.removesuffix("'s") in _EPONYMS or _is_drug_by_stem(w)
        for w in words
    )

"""Words that look like names when capitalised but are not: what the name finders refuse.

Shared by :mod:`relay.phi.nlp` (which words open a sentence without naming anyone, which
lone words the model must not be believed on) and :mod:`relay.phi.names` (which capitalised
words after a cue are not a name). Plain word sets, lower case; the lists are general mail and
healthcare vocabulary, not drawn from any test corpus.
"""

from __future__ import annotations

from spacy.lang.en.stop_words import STOP_WORDS

from relay.phi.health import CLINICAL_WORDS

_OPENERS = """
    please thanks thank hi hello dear regards best sincerely yes ok okay note reminder cheers hey
    good great sorry attached unfortunately also let looking feel happy hope kind warm remember call
    bring take check review find make send confirm contact schedule arrive continue avoid stop start
    keep use ask fast follow reply forward update updated welcome congratulations today tomorrow
    yesterday tonight insurance labs lab results result physical patient member members parking
    payment payments billing coverage benefits plan meeting meetings agenda minutes attendance staff
    team everyone anyone hours directions questions information details summary following regarding
    per just quick important urgent reminders instructions medications medicine drink eat wear sign
    fill complete
"""
OPENERS = frozenset(STOP_WORDS) | CLINICAL_WORDS | frozenset(_OPENERS.split())
"""Capitalised at the start of a sentence only because they open it: no reason to run the model
(stop words, clinical words, and the imperatives and nouns that open sentences in mail)."""

_NEVER_NAMES = """
    monday tuesday wednesday thursday friday saturday sunday ok md rn np pa do phd dds i'm i'll i've
    i'd
"""
NEVER_NAMES = frozenset(_NEVER_NAMES.split())
"""Capitalised words that never name a person or a place: weekdays, degrees, contractions."""

_GROUPS_AND_ROLES = """
    team all everyone colleagues colleague friends friend patient patients member members sir sirs
    madam customer customers valued parent parents staff doctor doctors provider providers hiring
    manager neighbor neighbour resident residents client clients partner partners user users student
    students family caregiver caregivers applicant candidate reviewer committee department office
    clinic hospital unknown none pending appointment reminder mr mrs ms mx dr miss prof
"""
NOT_NAMES = frozenset(_GROUPS_AND_ROLES.split())
"""Words after a salutation that address a group or a role, not a person ("Dear Team")."""

_OTHER_USES = """
    accounts payable receivable purchasing procurement
    january february march april may june july august september october november december health
    healthcare medical medicine center centre clinic clinics hospital hospitals pharmacy plan plans
    care associates group partners services service system systems network institute foundation
    university college school academy laboratory laboratories lab labs diagnostics imaging insurance
    mutual assurance shield cross advantage company corporation inc llc ltd bank trust council board
    committee department office team staff unit ward wing floor suite room building campus tower
    street avenue road drive boulevard plaza square court county city state valley lake river harbor
    creek point mount fort port north south east west northern southern eastern western central
    united national american international regional community family general memorial children's
    women's saint results result report reports statement summary notice update updates review
    reminder request referral order orders invoice account claim claims policy program programme
    project portal access education safety experience satisfaction relations advocate handbook
    rights resources support assistance information guide training session meeting agenda minutes
    survey form forms card number online annual quarterly monthly weekly daily week day days month
    year holiday party event conference webinar workshop orientation open enrollment enrolment
    rounds grand town new old final draft total balance payment due date time hours schedule
    calendar budget finance accounting marketing sales operations facilities security compliance
    privacy legal human help desk supply supplies vendor contract director nurse nurses nursing
    physician surgeon therapist pharmacist clinician coordinator specialist technician radiologist
    assistant practice internal emergency urgent primary intensive critical control prevention
    quality strategic welcome congratulations thanks thank regards sincerely best cheers warm kind
    yours re fw fwd attn subject note notes jan feb mar apr jun jul aug sep sept oct nov dec
    scheduling billing admissions registration reception intake triage records
"""
NON_NAME_WORDS = OPENERS | NEVER_NAMES | NOT_NAMES | frozenset(_OTHER_USES.split())
"""Every word above, and capitalised words with another use in mail: months, the words of
organisations, places, headings, departments and roles. None of them is taken for a name, or a
part of one, on weak evidence."""

_PERSON_VERBS = """
    picked called calls phoned texted emailed said says told asked asks wrote writes reports reported
    states stated denies denied complains complained presented presents arrived missed declined
    tolerated feels felt seen admitted discharged counseled counselled promoted retiring retired
    joined joins thanked shared needs wants prefers lives lived returned returns celebrates
    celebrated agreed requested scheduled cancelled canceled rescheduled visited underwent started
    stopped
"""
PERSON_VERBS = frozenset(_PERSON_VERBS.split())
"""Verbs whose subject is a person in mail (``<name> called``, ``<name> was seen``,
``<name> has been promoted``): after a capitalised run, a cue that it names someone."""

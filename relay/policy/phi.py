"""The ``phi:`` condition: what the PHI scanner found, by entity type, count and score.

Only types, counts and scores are ever compared or shown; the values found never reach the
policy engine. The entity types a policy may name are an input (the detectors configured), with
Presidio's built-in types and the relay's healthcare recognizers as the default.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from relay.policy.index import COARSE, Guard, best_of, flag_guard
from relay.policy.nodes import Node, Reader
from relay.policy.view import MessageView, RecipientView

Test = Callable[[MessageView, RecipientView], object]
Observe = Callable[[MessageView, RecipientView], str]

PRESIDIO_ENTITIES = frozenset(
    {
        # Presidio's predefined recognizers (docs/supported_entities.md of microsoft/presidio).
        "CREDIT_CARD", "CRYPTO", "DATE_TIME", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS",
        "MAC_ADDRESS", "NRP", "LOCATION", "PERSON", "PHONE_NUMBER", "MEDICAL_LICENSE", "URL",
        "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT", "US_SSN",
        "UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE",
        "IT_FISCAL_CODE", "IT_DRIVER_LICENSE", "IT_VAT_CODE", "IT_PASSPORT", "IT_IDENTITY_CARD",
        "PL_PESEL", "SG_NRIC_FIN", "SG_UEN", "AU_ABN", "AU_ACN", "AU_TFN", "AU_MEDICARE",
        "IN_PAN", "IN_AADHAAR", "IN_VEHICLE_REGISTRATION", "IN_VOTER", "IN_PASSPORT", "IN_GSTIN",
        "FI_PERSONAL_IDENTITY_CODE",
        "KR_DRIVER_LICENSE", "KR_FRN", "KR_PASSPORT", "KR_BRN", "KR_RRN", "TH_TNIN",
    }
)  # fmt: skip
HEALTHCARE_ENTITIES = frozenset(
    {
        "MEDICAL_RECORD_NUMBER", "US_NPI", "US_DEA_NUMBER", "US_MBI", "HEALTH_PLAN_ID",
        "ICD10_CODE", "CPT_CODE", "NDC_CODE", "DATE_OF_BIRTH", "AGE_OVER_89",
    }
)  # fmt: skip
DEFAULT_ENTITIES = PRESIDIO_ENTITIES | HEALTHCARE_ENTITIES

PHI_KEYS = (
    "contains_phi",
    "phi_score",
    "unscannable",
    "health_context",
    "entities",
    "min_count",
    "min_score",
)


def entity(reader: Reader, node: Node, key: str, known: frozenset[str]) -> str:
    """One entity type name, checked against the known set."""
    name = reader.string(node, key, what="an entity type such as US_SSN")
    if name not in known:
        upper = name.upper()
        if upper in known:
            reader.fail(node, key, f"entity types are upper case: write {upper!r}")
        close = difflib.get_close_matches(upper, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        reader.fail(
            node, key, f"unknown entity type {name!r}{hint}; the built-in types are listed in docs/policy.md"
        )
    return name


@dataclass(frozen=True, slots=True)
class PhiCondition:
    test: Test
    expected: str
    observe: Observe
    """Shows the facts the condition looked at: flags, the score, counts and scores by type."""
    guard: Guard | None


def compile_phi(reader: Reader, node: Node, key: str, known: frozenset[str]) -> PhiCondition:
    """Every key given must hold."""
    entries = reader.mapping(node, key, PHI_KEYS, what="a mapping of PHI conditions")
    if not entries:
        reader.fail(node, key, f"expected at least one of {', '.join(PHI_KEYS)}")
    tests: list[Test] = []
    words: list[str] = []
    shown: list[Observe] = []
    guards: list[Guard] = []
    for flag in ("contains_phi", "unscannable", "health_context"):
        if flag in entries:
            wanted = reader.boolean(entries[flag][1], f"{key}.{flag}")
            tests.append(_flag_test(flag, wanted))
            words.append(f"{flag} is {str(wanted).lower()}")
            shown.append(_flag_observe(flag))
            if flag != "health_context":
                guards.append(flag_guard(flag, wanted))
    if "phi_score" in entries:
        threshold = reader.score(entries["phi_score"][1], f"{key}.phi_score")
        tests.append(lambda m, r: m.phi.phi_score >= threshold)
        words.append(f"phi_score >= {threshold:g}")
        shown.append(lambda m, r: f"phi_score {m.phi.phi_score:.2f}")
    if {"entities", "min_count", "min_score"} & entries.keys():
        findings, types = _findings(reader, entries, key, known, words)
        tests.append(findings)
        shown.append(_findings_observe(types))
        if types is not None:  # at least one finding of one of these types is needed
            guards.append(Guard(frozenset(("phi_type", name) for name in types), COARSE))
    test = tests[0] if len(tests) == 1 else lambda m, r: all(one(m, r) for one in tests)
    return PhiCondition(
        test=test,
        expected=" and ".join(words),
        observe=lambda m, r: "; ".join(show(m, r) for show in shown),
        guard=best_of(guards),
    )


def _flag_test(flag: str, wanted: bool) -> Test:
    if flag == "contains_phi":
        return lambda m, r: m.phi.contains_phi is wanted
    if flag == "unscannable":
        return lambda m, r: m.phi.unscannable is wanted
    return lambda m, r: m.phi.health_context is wanted


def _flag_observe(flag: str) -> Observe:
    return lambda m, r: f"{flag} {str(getattr(m.phi, flag)).lower()}"


def _findings(
    reader: Reader, entries: dict[str, tuple[Node, Node]], key: str, known: frozenset[str], words: list[str]
) -> tuple[Test, frozenset[str] | None]:
    """At least ``min_count`` findings of the ``entities`` types whose best score >= ``min_score``."""
    types: frozenset[str] | None = None
    if "entities" in entries:
        node = entries["entities"][1]
        items = reader.one_or_list(node, f"{key}.entities")
        types = frozenset(entity(reader, item, path, known) for item, path in items)
    min_count = (
        reader.integer(entries["min_count"][1], f"{key}.min_count", minimum=1)
        if "min_count" in entries
        else 1
    )
    min_score = reader.score(entries["min_score"][1], f"{key}.min_score") if "min_score" in entries else 0.0
    which = " or ".join(sorted(types)) if types else "any type"
    words.append(
        f"at least {min_count} finding(s) of {which}" + (f" scoring >= {min_score:g}" if min_score else "")
    )

    def test(m: MessageView, r: RecipientView) -> bool:
        total = 0
        for name, (count, best) in m.phi_types.items():
            if (types is None or name in types) and best >= min_score:
                total += count
        return total >= min_count

    return test, types


def _findings_observe(types: frozenset[str] | None) -> Observe:
    """The findings of the types asked about (all types when none are named): counts and scores."""

    def observe(m: MessageView, r: RecipientView) -> str:
        found = [
            f"{name} x{count} (best {best:.2f})"
            for name, (count, best) in sorted(m.phi_types.items())
            if types is None or name in types
        ]
        asked = " or ".join(sorted(types)) if types else "PHI"
        return f"findings: {', '.join(found)}" if found else f"no {asked} found"

    return observe

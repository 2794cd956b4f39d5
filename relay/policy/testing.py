"""Running a policy's own tests: each sample message through ``evaluate``, compared field by field.

How a message becomes facts (MIME walk, and PHI facts when the test gives none) is passed in as
``facts_of``, so this module stays independent of the extractor; ``relay policy check`` passes
``relay.message.extract``. A failing test lists, per recipient, each field that differs as
``expected X, got Y``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from relay.errors import ConfigError
from relay.model import Envelope, Facts, PhiResult, TlsLevel
from relay.policy.decision import PolicyDecision, RecipientDecision
from relay.policy.engine import evaluate
from relay.policy.rules import Policy
from relay.policy.testspec import OTHERS, SET_FIELDS, Expectation, PolicyTest

FactsOf = Callable[[bytes, Envelope, PhiResult | None], Facts]
"""(message bytes, envelope, PHI facts to assume or None) -> the facts to evaluate."""
# A sample message is a few kilobytes; ten megabytes means the wrong file was named.
MAX_SAMPLE_BYTES = 10 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    test: PolicyTest
    problems: tuple[str, ...]
    """Empty when the test passed; else one line per difference (or why it could not run)."""
    decision: PolicyDecision | None = None

    @property
    def passed(self) -> bool:
        return not self.problems


def run_tests(
    policy: Policy,
    facts_of: FactsOf,
    *,
    internal_domains: frozenset[str] = frozenset(),
) -> tuple[TestResult, ...]:
    return tuple(run_test(policy, test, facts_of, internal_domains=internal_domains) for test in policy.tests)


def run_test(
    policy: Policy,
    test: PolicyTest,
    facts_of: FactsOf,
    *,
    internal_domains: frozenset[str] = frozenset(),
) -> TestResult:
    try:
        data = sample_bytes(test)
    except ConfigError as exc:
        return TestResult(test=test, problems=(str(exc),))
    facts = facts_of(data, test.envelope, test.phi)
    tls: Mapping[str, TlsLevel] | None = dict(test.recipient_tls) if test.recipient_tls else None
    decision = evaluate(policy, facts, internal_domains=internal_domains, recipient_tls=tls)
    problems = []
    named = {e.recipient for e in test.expect}
    others = next((e for e in test.expect if e.recipient == OTHERS), None)
    for actual in decision.recipients:
        address = actual.recipient.lower()
        expectation = next((e for e in test.expect if e.recipient == address), None)
        if expectation is None and address not in named:
            expectation = others
        if expectation is not None:
            problems += [f"<{actual.recipient}> {line}" for line in compare(expectation, actual)]
    return TestResult(test=test, problems=tuple(problems), decision=decision)


def sample_bytes(test: PolicyTest) -> bytes:
    """The test's message: inline text with CRLF line ends (as on the wire), or the .eml file."""
    if test.message is not None:
        return "\r\n".join(test.message.splitlines()).encode() + b"\r\n"
    assert test.eml is not None
    path = test.base / test.eml
    where = f"{test.file}:{test.line}"
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SAMPLE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"test {test.name!r} ({where}): cannot read {str(path)!r}: {exc.strerror or exc}"
        ) from exc
    if len(data) > MAX_SAMPLE_BYTES:
        raise ConfigError(
            f"test {test.name!r} ({where}): {str(path)!r} is larger than {MAX_SAMPLE_BYTES} bytes"
        )
    return data


def actual_value(decision: RecipientDecision, field: str) -> object:
    """A decision's value of an expectation field, in the form the expectation was parsed to."""
    if field == "minimum":
        return decision.tls_minimum
    if field == "reply":
        return decision.rejection.reply() if decision.rejection else ""
    if field == "pool":
        return decision.pool or ""
    if field == "notify_sender":
        return bool(decision.notify_sender)
    if field == "rules":
        return frozenset(decision.matched_rules)
    if field == "monitor":
        return frozenset(hit.rule for hit in decision.monitor_hits)
    if field == "add_headers":
        return frozenset((name.lower(), value) for name, value in decision.add_headers)
    value = getattr(decision, field)
    return frozenset(value) if field in SET_FIELDS else value


def compare(expectation: Expectation, decision: RecipientDecision) -> list[str]:
    """One line per field that differs: ``tls: expected verified, got opportunistic``."""
    lines = []
    for field, expected in expectation.fields:
        actual = actual_value(decision, field)
        if field == "reply":
            assert isinstance(expected, str) and isinstance(actual, str)
            same = actual.startswith(expected) and bool(actual)
        else:
            same = actual == expected
        if not same:
            lines.append(f"{field}: expected {show(expected)}, got {show(actual)}")
    return lines


def show(value: object) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(_word(item) for item in value)) + "]"
    return _word(value)


def _word(value: object) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}: {value[1]}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return "(none)" if value == "" else str(value)

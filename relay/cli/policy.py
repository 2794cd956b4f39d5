"""``relay policy check|explain``: the command functions (argument parsing lives in main.py).

Each returns ``(exit code, text)``: 0 when everything passed, 1 when a policy test failed, 2
when the policy (or a named file) is invalid, in which case the text is the one error line. Facts
are built from a message as the relay builds them (``relay.message.extract``); PHI facts come
from the test (``phi:``), so that policy tests run the same everywhere, or, for ``explain``,
from the relay's scanner; a message with parts the extractor could not read is marked
unscannable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from relay.errors import ConfigError
from relay.message import extract
from relay.model import Envelope, Facts, PhiResult, TlsLevel
from relay.policy.explain import explain
from relay.policy.loader import load_policy
from relay.policy.phi import DEFAULT_ENTITIES
from relay.policy.render import decision_lines, to_json, to_text
from relay.policy.testing import MAX_SAMPLE_BYTES, TestResult, run_tests

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def message_facts(data: bytes, envelope: Envelope, phi: PhiResult | None) -> Facts:
    """The facts the pipeline would gather, with ``phi`` standing in for the scanner."""
    facts = extract(data).facts
    result = phi if phi is not None else PhiResult()
    if facts.unscannable and not result.unscannable:
        # What the extractor could not read, the scanner could not scan either (fail closed).
        result = dataclasses.replace(result, unscannable=True)
    return Facts(envelope=envelope, message=facts, phi=result)


def cmd_check(
    directory: Path,
    *,
    internal_domains: frozenset[str] = frozenset(),
    pools: frozenset[str] = frozenset(),
    entities: frozenset[str] = DEFAULT_ENTITIES,
    verbose: bool = False,
) -> tuple[int, str]:
    """Validate the policy and run its tests; ``verbose`` adds each passing test's decision."""
    try:
        policy = load_policy(directory, entities=entities, pools=pools)
    except ConfigError as exc:
        return EXIT_INVALID, str(exc)
    results = run_tests(policy, message_facts, internal_domains=internal_domains)
    lines = [
        f"{directory}: {len(policy.rules)} rule(s) in {len(policy.files)} file(s), valid "
        f"(version {policy.version})"
    ]
    lines += [line for result in results for line in _result_lines(result, verbose=verbose)]
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results)} test(s): {len(results) - failed} passed, {failed} failed")
    return (EXIT_FAILED if failed else EXIT_OK), "\n".join(lines)


def _result_lines(result: TestResult, *, verbose: bool) -> list[str]:
    test = result.test
    status = "ok" if result.passed else "FAIL"
    lines = [f"{status}  {test.file}:{test.line}  {test.name}"]
    lines += [f"      {problem}" for problem in result.problems]
    if verbose and result.decision is not None:
        lines += [f"      {line}" for line in decision_lines(result.decision)]
    return lines


def cmd_explain(
    directory: Path,
    eml_path: Path,
    mail_from: str,
    rcpt_to_list: Sequence[str],
    as_json: bool = False,
    *,
    client_ip: str = "127.0.0.1",
    auth_user: str | None = None,
    phi: PhiResult | None = None,
    scan: Callable[[bytes], PhiResult] | None = None,
    recipient_tls: Mapping[str, TlsLevel] | None = None,
    internal_domains: frozenset[str] = frozenset(),
    pools: frozenset[str] = frozenset(),
    entities: frozenset[str] = DEFAULT_ENTITIES,
) -> tuple[int, str]:
    """The decision trace of one message. Its PHI facts come from ``scan`` (the relay's
    scanner, as ``relay policy explain`` runs it when PHI detection is on), else from ``phi``
    (default: none found)."""
    if not rcpt_to_list:
        return EXIT_INVALID, "give at least one recipient (--to)"
    try:
        policy = load_policy(directory, entities=entities, pools=pools)
        data = _read(eml_path)
        if scan is not None:
            phi = scan(data)
    except ConfigError as exc:
        return EXIT_INVALID, str(exc)
    envelope = Envelope(
        sender="" if mail_from == "<>" else mail_from,
        recipients=tuple(rcpt_to_list),
        client_ip=client_ip,
        auth_user=auth_user,
    )
    trace = explain(
        policy,
        message_facts(data, envelope, phi),
        internal_domains=internal_domains,
        recipient_tls=recipient_tls,
    )
    return EXIT_OK, to_json(trace) if as_json else to_text(trace)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SAMPLE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    if len(data) > MAX_SAMPLE_BYTES:
        raise ConfigError(f"larger than {MAX_SAMPLE_BYTES} bytes; wrong file?", file=str(path))
    return data

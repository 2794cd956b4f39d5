"""docs/policy.md and docs/policy.schema.json say what the loader does.

Every YAML example in the docs loads (whole files as they are, snippets inside a rule); the
schema names exactly the keys the loader accepts; the shipped baseline and the doc examples
validate against the schema, and typical mistakes do not. The schema is checked by a small
validator for the draft 2020-12 keywords it uses (no third-party validator is installed).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from relay.errors import ConfigError
from relay.model import TlsLevel
from relay.policy import load_policy
from relay.policy.actions import ACTIONS, DELIVER_KEYS, REJECT_KEYS
from relay.policy.conditions import CONDITIONS
from relay.policy.conditions.base import COUNT_KEYS, PATTERN_KEYS, SIZE_KEYS
from relay.policy.conditions.content import ATTACHMENT_KEYS, HEADER_KEYS
from relay.policy.conditions.envelope import RECIPIENT_TLS_KEYS
from relay.policy.loader import FILE_KEYS, STREAM_KEYS
from relay.policy.phi import DEFAULT_ENTITIES, PHI_KEYS
from relay.policy.rules import RULE_KEYS
from relay.policy.testspec import ENVELOPE_KEYS, EXPECT_FIELDS, FINDING_KEYS, PHI_FACT_KEYS, TEST_KEYS

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "policy.md").read_text()
SCHEMA: dict[str, Any] = json.loads((REPO / "docs" / "policy.schema.json").read_text())
POOLS = frozenset({"bulk", "transactional", "bulk-pool"})
FILE_STARTS = ("rules:", "tests:", "default:", "streams:", "# policies/")


def yaml_blocks() -> list[tuple[int, str]]:
    return [
        (DOC.count("\n", 0, match.start()) + 2, match.group(1))
        for match in re.finditer(r"```yaml\n(.*?)```", DOC, re.DOTALL)
    ]


def entries(block: str) -> list[str]:
    """The top-level entries of a snippet: each line at column 0 with what is indented under it."""
    found: list[str] = []
    for line in block.splitlines():
        if line.startswith((" ", "-")) and found:
            found[-1] += "\n" + line
        elif line.strip() and not line.startswith("#"):
            found.append(line)
    return found


def snippet_file(entry: str) -> str:
    """A policy file that holds one documentation snippet where it belongs."""
    key = entry.partition(":")[0].strip()
    body = textwrap.indent(entry, " " * 6)
    if key in CONDITIONS:
        tls = key == "recipient_tls"
        return f"rules:\n  - name: r\n    when:\n{body}\n    then: {{deliver: {'dane' if tls else 'none'}}}\n"
    if key in ("when", "then"):
        rest = "    then: {tag: t}\n" if key == "when" else ""
        return f"rules:\n  - name: r\n{textwrap.indent(entry, ' ' * 4)}\n{rest}"
    assert key in ACTIONS, f"a documentation snippet that is neither a condition nor an action: {entry!r}"
    return f"rules:\n  - name: r\n    then:\n{body}\n"


def test_every_yaml_example_in_the_docs_loads(tmp_path: Path) -> None:
    checked = 0
    for line, block in yaml_blocks():
        if block.lstrip().startswith("# yaml-language-server"):
            continue  # an editor modeline, not a policy
        files = [block] if block.startswith(FILE_STARTS) or block.startswith("- name") else []
        if block.startswith("- name"):
            files = [f"rules:\n{textwrap.indent(block, '  ')}"]
        elif not files:
            files = [snippet_file(entry) for entry in entries(block)]
        for text in files:
            directory = tmp_path / f"example-{checked}"
            directory.mkdir()
            (directory / "10-example.yaml").write_text(text)
            try:
                load_policy(directory, pools=POOLS)
            except ConfigError as exc:
                pytest.fail(f"docs/policy.md:{line}: the example does not load: {exc}\n{text}")
            checked += 1
    assert checked >= 60  # every block was looked at


def test_every_condition_and_action_is_documented() -> None:
    for name in (*CONDITIONS, *ACTIONS, *EXPECT_FIELDS, *PHI_KEYS, *ATTACHMENT_KEYS, *TEST_KEYS):
        assert f"`{name}`" in DOC, name
    for entity in DEFAULT_ENTITIES:
        assert f"`{entity}`" in DOC, entity
    for level in TlsLevel:
        assert f"`{level.value}`" in DOC, level


# -- the schema names exactly the loader's keys ---------------------------------------------------


def props(*path: str) -> set[str]:
    node: Any = SCHEMA
    for step in path:
        node = node[step]
    return set(node["properties"])


def test_the_schema_has_the_loaders_keys() -> None:
    defs = SCHEMA["$defs"]
    assert props() == set(FILE_KEYS)
    assert props("properties", "streams") == set(STREAM_KEYS)
    assert props("$defs", "rule") == set(RULE_KEYS)
    assert props("$defs", "conditions") == set(CONDITIONS)
    assert props("$defs", "actions") == set(ACTIONS)
    assert props("$defs", "test") == set(TEST_KEYS)
    assert props("$defs", "test", "properties", "envelope") == set(ENVELOPE_KEYS)
    assert props("$defs", "test", "properties", "phi") == set(PHI_FACT_KEYS)
    assert set(defs["test"]["properties"]["phi"]["properties"]["findings"]["items"]["properties"]) == set(
        FINDING_KEYS
    )
    assert set(defs["expectation"]["oneOf"][1]["properties"]) == set(EXPECT_FIELDS)
    conditions = defs["conditions"]["properties"]
    assert set(conditions["phi"]["properties"]) == set(PHI_KEYS)
    assert set(conditions["attachment"]["properties"]) == set(ATTACHMENT_KEYS)
    assert set(conditions["header"]["properties"]) == set(HEADER_KEYS)
    assert set(conditions["recipient_tls"]["properties"]) == set(RECIPIENT_TLS_KEYS)
    assert set(defs["sizeRange"]["properties"]) == set(SIZE_KEYS)
    assert set(defs["countRange"]["properties"]) == set(COUNT_KEYS)
    assert {next(iter(o["properties"])) for o in defs["pattern"]["oneOf"][1:]} == set(PATTERN_KEYS)
    actions = defs["actions"]["properties"]
    assert set(actions["deliver"]["oneOf"][1]["properties"]) == set(DELIVER_KEYS)
    assert set(actions["reject"]["oneOf"][1]["properties"]) == set(REJECT_KEYS)
    assert defs["tlsLevel"]["enum"] == [level.value for level in TlsLevel]
    assert set(defs["entity"]["examples"]) == DEFAULT_ENTITIES


# -- the schema accepts what the loader accepts, and refuses typical mistakes --------------------


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Errors of ``value`` against ``schema`` (the keywords docs/policy.schema.json uses)."""
    if "$ref" in schema:
        target: Any = SCHEMA
        for step in schema["$ref"].removeprefix("#/").split("/"):
            target = target[step]
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return validate(value, target, path) + validate(value, rest, path)
    errors: list[str] = []
    kinds: dict[str, type | tuple[type, ...]] = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "null": type(None),
        "integer": int,
        "number": (int, float),
    }
    if "type" in schema:
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(value, kinds[t]) and not (t in ("integer", "number") and isinstance(value, bool))
            for t in wanted
        )
        if not ok:
            return [f"{path}: not {wanted}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: too short")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above maximum")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        for i, item in enumerate(value):
            errors += validate(item, schema.get("items", {}), f"{path}[{i}]")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{path}: too few keys")
        errors += [f"{path}: missing {k}" for k in schema.get("required", ()) if k not in value]
        for key, item in value.items():
            if key in schema.get("properties", {}):
                errors += validate(item, schema["properties"][key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unknown key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(item, schema["additionalProperties"], f"{path}.{key}")
            if "propertyNames" in schema:
                errors += validate(key, schema["propertyNames"], f"{path}.{key}")
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            passing = sum(not validate(value, option, path) for option in schema[keyword])
            if passing == 0 or (keyword == "oneOf" and passing > 1):
                errors.append(f"{path}: {passing} of the {keyword} options hold")
    if "not" in schema and not validate(value, schema["not"], path):
        errors.append(f"{path}: matches a forbidden shape")
    return errors


def test_the_baseline_and_the_doc_examples_fit_the_schema() -> None:
    documents = [yaml.safe_load((REPO / "policies" / "00-hipaa-baseline.yaml").read_text())]
    documents += [yaml.safe_load(block) for _, block in yaml_blocks() if block.startswith(FILE_STARTS)]
    assert len(documents) > 3
    for document in documents:
        assert validate(document, SCHEMA) == [], document


@pytest.mark.parametrize(
    "text",
    [
        "rule: []",
        "rules: [{name: r}]",
        "rules: [{name: r, then: {deliver: verfied}}]",
        "rules: [{name: r, then: {deliver: verified, reject: x}}]",
        "rules: [{name: r, when: {subjet: x}, then: {tag: t}}]",
        "rules: [{name: default, then: {tag: t}}]",
        "rules: [{name: r, then: {reject: {code: 450}}}]",
        "rules: [{name: r, when: {size: {over: 10X}}, then: {tag: t}}]",
        "rules: [{name: r, when: {phi: {entities: [us_ssn]}}, then: {tag: t}}]",
        "tests: [{name: t, envelope: {from: a, to: [b]}, expect: {b: deliver}}]",
    ],
    ids=[
        "unknown-key",
        "no-then",
        "tls-typo",
        "two-terminals",
        "condition-typo",
        "reserved-name",
        "4xx",
        "size-unit",
        "entity-case",
        "test-without-message",
    ],
)
def test_the_schema_refuses_typical_mistakes(text: str) -> None:
    assert validate(yaml.safe_load(text), SCHEMA) != []

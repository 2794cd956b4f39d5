"""Load a policy directory into a compiled `Policy`, or fail with one ``file:line: key:`` line.

The directory's ``*.yaml`` files are read in name order; each may hold ``rules:``, ``tests:``,
``streams:`` and ``default:``. Everything is validated here, once: unknown keys, wrong types,
unknown entity types and pools, regexes that do not compile, duplicate rule names. What comes
out is ready to evaluate (see ``relay.policy.engine``). The version is a hash of the files' names
and contents, so two relays with the same files decide under the same version.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from relay.errors import ConfigError
from relay.policy.actions import DEFAULT_TERMINAL, Actions, compile_actions
from relay.policy.conditions import Context, patterns
from relay.policy.index import RuleIndex
from relay.policy.nodes import Reader, compose, is_null, line_of
from relay.policy.patterns import Part, compile_parts
from relay.policy.phi import DEFAULT_ENTITIES
from relay.policy.rules import DEFAULT_NAME, Policy, Rule, compile_rule, make_rule
from relay.policy.testspec import PolicyTest, parse_tests
from relay.policy.view import STREAM_HEADERS, StreamRules

FILE_KEYS = ("rules", "tests", "streams", "default")
STREAM_KEYS = ("transactional", "bulk")
SUFFIX = ".yaml"
# A policy is a few dozen files at most; a thousand means the wrong directory was named.
_MAX_FILES = 1000


def load_policy(
    directory: Path,
    *,
    entities: frozenset[str] = DEFAULT_ENTITIES,
    pools: frozenset[str] = frozenset(),
) -> Policy:
    """Read, validate and compile every ``*.yaml`` file of ``directory``.

    ``entities`` are the PHI entity types the detectors can report; ``pools`` the egress pool
    names ``route:`` may use.
    """
    paths = _policy_files(directory)
    digest = hashlib.sha256()
    builder = _Builder(entities=entities, pools=pools)
    for path in paths:
        text, root = compose(path)
        digest.update(f"{path.name}\0{len(text)}\0".encode())
        digest.update(text.encode())
        builder.add_file(path, root)
    return builder.build(directory, f"sha256:{digest.hexdigest()[:16]}", tuple(p.name for p in paths))


def _policy_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    except FileNotFoundError as exc:
        raise ConfigError("policy directory does not exist", file=str(directory)) from exc
    except NotADirectoryError as exc:
        raise ConfigError("is a file; policies is a directory of *.yaml files", file=str(directory)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(directory)) from exc
    for path in entries:
        if path.suffix == ".yml":  # silently ignoring a file of rules would be worse than refusing
            raise ConfigError(f"policy files end in .yaml; rename it to {path.stem}.yaml", file=str(path))
    files = [p for p in entries if p.suffix == SUFFIX and p.is_file()]
    if len(files) > _MAX_FILES:
        raise ConfigError(f"more than {_MAX_FILES} policy files; wrong directory?", file=str(directory))
    return files


class _Builder:
    """Accumulates the files' contents in order, then compiles the whole."""

    def __init__(self, *, entities: frozenset[str], pools: frozenset[str]) -> None:
        self.entities = entities
        self.pools = pools
        self.rules: list[Rule] = []
        self.names: dict[str, Rule] = {}
        self.tests: list[PolicyTest] = []
        self.streams: dict[str, list[Part]] = {name: [] for name in STREAM_KEYS}
        self.default: Rule | None = None
        self.header_names: set[str] = set(STREAM_HEADERS)
        self.used: set[str] = set()

    def add_file(self, path: Path, root: yaml.Node | None) -> None:
        reader = Reader(str(path))
        if root is None or is_null(root):
            return
        entries = reader.mapping(root, "", FILE_KEYS, what="a mapping with rules: (and optionally tests:)")
        ctx = Context(reader=reader, entities=self.entities, header_names=self.header_names, used=self.used)
        if "rules" in entries:
            for i, node in enumerate(reader.sequence(entries["rules"][1], "rules", non_empty=False)):
                rule = compile_rule(
                    ctx, node, f"rules[{i}]", file=path.name, index=len(self.rules), pools=self.pools
                )
                if rule.name in self.names:
                    first = self.names[rule.name]
                    name_line = next(
                        (line_of(v) for k, v in node.value if getattr(k, "value", None) == "name"),
                        line_of(node),
                    )
                    raise ConfigError(
                        f"duplicate rule name {rule.name!r} (first defined at {first.file}:{first.line}); "
                        "rule names must be unique across all policy files",
                        file=str(path),
                        line=name_line,
                        key=f"rules[{i}].name",
                    )
                self.names[rule.name] = rule
                self.rules.append(rule)
        if "streams" in entries:
            streams = reader.mapping(entries["streams"][1], "streams", STREAM_KEYS)
            for name, (_, node) in streams.items():
                self.streams[name].extend(patterns(reader, node, f"streams.{name}", what="a sender pattern"))
        if "default" in entries:
            self._set_default(reader, path, entries["default"][1])
        if "tests" in entries:
            self.tests.extend(
                parse_tests(
                    reader,
                    entries["tests"][1],
                    "tests",
                    base=path.parent,
                    file=path.name,
                    entities=self.entities,
                )
            )

    def _set_default(self, reader: Reader, path: Path, node: yaml.Node) -> None:
        if self.default is not None:
            reader.fail(
                node,
                "default",
                f"already set in {self.default.file}:{self.default.line}; only one policy file may set it",
            )
        actions = compile_actions(reader, node, "default", pools=self.pools)
        if actions.terminal is None:
            reader.fail(node, "default", "needs one of deliver, encrypt, reject, quarantine")
        self.default = self._default_rule(actions, path.name, line_of(node))

    def _default_rule(self, actions: Actions, file: str, line: int) -> Rule:
        return make_rule(name=DEFAULT_NAME, file=file, line=line, index=1 << 30, actions=actions)

    @property
    def uses_client_ip(self) -> bool:
        return "client_ip" in self.used

    def build(self, directory: Path, version: str, files: tuple[str, ...]) -> Policy:
        default = self.default or self._default_rule(Actions(terminal=DEFAULT_TERMINAL), "(built in)", 0)
        return Policy(
            directory=directory,
            version=version,
            files=files,
            rules=tuple(self.rules),
            default=default,
            streams=StreamRules(
                transactional=compile_parts(tuple(self.streams["transactional"]))
                if self.streams["transactional"]
                else None,
                bulk=compile_parts(tuple(self.streams["bulk"])) if self.streams["bulk"] else None,
            ),
            header_names=frozenset(self.header_names),
            tests=tuple(self.tests),
            index=RuleIndex([rule.guard for rule in self.rules]),
            parse_ip=self.uses_client_ip,
        )

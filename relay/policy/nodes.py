"""Reading one policy file as a YAML node tree, with ``file:line: key: problem`` errors.

Like ``relay.yaml`` (see ``relay.config.loader``), a policy file is composed, not loaded, so every
value keeps the line it was written on. `Reader` is the small vocabulary the policy loader walks
the tree with: a mapping with known keys, "one or a list", a string, a number in a range. Every
failure is a `ConfigError` naming the file, the line, the dotted key, what was expected and what
was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

import yaml

# Reading a file (size cap, UTF-8) and the YAML error wording of relay.yaml apply unchanged to
# policy files. These helpers are private to relay.config.loader for now; once it exports them
# (with `compose` below), this module imports the public names.
from relay.config.loader import _is_null, _kind, _read, _yaml_error
from relay.config.values import Invalid, describe
from relay.errors import ConfigError

Node = yaml.Node
T = TypeVar("T")
Entry = tuple[Node, Node]
"""A mapping entry: (key node, value node)."""


def compose(path: Path) -> tuple[str, Node | None]:
    """The text of ``path`` and its node tree (None for a file of nothing but comments)."""
    text = _read(path)
    try:
        return text, yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, text, path) from exc
    except yaml.reader.ReaderError as exc:  # a control character: a position, not a mark
        line = text.count("\n", 0, exc.position) + 1
        problem = f"invalid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})"
        raise ConfigError(problem, file=str(path), line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {' '.join(str(exc).split())}", file=str(path)) from exc


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def is_null(node: Node) -> bool:
    return _is_null(node)


class Reader:
    """Typed access to the nodes of one file; every method fails with the file and line."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: Node, key: str, problem: str) -> NoReturn:
        raise ConfigError(problem, file=self.file, line=line_of(node), key=key)

    def mapping(
        self,
        node: Node,
        key: str,
        allowed: Sequence[str],
        *,
        required: Sequence[str] = (),
        what: str = "a mapping of keys",
    ) -> dict[str, Entry]:
        """The entries of a mapping by name; unknown, duplicate and missing keys fail."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected {what}, got {_kind(node)}")
        found: dict[str, Entry] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            path = f"{key}.{name}" if key else name
            if name in found:
                first = line_of(found[name][0])
                self.fail(key_node, path, f"duplicate key (first set on line {first})")
            if name not in allowed:
                self.fail(key_node, path, unknown_key(name, allowed))
            found[name] = (key_node, value_node)
        missing = [name for name in required if name not in found]
        if missing:
            self.fail(node, key, f"missing required key {missing[0]!r}")
        return found

    def pairs(self, node: Node, key: str) -> list[tuple[str, Entry]]:
        """A mapping whose keys are data (header names, addresses), duplicates refused."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected a mapping, got {_kind(node)}")
        result: list[tuple[str, Entry]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = self.string(key_node, f"{key}.?")
            folded = name.lower()
            if folded in seen:
                self.fail(key_node, f"{key}.{name}", f"duplicate key (first set on line {seen[folded]})")
            seen[folded] = line_of(key_node)
            result.append((name, (key_node, value_node)))
        return result

    def sequence(self, node: Node, key: str, *, non_empty: bool = True) -> list[Node]:
        """A YAML list (one item is still written as a list)."""
        if not isinstance(node, yaml.SequenceNode):
            wanted = f"expected a list, got {_kind(node)}"
            if isinstance(node, yaml.ScalarNode) and not is_null(node):
                wanted += f"; write it as a list: [{node.value}]"
            self.fail(node, key, wanted)
        if non_empty and not node.value:
            self.fail(node, key, "expected at least one item, got an empty list")
        return list(node.value)

    def one_or_list(self, node: Node, key: str) -> list[tuple[Node, str]]:
        """A single value or a non-empty list of them, with each item's key path."""
        if isinstance(node, yaml.SequenceNode):
            return [(item, f"{key}[{i}]") for i, item in enumerate(self.sequence(node, key))]
        return [(node, key)]

    def scalar(self, node: Node, key: str) -> object:
        if isinstance(node, yaml.MappingNode):
            return {}
        if isinstance(node, yaml.SequenceNode):
            return []
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.fail(node, key, f"cannot read this value: {exc.problem}")
        except ValueError as exc:  # e.g. a timestamp with month 13
            self.fail(node, key, f"cannot read this value: {exc}")

    def string(self, node: Node, key: str, *, what: str = "a non-empty string") -> str:
        value = self.scalar(node, key)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, key, f"expected {what}, got {describe(value)}")
        return value.strip()

    def boolean(self, node: Node, key: str) -> bool:
        value = self.scalar(node, key)
        if not isinstance(value, bool):
            self.fail(node, key, f"expected true or false, got {describe(value)}")
        return value

    def integer(self, node: Node, key: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.scalar(node, key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(node, key, f"expected an integer, got {describe(value)}")
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"{minimum}-{maximum}"
            self.fail(node, key, f"expected an integer {bounds}, got {value}")
        return value

    def score(self, node: Node, key: str) -> float:
        """A detector score or threshold: a number from 0 to 1."""
        value = self.scalar(node, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.fail(node, key, f"expected a number from 0 to 1 (such as 0.8), got {describe(value)}")
        return float(value)

    def choice(self, node: Node, key: str, choices: Sequence[str]) -> str:
        value = self.scalar(node, key)
        text = value.strip().lower() if isinstance(value, str) else None
        if text in choices:
            assert text is not None
            return text
        close = difflib.get_close_matches(text or "", choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.fail(node, key, f"expected one of {', '.join(choices)}, got {describe(value)}{hint}")

    def convert(self, node: Node, key: str, leaf: Callable[[object], T]) -> T:
        """A scalar through one of relay.config.values' converters (sizes, networks)."""
        try:
            return leaf(self.scalar(node, key))
        except Invalid as exc:
            self.fail(node, key, str(exc))


def unknown_key(name: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; allowed: {', '.join(allowed)}"

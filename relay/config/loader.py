"""Turn ``relay.yaml`` into a frozen `Config`, or fail with one ``file:line: key: problem`` line.

The file is composed, not loaded, so every value keeps the line it was written on; the node tree
is then walked against the dataclasses in ``schema.py`` using their type hints. Adding a key to
the schema therefore needs no code here. What a type alone cannot say (``workers`` may be 0, a
nameserver must be an IP address, a certificate must be readable) sits in the small tables below,
keyed by the dotted key path; what one scalar may look like is in ``values.py``.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, Union, get_args, get_origin, get_type_hints

import yaml

from relay.config import values
from relay.config.schema import Config, HostPort, IngressTlsConfig, IPNetwork
from relay.errors import ConfigError
from relay.markers import DURATION, SIZE

# A relay.yaml is a few kilobytes; a megabyte means the wrong file was named.
_MAX_FILE_BYTES = 1 << 20

Leaf = Callable[[object], object]

_LEAVES: dict[object, Leaf] = {
    bool: values.to_bool,
    float: values.to_float,
    int: values.to_int,
    str: values.to_str,
    Path: values.to_path,
    HostPort: values.to_hostport,
    IPNetwork: values.to_network,
    DURATION: values.to_duration,
    SIZE: values.to_size,
}
_EXPECTED: dict[object, str] = {
    IPNetwork: "IP networks",
    HostPort: "host:port values",
    DURATION: "durations",
}

# Rules the type does not carry, by key pattern ("[*]" is any list item, "*" any mapping key).
_KEY_RULES: dict[str, Leaf] = {
    "hostname": values.to_domain,
    "log_level": values.to_log_level,
    "workers": lambda value: values.to_int(value, minimum=0),  # 0 = one per CPU core
    "phi.workers": lambda value: values.to_int(value, minimum=0),  # 0 = share the cores
    "delivery.port": values.to_port,
    "dns.nameservers[*]": values.to_nameserver,
    "routes.<key>": values.to_domain,
    "metrics.top_domains[*]": values.to_domain,
    "internal_domains[*]": values.to_domain,
    "outbound_tls.route_names.<key>": values.to_domain,
    "outbound_tls.route_names.*": values.to_domain,
}
_NON_EMPTY = frozenset({"delivery.retry_schedule"})  # "the last one repeats" needs a last one
_BARE_IPV6 = re.compile(r"\[[0-9A-Fa-f:.%]*:[0-9A-Fa-f:.%]*\]:")
_NOT_KEYS: dict[type, frozenset[str]] = {Config: frozenset({"source"})}  # set by the loader


def load_config(path: Path) -> Config:
    """Read, parse and validate ``path``; relative paths in it are taken from its directory."""
    text = _read(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, text, path) from exc
    except yaml.reader.ReaderError as exc:  # a control character; it has a position, not a mark
        line = text.count("\n", 0, exc.position) + 1
        problem = f"invalid YAML: character #x{exc.character:04x} is not allowed ({exc.reason})"
        raise ConfigError(problem, file=str(path), line=line) from exc
    except yaml.YAMLError as exc:  # compose raises no other kind today; keep the promise anyway
        raise ConfigError(f"invalid YAML: {' '.join(str(exc).split())}", file=str(path)) from exc
    source = path.absolute()
    walker = _Walker(str(path), source.parent)
    if root is None:  # nothing but comments: all defaults
        root = yaml.ScalarNode("tag:yaml.org,2002:null", "")
    elif not isinstance(root, yaml.MappingNode) and not _is_null(root):
        walker.fail(root, "", f"expected a mapping of keys at the top level, got {_kind(root)}")
    config = walker.section(Config, root, "", extra={"source": source})
    assert isinstance(config, Config)
    return config


def _read(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
    if len(data) > _MAX_FILE_BYTES:
        raise ConfigError(f"larger than {_MAX_FILE_BYTES} bytes; wrong file?", file=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", file=str(path)) from exc


def _yaml_error(exc: yaml.MarkedYAMLError, text: str, path: Path) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = f"invalid YAML: {(exc.problem or exc.context or '').removeprefix('but ')}"
    if exc.context and exc.problem:
        problem += f" ({exc.context})"
    lines = text.splitlines()
    # `smtp: [::1]:25` is a YAML flow list, not a string: the likeliest syntax error here.
    if mark and mark.line < len(lines) and _BARE_IPV6.search(lines[mark.line]):
        problem += "; quote IPv6 host:port values, as in '[::1]:25'"
    return ConfigError(problem, file=str(path), line=mark.line + 1 if mark else 0)


class _Walker:
    """One pass over the node tree; knows the file name (for errors) and its directory."""

    def __init__(self, file: str, base: Path) -> None:
        self.file = file
        self.base = base
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, key: str, problem: str) -> NoReturn:
        raise ConfigError(problem, file=self.file, line=node.start_mark.line + 1, key=key)

    def convert(self, node: yaml.Node, hint: Any, key: str, pattern: str) -> object:
        """Build the value of type ``hint`` from ``node``; dispatch on the shape of the hint."""
        origin, args = get_origin(hint), get_args(hint)
        if origin in (Union, types.UnionType) and type(None) in args:
            if _is_null(node):
                return None
            (inner,) = (arg for arg in args if arg is not type(None))  # schema: only `X | None`
            return self.convert(node, inner, key, pattern)
        if dataclasses.is_dataclass(hint) and hint is not HostPort:
            return self.section(hint, node, key)
        if origin is tuple:
            return self.sequence(node, args[0], key, pattern)
        if origin is dict:
            return self.mapping(node, args[1], key, pattern)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return self.choice(node, hint, key)
        leaf = _KEY_RULES.get(pattern) or _LEAVES[_leaf_key(hint)]
        # Collections reach the converter as empty stand-ins so it words "expected X, got a list".
        if isinstance(node, yaml.MappingNode):
            found: object = {}
        elif isinstance(node, yaml.SequenceNode):
            found = []
        else:
            found = self.scalar(node, key)
        try:
            value = leaf(found)
        except values.Invalid as exc:
            self.fail(node, key, str(exc))
        return self.check_path(value, node, key, pattern) if isinstance(value, Path) else value

    def choice(self, node: yaml.Node, kind: type[enum.Enum], key: str) -> enum.Enum:
        """An enum-typed key: one of its values, written as a string."""
        allowed = [str(member.value) for member in kind]
        found = self.scalar(node, key) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(found, str) and found.lower() in allowed:
            return kind(found.lower())
        self.fail(node, key, f"expected one of {', '.join(allowed)}, got {_kind(node)}")

    def scalar(self, node: yaml.Node, key: str) -> object:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.fail(node, key, f"cannot read this value: {exc.problem}")
        except ValueError as exc:  # e.g. a timestamp with month 13
            self.fail(node, key, f"cannot read this value: {exc}")

    def section(
        self,
        cls: Any,
        node: yaml.Node,
        key: str,
        extra: dict[str, object] | None = None,
    ) -> object:
        """A dataclass from a mapping: unknown and duplicate keys fail, missing ones default.

        A null section (all its keys commented out) is all defaults. Defaults that are relative
        paths are resolved like written ones, so ``spool`` sits next to the file either way.
        """
        if not isinstance(node, yaml.MappingNode) and not _is_null(node):
            self.fail(node, key, f"expected a mapping of keys, got {_kind(node)}")
        hints = get_type_hints(cls, include_extras=True)
        fields = [f for f in dataclasses.fields(cls) if f.name not in _NOT_KEYS.get(cls, ())]
        allowed = [f.name for f in fields]
        kwargs: dict[str, object] = {
            f.name: self.base / f.default for f in fields if isinstance(f.default, Path)
        }
        kwargs.update(extra or {})
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value if isinstance(node, yaml.MappingNode) else ():
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            path = f"{key}.{name}" if key else name
            if name in key_nodes:
                first = key_nodes[name].start_mark.line + 1
                self.fail(key_node, path, f"duplicate key (first set on line {first})")
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(key_node, path, f"unknown key{hint}; allowed: {', '.join(allowed)}")
            key_nodes[name] = key_node
            kwargs[name] = self.convert(value_node, hints[name], path, path)
        for f in fields:
            hint = hints[f.name]
            if f.name not in key_nodes and dataclasses.is_dataclass(hint) and hint is not HostPort:
                # An absent section is built like an empty one, so its relative default paths
                # are resolved against the file's directory too.
                empty = yaml.MappingNode("tag:yaml.org,2002:map", [], start_mark=node.start_mark)
                kwargs[f.name] = self.section(hint, empty, f"{key}.{f.name}" if key else f.name)
        try:
            result = cls(**kwargs)
        except ConfigError as exc:
            # A section's own cross-field check: point at the key it names, else the section.
            name = exc.key.rpartition(".")[2]
            self.fail(key_nodes.get(name, node), exc.key or key, exc.problem)
        if isinstance(result, IngressTlsConfig):
            self.check_tls(result, key_nodes, key)
        return result

    def sequence(self, node: yaml.Node, item: Any, key: str, pattern: str) -> tuple[object, ...]:
        if not isinstance(node, yaml.SequenceNode):
            items = _EXPECTED.get(_leaf_key(item), "values")
            wanted = f"expected a list of {items}, got {_kind(node)}"
            if isinstance(node, yaml.ScalarNode):
                example = "[]" if _is_null(node) else f"[{node.value}]"
                wanted += f"; write it as a list: {example}"
            self.fail(node, key, wanted)
        if not node.value and pattern in _NON_EMPTY:
            self.fail(node, key, "expected at least one value, got an empty list")
        return tuple(
            self.convert(child, item, f"{key}[{index}]", f"{pattern}[*]")
            for index, child in enumerate(node.value)
        )

    def mapping(self, node: yaml.Node, item: Any, key: str, pattern: str) -> dict[str, object]:
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected a mapping, got {_kind(node)}")
        result: dict[str, object] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            raw = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            name = self.convert(key_node, str, f"{key}.{raw}", f"{pattern}.<key>")
            assert isinstance(name, str)
            path = f"{key}.{name}"
            if name in result:
                self.fail(key_node, path, f"duplicate key (first set on line {lines[name]})")
            lines[name] = key_node.start_mark.line + 1
            result[name] = self.convert(value_node, item, path, f"{pattern}.*")
        return result

    def check_path(self, path: Path, node: yaml.Node, key: str, pattern: str) -> Path:
        """Resolve against the config's directory; files the relay reads must exist now."""
        path = self.base / path
        if pattern in ("tls.cert", "tls.key", "outbound_tls.ca_file"):
            try:
                with path.open("rb"):
                    pass
            except OSError as exc:
                self.fail(node, key, f"cannot read {str(path)!r}: {exc.strerror or exc}")
        elif pattern == "auth.users_file":
            if not path.parent.is_dir():
                self.fail(
                    node,
                    key,
                    f"directory {str(path.parent)!r} of {str(path)!r} "
                    "does not exist (the file itself may come later)",
                )
            if path.is_dir():
                self.fail(node, key, f"{str(path)!r} is a directory, not a file")
        return path

    def check_tls(self, tls: IngressTlsConfig, key_nodes: dict[str, yaml.Node], key: str) -> None:
        """STARTTLS needs a certificate and its private key; one without the other is a typo."""
        if (tls.cert is None) != (tls.key is None):
            given, missing = ("cert", "key") if tls.key is None else ("key", "cert")
            self.fail(
                key_nodes[given],
                f"{key}.{missing}",
                f"must be set together with {key}.{given} (both or neither)",
            )


def _leaf_key(hint: Any) -> object:
    """``Annotated[float, DURATION]`` is looked up by its marker, other leaves by their type."""
    return get_args(hint)[1] if get_origin(hint) is Annotated else hint


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if _is_null(node):
        return "an empty value"
    return repr(node.value) if node.tag.endswith(":str") else str(node.value)

"""Leaf converters for ``relay.yaml``: one YAML scalar in, one typed value out.

The loader (``relay.config.loader``) owns the walk over the YAML tree and where an error
happened; this module owns what a single value may look like. Each converter takes the value
PyYAML constructed from a scalar node and either returns the typed value or raises `Invalid`
with a one-line problem that ends in what was allowed and what was found. Nothing here touches
the disk, so the rules are testable as plain functions.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from pathlib import Path

from relay.config.schema import HostPort, IPNetwork

LOG_LEVELS = ("debug", "info", "warning", "error")

# Units are case-sensitive: "5M" would be read by some as five months. Sub-second values exist
# because poll_interval and connection_idle_timeout are naturally written "500ms".
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
# Sizes are binary whatever the spelling (K = KB = KiB = 1024), as in Postfix and nginx; one
# reading for every spelling is less surprising than "MB" silently meaning 1,000,000.
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d|w)?")
_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
# RFC 1035 2.3.1 (letters, digits, hyphen; 63 octets a label) as relaxed by RFC 1123 2.1
# (a label may start with a digit).
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_SIZE = 2**63 - 1  # what a 64-bit file offset or an ESMTP SIZE= value can hold
_MAX_DOMAIN_LENGTH = 253  # RFC 1035 2.3.4: 255 octets on the wire, 253 characters written out


class Invalid(ValueError):
    """A value is not acceptable; the message is the problem, without file, line or key."""


def describe(value: object) -> str:
    """Show a found value in an error message so the operator recognises what they wrote."""
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        # YAML 1.1 reads yes/no/on/off as booleans, which is rarely what the operator meant.
        return f"{value} (a boolean; YAML reads yes/no/on/off as true/false)"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def to_int(value: object, *, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer within bounds; booleans are refused although Python counts them as ints."""
    wanted = f"an integer >= {minimum}" if maximum is None else f"an integer {minimum}-{maximum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"expected an integer, got {describe(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        raise Invalid(f"expected {wanted}, got {value}")
    return value


def to_port(value: object) -> int:
    """A TCP port; 0 ("any free port") is refused because peers must know where to connect."""
    return to_int(value, minimum=1, maximum=65535)


def to_str(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected a non-empty string, got {describe(value)}")
    return value.strip()


def to_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"expected a number, got {describe(value)}")
    return float(value)


def to_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(value)}")
    return value


def to_path(value: object) -> Path:
    """A path as written; the loader resolves it against the configuration file's directory."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected a path, got {describe(value)}")
    return Path(value.strip())


def to_duration(value: object) -> float:
    """Seconds from ``90``, ``1.5``, ``"500ms"``, ``"90s"``, ``"5m"``, ``"1h"``, ``"2d"``, ``"1w"``.

    Zero is refused: every duration in the schema is a timeout or a delay, and a zero timeout
    fails everything while a zero delay spins.
    """
    expected = "expected a duration such as 90, 90s, 5m, 1h, 2d or 1w"
    if isinstance(value, bool):
        raise Invalid(f"{expected}, got {describe(value)}")
    if isinstance(value, int | float):
        seconds = float(value) if abs(value) < 1e300 else math.inf  # float(10**400) overflows
    elif isinstance(value, str) and (match := _DURATION_RE.fullmatch(value.strip())):
        seconds = float(match[1]) * DURATION_UNITS[match[2] or "s"]
    else:
        raise Invalid(f"{expected}, got {describe(value)}")
    if not math.isfinite(seconds):
        raise Invalid(f"expected a finite duration, got {describe(value)[:40]}")
    if seconds <= 0:
        raise Invalid(f"expected a duration greater than zero, got {describe(value)}")
    return seconds


def to_size(value: object) -> int:
    """Bytes from ``1048576``, ``"512K"``, ``"25M"``, ``"1G"``, ``"10MiB"`` (binary units)."""
    expected = "expected a size such as 1048576, 512K, 25M, 1G or 10MiB"
    if isinstance(value, bool):
        raise Invalid(f"{expected}, got {describe(value)}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE_RE.fullmatch(value.strip())):
        scaled = float(match[1]) * 1024 ** _SIZE_POWERS[(match[2] or "").lower()]
        if not math.isfinite(scaled):
            raise Invalid(f"{expected}, got {describe(value)}")
        size = int(scaled)
    else:
        raise Invalid(f"{expected}, got {describe(value)}")
    if size <= 0:
        raise Invalid(f"expected a size of at least 1 byte, got {describe(value)}")
    if size > _MAX_SIZE:
        raise Invalid(f"expected a size of at most 8E (2**63 - 1 bytes), got {describe(value)[:40]}")
    return size


def to_domain(value: object) -> str:
    """A DNS name, lower-cased and without a trailing dot (names compare case-insensitively)."""
    if not isinstance(value, str):
        raise Invalid(f"expected a domain name, got {describe(value)}")
    name = value.strip().lower().removesuffix(".")
    problem = _domain_problem(name)
    if problem:
        raise Invalid(f"expected a domain name, got {value!r}: {problem}")
    return name


def to_log_level(value: object) -> str:
    level = value.strip().lower() if isinstance(value, str) else ""
    if level in LOG_LEVELS:
        return level
    close = difflib.get_close_matches(level, LOG_LEVELS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise Invalid(f"expected one of {', '.join(LOG_LEVELS)}, got {describe(value)}{hint}")


def to_network(value: object) -> IPNetwork:
    """A CIDR block; a bare address means that one host (/32 or /128).

    Host bits set (``10.0.0.1/8``) are refused rather than masked: the operator wrote something
    other than what would take effect, and on a relay allow-list that difference matters.
    """
    if not isinstance(value, str):
        raise Invalid(f"expected an IP network such as 10.0.0.0/8, got {describe(value)}")
    text = value.strip()
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise Invalid(f"expected an IP network such as 10.0.0.0/8, got {value!r}") from exc
        raise Invalid(
            f"{text!r} has host bits set; write the network {meant} "
            f"or the single address {text.partition('/')[0]}"
        ) from exc


def to_hostport(value: object) -> HostPort:
    """``host:port`` where host is a DNS name, an IPv4 address or ``[IPv6]``."""
    return _hostport(value, ip_only=False)


def to_nameserver(value: object) -> HostPort:
    """``ip:port`` of a DNS resolver; a name would need a resolver to find the resolver."""
    return _hostport(value, ip_only=True)


def _hostport(value: object, *, ip_only: bool) -> HostPort:
    shape = "ip:port such as 9.9.9.9:53" if ip_only else "host:port such as mx.example.org:25"
    if not isinstance(value, str):
        raise Invalid(f"expected {shape}, got {describe(value)}")
    text = value.strip()
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]:")
        if not bracket:
            raise Invalid(f"expected [IPv6]:port such as [::1]:25, got {value!r}")
    else:
        host, colon, port = text.rpartition(":")
        if not colon:
            raise Invalid(f"expected {shape}, got {value!r} (the port is missing)")
        if ":" in host:
            raise Invalid(f"IPv6 addresses go in brackets, as in '[::1]:25'; got {value!r}")
    if not host:
        raise Invalid(f"the host is missing in {value!r}; for all interfaces use 0.0.0.0 or [::]")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise Invalid(f"expected a port 1-65535 in {value!r}, got {port!r}")
    problem = _host_problem(host, bracketed=text.startswith("["), ip_only=ip_only)
    if problem:
        raise Invalid(f"bad host in {value!r}: {problem}")
    return HostPort(host=host.lower(), port=int(port))


def _host_problem(host: str, *, bracketed: bool, ip_only: bool) -> str:
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return ""
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        if ip_only:
            return f"{host!r} is not an IP address"
        problem = _domain_problem(host.lower())
        return f"not an IPv4 address, and as a domain name: {problem}" if problem else ""
    return ""


def _domain_problem(name: str) -> str:
    """Why ``name`` (lower-cased, no trailing dot) is not a DNS name, or ``""`` if it is one."""
    if not name:
        return "it is empty"
    if len(name) > _MAX_DOMAIN_LENGTH:
        return f"longer than {_MAX_DOMAIN_LENGTH} characters"
    labels = name.split(".")
    for label in labels:
        if not label:
            return "it has an empty label (two dots in a row?)"
        if len(label) > 63:
            return f"label {label[:20]!r}... is longer than 63 characters"
        if not _LABEL_RE.fullmatch(label):
            return (
                f"label {label!r} may hold only letters, digits and inner hyphens; "
                "write IDNs in their xn-- form"
            )
    if labels[-1].isdigit():
        return "the last label cannot be all digits"
    return ""

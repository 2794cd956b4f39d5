"""Host names: normalising them, matching certificates (RFC 6125) and MTA-STS mx patterns.

Pure. Names are compared in their ASCII (A-label) form, case-blind, without a final dot. A
wildcard stands for exactly one whole left-most label, in certificates (RFC 6125 section 6.4.3,
RFC 7672 section 3.2.3) and in MTA-STS ``mx:`` patterns (RFC 8461 section 4.1) alike:
``*.example.com`` matches ``mx.example.com`` but neither ``example.com`` nor ``a.b.example.com``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.x509.oid import NameOID

MAX_NAME = 253
"""RFC 1035 section 2.3.4: 255 octets on the wire, 253 characters in text without the final dot."""

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
"""A DNS label as found in mail host names (LDH, plus "_" for service names such as _mta-sts)."""


def normalise(name: str) -> str:
    """Lower case, one final dot removed."""
    return name.strip().lower().removesuffix(".")


def valid_hostname(name: str) -> bool:
    """A syntactically valid, fully qualified DNS host name (no IP literal, no empty label)."""
    text = normalise(name)
    if not text or len(text) > MAX_NAME or is_ip(text):
        return False
    labels = text.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def wildcard_match(pattern: str, name: str) -> bool:
    """``name`` matches ``pattern``: equal, or ``*.`` + the name minus its first label."""
    pattern, name = normalise(pattern), normalise(name)
    if not pattern or not name:
        return False
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and bool(rest) and rest == pattern[2:] and "*" not in rest
    return "*" not in pattern and pattern == name


def mx_matches(patterns: Iterable[str], host: str) -> str | None:
    """The first MTA-STS ``mx:`` pattern that ``host`` matches, or None (RFC 8461 section 4.1)."""
    return next((p for p in patterns if wildcard_match(p, host)), None)


def certificate_names(cert: x509.Certificate) -> tuple[str, ...]:
    """The DNS names a certificate is for: its SAN dNSNames, else its subject CN (RFC 6125 6.4.4)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        san = None
    if san is not None:
        dns_names = san.get_values_for_type(x509.DNSName)
        addresses = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
        if dns_names or addresses:
            return (*dns_names, *addresses)
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return tuple(c for c in common if isinstance(c, str))[-1:]


def certificate_matches(cert: x509.Certificate, names: Sequence[str]) -> bool:
    """Whether ``cert`` is valid for any of ``names`` (host names or IP addresses)."""
    presented = certificate_names(cert)
    for name in names:
        if is_ip(name):
            wanted = ipaddress.ip_address(name.strip("[]"))
            if any(is_ip(p) and ipaddress.ip_address(p) == wanted for p in presented):
                return True
        elif any(wildcard_match(p, name) for p in presented if not is_ip(p)):
            return True
    return False

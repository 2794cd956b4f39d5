"""Enhanced status codes (RFC 3463) for the replies aiosmtpd writes without them.

Once ENHANCEDSTATUSCODES is advertised, RFC 2034 section 3 asks for an enhanced code in every
reply except the greeting, EHLO/HELO and continuation prompts; our own replies carry precise
ones, this table gives aiosmtpd's generic replies the class-level code that fits.
"""

from __future__ import annotations

import re

_DEFAULT_ENHANCED: dict[int, str] = {
    221: "2.0.0",
    235: "2.7.0",
    250: "2.0.0",
    251: "2.1.5",
    252: "2.5.0",
    421: "4.3.0",
    450: "4.2.0",
    451: "4.3.0",
    452: "4.5.3",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    530: "5.7.0",
    534: "5.7.9",
    535: "5.7.8",
    538: "5.7.11",
    550: "5.0.0",
    552: "5.3.4",
    553: "5.1.3",
    554: "5.0.0",
    555: "5.5.4",
}

_WITHOUT_ENHANCED = frozenset({220, 334, 354})
_REPLY = re.compile(r"^(\d{3})([ -])(.*)\Z", re.DOTALL)
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}(\s|\Z)")


def with_enhanced_code(reply: str) -> str:
    """Insert the class-level enhanced code into a one-line reply that lacks one."""
    match = _REPLY.match(reply)
    if match is None:
        return reply
    code, separator, text = int(match[1]), match[2], match[3]
    if code in _WITHOUT_ENHANCED or separator == "-" or _ENHANCED.match(text):
        return reply
    enhanced = _DEFAULT_ENHANCED.get(code)
    if enhanced is None:
        enhanced = f"{code // 100}.0.0"
    return f"{code} {enhanced} {text}".rstrip()

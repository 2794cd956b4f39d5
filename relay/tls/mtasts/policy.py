"""The MTA-STS policy body (RFC 8461 section 3.2), parsed strictly. Pure.

    sts-policy-record  = sts-policy-field *WSP *(sts-policy-term sts-policy-field *WSP) [sts-policy-term]
    sts-policy-term    = LF / CRLF
    field-delim        = ":" *WSP
    sts-policy-version = "version" field-delim "STSv1"
    sts-policy-mode    = "mode" field-delim ("testing" / "enforce" / "none")
    sts-policy-max-age = "max_age" field-delim 1*10DIGIT          ; at most 31557600
    sts-policy-mx      = "mx" field-delim ["*."] Domain             ; RFC 5321 Domain
    sts-policy-extension = sts-policy-ext-name field-delim sts-policy-ext-value

Strict where a mistake changes meaning: the body must be UTF-8; version, mode and max_age must
each appear exactly once; mode ``testing`` and ``enforce`` need at least one ``mx``; every line
is ``name: value``. Unknown names (extensions) are ignored, as section 3.2 requires. Blank lines
are tolerated: many published policies end with one, and skipping them cannot change a policy.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from relay.tls.settings import MTA_STS_MAX_AGE_LIMIT

_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
_SUB_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_MX = re.compile(rf"(?:\*\.)?{_SUB_DOMAIN}(?:\.{_SUB_DOMAIN})*")
_WSP = " \t"


class PolicyMode(enum.Enum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class StsPolicy:
    mode: PolicyMode
    max_age: int
    """Seconds the policy may be cached (section 3.2), 0..31557600."""
    mx: tuple[str, ...] = ()
    """Host name patterns, lower case; ``*.`` stands for exactly one left-most label."""

    def to_text(self) -> str:
        """The policy in its own format (what the cache stores and ``tls check`` prints)."""
        lines = ["version: STSv1", f"mode: {self.mode.value}", *(f"mx: {mx}" for mx in self.mx)]
        return "\n".join([*lines, f"max_age: {self.max_age}"]) + "\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyParse:
    """A policy, or None with the first problem found."""

    policy: StsPolicy | None
    problem: str = ""


def parse_policy(body: bytes | str) -> PolicyParse:
    """Parse a policy body as served at ``/.well-known/mta-sts.txt``."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return _bad("the policy is not UTF-8 text")
    single: dict[str, str] = {}
    mx: list[str] = []
    for number, raw in enumerate(body.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip(_WSP):
            continue
        name, colon, value = line.partition(":")
        value = value.strip(_WSP)
        if not colon or not _EXT_NAME.fullmatch(name):
            return _bad(f"line {number}: expected 'name: value'")
        if name == "mx":
            if not _MX.fullmatch(value) or len(value) > 253:
                return _bad(f"line {number}: invalid mx pattern {value!r}")
            mx.append(value.lower())
        elif name in ("version", "mode", "max_age"):
            if name in single:
                return _bad(f"line {number}: {name} given twice")
            single[name] = value
    if single.get("version") != "STSv1":
        return _bad("version must be STSv1" if "version" in single else "no version")
    if "mode" not in single:
        return _bad("no mode")
    try:
        mode = PolicyMode(single["mode"])
    except ValueError:
        return _bad(f"mode {single['mode']!r} is not enforce, testing or none")
    max_age = single.get("max_age")
    if max_age is None:
        return _bad("no max_age")
    if not _MAX_AGE.fullmatch(max_age) or int(max_age) > MTA_STS_MAX_AGE_LIMIT:
        return _bad(f"max_age {max_age!r} is not a number of seconds from 0 to {MTA_STS_MAX_AGE_LIMIT}")
    if mode is not PolicyMode.NONE and not mx:
        return _bad(f"mode {mode.value} needs at least one mx")
    return PolicyParse(policy=StsPolicy(mode=mode, max_age=int(max_age), mx=tuple(dict.fromkeys(mx))))


def _bad(problem: str) -> PolicyParse:
    return PolicyParse(policy=None, problem=problem)

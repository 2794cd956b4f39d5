"""The SMTP AUTH users file: user names with scrypt password hashes, written by ``relay user add``.

One user per line; ``#`` comments and blank lines are allowed::

    alice:$scrypt$n=16384,r=8,p=1$<salt base64>$<hash base64>

Why scrypt: it is memory-hard, so a stolen file is expensive to brute-force even on GPUs, and
``hashlib.scrypt`` ships with Python, so it adds no dependency. The cost parameters are stored on
every line, so they can be raised later while old lines keep verifying.

This module owns parsing (a bad line is a ``ConfigError`` that names the line), verification that
takes the same time whether or not a name exists, and an atomic rewrite that never leaves a
half-written or world-readable file behind.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from relay.errors import ConfigError, UsageError
from relay.files import write_atomically

CONFIG_KEY = "auth.users_file"
"""The relay.yaml key named in errors, so an operator knows which setting points at the file."""

NAME_PATTERN = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
"""Allowed user names: enough for ``app@clinic.example``, and never ``:`` or whitespace, which
would break the line format."""

MAX_PASSWORD_BYTES = 1024
"""Far longer than any real password; bounds what one AUTH attempt can feed to scrypt."""

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
"""Cost for new hashes: RFC 7914 section 2's interactive-login choice, about 50 ms and 16 MiB."""

SALT_BYTES = 16
"""128-bit random salt (NIST SP 800-132 section 5.1 asks for at least 128 bits)."""

KEY_BYTES = 32
"""256-bit derived key: nothing is gained by storing more."""

MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
"""Largest scrypt memory a line may ask for. Costs can be raised later, but a hand-edited file must
not make every AUTH attempt allocate gigabytes."""

MAX_SCRYPT_WORK = 64 * SCRYPT_N * SCRYPT_R * SCRYPT_P
"""Largest n*r*p a line may ask for: 64 times today's cost, about 3 s per attempt."""


class _MalformedLine(ValueError):
    """One line is wrong; ``UsersFile.load`` turns it into a ConfigError naming the line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordHash:
    """One stored password: scrypt parameters, salt and derived key."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes = field(repr=False)

    @classmethod
    def create(cls, password: bytes) -> PasswordHash:
        """Hash a new password with today's parameters and a fresh random salt."""
        salt = os.urandom(SALT_BYTES)
        key = _scrypt(password, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, length=KEY_BYTES)
        return cls(n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, salt=salt, key=key)

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        """Read ``$scrypt$n=N,r=R,p=P$salt$hash``; raises ``ValueError`` saying what is wrong."""
        parts = text.split("$")
        if len(parts) != 5 or parts[0] or parts[1] != "scrypt":
            raise _MalformedLine("password hash must look like $scrypt$n=N,r=R,p=P$salt$hash")
        n, r, p = _parse_parameters(parts[2])
        salt = _decode(parts[3], "salt")
        key = _decode(parts[4], "hash")
        if not SALT_BYTES <= len(salt) <= 64:
            raise _MalformedLine(f"salt must be {SALT_BYTES} to 64 bytes, not {len(salt)}")
        if not 16 <= len(key) <= 64:
            raise _MalformedLine(f"hash must be 16 to 64 bytes, not {len(key)}")
        return cls(n=n, r=r, p=p, salt=salt, key=key)

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        key = base64.b64encode(self.key).decode("ascii")
        return f"$scrypt$n={self.n},r={self.r},p={self.p}${salt}${key}"

    def matches(self, password: bytes) -> bool:
        derived = _scrypt(password, salt=self.salt, n=self.n, r=self.r, p=self.p, length=len(self.key))
        return hmac.compare_digest(derived, self.key)


_DUMMY = PasswordHash(
    n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, salt=os.urandom(SALT_BYTES), key=os.urandom(KEY_BYTES)
)
"""Checked against when the name is unknown, so that failure costs the same scrypt as a wrong
password and reply timing does not tell a prober which names exist."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UsersFile:
    """The users allowed to AUTH, as loaded from disk; reload to pick up changes."""

    users: Mapping[str, PasswordHash] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def load(cls, path: Path) -> UsersFile:
        """Read the file; a missing file means no users yet (every AUTH fails)."""
        return cls(users=MappingProxyType(_parse(_read(path), path)))

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.users))

    def verify(self, name: str, password: str | bytes) -> bool:
        """True when ``name`` exists and ``password`` is its password.

        Always runs exactly one scrypt, also for unknown names and unacceptable passwords, so the
        time taken does not reveal which names exist. Takes ~50 ms: from the event loop, use
        ``verify_async``.
        """
        secret = password.encode("utf-8", "surrogatepass") if isinstance(password, str) else password
        stored = self.users.get(name)
        acceptable = 0 < len(secret) <= MAX_PASSWORD_BYTES
        target = stored if stored is not None and acceptable else _DUMMY
        matched = target.matches(secret[:MAX_PASSWORD_BYTES])
        return matched and target is not _DUMMY

    async def verify_async(self, name: str, password: str | bytes) -> bool:
        """``verify`` in a worker thread, so the other SMTP sessions are not stalled.

        ``hashlib.scrypt`` releases the GIL, so attempts run in parallel; the default executor's
        size (at most 32 threads) bounds how many run at once, and so the memory they take.
        """
        return await asyncio.to_thread(self.verify, name, password)

    @classmethod
    def add_or_replace(cls, path: Path, name: str, password: str) -> UsersFile:
        """Set ``name``'s password, adding the user if new, and return the file as written.

        Other lines, comments included, are kept in place. A file that does not parse is not
        rewritten: the operator fixes it first, rather than losing lines silently.
        """
        check_name(name)
        hashed = PasswordHash.create(check_password(password))
        text = _read(path)
        users = _parse(text, path)
        entry = f"{name}:{hashed.encode()}"
        lines = _lines(text)
        for index, line in enumerate(lines):
            if _name_of(line) == name:
                lines[index] = entry
                break
        else:
            lines.append(entry)
        write_atomically(path, "".join(f"{line}\n" for line in lines).encode("utf-8"), mode=0o600)
        return cls(users=MappingProxyType({**users, name: hashed}))


def check_name(name: str) -> None:
    """Raise ``UsageError`` unless ``name`` can be stored in the file."""
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"invalid user name {name!r}: use 1-64 characters of A-Z a-z 0-9 . _ @ + -")


def check_password(password: str) -> bytes:
    """Return the password's UTF-8 bytes, or raise ``UsageError`` if it cannot be used.

    NUL is refused because AUTH PLAIN (RFC 4616 section 2) uses it as the separator, so such a
    password could never be sent.
    """
    try:
        secret = password.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError("password is not valid Unicode text") from exc
    if not secret:
        raise UsageError("password must not be empty")
    if len(secret) > MAX_PASSWORD_BYTES:
        raise UsageError(f"password is longer than {MAX_PASSWORD_BYTES} bytes")
    if b"\0" in secret:
        raise UsageError("password must not contain NUL")
    return secret


def _scrypt(password: bytes, *, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_scrypt_memory(n, r, p))


def _scrypt_memory(n: int, r: int, p: int) -> int:
    # OpenSSL's EVP_PBE_scrypt needs 128*r*(n+2) bytes for V plus 128*r*p for B (RFC 7914 5).
    return 128 * r * (n + p + 2)


def _parse_parameters(text: str) -> tuple[int, int, int]:
    values: dict[str, int] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key not in ("n", "r", "p") or key in values or not (value.isascii() and value.isdigit()):
            raise _MalformedLine(f"scrypt parameters must look like n=N,r=R,p=P, not {text!r}")
        values[key] = int(value)
    if len(values) != 3:
        raise _MalformedLine(f"scrypt parameters must look like n=N,r=R,p=P, not {text!r}")
    n, r, p = values["n"], values["r"], values["p"]
    if n < SCRYPT_N or n & (n - 1) or r < SCRYPT_R or p < SCRYPT_P:
        raise _MalformedLine(
            f"scrypt n must be a power of two >= {SCRYPT_N}, r >= {SCRYPT_R}, p >= {SCRYPT_P}"
        )
    if n * r * p > MAX_SCRYPT_WORK or _scrypt_memory(n, r, p) > MAX_SCRYPT_MEMORY:
        raise _MalformedLine(
            f"scrypt n={n},r={r},p={p} costs more than allowed "
            f"(n*r*p <= {MAX_SCRYPT_WORK}, memory <= {MAX_SCRYPT_MEMORY // 2**20} MiB)"
        )
    return n, r, p


def _decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise _MalformedLine(f"{what} is not valid base64") from exc


def _lines(text: str) -> list[str]:
    # Split on LF only (not str.splitlines' VT, FF, ...) so line numbers match an editor's.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines[-1] == "":
        lines.pop()
    return lines


def _name_of(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    return stripped.partition(":")[0]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError as exc:
        raise ConfigError("file is not UTF-8 text", file=str(path), key=CONFIG_KEY) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(path), key=CONFIG_KEY) from exc


def _parse(text: str, path: Path) -> dict[str, PasswordHash]:
    users: dict[str, PasswordHash] = {}
    for number, line in enumerate(_lines(text), start=1):
        name = _name_of(line)
        if name is None:
            continue
        _, colon, encoded = line.strip().partition(":")
        try:
            if not colon:
                raise _MalformedLine("expected name:$scrypt$n=N,r=R,p=P$salt$hash")
            if not NAME_PATTERN.fullmatch(name):
                raise _MalformedLine(
                    f"invalid user name {name[:80]!r}: use 1-64 characters of A-Z a-z 0-9 . _ @ + -"
                )
            if name in users:
                raise _MalformedLine(f"user {name!r} appears twice; keep one line")
            users[name] = PasswordHash.parse(encoded)
        except _MalformedLine as exc:
            raise ConfigError(str(exc), file=str(path), line=number, key=CONFIG_KEY) from None
    return users

"""The SMTP AUTH users file: hashing, verification, parsing errors and the atomic rewrite."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from relay.errors import ConfigError, UsageError
from relay.ingress.users import MAX_PASSWORD_BYTES, UsersFile, check_name


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "users"


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts hashlib.scrypt calls (their n), to see that every verify does the same work."""
    calls: list[int] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def counting(password: bytes, **kwargs: int | bytes) -> bytes:
        n = kwargs["n"]
        assert isinstance(n, int)
        calls.append(n)
        return real(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    yield calls


def hash_line(name: str, password: bytes, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """A users-file line built independently of the module, as another tool would write it."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=2**28)
    encoded = f"{base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    return f"{name}:$scrypt$n={n},r={r},p={p}${encoded}"


def test_add_then_verify(path: Path) -> None:
    returned = UsersFile.add_or_replace(path, "alice", "correct horse")

    loaded = UsersFile.load(path)
    assert loaded.verify("alice", "correct horse")
    assert loaded.verify("alice", b"correct horse")
    assert returned.verify("alice", "correct horse")
    assert loaded.names() == ("alice",)


def test_wrong_password(path: Path) -> None:
    UsersFile.add_or_replace(path, "alice", "correct horse")

    loaded = UsersFile.load(path)
    assert not loaded.verify("alice", "correct hors")
    assert not loaded.verify("alice", "Correct horse")
    assert not loaded.verify("Alice", "correct horse")


def test_unknown_user_fails_after_the_same_scrypt_work(path: Path, scrypt_calls: list[int]) -> None:
    UsersFile.add_or_replace(path, "alice", "correct horse")
    loaded = UsersFile.load(path)
    scrypt_calls.clear()

    assert not loaded.verify("mallory", "correct horse")
    assert not loaded.verify("no such:name", "x")
    assert not loaded.verify("alice", "wrong")
    assert scrypt_calls == [2**14, 2**14, 2**14]


@pytest.mark.parametrize(
    "password",
    [b"", b"x" * (MAX_PASSWORD_BYTES + 1)],
    ids=["empty", "over-limit"],
)
def test_unacceptable_password_never_verifies(path: Path, password: bytes, scrypt_calls: list[int]) -> None:
    path.write_text(hash_line("alice", password) + "\n")
    loaded = UsersFile.load(path)
    scrypt_calls.clear()

    assert not loaded.verify("alice", password)
    assert scrypt_calls == [2**14]


def test_replace_password_keeps_other_lines(path: Path) -> None:
    path.write_text("# relay users\n\n" + hash_line("bob", b"bob's") + "\n")
    UsersFile.add_or_replace(path, "alice", "first")
    UsersFile.add_or_replace(path, "alice", "second")

    loaded = UsersFile.load(path)
    assert not loaded.verify("alice", "first")
    assert loaded.verify("alice", "second")
    assert loaded.verify("bob", "bob's")
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# relay users", ""]
    assert [line.split(":")[0] for line in lines[2:]] == ["bob", "alice"]


def test_raised_parameters_still_verify(path: Path) -> None:
    path.write_text(hash_line("alice", b"pw", n=2**15, r=8, p=2) + "\n")

    loaded = UsersFile.load(path)
    assert loaded.users["alice"].n == 2**15
    assert loaded.verify("alice", "pw")


def test_missing_file_is_empty(path: Path) -> None:
    loaded = UsersFile.load(path)

    assert loaded.names() == ()
    assert not loaded.verify("alice", "pw")


def test_comments_and_blank_lines(path: Path) -> None:
    path.write_text(f"# users\n\n   \n  # indented comment\n{hash_line('a.b@c+d-e_f', b'pw')}\r\n")

    assert UsersFile.load(path).verify("a.b@c+d-e_f", "pw")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("alice", "expected name:"),
        ("al ice:$scrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "name"),
        ("alice:$bcrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "$scrypt$"),
        ("alice:$scrypt$n=16384,r=8$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "n=N,r=R"),
        ("alice:$scrypt$n=16384,r=8,p=x$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "n=N"),
        ("alice:$scrypt$n=16000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "power"),
        ("alice:$scrypt$n=1024,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", ">="),
        ("alice:$scrypt$n=1048576,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==", "costs"),
        ("alice:$scrypt$n=16384,r=8,p=1$not base64!$AAAAAAAAAAAAAAAAAAAAAA==", "salt is not"),
        ("alice:$scrypt$n=16384,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==", "salt must be"),
        ("alice:$scrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$", "hash must be"),
        ("alice:$scrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA$AAAA", "$scrypt$"),
    ],
    ids=[
        "no-colon",
        "bad-name",
        "other-scheme",
        "missing-parameter",
        "non-numeric-parameter",
        "n-not-power-of-two",
        "n-below-floor",
        "cost-above-cap",
        "salt-not-base64",
        "salt-too-short",
        "hash-empty",
        "extra-field",
    ],
)
def test_malformed_line_error_names_the_line(path: Path, line: str, problem: str) -> None:
    path.write_text(f"# users\n\n{line}\n{hash_line('bob', b'pw')}\n")

    with pytest.raises(ConfigError) as caught:
        UsersFile.load(path)

    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), 3, "auth.users_file")
    assert problem in error.problem
    assert str(error).startswith(f"{path}:3: auth.users_file: ")


def test_duplicate_user_is_an_error(path: Path) -> None:
    path.write_text(f"{hash_line('alice', b'one')}\n{hash_line('alice', b'two')}\n")

    with pytest.raises(ConfigError, match="appears twice") as caught:
        UsersFile.load(path)
    assert caught.value.line == 2


def test_error_does_not_echo_the_hash(path: Path) -> None:
    path.write_text("alice:$scrypt$n=16384,r=8,p=1$c2VjcmV0c2FsdHNlY3JldA==$SECRETHASH!\n")

    with pytest.raises(ConfigError) as caught:
        UsersFile.load(path)
    assert "SECRETHASH" not in str(caught.value)


def test_malformed_file_is_not_rewritten(path: Path) -> None:
    path.write_text("garbage\n")

    with pytest.raises(ConfigError):
        UsersFile.add_or_replace(path, "alice", "pw")
    assert path.read_text() == "garbage\n"


def test_unreadable_bytes_are_a_config_error(path: Path) -> None:
    path.write_bytes(b"\xff\xfe\n")

    with pytest.raises(ConfigError, match="UTF-8"):
        UsersFile.load(path)


def test_unreadable_file_is_a_config_error(path: Path) -> None:
    path.mkdir()

    with pytest.raises(ConfigError, match="cannot read"):
        UsersFile.load(path)


def test_last_line_without_newline_is_kept(path: Path) -> None:
    path.write_text(hash_line("bob", b"pw"))

    UsersFile.add_or_replace(path, "alice", "pw")

    assert UsersFile.load(path).names() == ("alice", "bob")
    assert path.read_text().count("\n") == 2


def test_file_mode_0600(path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        UsersFile.add_or_replace(path, "alice", "pw")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o644)
        UsersFile.add_or_replace(path, "alice", "pw2")
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["users"]


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        UsersFile.add_or_replace(tmp_path / "absent" / "users", "alice", "pw")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("alice", True),
        ("a", True),
        ("x" * 64, True),
        ("app.sender_01@clinic.example", True),
        ("first+tag-2", True),
        ("", False),
        ("x" * 65, False),
        ("has space", False),
        ("colon:name", False),
        ("dollar$", False),
        ("trailing-newline\n", False),
        ("caf\u00e9", False),
        ("tab\tname", False),
    ],
    ids=[
        "plain",
        "one-char",
        "64-chars",
        "address-like",
        "plus-and-hyphen",
        "empty",
        "65-chars",
        "space",
        "colon",
        "dollar",
        "trailing-newline",
        "non-ascii",
        "tab",
    ],
)
def test_names_validation(path: Path, name: str, valid: bool) -> None:
    if valid:
        check_name(name)
        assert UsersFile.add_or_replace(path, name, "pw").names() == (name,)
        assert UsersFile.load(path).verify(name, "pw")
    else:
        with pytest.raises(UsageError, match="user name"):
            UsersFile.add_or_replace(path, name, "pw")
        assert not path.exists()


@pytest.mark.parametrize(
    ("password", "valid"),
    [
        ("x" * MAX_PASSWORD_BYTES, True),
        ("\u00e9" * (MAX_PASSWORD_BYTES // 2), True),
        ("", False),
        ("x" * (MAX_PASSWORD_BYTES + 1), False),
        ("\u00e9" * (MAX_PASSWORD_BYTES // 2) + "x", False),
        ("nul\0inside", False),
        ("\ud800", False),
    ],
    ids=[
        "1024-bytes",
        "1024-bytes-multibyte",
        "empty",
        "1025-bytes",
        "1025-bytes-multibyte",
        "nul",
        "lone-surrogate",
    ],
)
def test_password_validation(path: Path, password: str, valid: bool) -> None:
    if valid:
        UsersFile.add_or_replace(path, "alice", password)
        assert UsersFile.load(path).verify("alice", password)
    else:
        with pytest.raises(UsageError, match="password"):
            UsersFile.add_or_replace(path, "alice", password)
        assert not path.exists()


async def test_verify_async(path: Path) -> None:
    UsersFile.add_or_replace(path, "alice", "pw")
    loaded = UsersFile.load(path)

    assert await loaded.verify_async("alice", b"pw")
    assert not await loaded.verify_async("alice", b"nope")
    assert not await loaded.verify_async("bob", b"pw")

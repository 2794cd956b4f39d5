"""Key files: the Ed25519 seal key pair and the HMAC key of the hash privacy modes.

Private key files are created 0600 and atomically (written under a temporary name, fsync'd,
then linked into place), so a crash never leaves a half-written key and an existing key is
never silently replaced: losing a signing key's public half would make old seals unverifiable.
The public key is written beside the private one (``name.pub``) for whoever verifies the log.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from relay.audit.privacy import MIN_KEY_BYTES, AuditPrivacy
from relay.audit.settings import AddressMode, AuditConfig, SubjectMode
from relay.errors import ConfigError, UsageError

HASH_KEY_BYTES = 32


def public_key_path(private_path: Path) -> Path:
    return private_path.with_suffix(".pub")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """``sha256:`` and the first 128 bits of the SHA-256 of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


def generate_key(path: Path, *, overwrite: bool = False) -> Ed25519PublicKey:
    """Write a new Ed25519 private key (PEM, 0600) at ``path`` and its public key at ``.pub``."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_secret(path, private_pem, overwrite=overwrite)
    write_secret(public_key_path(path), public_pem, overwrite=True, mode=0o644)
    return public


def generate_hash_key(path: Path, *, overwrite: bool = False) -> None:
    """Write a random HMAC key for the hash privacy modes (hex text, 0600)."""
    write_secret(path, secrets.token_hex(HASH_KEY_BYTES).encode("ascii") + b"\n", overwrite=overwrite)


def write_secret(path: Path, data: bytes, *, overwrite: bool, mode: int = 0o600) -> None:
    """Create ``path`` with ``data`` atomically; refuse to replace it unless ``overwrite``."""
    if path.exists() and not overwrite:
        raise UsageError(f"{path} exists; refusing to replace a key (use --force)")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.fchmod(fd, mode)  # the umask must not loosen or tighten what we asked for
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the name appeared meanwhile: never clobber a key
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except FileExistsError as exc:
        raise UsageError(f"{path} exists; refusing to replace a key (use --force)") from exc
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    data = _read_private(path, "audit.signing_key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        problem = "not a PEM private key without passphrase"
        raise ConfigError(problem, file=str(path), key="audit.signing_key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("not an Ed25519 key", file=str(path), key="audit.signing_key")
    return key


def load_public_keys(paths: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """Public keys by fingerprint, from PEM public keys or private keys (their public half)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
        public: object
        try:
            if b"PRIVATE KEY" in data:
                public = serialization.load_pem_private_key(data, password=None).public_key()
            else:
                public = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise UsageError(f"{path}: not a PEM Ed25519 key") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise UsageError(f"{path}: not an Ed25519 key")
        keys[fingerprint(public)] = public
    return keys


def load_hash_key(path: Path) -> bytes:
    """The HMAC key: the file's bytes, trailing whitespace removed (hex text is fine as it is)."""
    key = _read_private(path, "audit.hash_key").rstrip()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"shorter than {MIN_KEY_BYTES} bytes", file=str(path), key="audit.hash_key")
    return key


def load_privacy(config: AuditConfig) -> AuditPrivacy:
    hashing = config.addresses is AddressMode.HASH or config.subjects is SubjectMode.HASH
    key = load_hash_key(config.hash_key) if config.hash_key is not None and hashing else None
    return AuditPrivacy(addresses=config.addresses, subjects=config.subjects, key=key)


def _read_private(path: Path, setting: str) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path), key=setting) from exc
    if mode & 0o077:
        # Like ssh: a secret others can read is no longer a secret; say so rather than use it.
        raise ConfigError("readable by group or others (chmod 600)", file=str(path), key=setting)
    return data

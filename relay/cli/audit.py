"""``relay audit verify|search|keygen|prune``: the audit log's commands, without argparse.

Each command takes plain values and returns ``(exit_code, text)`` so the verb wiring in
main.py stays a few lines and tests call these directly. Bad input raises ``UsageError`` (or
``ConfigError`` for a key file), which main turns into one line and exit code 2.

``verify`` exits 0 when the log is whole and 1 when it was tampered with (the first bad record
is named); warnings (unsealed tail, unchecked seals) do not change the exit code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from relay.audit.events import AuditKind
from relay.audit.keys import (
    fingerprint,
    generate_hash_key,
    generate_key,
    load_hash_key,
    load_public_keys,
    public_key_path,
)
from relay.audit.privacy import AuditPrivacy
from relay.audit.search import search
from relay.audit.settings import AddressMode, AuditConfig, SubjectMode
from relay.audit.verify import verify
from relay.audit.writer import AuditLog
from relay.errors import UsageError

EXIT_OK = 0
EXIT_TAMPERED = 1
DEFAULT_LIMIT = 1000
"""Records printed by search unless told otherwise; beyond that, narrow the question (or --limit 0)."""


def cmd_verify(directory: Path, public_keys: Sequence[Path] = ()) -> tuple[int, str]:
    """Check the whole chain in ``directory``; seals are checked against ``public_keys``."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    keys = load_public_keys(public_keys) if public_keys else None
    result = verify(directory, keys)
    lines: list[str] = []
    if result.fault is None:
        span = f"seq {result.first_seq}..{result.last_seq}" if result.records else "empty"
        lines.append(f"audit log OK: {result.records} records in {result.files} files ({span})")
        if result.records:
            lines.append(f"chain starts at {result.anchor}")
        if result.sealed_upto:
            lines.append(f"signed up to seq {result.sealed_upto}")
    else:
        lines.append(f"audit log TAMPERED: first bad record: {result.fault}")
        lines.append(f"{result.records} records before it verified")
    lines.extend(f"warning: {w}" for w in result.warnings)
    return (EXIT_OK if result.ok else EXIT_TAMPERED), "\n".join(lines)


def cmd_search(
    directory: Path,
    *,
    recipient: str | None = None,
    sender: str | None = None,
    queue_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    hash_key: Path | None = None,
    limit: int = DEFAULT_LIMIT,
    as_json: bool = False,
) -> tuple[int, str]:
    """Records matching every given filter, oldest first: a table, or JSON lines with ``as_json``."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    if limit < 0:
        raise UsageError("--limit must be 0 (no limit) or more")
    privacy = None
    if hash_key is not None:
        privacy = AuditPrivacy(
            addresses=AddressMode.HASH, subjects=SubjectMode.DROP, key=load_hash_key(hash_key)
        )
    found = search(
        directory,
        recipient=recipient,
        sender=sender,
        queue_id=queue_id,
        since=parse_time(since, "--since", end_of_day=False),
        until=parse_time(until, "--until", end_of_day=True),
        kind=_kind(kind),
        privacy=privacy,
    )
    lines: list[str] = []
    for record in found:
        if limit and len(lines) == limit:
            note = f"more records match; narrow the search or raise --limit (shown: {limit})"
            lines.append(json.dumps({"truncated": note}) if as_json else f"... {note}")
            break
        lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False) if as_json else render(record))
    if not lines and not as_json:
        lines.append("no matching records")
        if (recipient or sender) and hash_key is None:
            lines.append("(a log written with addresses: hash is searched with --hash-key)")
    return EXIT_OK, "\n".join(lines)


def cmd_keygen(path: Path, *, hash_key: Path | None = None, force: bool = False) -> tuple[int, str]:
    """Write a seal signing key (and its ``.pub``), and optionally an HMAC key for hashing."""
    public = generate_key(path, overwrite=force)
    lines = [
        f"wrote signing key {path} (keep it secret; set audit.signing_key)",
        f"wrote public key {public_key_path(path)} ({fingerprint(public)}; give it to whoever verifies)",
    ]
    if hash_key is not None:
        generate_hash_key(hash_key, overwrite=force)
        lines.append(f"wrote hash key {hash_key} (set audit.hash_key; searching a hashed log needs it)")
    return EXIT_OK, "\n".join(lines)


def cmd_prune(config: AuditConfig, *, actor: str) -> tuple[int, str]:
    """Delete files past retention now (the server's housekeeping does the same); recorded by ``actor``."""
    log = AuditLog.from_config(config)
    log.start()
    try:
        deleted = log.prune(actor=actor)
    finally:
        log.close()
    if not deleted:
        return EXIT_OK, f"nothing older than {config.retention_days} days"
    return EXIT_OK, "\n".join(f"deleted {name}" for name in deleted)


def parse_time(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """``YYYY-MM-DD`` or RFC 3339; no zone means UTC. A bare date as ``--until`` includes that day."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r}: give YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def render(record: dict[str, Any]) -> str:
    """One human line: when, seq, kind, queue id, sender -> recipients, details, actor."""
    recipients = ",".join(str(r) for r in record.get("recipients") or []) or "-"
    details = " ".join(f"{k}={v}" for k, v in sorted((record.get("details") or {}).items()))
    parts = [
        str(record.get("ts")),
        f"seq={record.get('seq')}",
        str(record.get("kind")),
        str(record.get("queue_id") or "-"),
        f"{record.get('sender') or '-'} -> {recipients}",
    ]
    if record.get("subject") is not None:
        parts.append(f"subject={record['subject']}")
    if details:
        parts.append(details)
    parts.append(f"actor={record.get('actor')}")
    return "  ".join(parts)


def _kind(text: str | None) -> AuditKind | None:
    if text is None:
        return None
    try:
        return AuditKind(text)
    except ValueError as exc:
        choices = ", ".join(k.value for k in AuditKind)
        raise UsageError(f"--kind {text!r}: one of {choices}") from exc

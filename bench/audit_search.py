"""How fast ``relay audit search`` and ``verify`` answer on a large log (not a test: a measurement).

    .venv/bin/python bench/audit_search.py                    # 1,000,000 records in a temp dir
    .venv/bin/python bench/audit_search.py --records 200000 --dir var/audit-bench --keep

The log is written by the real ``AuditLog`` (``fsync: seal``, a seal every 1000 records, 64 MiB
files, a record every 0.1 s of fake time: about 28 hours, so files rotate by size and by day).
Traffic looks like a relay's: five events per message (accepted, decision, delivery_attempt,
delivered or deferred, and now and then a portal view), 50 sending applications, 20,000 distinct
recipients. A reused ``--dir`` is not rewritten. Each search is timed cold-ish (one run, after the
write) and reported with its hit count and the records per second it got through.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from relay.audit import AuditConfig, AuditEvent, AuditKind, AuditLog, FsyncPolicy, search, verify
from relay.audit.files import list_files
from relay.audit.keys import generate_key, load_public_keys, load_signing_key, public_key_path
from relay.audit.privacy import AuditPrivacy
from relay.clock import FakeClock

START = 1_700_000_000.0
STEP = 0.1
"""Seconds of fake time between records."""
KINDS = (AuditKind.ACCEPTED, AuditKind.DECISION, AuditKind.DELIVERY_ATTEMPT, AuditKind.DELIVERED)


def events(count: int) -> Iterator[AuditEvent]:
    for i in range(count):
        message, step = divmod(i, 5)
        queue = f"{message:016X}"
        sender = f"app{message % 50}@clinic.example"
        recipient = f"patient{message * 7919 % 20000}@mail.example"
        if step == 4:
            kind = AuditKind.PORTAL_VIEW if message % 10 == 0 else AuditKind.DEFERRED
        else:
            kind = KINDS[step]
        details: dict[str, str | int | float | bool | None] = {"size": 2000 + message % 5000}
        if kind in (AuditKind.DELIVERY_ATTEMPT, AuditKind.DELIVERED):
            details = {
                "mx": "mx1.mail.example",
                "tls": "TLSv1.3",
                "cipher": "TLS_AES_256_GCM_SHA384",
                "code": 250,
            }
        yield AuditEvent(
            kind=kind,
            actor="delivery" if step >= 2 else "smtp",
            queue_id=queue,
            sender=sender,
            recipients=(recipient,),
            subject="Your results are ready",
            details=details,
        )


def generate(directory: Path, key: Path, count: int) -> float:
    clock = FakeClock(START)
    config = AuditConfig(directory=directory, signing_key=key, fsync=FsyncPolicy.SEAL)
    log = AuditLog(config, clock=clock, privacy=AuditPrivacy(), signing_key=load_signing_key(key))
    started = time.perf_counter()
    with log:
        for e in events(count):
            log.append(e)
            clock.advance(STEP)
    return time.perf_counter() - started


def timed(label: str, total: int, run: Callable[[], int]) -> None:
    """Wall time, and CPU time: on a busy machine the CPU time is the honest number."""
    started, cpu = time.perf_counter(), time.process_time()
    hits = run()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    rate = total / used / 1e6 if used else float("inf")
    print(f"{label:<40} {hits:>8,} hits  wall {elapsed:6.2f} s  cpu {used:6.2f} s  {rate:5.2f} M rec/cpu-s")


def _lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, help="where the log goes (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="audit-bench-"))
    directory, key = base / "audit", base / "audit.pem"
    try:
        if not list_files(directory):
            base.mkdir(parents=True, exist_ok=True)
            if not key.exists():
                generate_key(key)
            elapsed = generate(directory, key, args.records)
            rate = args.records / elapsed
            print(f"wrote {args.records:,} events in {elapsed:.1f} s ({rate:,.0f} appends/s, fsync: seal)")
        log_files = list_files(directory)
        size = sum(f.path.stat().st_size for f in log_files)
        total = sum(_lines(f.path) for f in log_files)
        mib = size / 2**20
        print(
            f"log: {total:,} records (seals included) in {len(log_files)} files, {mib:.0f} MiB, {directory}"
        )

        def count(**query: Any) -> Callable[[], int]:
            return lambda: sum(1 for _ in search(directory, **query))

        middle = datetime.fromtimestamp(START + total * STEP / 2, UTC)
        timed("--recipient patient4242@mail.example", total, count(recipient="patient4242@mail.example"))
        timed("--sender app7@clinic.example", total, count(sender="app7@clinic.example"))
        timed("--queue-id (one message)", total, count(queue_id=f"{total // 10:016X}"))
        timed("--kind portal_view", total, count(kind=AuditKind.PORTAL_VIEW))
        timed(
            "--since/--until one hour mid-log", total, count(since=middle, until=middle + timedelta(hours=1))
        )
        timed(
            "--recipient + one hour mid-log",
            total,
            count(recipient="patient4242@mail.example", since=middle, until=middle + timedelta(hours=1)),
        )
        keys = load_public_keys([public_key_path(key)])
        timed("verify (every hash and seal)", total, lambda: verify(directory, keys).records)
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SMTP TLS Reporting (RFC 8460): per-session results, and the daily aggregate report.

Each delivery session (or each hop refused before a session) becomes one ``SessionResult``:
which policy applied (DANE ``tlsa``, MTA-STS ``sts``, or ``no-policy-found``), and success or a
failure with its RFC 8460 result type. ``TlsRptLog`` counts them in memory and appends them, one
JSON line each, to ``DIR/YYYY-MM-DD.jsonl`` (UTC day of the session): append-only, so several
worker processes can share the directory and nothing written is ever rewritten. No address of a
sender or recipient is in a result, only domains, host names and IPs of servers.

``aggregate`` (pure) turns one day's results into the reports of section 4.4, one per policy
domain, each ``policies`` entry being one distinct policy with its summary and failure details.
``relay tls report --send`` mails them to each domain's ``rua`` (rptmail.py, rptsend.py); nothing
is sent unless an operator runs it.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from relay.errors import SpoolError
from relay.tls.results import FailureType

MAX_DETAIL = 200
"""Characters of free text kept per result (``additional-information``); reasons, not logs."""


class PolicyType(enum.Enum):
    TLSA = "tlsa"
    STS = "sts"
    NO_POLICY = "no-policy-found"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    at: float
    """Seconds since the epoch; decides the report day (UTC)."""
    policy_domain: str
    policy_type: PolicyType
    success: bool
    policy_strings: tuple[str, ...] = ()
    """The policy as applied: MTA-STS policy lines, or TLSA records in presentation format."""
    mx_host: tuple[str, ...] = ()
    """MTA-STS ``mx`` patterns (section 4.4 ``mx-host``)."""
    failure: FailureType | None = None
    receiving_mx_hostname: str = ""
    receiving_ip: str = ""
    sending_mta_ip: str = ""
    detail: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "at": self.at,
                "policy_domain": self.policy_domain,
                "policy_type": self.policy_type.value,
                "success": self.success,
                "policy_strings": list(self.policy_strings),
                "mx_host": list(self.mx_host),
                "failure": self.failure.value if self.failure else None,
                "receiving_mx_hostname": self.receiving_mx_hostname,
                "receiving_ip": self.receiving_ip,
                "sending_mta_ip": self.sending_mta_ip,
                "detail": self.detail[:MAX_DETAIL],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> SessionResult:
        """One line of the log; ``ValueError`` (or ``KeyError``) for a line that is not one."""
        raw = json.loads(line)
        return cls(
            at=float(raw["at"]),
            policy_domain=str(raw["policy_domain"]),
            policy_type=PolicyType(raw["policy_type"]),
            success=bool(raw["success"]),
            policy_strings=tuple(raw.get("policy_strings", ())),
            mx_host=tuple(raw.get("mx_host", ())),
            failure=FailureType(raw["failure"]) if raw.get("failure") else None,
            receiving_mx_hostname=str(raw.get("receiving_mx_hostname", "")),
            receiving_ip=str(raw.get("receiving_ip", "")),
            sending_mta_ip=str(raw.get("sending_mta_ip", "")),
            detail=str(raw.get("detail", "")),
        )


class TlsRptLog:
    """Results in memory (counts) and on disk (append-only JSONL, one file per UTC day)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts: Counter[tuple[str, PolicyType, bool]] = Counter()
        """(policy domain, policy type, success) -> sessions since this process started."""

    def record(self, result: SessionResult) -> None:
        self.counts[(result.policy_domain, result.policy_type, result.success)] += 1
        path = self.path_for(datetime.fromtimestamp(result.at, UTC).date())
        line = (result.to_json() + "\n").encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write(2) of a short line with O_APPEND: lines of concurrent writers never interleave.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SpoolError(f"cannot append to the TLS-RPT log {path}: {exc.strerror or exc}") from exc

    def path_for(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}.jsonl"

    def results_for(self, day: date) -> Iterator[SessionResult]:
        """The results of ``day`` as logged; lines that do not parse (a torn last write) are skipped."""
        path = self.path_for(day)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SpoolError(f"cannot read the TLS-RPT log {path}: {exc.strerror or exc}") from exc
        for line in text.splitlines():
            try:
                yield SessionResult.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue


def aggregate(
    results: Iterable[SessionResult], *, day: date, organization: str, contact: str
) -> tuple[dict[str, Any], ...]:
    """The RFC 8460 section 4.4 reports for ``day``, one per policy domain, sorted by domain."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    by_domain: dict[str, dict[tuple[PolicyType, tuple[str, ...], tuple[str, ...]], list[SessionResult]]] = {}
    for result in results:
        if datetime.fromtimestamp(result.at, UTC).date() != day:
            continue
        key = (result.policy_type, result.policy_strings, result.mx_host)
        by_domain.setdefault(result.policy_domain, {}).setdefault(key, []).append(result)
    reports = []
    for domain in sorted(by_domain):
        policies = [_policy_entry(domain, key, group) for key, group in by_domain[domain].items()]
        reports.append(
            {
                "organization-name": organization,
                "date-range": {"start-datetime": _stamp(start), "end-datetime": _stamp(end)},
                "contact-info": contact,
                "report-id": str(
                    uuid.uuid5(uuid.NAMESPACE_DNS, f"{day.isoformat()}.{domain}.{organization}")
                ),
                "policies": policies,
            }
        )
    return tuple(reports)


def report_filename(report: dict[str, Any], *, sender: str) -> str:
    """``sender!policy-domain!begin!end!id.json`` as section 5.3 names report files."""
    domain = report["policies"][0]["policy"]["policy-domain"]
    begin = _epoch(report["date-range"]["start-datetime"])
    end = _epoch(report["date-range"]["end-datetime"])
    return f"{sender}!{domain}!{begin}!{end}!{report['report-id']}.json"


def _policy_entry(
    domain: str, key: tuple[PolicyType, tuple[str, ...], tuple[str, ...]], group: list[SessionResult]
) -> dict[str, Any]:
    policy_type, strings, mx_host = key
    policy: dict[str, Any] = {"policy-type": policy_type.value, "policy-domain": domain}
    if strings:
        policy["policy-string"] = list(strings)
    if mx_host:
        policy["mx-host"] = list(mx_host)
    failures = Counter(
        (
            r.failure.value if r.failure else FailureType.VALIDATION_FAILURE.value,
            r.receiving_mx_hostname,
            r.receiving_ip,
            r.sending_mta_ip,
            r.detail[:MAX_DETAIL],
        )
        for r in group
        if not r.success
    )
    details = []
    for (result_type, mx, ip, sending_ip, detail), count in sorted(failures.items()):
        entry: dict[str, Any] = {"result-type": result_type}
        if sending_ip:
            entry["sending-mta-ip"] = sending_ip
        if mx:
            entry["receiving-mx-hostname"] = mx
        if ip:
            entry["receiving-ip"] = ip
        entry["failed-session-count"] = count
        if detail:
            entry["failure-reason-code"] = detail
        details.append(entry)
    successes = sum(r.success for r in group)
    entry_out: dict[str, Any] = {
        "policy": policy,
        "summary": {
            "total-successful-session-count": successes,
            "total-failure-session-count": len(group) - successes,
        },
    }
    if details:
        entry_out["failure-details"] = details
    return entry_out


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())

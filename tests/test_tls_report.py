"""TLS-RPT (RFC 8460): the append-only log, the daily aggregate report, ``relay tls report``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from relay.cli.tls import cmd_report
from relay.config.schema import Config
from relay.tls.report import PolicyType, SessionResult, TlsRptLog, aggregate, report_filename
from relay.tls.results import FailureType
from relay.tls.settings import TlsOutboundConfig

DAY = date(2026, 3, 14)
NOON = datetime(2026, 3, 14, 12, tzinfo=UTC).timestamp()
STS = ("version: STSv1", "mode: enforce", "mx: *.example.com", "max_age: 86400")


def _result(
    success: bool, *, domain: str = "example.com", at: float = NOON, **kwargs: object
) -> SessionResult:
    return SessionResult(
        at=at,
        policy_domain=domain,
        policy_type=kwargs.pop("policy_type", PolicyType.STS),  # type: ignore[arg-type]
        policy_strings=STS,
        mx_host=("*.example.com",),
        success=success,
        receiving_mx_hostname="mx1.example.com",
        receiving_ip="192.0.2.1",
        **kwargs,  # type: ignore[arg-type]
    )


def test_log_appends_and_reads_back_by_day(tmp_path: Path) -> None:
    log = TlsRptLog(tmp_path / "rpt")
    log.record(_result(True))
    log.record(_result(False, failure=FailureType.CERTIFICATE_EXPIRED, detail="expired"))
    log.record(_result(True, at=NOON + 86400))
    with (tmp_path / "rpt" / f"{DAY}.jsonl").open("a") as torn:
        torn.write('{"at": 1')  # a torn last line is skipped
    results = list(log.results_for(DAY))
    assert [r.success for r in results] == [True, False]
    assert results[1].failure is FailureType.CERTIFICATE_EXPIRED
    assert log.counts[("example.com", PolicyType.STS, True)] == 2
    assert list(log.results_for(date(2020, 1, 1))) == []


def test_aggregate_follows_rfc8460_format() -> None:
    results = [
        _result(True),
        _result(True),
        _result(False, failure=FailureType.CERTIFICATE_EXPIRED, detail="expired"),
        _result(False, failure=FailureType.CERTIFICATE_EXPIRED, detail="expired"),
        _result(True, domain="other.org", policy_type=PolicyType.NO_POLICY),
        _result(True, at=NOON + 86400),  # another day
    ]
    reports = aggregate(results, day=DAY, organization="Relay Org", contact="mailto:tls@relay.test")
    assert [r["policies"][0]["policy"]["policy-domain"] for r in reports] == ["example.com", "other.org"]
    report = reports[0]
    assert report["organization-name"] == "Relay Org"
    assert report["contact-info"] == "mailto:tls@relay.test"
    assert report["date-range"] == {
        "start-datetime": "2026-03-14T00:00:00Z",
        "end-datetime": "2026-03-14T23:59:59Z",
    }
    (policy,) = report["policies"]
    assert policy["policy"] == {
        "policy-type": "sts",
        "policy-domain": "example.com",
        "policy-string": list(STS),
        "mx-host": ["*.example.com"],
    }
    assert policy["summary"] == {"total-successful-session-count": 2, "total-failure-session-count": 2}
    assert policy["failure-details"] == [
        {
            "result-type": "certificate-expired",
            "receiving-mx-hostname": "mx1.example.com",
            "receiving-ip": "192.0.2.1",
            "failed-session-count": 2,
            "failure-reason-code": "expired",
        }
    ]
    again = aggregate(results, day=DAY, organization="Relay Org", contact="mailto:tls@relay.test")
    assert again[0]["report-id"] == report["report-id"]  # stable across runs
    name = report_filename(report, sender="relay.test")
    assert name.startswith("relay.test!example.com!1773446400!1773532799!") and name.endswith(".json")


def test_cmd_report(tmp_path: Path) -> None:
    config = Config(hostname="relay.test", spool=tmp_path / "spool")
    settings = TlsOutboundConfig(report_organization="Relay Org")
    TlsRptLog(settings.resolved(config.spool).report_dir).record(_result(True))
    code, text = cmd_report(DAY.isoformat(), config, settings=settings)
    assert code == 0
    reports = json.loads(text)
    assert reports[0]["organization-name"] == "Relay Org"
    assert reports[0]["contact-info"] == "mailto:postmaster@relay.test"
    code, text = cmd_report(DAY, config, settings=settings, domain="nobody.test")
    assert (code, json.loads(text)) == (0, [])
    code, text = cmd_report("14/03/2026", config)
    assert code == 2 and "YYYY-MM-DD" in text

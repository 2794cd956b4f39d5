"""`relay policy explain` runs the relay's PHI scanner on the message, as the relay would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK = (
    b"From: billing@clinic.example\r\nTo: list@partner.example\r\nSubject: Monthly statement\r\n"
    b"X-Relay-Stream: bulk\r\nMessage-ID: <b1@clinic.example>\r\n\r\n"
    b"Patient Maria Gonzalez, MRN 00482913, SSN 536-22-8764, was seen for type 2 diabetes.\r\n"
)


def explain(message: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli.main", "-c", "relay.yaml", "policy", "explain", str(message),
         "--from", "billing@clinic.example", "--to", "list@partner.example", *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def test_the_shipped_baseline_rejects_an_ssn_the_scanner_finds_in_bulk_mail(tmp_path: Path) -> None:
    message = tmp_path / "bulk.eml"
    message.write_bytes(BULK)
    result = explain(message)
    assert result.returncode == 0, result.stderr
    assert "US_SSN x1" in result.stdout
    assert "reject-ssn-in-bulk (enforce, terminal)" in result.stdout
    assert "<list@partner.example>: reject 550 5.7.1" in result.stdout
    for value in ("536-22-8764", "00482913", "Gonzalez"):
        assert value not in result.stdout + result.stderr


def test_no_phi_skips_the_scanner(tmp_path: Path) -> None:
    message = tmp_path / "bulk.eml"
    message.write_bytes(BULK)
    result = explain(message, "--no-phi")
    assert result.returncode == 0, result.stderr
    assert "findings: none" in result.stdout
    assert "<list@partner.example>: deliver tls=opportunistic" in result.stdout

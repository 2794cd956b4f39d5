"""``relay policy check``: validation, then the policy's own tests with a diff on failure."""

from __future__ import annotations

import textwrap
from pathlib import Path

from relay.cli.policy import cmd_check

REPO = Path(__file__).resolve().parent.parent

POLICY = """\
rules:
  - name: partners
    when: {recipient_domain: partner.example}
    then: {deliver: {tls: verified, fallback: portal}, tag: partner, add_header: {X-Checked: "1"}}
  - name: dane-partners
    when:
      recipient_domain: dane.example
      recipient_tls: {at_least: dane}
    then: {deliver: dane}
  - name: trial
    mode: monitor
    when: {subject: {contains: trial}}
    then: {reject: Trial}
  - name: phi
    when: {phi: {contains_phi: true}}
    then: {encrypt: portal, notify_sender: true}
"""


def write(directory: Path, tests: str) -> Path:
    (directory / "10-policy.yaml").write_text(POLICY + textwrap.dedent(tests))
    return directory


def test_the_shipped_baseline_passes_its_own_tests() -> None:
    code, text = cmd_check(REPO / "policies")
    lines = text.splitlines()
    assert code == 0, text
    assert lines[0].startswith(f"{REPO / 'policies'}: 6 rule(s) in 1 file(s), valid (version sha256:")
    assert all(line.startswith("ok  00-hipaa-baseline.yaml:") for line in lines[1:-1])
    assert lines[-1] == f"{len(lines) - 2} test(s): {len(lines) - 2} passed, 0 failed"


def test_passing_tests(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        tests:
          - name: partner and others
            message: "Subject: a trial run"
            envelope: {from: a@clinic.example, to: [x@partner.example, y@else.example, z@other.example]}
            expect:
              x@partner.example:
                action: deliver
                tls: verified
                fallback: portal
                tags: [partner]
                rules: [partners]
                add_headers: {X-Checked: "1"}
                monitor: []  # partners decided before the trial rule could have
              "*": {action: deliver, tls: opportunistic, decided_by: default, monitor: [trial]}
          - name: phi goes to the portal and the sender hears of it
            message: "Subject: Hello"
            envelope: {from: a@clinic.example, to: [y@else.example]}
            phi: {findings: [{type: US_SSN}]}
            expect:
              y@else.example: {action: portal, notify_sender: true}
          - name: a known TLS capability decides at once
            message: "Subject: Hello"
            envelope: {from: a@clinic.example, to: [q@dane.example]}
            recipient_tls: {dane.example: dane}
            expect:
              q@dane.example: {tls: dane, decided_by: dane-partners}
        """,
    )
    code, text = cmd_check(tmp_path)
    assert code == 0, text
    assert text.splitlines()[1:] == [
        "ok  10-policy.yaml:18  partner and others",
        "ok  10-policy.yaml:31  phi goes to the portal and the sender hears of it",
        "ok  10-policy.yaml:37  a known TLS capability decides at once",
        "3 test(s): 3 passed, 0 failed",
    ]


def test_a_failing_test_shows_expected_and_actual(tmp_path: Path) -> None:
    write(
        tmp_path,
        """\
        tests:
          - name: wrong expectations
            message: "Subject: Hello"
            envelope: {from: a@clinic.example, to: [x@partner.example, Y@Else.example]}
            expect:
              x@partner.example: {tls: dane, fallback: portal, tags: [partner, extra], pool: fast}
              y@else.example: {action: reject, reply: "550 5.7.1"}
        """,
    )
    code, text = cmd_check(tmp_path)
    assert code == 1
    assert text.splitlines()[1:] == [
        "FAIL  10-policy.yaml:18  wrong expectations",
        "      <x@partner.example> tls: expected dane, got verified",
        "      <x@partner.example> tags: expected [extra, partner], got [partner]",
        "      <x@partner.example> pool: expected fast, got (none)",
        "      <Y@Else.example> action: expected reject, got deliver",
        "      <Y@Else.example> reply: expected 550 5.7.1, got (none)",
        "1 test(s): 0 passed, 1 failed",
    ]


def test_eml_files_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "trial.eml").write_bytes(b"From: a@clinic.example\r\nSubject: trial\r\n\r\nx\r\n")
    write(
        tmp_path,
        """\
        tests:
          - name: from a file
            eml: samples/trial.eml
            envelope: {from: a@clinic.example, to: [x@else.example]}
            expect:
              x@else.example: {monitor: [trial]}
          - name: a missing file
            eml: samples/missing.eml
            envelope: {from: a@clinic.example, to: [x@else.example]}
            expect:
              x@else.example: deliver
        """,
    )
    code, text = cmd_check(tmp_path, verbose=True)
    assert code == 1
    lines = text.splitlines()
    assert lines[1] == "ok  10-policy.yaml:18  from a file"
    assert lines[2].startswith("      decision (policy sha256:")
    assert lines[-3:] == [
        "FAIL  10-policy.yaml:23  a missing file",
        f"      test 'a missing file' (10-policy.yaml:23): cannot read "
        f"'{tmp_path / 'samples' / 'missing.eml'}': No such file or directory",
        "2 test(s): 1 passed, 1 failed",
    ]


def test_an_unreadable_part_makes_the_message_unscannable(tmp_path: Path) -> None:
    (tmp_path / "10-policy.yaml").write_text(
        textwrap.dedent(
            """\
            rules:
              - name: unscannable
                when: {phi: {unscannable: true}}
                then: {quarantine: true}
            tests:
              - name: broken pdf
                message: |
                  From: a@clinic.example
                  Subject: scan
                  MIME-Version: 1.0
                  Content-Type: application/pdf; name="scan.pdf"
                  Content-Transfer-Encoding: base64

                  JVBERi0xLjQK
                envelope: {from: a@clinic.example, to: [x@else.example]}
                phi: {contains_phi: false}
                expect:
                  x@else.example: quarantine
            """
        )
    )
    assert cmd_check(tmp_path)[0] == 0


def test_an_invalid_policy_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "10-policy.yaml").write_text("rules:\n  - name: r\n    then: {route: nowhere}\n")
    assert cmd_check(tmp_path) == (
        2,
        f"{tmp_path / '10-policy.yaml'}:3: rules[0].then.route: unknown pool 'nowhere'; configured pools: "
        "none (define pools in relay.yaml first)",
    )
    assert cmd_check(tmp_path, pools=frozenset({"nowhere"}))[0] == 0


def test_internal_domains_reach_the_tests(tmp_path: Path) -> None:
    (tmp_path / "10-policy.yaml").write_text(
        textwrap.dedent(
            """\
            rules:
              - name: inside
                when: {recipient_internal: true}
                then: {deliver: none}
            tests:
              - name: internal mail goes in the clear
                message: "Subject: x"
                envelope: {from: a@clinic.example, to: [b@mail.clinic.example]}
                expect:
                  b@mail.clinic.example: {tls: none}
            """
        )
    )
    assert cmd_check(tmp_path)[0] == 1
    assert cmd_check(tmp_path, internal_domains=frozenset({"clinic.example"}))[0] == 0

"""MTA-STS record and policy parsing, and mx pattern matching (pure, table-driven)."""

from __future__ import annotations

import pytest

from relay.tls.mtasts.policy import PolicyMode, parse_policy
from relay.tls.mtasts.record import parse_record, select_record
from relay.tls.names import mx_matches, wildcard_match

# -- the _mta-sts TXT record (RFC 8461 section 3.1) ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "record_id"),
    [
        pytest.param("v=STSv1; id=20160831085700Z;", "20160831085700Z", id="rfc-example"),
        pytest.param("v=STSv1;id=20180907T090909;", "20180907T090909", id="no-spaces"),
        pytest.param("v=STSv1; id=abc", "abc", id="no-final-semicolon"),
        pytest.param("v=STSv1 ;\tid=abc ; ", "abc", id="whitespace-around-delimiters"),
        pytest.param("v=STSv1; id=abc; ext.name-1=value!", "abc", id="extension-field"),
        pytest.param("v=STSv1; id=" + "a" * 32, "a" * 32, id="id-32-chars"),
    ],
)
def test_valid_records(text: str, record_id: str) -> None:
    lookup = parse_record(text)
    assert lookup.record is not None, lookup.detail
    assert lookup.record.id == record_id


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("id=20180907T090909; v=STSv1;", id="version-not-first"),
        pytest.param("azazaza;asdasdasdasd", id="garbage"),
        pytest.param("v=STSv12;id=20180907T090909;", id="unknown-version"),
        pytest.param("v=STSv1;", id="no-id"),
        pytest.param("v=STSv1; id=", id="empty-id"),
        pytest.param("v=STSv1; id=" + "a" * 33, id="id-too-long"),
        pytest.param("v=STSv1; id=ab-cd", id="id-not-alnum"),
        pytest.param("v=STSv1; id=a; id=b", id="id-twice"),
        pytest.param("v=STSv1; id=a;; x=y", id="empty-field"),
        pytest.param("v=STSv1; id=a; bare", id="field-without-value"),
        pytest.param("v=stsv1; id=a", id="version-case"),
    ],
)
def test_invalid_records(text: str) -> None:
    lookup = parse_record(text)
    assert lookup.record is None
    assert lookup.detail


def test_records_not_starting_with_version_are_discarded() -> None:
    lookup = select_record(["v=spf1 -all", "v=STSv1; id=one;"])
    assert lookup.record is not None and lookup.record.id == "one"


def test_two_sts_records_mean_no_policy() -> None:
    assert select_record(["v=STSv1; id=one;", "v=STSv1; id=two;"]).record is None


def test_no_records() -> None:
    assert select_record([]).record is None


# -- the policy body (RFC 8461 section 3.2) ----------------------------------------------------------

GOOD = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n"


@pytest.mark.parametrize(
    ("body", "mode", "mx", "max_age"),
    [
        pytest.param(GOOD, PolicyMode.ENFORCE, ("mail.example.com", "*.example.net"), 604800, id="lf"),
        pytest.param(
            GOOD.replace("\n", "\r\n"),
            PolicyMode.ENFORCE,
            ("mail.example.com", "*.example.net"),
            604800,
            id="crlf",
        ),
        pytest.param(
            GOOD.rstrip("\n"),
            PolicyMode.ENFORCE,
            ("mail.example.com", "*.example.net"),
            604800,
            id="no-final-newline",
        ),
        pytest.param(
            "version: STSv1\nmode: none\nmax_age: 0", PolicyMode.NONE, (), 0, id="mode-none-without-mx"
        ),
        pytest.param(
            "max_age: 31557600\nmx: MX.Example.COM\nmode: testing\nversion: STSv1\n",
            PolicyMode.TESTING,
            ("mx.example.com",),
            31557600,
            id="any-order-max-limit-lowercased",
        ),
        pytest.param(
            "version:STSv1\nmode:\tenforce  \nmx: a.b\nmax_age: 5\n",
            PolicyMode.ENFORCE,
            ("a.b",),
            5,
            id="optional-whitespace",
        ),
        pytest.param(
            GOOD + "x-extension: some value\n",
            PolicyMode.ENFORCE,
            ("mail.example.com", "*.example.net"),
            604800,
            id="unknown-key-ignored",
        ),
        pytest.param(
            GOOD + "\n\n",
            PolicyMode.ENFORCE,
            ("mail.example.com", "*.example.net"),
            604800,
            id="trailing-blank-lines",
        ),
    ],
)
def test_valid_policies(body: str, mode: PolicyMode, mx: tuple[str, ...], max_age: int) -> None:
    parsed = parse_policy(body.encode())
    assert parsed.policy is not None, parsed.problem
    assert (parsed.policy.mode, parsed.policy.mx, parsed.policy.max_age) == (mode, mx, max_age)
    assert parse_policy(parsed.policy.to_text()).policy == parsed.policy


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param("garbage", "name: value", id="not-key-value"),
        pytest.param(
            "version: STSv1\nmode: enforce\nmax_age: 86400", "needs at least one mx", id="enforce-without-mx"
        ),
        pytest.param(
            "version: STSv1\nmode: testing\nmax_age: 86400", "needs at least one mx", id="testing-without-mx"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: xxx", "max_age", id="max-age-not-numeric"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: 31557601",
            "max_age",
            id="max-age-over-limit",
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: -1", "max_age", id="max-age-negative"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: mail.loc\nmax_age: 12345678901",
            "max_age",
            id="max-age-11-digits",
        ),
        pytest.param("version: STSv1\nmx: mail.loc\nmax_age: 86400", "no mode", id="mode-missing"),
        pytest.param(
            "version: STSv1\nmode: doubt\nmx: mail.loc\nmax_age: 86400", "mode 'doubt'", id="mode-invalid"
        ),
        pytest.param("version: STSv2\nmode: none\nmax_age: 1", "version must be STSv1", id="version-2"),
        pytest.param("mode: none\nmax_age: 1", "no version", id="version-missing"),
        pytest.param("version: STSv1\nmode: none", "no max_age", id="max-age-missing"),
        pytest.param(
            "version: STSv1\nmode: none\nmode: enforce\nmx: a.b\nmax_age: 1",
            "mode given twice",
            id="mode-twice",
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1", "invalid mx", id="mx-empty-label"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 1", "invalid mx", id="mx-double-wildcard"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: mail*.b\nmax_age: 1", "invalid mx", id="mx-partial-wildcard"
        ),
        pytest.param(
            "version: STSv1\nmode: enforce\nmx: -a.b\nmax_age: 1", "invalid mx", id="mx-leading-hyphen"
        ),
    ],
)
def test_invalid_policies(body: str, problem: str) -> None:
    parsed = parse_policy(body.encode())
    assert parsed.policy is None
    assert problem in parsed.problem


def test_policy_must_be_utf8() -> None:
    assert "UTF-8" in parse_policy(b"version: STSv1\nmode: none\nmax_age: 1\nx: \xff\n").problem


# -- mx patterns (RFC 8461 section 4.1) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        pytest.param("mail.example.com", "mail.example.com", True, id="exact"),
        pytest.param("mail.example.com", "MAIL.Example.com.", True, id="case-and-final-dot"),
        pytest.param("mail.example.com", "mail2.example.com", False, id="other-host"),
        pytest.param("*.example.com", "mx1.example.com", True, id="wildcard-one-label"),
        pytest.param("*.example.com", "example.com", False, id="wildcard-not-the-base"),
        pytest.param("*.example.com", "a.b.example.com", False, id="wildcard-not-two-labels"),
        pytest.param("*.example.com", "mx1.example.org", False, id="wildcard-other-domain"),
        pytest.param("*.example.com", ".example.com", False, id="wildcard-empty-label"),
    ],
)
def test_wildcard_match(pattern: str, host: str, expected: bool) -> None:
    assert wildcard_match(pattern, host) is expected


def test_mx_matches_returns_the_first_matching_pattern() -> None:
    assert mx_matches(("mail.example.com", "*.example.net"), "b.example.net") == "*.example.net"
    assert mx_matches(("mail.example.com",), "b.example.net") is None

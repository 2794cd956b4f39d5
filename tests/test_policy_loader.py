"""Loading a policy directory: one ``file:line: key: problem and the fix`` line per mistake.

Also the file set (name order, ``.yml`` refused, hidden files skipped), the version hash, and
that the shipped baseline loads.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from relay.errors import ConfigError
from relay.policy import load_policy

POOLS = frozenset({"bulk", "transactional"})
REPO = Path(__file__).resolve().parent.parent


def load_error(directory: Path, text: str, name: str = "10-p.yaml") -> ConfigError:
    (directory / name).write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as caught:
        load_policy(directory, pools=POOLS)
    return caught.value


def rule(when: str = "", then: str = "{tag: t}", extra: str = "") -> str:
    lines = ["rules:", "  - name: r"]
    if when:
        lines.append(f"    when: {when}")
    lines.append(f"    then: {then}")
    return "\n".join(lines) + "\n" + extra


# (id, file text, line, key, the problem (exact, or the start of it when it ends in ...))
ERRORS: list[tuple[str, str, int, str, str]] = [
    (
        "unknown-top-level-key",
        "rule: []\n",
        1,
        "rule",
        "unknown key (did you mean 'rules'?); allowed: rules, tests, streams, default",
    ),
    (
        "top-level-list",
        "- name: r\n",
        1,
        "",
        "expected a mapping with rules: (and optionally tests:), got a list",
    ),
    ("rules-not-a-list", "rules: {name: r}\n", 1, "rules", "expected a list, got a mapping"),
    (
        "rule-not-a-mapping",
        "rules: [r]\n",
        1,
        "rules[0]",
        "expected a rule (a mapping with name, when, then), got 'r'",
    ),
    (
        "unknown-rule-key",
        "rules:\n  - name: r\n    whne: {subject: x}\n    then: {tag: t}\n",
        3,
        "rules[0].whne",
        "unknown key (did you mean 'when'?); allowed: name, description, mode, when, then",
    ),
    ("missing-name", "rules:\n  - then: {tag: t}\n", 2, "rules[0]", "missing required key 'name'"),
    ("missing-then", "rules:\n  - name: r\n", 2, "rules[0]", "missing required key 'then'"),
    (
        "bad-name",
        "rules:\n  - name: my rule\n    then: {tag: t}\n",
        2,
        "rules[0].name",
        "'my rule': a rule name is letters, digits, '-', '_' and '.', at most 64 long ...",
    ),
    (
        "reserved-name",
        "rules:\n  - name: default\n    then: {tag: t}\n",
        2,
        "rules[0].name",
        "'default' is reserved for the default decision; choose another name",
    ),
    (
        "duplicate-name",
        "rules:\n  - name: r\n    then: {tag: t}\n  - name: r\n    then: {tag: u}\n",
        4,
        "rules[1].name",
        "duplicate rule name 'r' (first defined at 10-p.yaml:2); rule names must be unique ...",
    ),
    (
        "duplicate-key",
        "rules:\n  - name: r\n    then: {tag: t}\n    then: {tag: u}\n",
        4,
        "rules[0].then",
        "duplicate key (first set on line 3)",
    ),
    (
        "mode-typo",
        "rules:\n  - name: r\n    mode: monitr\n    then: {tag: t}\n",
        3,
        "rules[0].mode",
        "expected one of enforce, monitor, got 'monitr' (did you mean 'monitor'?)",
    ),
    (
        "unknown-condition",
        rule("{subjet: x}"),
        3,
        "rules[0].when.subjet",
        "unknown key (did you mean 'subject'?); allowed: sender, sender_domain, ...",
    ),
    (
        "empty-when",
        rule("{}"),
        3,
        "rules[0].when",
        "expected at least one condition (leave `when` out to match every message)",
    ),
    (
        "when-a-list",
        rule("[{subject: x}]"),
        3,
        "rules[0].when",
        "expected a mapping of conditions, got a list",
    ),
    (
        "unknown-entity",
        rule("{phi: {entities: [US_SNN]}}"),
        3,
        "rules[0].when.phi.entities[0]",
        "unknown entity type 'US_SNN' (did you mean 'US_SSN'?); the built-in types are listed in "
        "docs/policy.md",
    ),
    (
        "lower-case-entity",
        rule("{phi: {entities: us_ssn}}"),
        3,
        "rules[0].when.phi.entities",
        "entity types are upper case: write 'US_SSN'",
    ),
    (
        "score-out-of-range",
        rule("{phi: {phi_score: 80}}"),
        3,
        "rules[0].when.phi.phi_score",
        "expected a number from 0 to 1 (such as 0.8), got 80",
    ),
    (
        "min-count-zero",
        rule("{phi: {min_count: 0}}"),
        3,
        "rules[0].when.phi.min_count",
        "expected an integer >= 1, got 0",
    ),
    (
        "bad-regex",
        rule("{subject: {regex: '[unclosed'}}"),
        3,
        "rules[0].when.subject.regex",
        "cannot compile '[unclosed': unterminated character set at position 0; escape characters such as ...",
    ),
    (
        "pattern-two-kinds",
        rule("{subject: {regex: a, contains: b}}"),
        3,
        "rules[0].when.subject",
        "expected exactly one of contains or regex in a pattern mapping",
    ),
    (
        "pattern-unknown-kind",
        rule("{subject: {glob: 'a*'}}"),
        3,
        "rules[0].when.subject.glob",
        "unknown key; allowed: contains, regex",
    ),
    (
        "empty-pattern",
        rule("{sender: ''}"),
        3,
        "rules[0].when.sender",
        "expected an address pattern, or <> for the null sender, got ''",
    ),
    (
        "size-unit",
        rule("{size: {over: 10X}}"),
        3,
        "rules[0].when.size.over",
        "expected a size such as 1048576, 512K, 25M, 1G or 10MiB, got '10X'",
    ),
    (
        "size-empty-range",
        rule("{size: {over: 2K, under: 2K}}"),
        3,
        "rules[0].when.size",
        "nothing is over 2048 and under 2048 bytes; check the two values",
    ),
    (
        "count-reversed",
        rule("{attachment: {count: {min: 3, max: 1}}}"),
        3,
        "rules[0].when.attachment.count",
        "max 1 is below min 3",
    ),
    (
        "extension-dot",
        rule("{attachment: {extension: [pdf, .exe]}}"),
        3,
        "rules[0].when.attachment.extension[1]",
        "write extensions without the dot: 'exe', not '.exe'",
    ),
    (
        "client-ip-host-bits",
        rule("{client_ip: 10.1.2.3/8}"),
        3,
        "rules[0].when.client_ip",
        "'10.1.2.3/8' has host bits set; write the network 10.0.0.0/8 or the single address 10.1.2.3",
    ),
    (
        "header-no-name",
        rule("{header: {matches: x}}"),
        3,
        "rules[0].when.header",
        "missing required key 'name'",
    ),
    (
        "header-bad-name",
        rule("{header: {name: 'X Foo'}}"),
        3,
        "rules[0].when.header.name",
        "'X Foo' is not a header name (printable ASCII, no ':' or space)",
    ),
    (
        "header-absent-matches",
        rule("{header: {name: X-A, present: false, matches: b}}"),
        3,
        "rules[0].when.header.present",
        "cannot be false together with `matches`",
    ),
    (
        "stream-typo",
        rule("{stream: bulkk}"),
        3,
        "rules[0].when.stream",
        "expected one of transactional, bulk, got 'bulkk' (did you mean 'bulk'?)",
    ),
    (
        "flag-not-bool",
        rule("{recipient_internal: maybe}"),
        3,
        "rules[0].when.recipient_internal",
        "expected true or false, got 'maybe'",
    ),
    (
        "recipient-tls-nested",
        rule("{any: [{recipient_tls: {at_least: dane}}]}", "{deliver: dane}"),
        3,
        "rules[0].when.any[0].recipient_tls",
        "is decided at delivery time, so it may only appear directly ...",
    ),
    (
        "recipient-tls-reject",
        rule("{recipient_tls: {below: verified}}", "{reject: no TLS}"),
        3,
        "rules[0].when.recipient_tls",
        "is known only at delivery time, so the rule must deliver or encrypt ...",
    ),
    (
        "recipient-tls-best",
        rule("{recipient_tls: {at_least: best}}", "{deliver: dane}"),
        3,
        "rules[0].when.recipient_tls.at_least",
        "expected one of none, opportunistic, encrypted, verified, ...",
    ),
    (
        "empty-then",
        rule(then="{}"),
        3,
        "rules[0].then",
        "expected at least one action, such as deliver: {tls: opportunistic}",
    ),
    (
        "unknown-action",
        rule(then="{delivr: verified}"),
        3,
        "rules[0].then.delivr",
        "unknown key (did you mean 'deliver'?); allowed: deliver, encrypt, reject, quarantine, ...",
    ),
    (
        "two-terminals",
        rule(then="{deliver: verified, reject: no}"),
        3,
        "rules[0].then.reject",
        "a rule has at most one of deliver, encrypt, reject, quarantine; it already has deliver "
        "(split it into two rules)",
    ),
    (
        "tls-typo",
        rule(then="{deliver: verfied}"),
        3,
        "rules[0].then.deliver",
        "expected one of none, opportunistic, encrypted, verified, mta-sts, dane, best, got 'verfied' "
        "(did you mean 'verified'?)",
    ),
    (
        "minimum-without-best",
        rule(then="{deliver: {tls: dane, minimum: verified}}"),
        3,
        "rules[0].then.deliver.minimum",
        "only applies to tls: best (this rule asks for dane)",
    ),
    (
        "minimum-best",
        rule(then="{deliver: {tls: best, minimum: best}}"),
        3,
        "rules[0].then.deliver.minimum",
        "expected one of none, opportunistic, encrypted, verified, mta-sts, dane, got 'best'",
    ),
    (
        "fallback-no-effect",
        rule(then="{deliver: {tls: opportunistic, fallback: portal}}"),
        3,
        "rules[0].then.deliver.fallback",
        "has no effect: a minimum of opportunistic can always be met; ...",
    ),
    (
        "encrypt-other",
        rule(then="{encrypt: smime}"),
        3,
        "rules[0].then.encrypt",
        "expected one of portal, got 'smime'",
    ),
    (
        "reject-4xx",
        rule(then="{reject: {code: 450}}"),
        3,
        "rules[0].then.reject.code",
        "expected a permanent SMTP reply code 500-559 (550 is usual), got 450",
    ),
    (
        "reject-enhanced",
        rule(then="{reject: {enhanced: 4.7.1}}"),
        3,
        "rules[0].then.reject.enhanced",
        "expected an enhanced status code such as 5.7.1, got '4.7.1'",
    ),
    (
        "reject-boolean-text",
        rule(then="{reject: No}"),
        3,
        "rules[0].then.reject",
        "expected a one-line text, got False (a boolean; YAML reads yes/no/on/off as true/false)",
    ),
    (
        "reject-text-non-ascii",
        rule(then="{reject: 'Nicht erlaubt \u2013 nein'}"),
        3,
        "rules[0].then.reject",
        "expected printable ASCII on one line, at most 400 characters (it goes into an SMTP reply)",
    ),
    (
        "quarantine-false",
        rule(then="{quarantine: false}"),
        3,
        "rules[0].then.quarantine",
        "quarantine: false does nothing; remove the line",
    ),
    (
        "unknown-pool",
        rule(then="{route: fast}"),
        3,
        "rules[0].then.route",
        "unknown pool 'fast'; configured pools: bulk, transactional",
    ),
    (
        "protected-header",
        rule(then="{remove_header: From}"),
        3,
        "rules[0].then.remove_header",
        "From cannot be added or removed by policy (it defines the message)",
    ),
    (
        "subject-header",
        rule(then="{add_header: {Subject: x}}"),
        3,
        "rules[0].then.add_header.Subject",
        "Subject cannot be added or removed by policy (it defines the message); to remove a subject tag use "
        "strip_subject_tag",
    ),
    (
        "header-value-newline",
        rule(then='{add_header: {X-A: "a\\nb"}}'),
        3,
        "rules[0].then.add_header.X-A",
        "expected a header value: printable ASCII on one line, at most 900 characters",
    ),
    (
        "bcc-not-address",
        rule(then="{bcc: archive}"),
        3,
        "rules[0].then.bcc",
        "expected an email address such as archive@clinic.example, got 'archive'",
    ),
    (
        "tag-upper-case",
        rule(then="{tag: PHI}"),
        3,
        "rules[0].then.tag",
        "'PHI': a tag is lower-case letters, digits, '-', '_' and '.', at most 63 long",
    ),
    (
        "notify-false",
        rule(then="{notify_sender: false}"),
        3,
        "rules[0].then.notify_sender",
        "notify_sender: false does nothing; remove the line",
    ),
    (
        "default-no-terminal",
        "default: {tag: t}\n",
        1,
        "default",
        "needs one of deliver, encrypt, reject, quarantine",
    ),
    (
        "streams-unknown",
        "streams: {newsletter: [a@b.example]}\n",
        1,
        "streams.newsletter",
        "unknown key; allowed: transactional, bulk",
    ),
    ("invalid-yaml", "rules:\n  - name: r\n   then: x\n", 3, "", "invalid YAML: ..."),
    # -- the tests: section
    (
        "test-no-message",
        "tests:\n  - name: t\n    envelope: {from: a@b.example, to: [c@d.example]}\n"
        "    expect: {c@d.example: deliver}\n",
        2,
        "tests[0]",
        "a test needs exactly one of message (inline text) or eml (a file path)",
    ),
    (
        "test-expect-stranger",
        "tests:\n  - name: t\n    message: 'Subject: x'\n"
        "    envelope: {from: a@b.example, to: [c@d.example]}\n    expect: {e@f.example: deliver}\n",
        5,
        "tests[0].expect.e@f.example",
        "e@f.example is not in envelope.to (use * for every other recipient)",
    ),
    (
        "test-expect-field",
        "tests:\n  - name: t\n    message: 'Subject: x'\n"
        "    envelope: {from: a@b.example, to: [c@d.example]}\n    expect: {c@d.example: {tsl: best}}\n",
        5,
        "tests[0].expect.c@d.example.tsl",
        "unknown key (did you mean 'tls'?); allowed: action, tls, ...",
    ),
    (
        "test-expect-action",
        "tests:\n  - name: t\n    message: 'Subject: x'\n"
        "    envelope: {from: a@b.example, to: [c@d.example]}\n    expect: {c@d.example: send}\n",
        5,
        "tests[0].expect.c@d.example",
        "expected one of deliver, portal, reject, quarantine, got 'send'",
    ),
    (
        "test-phi-entity",
        "tests:\n  - name: t\n    message: 'Subject: x'\n"
        "    envelope: {from: a@b.example, to: [c@d.example]}\n    phi: {findings: [{type: SSN}]}\n"
        "    expect: {c@d.example: deliver}\n",
        5,
        "tests[0].phi.findings[0].type",
        "unknown entity type 'SSN' (did you mean 'US_SSN'?); the built-in types are listed in docs/policy.md",
    ),
    (
        "test-envelope-to",
        "tests:\n  - name: t\n    message: 'Subject: x'\n    envelope: {from: a@b.example}\n"
        "    expect: {c@d.example: deliver}\n",
        4,
        "tests[0].envelope",
        "missing required key 'to'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_one_line_per_mistake(tmp_path: Path, text: str, line: int, key: str, problem: str) -> None:
    error = load_error(tmp_path, text)
    path = str(tmp_path / "10-p.yaml")
    assert (error.file, error.line, error.key) == (path, line, key)
    if problem.endswith("..."):
        assert error.problem.startswith(problem[:-3]), error.problem
    else:
        assert error.problem == problem
    shown = str(error)
    assert "\n" not in shown
    assert shown.startswith(f"{path}:{line}: {key + ': ' if key else ''}")


def test_duplicate_rule_names_across_files_point_at_both(tmp_path: Path) -> None:
    (tmp_path / "00-a.yaml").write_text("rules:\n  - name: shared\n    then: {tag: a}\n")
    error = load_error(
        tmp_path, "rules:\n  - name: other\n    then: {tag: b}\n  - name: shared\n    then: {tag: c}\n"
    )
    assert str(error) == (
        f"{tmp_path / '10-p.yaml'}:4: rules[1].name: duplicate rule name 'shared' (first defined at "
        "00-a.yaml:2); rule names must be unique across all policy files"
    )


def test_default_may_be_set_once(tmp_path: Path) -> None:
    (tmp_path / "00-a.yaml").write_text("rules: []\ndefault: {deliver: verified}\n")
    error = load_error(tmp_path, "default: {deliver: dane}\n")
    assert error.problem == "already set in 00-a.yaml:2; only one policy file may set it"


def test_a_yml_file_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    (tmp_path / "20-local.yml").write_text("rules: []\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path / '20-local.yml'}: policy files end in .yaml; rename it to 20-local.yaml"
    )


def test_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path / "nope")
    assert str(caught.value) == f"{tmp_path / 'nope'}: policy directory does not exist"


def test_an_unknown_pool_says_when_none_are_configured(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(rule(then="{route: bulk}"))
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert (
        caught.value.problem
        == "unknown pool 'bulk'; configured pools: none (define pools in relay.yaml first)"
    )


def test_entity_types_are_an_input(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(rule("{phi: {entities: [LAB_ACCESSION]}}"))
    assert load_policy(tmp_path, entities=frozenset({"LAB_ACCESSION"})).rules[0].name == "r"


def test_files_are_read_in_name_order_and_hidden_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "20-b.yaml").write_text("rules:\n  - name: b\n    then: {tag: b}\n")
    (tmp_path / "10-a.yaml").write_text(
        "rules:\n  - name: a1\n    then: {tag: a}\n  - name: a2\n    then: {tag: a}\n"
    )
    (tmp_path / ".#10-a.yaml").write_text("not: [valid")  # an editor's lock file
    (tmp_path / "README.txt").write_text("notes")
    (tmp_path / "samples").mkdir()
    policy = load_policy(tmp_path)
    assert [(r.name, r.file, r.index) for r in policy.rules] == [
        ("a1", "10-a.yaml", 0),
        ("a2", "10-a.yaml", 1),
        ("b", "20-b.yaml", 2),
    ]
    assert policy.files == ("10-a.yaml", "20-b.yaml")


def test_the_version_is_a_hash_of_the_files(tmp_path: Path) -> None:
    (tmp_path / "10-a.yaml").write_text("rules: []\n")
    first = load_policy(tmp_path).version
    assert first == load_policy(tmp_path).version
    (tmp_path / "10-a.yaml").write_text("rules: []  # a comment changes the version too\n")
    second = load_policy(tmp_path).version
    (tmp_path / "10-a.yaml").rename(tmp_path / "20-a.yaml")
    assert len({first, second, load_policy(tmp_path).version}) == 3
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 16


def test_empty_and_comment_only_files_are_valid(tmp_path: Path) -> None:
    (tmp_path / "10-a.yaml").write_text("")
    (tmp_path / "20-b.yaml").write_text("# nothing yet\n")
    (tmp_path / "30-c.yaml").write_text("rules: []\ntests: []\n")
    assert load_policy(tmp_path).rules == ()


def test_anchors_let_rules_share_conditions(tmp_path: Path) -> None:
    text = """\
    rules:
      - name: a
        when: &partners {recipient_domain: [a.example, b.example]}
        then: {deliver: verified}
      - name: b
        when: *partners
        then: {tag: partner}
    """
    (tmp_path / "10-p.yaml").write_text(textwrap.dedent(text))
    assert [r.name for r in load_policy(tmp_path).rules] == ["a", "b"]


def test_the_shipped_baseline_loads() -> None:
    policy = load_policy(REPO / "policies")
    assert [r.name for r in policy.rules] == [
        "strip-internal-headers",
        "strip-subject-tags",
        "reject-ssn-in-bulk",
        "secure-subject-tag",
        "phi-requires-verified-tls",
        "unscannable-is-phi",
    ]
    assert policy.default.file == "00-hipaa-baseline.yaml"
    assert len(policy.tests) >= 8

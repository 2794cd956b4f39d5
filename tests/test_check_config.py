"""`relay check-config` says OK only for a configuration `relay serve` would start with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def check(directory: Path, text: str) -> subprocess.CompletedProcess[str]:
    (directory / "relay.yaml").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "relay.cli.main", "-c", str(directory / "relay.yaml"), "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=directory,
    )


@pytest.mark.parametrize(
    ("text", "setup", "problem"),
    [
        pytest.param("policies: absent\n", None, "absent: policy directory does not exist", id="no-policies"),
        pytest.param(
            "policies: p\n",
            ("p/10-x.yaml", "rules:\n  - name: a\n    then: {frobnicate: true}\n"),
            "10-x.yaml:3",
            id="bad-policy",
        ),
        pytest.param(
            "phi:\n  model: no_such_model\n", None, "phi.model: spaCy model 'no_such_model'", id="model"
        ),
        pytest.param(
            "tls:\n  cert: junk.pem\n  key: junk.pem\n",
            ("junk.pem", "not a pem\n"),
            "tls: cannot load",
            id="pem",
        ),
        pytest.param(
            "auth:\n  users_file: users\n",
            ("users", ""),
            "auth.users_file: AUTH is offered only after",
            id="auth",
        ),
    ],
)
def test_what_serve_refuses_check_config_refuses(
    tmp_path: Path, text: str, setup: tuple[str, str] | None, problem: str
) -> None:
    (tmp_path / "policies").mkdir()
    if setup is not None:
        name, content = setup
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    result = check(tmp_path, text)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert problem in result.stderr


def test_the_shipped_configuration_checks_ok() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relay.cli.main", "-c", "relay.yaml", "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("relay.yaml: OK\n")

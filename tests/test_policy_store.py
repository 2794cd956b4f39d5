"""Hot reload in the pure core: a valid new set replaces the active one, a broken one does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.errors import ConfigError
from relay.model import Envelope, Facts, MessageFacts, TlsLevel
from relay.policy import PolicyStore, ReloadStatus, evaluate

VERIFIED = "rules:\n  - name: r\n    then: {deliver: verified}\n"
DANE = "rules:\n  - name: r\n    then: {deliver: dane}\n"
BROKEN = "rules:\n  - name: r\n    then: {deliver: verfied}\n"
FACTS = Facts(
    envelope=Envelope(sender="a@clinic.example", recipients=("b@x.example",), client_ip="127.0.0.1"),
    message=MessageFacts(subject="s"),
)


@pytest.fixture
def store(tmp_path: Path) -> PolicyStore:
    (tmp_path / "10-p.yaml").write_text(VERIFIED)
    return PolicyStore.load(tmp_path)


def tls(store: PolicyStore) -> TlsLevel:
    return evaluate(store.active, FACTS).recipients[0].tls


def test_a_valid_change_is_made_active(store: PolicyStore, tmp_path: Path) -> None:
    before = store.version
    (tmp_path / "10-p.yaml").write_text(DANE)
    result = store.try_reload()
    assert (result.status, result.previous_version, result.error) == (ReloadStatus.RELOADED, before, None)
    assert result.version == store.version != before
    assert tls(store) is TlsLevel.DANE


def test_a_broken_change_keeps_the_old_policy(store: PolicyStore, tmp_path: Path) -> None:
    before = store.active
    (tmp_path / "10-p.yaml").write_text(BROKEN)
    result = store.try_reload()
    assert result.status is ReloadStatus.INVALID
    assert result.version == result.previous_version == before.version
    assert result.error is not None
    assert str(result.error).startswith(f"{tmp_path / '10-p.yaml'}:3: rules[0].then.deliver: expected one of")
    assert store.active is before and tls(store) is TlsLevel.VERIFIED
    (tmp_path / "10-p.yaml").write_text(DANE)  # fixed: the next reload takes it
    assert store.try_reload().status is ReloadStatus.RELOADED


def test_the_same_files_are_unchanged(store: PolicyStore) -> None:
    before = store.active
    assert store.try_reload().status is ReloadStatus.UNCHANGED
    assert store.active is before


def test_a_decision_keeps_the_version_it_was_made_under(store: PolicyStore, tmp_path: Path) -> None:
    decision = evaluate(store.active, FACTS)
    (tmp_path / "10-p.yaml").write_text(DANE)
    store.try_reload()
    assert decision.policy_version != store.version
    assert decision.recipients[0].tls is TlsLevel.VERIFIED


def test_another_directory_can_be_loaded(store: PolicyStore, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "10-p.yaml").write_text(DANE)
    assert store.try_reload(other).status is ReloadStatus.RELOADED
    assert store.active.directory == other
    assert store.try_reload(tmp_path / "missing").status is ReloadStatus.INVALID


def test_the_relay_does_not_start_on_a_broken_policy(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text(BROKEN)
    with pytest.raises(ConfigError):
        PolicyStore.load(tmp_path)


def test_pools_and_entities_are_kept_for_reloads(tmp_path: Path) -> None:
    (tmp_path / "10-p.yaml").write_text("rules: []\n")
    store = PolicyStore.load(tmp_path, pools=frozenset({"bulk"}), entities=frozenset({"CUSTOM_ID"}))
    (tmp_path / "10-p.yaml").write_text(
        "rules:\n  - name: r\n    when: {phi: {entities: [CUSTOM_ID]}}\n    then: {route: bulk}\n"
    )
    assert store.try_reload().status is ReloadStatus.RELOADED

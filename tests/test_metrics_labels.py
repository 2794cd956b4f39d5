"""Label values (relay.metrics.labels): closed sets, bounding of open values, reason classes (pure)."""

from __future__ import annotations

import threading

import pytest

from relay.metrics.labels import (
    MAX_ENTITY_TYPES,
    MAX_NAMES_PER_LABEL,
    MAX_TOP_DOMAINS,
    OTHER,
    DeliveryReason,
    LabelBounds,
    TlsMethod,
    delivery_reason,
    enhanced_code,
    tls_method,
    value_of,
)
from relay.model import Fallback, Reply, TlsLevel


@pytest.mark.parametrize(
    ("code", "enhanced", "reason"),
    [
        (550, "5.1.1", DeliveryReason.ADDRESS),
        (550, "5.1.2", DeliveryReason.ADDRESS),
        (556, "5.1.10", DeliveryReason.ADDRESS),
        (452, "4.2.2", DeliveryReason.MAILBOX),
        (452, "4.3.1", DeliveryReason.MAIL_SYSTEM),
        (451, "4.4.3", DeliveryReason.DNS),
        (451, "4.4.4", DeliveryReason.DNS),
        (451, "4.4.2", DeliveryReason.NETWORK),
        (421, "4.4.1", DeliveryReason.NETWORK),
        (450, "4.4.7", DeliveryReason.EXPIRED),
        (554, "5.5.0", DeliveryReason.PROTOCOL),
        (554, "5.6.0", DeliveryReason.CONTENT),
        (451, "4.7.10", DeliveryReason.TLS),
        (550, "5.7.10", DeliveryReason.TLS),
        (550, "5.7.1", DeliveryReason.SECURITY),
        (550, "5.0.0", DeliveryReason.OTHER),
        (550, "5.9.9", DeliveryReason.OTHER),
        (451, "", DeliveryReason.OTHER),
        (250, "2.0.0", DeliveryReason.OTHER),
        (550, "5.1.1 extra", DeliveryReason.OTHER),
    ],
    ids=lambda v: str(v),
)
def test_delivery_reason_follows_rfc3463_subjects(code: int, enhanced: str, reason: DeliveryReason) -> None:
    assert delivery_reason(Reply(code=code, enhanced=enhanced, text="x")) is reason


@pytest.mark.parametrize(
    ("enforced", "encrypted", "method"),
    [
        (TlsLevel.DANE, True, TlsMethod.DANE),
        (TlsLevel.MTA_STS, True, TlsMethod.MTA_STS),
        (TlsLevel.VERIFIED, True, TlsMethod.PKIX),
        (TlsLevel.ENCRYPTED, True, TlsMethod.OPPORTUNISTIC),
        (TlsLevel.OPPORTUNISTIC, True, TlsMethod.OPPORTUNISTIC),
        (TlsLevel.OPPORTUNISTIC, False, TlsMethod.NONE),
        (TlsLevel.NONE, False, TlsMethod.NONE),
    ],
    ids=lambda v: str(v),
)
def test_tls_method(enforced: TlsLevel, encrypted: bool, method: TlsMethod) -> None:
    assert tls_method(enforced, encrypted=encrypted) is method


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("5.7.1", "5.7.1"),
        ("4.3.0", "4.3.0"),
        ("5.1.10", "5.1.10"),
        ("2.0.0", OTHER),
        ("5.7", OTHER),
        ("5.7.1 ", OTHER),
        ("alice@example.test", OTHER),
        ("", OTHER),
    ],
    ids=repr,
)
def test_enhanced_code(code: str, label: str) -> None:
    assert enhanced_code(code) == label


def test_value_of_takes_enums_and_strings() -> None:
    assert value_of(Fallback.PORTAL) == "portal"
    assert value_of("monitor") == "monitor"


ADDRESS_LIKE = ["alice@example.test", "<alice@example.test>", "alice@", "@example.test"]


@pytest.mark.parametrize("value", ADDRESS_LIKE)
def test_no_open_label_accepts_an_address(value: str) -> None:
    bounds = LabelBounds(top_domains=["example.test"])
    assert bounds.name("rule", value) == OTHER
    assert bounds.pool(value) == OTHER
    assert bounds.entity(value) == OTHER
    assert bounds.domain(value) == OTHER


def test_domains_are_labels_only_when_listed() -> None:
    bounds = LabelBounds(top_domains=["Gmail.com.", "outlook.com"])
    assert bounds.domain("gmail.com") == "gmail.com"
    assert bounds.domain("GMAIL.COM.") == "gmail.com"
    assert bounds.domain("outlook.com") == "outlook.com"
    assert bounds.domain("mail.gmail.com") == OTHER
    assert bounds.domain("hospital.example") == OTHER
    assert LabelBounds().domain("gmail.com") == OTHER


@pytest.mark.parametrize("bad", ["not a domain", "a@b.test", "-x.test", ""], ids=repr)
def test_top_domains_must_be_domain_names(bad: str) -> None:
    with pytest.raises(ValueError, match="not a domain name"):
        LabelBounds(top_domains=[bad])


def test_top_domains_are_capped() -> None:
    with pytest.raises(ValueError, match=f"at most {MAX_TOP_DOMAINS}"):
        LabelBounds(top_domains=[f"d{n}.test" for n in range(MAX_TOP_DOMAINS + 1)])


def test_pool_default_and_shape() -> None:
    bounds = LabelBounds()
    assert bounds.pool(None) == "default"
    assert bounds.pool("") == "default"
    assert bounds.pool("eu-west.1") == "eu-west.1"
    assert bounds.pool("x" * 65) == OTHER
    assert bounds.pool("has space") == OTHER


def test_entity_shape() -> None:
    bounds = LabelBounds()
    assert bounds.entity("US_SSN") == "US_SSN"
    assert bounds.entity("MEDICAL_RECORD_NUMBER") == "MEDICAL_RECORD_NUMBER"
    assert bounds.entity("us_ssn") == OTHER
    assert bounds.entity("123-45-6789") == OTHER


def test_open_names_are_capped_per_label() -> None:
    bounds = LabelBounds()
    names = [f"rule-{n}" for n in range(MAX_NAMES_PER_LABEL)]
    assert [bounds.name("rule", n) for n in names] == names
    assert bounds.name("rule", "one-too-many") == OTHER
    assert bounds.name("rule", names[0]) == names[0]  # a name seen before keeps its label
    assert bounds.name("pool", "one-too-many") == "one-too-many"  # each label has its own cap
    entities = [f"E{n}" for n in range(MAX_ENTITY_TYPES)]
    assert [bounds.entity(e) for e in entities] == entities
    assert bounds.entity("E_NEW") == OTHER


def test_cap_holds_under_threads() -> None:
    bounds = LabelBounds()
    results: list[str] = []
    lock = threading.Lock()

    def hand_out(start: int) -> None:
        for n in range(start, start + 100):
            label = bounds.name("rule", f"r{n}")
            with lock:
                results.append(label)

    threads = [threading.Thread(target=hand_out, args=(n * 100,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r for r in results if r != OTHER}) == MAX_NAMES_PER_LABEL

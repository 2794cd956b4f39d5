"""The TLSA matcher against OpenSSL's DANE test suite (shared/corpora/dane), plus own cases.

Each corpus case gives TLSA records, the chain a server presented and OpenSSL's verdict. SMTP
uses DANE-EE(3) and DANE-TA(2) only (RFC 7672 section 3.1.3), so cases with PKIX-TA(0) or
PKIX-EE(1) records are skipped with that reason in their id. One case differs on purpose:
OpenSSL's case 54 turns DANE-EE name checks on, which RFC 7672 section 3.1.1 says SMTP never
does, so there the expected verdict is a match.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from relay.tls.tlsa import TlsaOutcome, TlsaRecord, match_tlsa

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "dane"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
"""Inside the validity of every chain used with DANE-TA in the corpus (they run to 2116/3015)."""

_OUTCOMES = {
    "X509_V_OK": TlsaOutcome.MATCH,
    "X509_V_ERR_DANE_NO_MATCH": TlsaOutcome.NO_MATCH,
    "X509_V_ERR_HOSTNAME_MISMATCH": TlsaOutcome.NAME_MISMATCH,
}
RFC7672_EE_NO_NAME_CHECKS = {("danetest", 54)}


def _corpus() -> list[Any]:
    data = json.loads((CORPUS / "openssl_dane_cases.json").read_text())
    params = []
    suite = "danetest"
    for case in data["cases"]:
        if case["section"] is None:
            suite = "dane-cross"
        usages = sorted({t["usage"] for t in case["tlsa"]})
        name = f"{suite}-{case['case']}-usage{''.join(map(str, usages))}"
        marks = []
        if any(u in (0, 1) for u in usages):
            name += "-skip-pkix-usage-unusable-for-smtp-rfc7672-3.1.3"
            marks.append(
                pytest.mark.skip(reason="PKIX-TA(0)/PKIX-EE(1) are unusable for SMTP (RFC 7672 3.1.3)")
            )
        elif (suite, case["case"]) in RFC7672_EE_NO_NAME_CHECKS:
            name += "-rfc7672-3.1.1-no-ee-name-checks"
        params.append(pytest.param(suite, case, id=name, marks=marks))
    return params


def _der_chain(case: dict[str, Any]) -> list[bytes]:
    return [
        x509.load_pem_x509_certificate(c["pem"].encode()).public_bytes(serialization.Encoding.DER)
        for c in case["chain"]
    ]


def _records(case: dict[str, Any]) -> list[TlsaRecord]:
    return [
        TlsaRecord(usage=t["usage"], selector=t["selector"], mtype=t["mtype"], data=bytes.fromhex(t["data"]))
        for t in case["tlsa"]
    ]


@pytest.mark.parametrize(("suite", "case"), _corpus())
def test_openssl_dane_case(suite: str, case: dict[str, Any]) -> None:
    result = match_tlsa(_records(case), _der_chain(case), names=(case["basedomain"],), now=NOW)
    expected = _OUTCOMES[case["expected_verify_result_name"]]
    depth = case["expected_match_depth"]
    if (suite, case["case"]) in RFC7672_EE_NO_NAME_CHECKS:
        expected = TlsaOutcome.MATCH
    assert result.outcome is expected, result.detail
    assert result.depth == depth


def test_corpus_has_all_cases() -> None:
    assert len(_corpus()) == 55

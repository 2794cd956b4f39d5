"""The PHI scanner end to end: segments in, verdicts out; offline operation; the process pool
(extraction and scan in its workers) with its time budget and worker failures; the
``relay phi scan`` commands."""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import AsyncIterator, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio

from relay.cli.phi import mask, scan_file, scan_jsonl
from relay.errors import ConfigError, PipelineError
from relay.message import extract
from relay.model import PhiResult, TextSegment, Unscannable
from relay.phi.nlp import ner_regions
from relay.phi.pool import PhiPool
from relay.phi.scanner import PhiScanner
from relay.phi.settings import PhiSettings

REFERRAL = (
    "Dear Dr. Okafor,\n\nI am referring John Smith (DOB 03/04/1956, MRN 00123456) for evaluation of "
    "poorly controlled type 2 diabetes. His A1c was 9.1 on metformin 1000 mg twice daily.\n\n"
    "Best regards,\nMaria Garcia, MD\n"
)
BUSINESS = (
    "Hi Bob,\n\nThe budget meeting moved to Tuesday at 3 pm in room 4B. Please bring the slides.\n\nAlice\n"
)
NEWSLETTER = (
    "Flu season is here. Adults with diabetes, asthma or heart disease should get the influenza "
    "vaccine. Our pharmacy now stocks metformin and insulin supplies, and the clinic offers "
    "blood pressure checks on weekdays."
)


def body(text: str, part: str = "1") -> TextSegment:
    return TextSegment(part=part, kind="body", text=text)


@pytest.fixture(scope="module")
def scanner() -> Iterator[PhiScanner]:
    yield PhiScanner()


# -- verdicts over segments ----------------------------------------------------------------


def test_referral_is_phi(scanner: PhiScanner) -> None:
    result = scanner.scan_segments([body(REFERRAL)])
    assert result.contains_phi and result.health_context and not result.unscannable
    found = {(f.entity_type, REFERRAL[f.start : f.end]) for f in result.findings}
    assert ("PERSON", "John Smith") in found
    assert ("DATE_OF_BIRTH", "03/04/1956") in found
    assert ("MEDICAL_RECORD_NUMBER", "00123456") in found
    assert {s.entity_type for s in result.summary} >= {"PERSON", "DATE_OF_BIRTH", "MEDICAL_RECORD_NUMBER"}


def test_colleague_name_in_business_mail_is_not_phi(scanner: PhiScanner) -> None:
    result = scanner.scan_segments([body(BUSINESS)])
    assert not result.contains_phi and not result.health_context
    assert "PERSON" in {f.entity_type for f in result.findings}, "the names are still reported"


def test_clinical_newsletter_without_identifiers_is_not_phi(scanner: PhiScanner) -> None:
    result = scanner.scan_segments([body(NEWSLETTER)])
    assert result.health_context and not result.contains_phi


def test_segments_combine_and_keep_their_parts(scanner: PhiScanner) -> None:
    subject = TextSegment(part="header:subject", kind="header", text="Lab results for Jane Miller")
    attachment = TextSegment(part="2/results.csv", kind="attachment", text="test,value\nHbA1c,8.2\nLDL,160\n")
    result = scanner.scan_segments([subject, attachment])
    assert result.contains_phi, "the name is in the subject, the health context in the attachment"
    person = [f for f in result.findings if f.entity_type == "PERSON"]
    assert [(f.part, subject.text[f.start : f.end]) for f in person] == [("header:subject", "Jane Miller")]


def test_batch_equals_one_by_one(scanner: PhiScanner) -> None:
    messages = [[body(REFERRAL)], [body(BUSINESS)], [], [body(NEWSLETTER), body("", part="2")]]
    assert scanner.scan_messages(messages) == [scanner.scan_segments(m) for m in messages]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "x" * 20_000,
        "\x00\x01 MRN \ufffd 12345678 \u202e",
        "😀 Dr. 😀 Smith 😀 " * 200,
        "A" * 5_000 + " John Smith",
        "1" * 10_000,
        "Ünïcödé Jöhn Smïth, DOB 03/04/1956.",
    ],
    ids=["empty", "blank", "long-word", "control-chars", "emoji", "huge-capital-word", "digits", "accents"],
)
def test_odd_text_never_crashes(scanner: PhiScanner, text: str) -> None:
    result = scanner.scan_text(text)
    assert isinstance(result, PhiResult)
    assert all(0 <= f.start < f.end <= len(text) for f in result.findings)


def test_missing_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        PhiScanner(PhiSettings(model="en_core_web_no_such_model"))


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("please call me back. thanks.", []),
        ("Please call me back. The results are fine.", []),
        ("Dr. Smith saw her.", ["Dr. Smith saw her."]),
        ("Dear Wei Okafor,\n", ["Dear Wei Okafor,\n"]),
        ("The MRI and CBC are normal. I agree.", []),
        ("Results are normal and everything looks good for now, so we will talk again on Boston day.",
         ["talk again on Boston day."]),
        ("The biopsy went to Memorial Hospital Radiology on Monday.", []),
        ("The biopsy went to Memorial Hospital with Dana Whitfield.",
         ["biopsy went to Memorial Hospital with Dana Whitfield."]),
        ("Her desk is next to Ana Schröder now.", ["is next to Ana Schröder now."]),
        ("Her desk is next to Schröder now.", ["is next to Schröder now."]),
        ("The biopsy report from Mercy General Hospital was negative.", []),
        ("Signed,\nMaria Lopez RN\n", ["Signed,\nMaria Lopez RN\n"]),
        ("Policy owner: Valentina Lane\n", ["Policy owner: Valentina Lane\n"]),
    ],
    ids=[
        "lower-case", "openers-only", "title-and-name", "salutation", "acronyms", "window",
        "only-words-of-organisations", "organisation-beside-a-name", "accented-name", "accented-word-alone",
        "name-of-an-institution", "name-before-a-credential", "surname-that-is-a-place-word",
    ],
)  # fmt: skip
def test_ner_regions(text: str, regions: list[str]) -> None:
    assert [text[s:e] for s, e in ner_regions(text)] == regions


def test_a_repeated_region_is_read_once_and_reported_at_each_place(scanner: PhiScanner) -> None:
    line = "Thanks,\nDana Whitfield\n"
    text = line + "\n> " + line
    spans = [
        text[e.start_char : e.end_char]
        for e in scanner.engine.nlp.process_texts([text, line], "en")[0].entities
        if e.label_ == "PERSON"
    ]
    assert spans == ["Dana Whitfield", "Dana Whitfield"]


# -- offline -------------------------------------------------------------------------------

OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket
    attempts = []
    def refuse(*args, **kwargs):
        attempts.append(args[1:2])
        raise OSError("network access attempted")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    import tldextract.tldextract as stock
    from relay.phi.scanner import PhiScanner
    text = "Write to jane.doe@example.org or see https://portal.example.org, MRN 12345678."
    result = PhiScanner().scan_text(text)
    print(json.dumps({
        "found": sorted({(f.entity_type, text[f.start:f.end]) for f in result.findings}),
        "attempts": len(attempts),
        "stock_extractor_used": stock.TLD_EXTRACTOR._extractor is not None,
    }))
    """
)


def test_scans_offline_without_traceback_or_warning(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        TLDEXTRACT_CACHE=str(tmp_path / "tldextract"),  # no cached suffix list to hide a fetch
        HOME=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", OFFLINE_SCRIPT],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    report = json.loads(done.stdout)
    assert report["attempts"] == 0
    assert report["stock_extractor_used"] is False
    assert ["EMAIL_ADDRESS", "jane.doe@example.org"] in report["found"]
    assert ["URL", "https://portal.example.org"] in report["found"]
    assert not (tmp_path / "tldextract").exists(), "nothing cached on disk either"


# -- the pool --------------------------------------------------------------------------------


RECOVERY_BUDGET = 120.0
"""Budget for the scan after a worker was replaced: it waits for the new one to load the model."""


def mail(text: str, subject: str = "Referral") -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "clinic@example.org"
    msg["To"] = "doc@example.net"
    msg["Subject"] = subject
    msg.set_content(text)
    return msg


def with_attachments() -> bytes:
    msg = mail(BUSINESS, subject="Files for John Smith")
    msg.add_alternative(f"<p>{BUSINESS}</p>", subtype="html")
    msg.add_attachment(b"name,mrn\r\nJohn Smith,00123456\r\n", "text", "csv", filename="list.csv")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes/referral.txt", REFERRAL)
    msg.add_attachment(archive.getvalue(), "application", "zip", filename="notes.zip")
    return msg.as_bytes()


def html_only() -> bytes:
    msg = mail("")
    msg.set_content("<html><body><h1>Referral</h1><p>" + REFERRAL.replace("\n", "<br>") + "</p>", "html")
    return msg.as_bytes()


def forwarded() -> bytes:
    msg = mail("See the referral below.", subject="Fwd: Referral")
    msg.add_attachment(mail(REFERRAL))
    return msg.as_bytes()


MESSAGES = {
    "multipart-with-attachments": with_attachments(),
    "html": html_only(),
    "nested-rfc822": forwarded(),
}
LONG = mail(REFERRAL * 1000, subject="Long referral").as_bytes()
"""Extracted in milliseconds, scanned in seconds."""


def _workers() -> list[multiprocessing.process.BaseProcess]:
    return multiprocessing.active_children()


def _cpu_ticks(pid: int) -> int:
    """CPU time a process has used, in clock ticks (proc(5): utime and stime in ``stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest_asyncio.fixture(scope="class", loop_scope="class")
async def pool() -> AsyncIterator[PhiPool]:
    """One worker, started once for the pool tests (loading the model takes seconds)."""
    async with PhiPool(PhiSettings(workers=1, time_budget=5.0), grace=2.0) as running:
        yield running


@pytest.mark.asyncio(loop_scope="class")
class TestPool:
    """The pool's tests share one pool, stopped after them (before the forking CLI tests)."""

    async def test_analysis_in_the_workers_equals_analysis_in_process(
        self, pool: PhiPool, scanner: PhiScanner
    ) -> None:
        """Extraction moved into the workers: the same facts and verdicts as when it ran in the
        relay's process, with PHI detection on and off."""
        async with PhiPool(PhiSettings(enabled=False, workers=1)) as extracting:
            for name, data in MESSAGES.items():
                extraction = extract(data)
                facts, phi = await pool.analyze(data)
                assert (facts, phi) == (extraction.facts, scanner.scan_segments(extraction.segments)), name
                assert phi.contains_phi, name
                assert await extracting.analyze(data) == (extraction.facts, PhiResult(unscannable=True)), name

    async def test_analyzes_off_the_event_loop(self, pool: PhiPool, scanner: PhiScanner) -> None:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        data = mail(REFERRAL * 20).as_bytes()
        ticker = asyncio.create_task(tick())
        try:
            analyses = await asyncio.gather(*(pool.analyze(data) for _ in range(3)))
        finally:
            ticker.cancel()
        assert ticks > 10, "the event loop kept running while the workers scanned"
        assert all(facts.unscannable == () for facts, _ in analyses)
        assert analyses[0][1] == scanner.scan_segments(extract(data).segments)

    async def test_budget_exceeded_is_unscannable(self, pool: PhiPool) -> None:
        scan = await pool.scan([body(REFERRAL * 200)], budget=0.001)
        assert scan.result.unscannable and not scan.result.findings
        assert [u.reason for u in scan.unscannable] == ["PHI scan exceeded the 0.001 s budget"]
        assert (await pool.scan([body(REFERRAL)])).result.contains_phi, "the worker goes on"

    async def test_scan_over_budget_keeps_the_extracted_facts(self, pool: PhiPool) -> None:
        facts, phi = await pool.analyze(LONG, budget=0.5)
        assert phi.unscannable and not phi.findings
        assert facts.subject == "Long referral", "the facts extracted before the alarm are kept"
        reason = Unscannable(part="message", reason="PHI scan exceeded the 0.5 s budget")
        assert facts.unscannable == (reason,)
        assert (await pool.analyze(MESSAGES["html"]))[1].contains_phi, "the worker goes on"

    async def test_replaces_a_stuck_worker(self, pool: PhiPool) -> None:
        (stuck,) = _workers()
        assert stuck.pid is not None
        os.kill(stuck.pid, signal.SIGSTOP)  # stuck in C code: deaf to its own alarm
        data = MESSAGES["html"]
        with pytest.raises(PipelineError, match="worker was stopped"):  # not judged: 451 4.3.0
            await pool.analyze(data, budget=0.5)
        stuck.join(5)
        assert not stuck.is_alive()
        _, recovered = await pool.analyze(data, budget=RECOVERY_BUDGET)
        assert recovered.contains_phi, "a fresh worker took over"

    async def test_survives_a_worker_killed_mid_scan(self, pool: PhiPool) -> None:
        (worker,) = _workers()
        assert worker.pid is not None
        idle = _cpu_ticks(worker.pid)
        analysis = asyncio.create_task(pool.analyze(LONG))
        while not analysis.done() and _cpu_ticks(worker.pid) < idle + 5:  # 50 ms into seconds of work
            await asyncio.sleep(0.01)
        assert not analysis.done()
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(PipelineError, match=r"^the PHI scanner process ended during the scan$"):
            await analysis
        worker.join(5)
        _, recovered = await pool.analyze(MESSAGES["html"], budget=RECOVERY_BUDGET)
        assert recovered.contains_phi, "a fresh worker took over"

    async def test_stop_ends_even_a_stuck_worker(self, pool: PhiPool) -> None:
        before = set(_workers())
        other = PhiPool(PhiSettings(workers=1), stop_grace=0.5)
        await other.start()
        (mine,) = set(_workers()) - before
        assert mine.pid is not None
        os.kill(mine.pid, signal.SIGSTOP)
        await other.stop()
        assert not mine.is_alive()
        assert set(_workers()) == before


# -- relay phi scan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("219-09-9999", "***-**-9999"),
        ("(617) 555-0142", "(***) ***-0142"),
        ("John Smith", "**** *****"),
        ("jane.doe@example.org", "****.***@*******.***"),
        ("1EG4-TE5-MK73", "****-***-****"),
        ("03/04/1956", "**/**/1956"),
        ("99213", "*****"),
        ("", ""),
    ],
    ids=["ssn", "phone", "name", "email", "mbi", "date", "short-code", "empty"],
)
def test_mask(value: str, masked: str) -> None:
    assert mask(value) == masked


def test_scan_file_prints_masked_findings(tmp_path: Path, scanner: PhiScanner) -> None:
    eml = tmp_path / "referral.eml"
    eml.write_bytes(
        b"From: clinic@example.org\r\nTo: doc@example.net\r\nSubject: Referral for John Smith\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + REFERRAL.replace("\n", "\r\n").encode()
        + b"SSN 219-09-9999\r\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert scan_file(eml, out=out, err=err, scanner=scanner) == 0
    text = out.getvalue()
    assert err.getvalue() == ""
    assert text.startswith(f"{eml}: contains_phi=true ")
    assert "***-**-9999" in text and "**** *****" in text
    for secret in ("219-09-9999", "John Smith", "00123456", "03/04/1956"):
        assert secret not in text, "values are shown masked only"
    assert "MEDICAL_RECORD_NUMBER" in text and "summary:" in text


def test_scan_file_missing_file(tmp_path: Path, scanner: PhiScanner) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert scan_file(tmp_path / "nope.eml", out=out, err=err, scanner=scanner) == 2
    assert err.getvalue().startswith("relay: error: cannot read ") and out.getvalue() == ""


def _jsonl(tmp_path: Path, texts: list[str]) -> Path:
    path = tmp_path / "in.jsonl"
    lines = (json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "two-workers"])
def test_scan_jsonl(tmp_path: Path, scanner: PhiScanner, workers: int) -> None:
    texts = [REFERRAL, BUSINESS, NEWSLETTER, ""] * 4
    out, err = io.StringIO(), io.StringIO()
    path = _jsonl(tmp_path, texts)
    assert scan_jsonl(path, out=out, err=err, workers=workers, batch=3, scanner=scanner) == 0
    assert err.getvalue() == ""
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == list(range(len(texts)))
    assert set(lines[0]) == {"id", "contains_phi", "phi_score", "findings"}
    for line, text in zip(lines, texts, strict=True):
        expected = scanner.scan_text(text)
        assert line["contains_phi"] is expected.contains_phi
        assert line["phi_score"] == expected.phi_score
        wanted = [(x.entity_type, x.start, x.end, x.score) for x in expected.findings]
        assert [(x["type"], x["start"], x["end"], x["score"]) for x in line["findings"]] == wanted


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "text": "ok"}\nnot json\n', "in.jsonl:2: not JSON"),
        ('{"id": 1}\n', 'in.jsonl:1: expected an object {"id": ..., "text": "..."}'),
        ('["id", "text"]\n', "in.jsonl:1: expected an object"),
    ],
    ids=["not-json", "no-text", "not-an-object"],
)
def test_scan_jsonl_rejects_bad_lines(
    tmp_path: Path, scanner: PhiScanner, content: str, message: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(content, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert scan_jsonl(path, out=out, err=err, workers=1, scanner=scanner) == 2
    assert message in err.getvalue()
    assert err.getvalue().count("\n") == 1, "one line, no traceback"

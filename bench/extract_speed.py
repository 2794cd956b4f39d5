"""Speed of MIME extraction on a 20 KB quoted-printable HTML message (a benchmark, not a test).

Prints the median and p99 CPU time per message over many runs: CPU time of this process, so
other work on a shared machine does not count. Run: .venv/bin/python bench/extract_speed.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from test_message_extract import html_message_20k

from relay.message import extract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    runs = parser.parse_args().runs
    data = html_message_20k()
    for _ in range(20):
        extract(data)
    timings = []
    for _ in range(runs):
        start = time.process_time()
        extract(data)
        timings.append(time.process_time() - start)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    median = statistics.median(timings) * 1000
    print(f"{len(data)} bytes, {runs} runs: median {median:.2f} ms, p99 {p99 * 1000:.2f} ms CPU")


if __name__ == "__main__":
    main()

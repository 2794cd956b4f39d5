"""Metrics of the running relay, scraped over HTTP after real traffic."""

from __future__ import annotations

import smtplib
import urllib.request

from helpers import wait_until
from prometheus_client.parser import text_string_to_metric_families
from relayproc import RelaySetup
from sink import Sink


def scrape(relay: RelaySetup, path: str = "/metrics") -> tuple[int, str]:
    url = f"http://{relay.settings['listen']['metrics']}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k not in ("pid", "worker")))
            key = (sample.name, labels)
            found[key] = found.get(key, 0.0) + sample.value
    return found


def total(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(value for (metric, _), value in found.items() if metric == name)


def test_counters_follow_real_traffic_and_carry_no_addresses(relay: RelaySetup, sink: Sink) -> None:
    relay.configure(
        routes={"dest.test": sink.address}, workers=2, metrics={"top_domains": ["dest.test", "other.test"]}
    )
    sink.script("rcpt", "gone@dest.test", "550 5.1.1 no such user")
    relay.start(timeout=60)
    assert scrape(relay, "/healthz")[0] == 200
    with smtplib.SMTP("127.0.0.1", relay.smtp_port, timeout=20) as client:
        for n in range(3):
            client.sendmail("doc@clinic.test", ["pat@dest.test"], f"Subject: m{n}\r\n\r\nhi\r\n".encode())
        client.sendmail("doc@clinic.test", ["gone@dest.test"], b"Subject: x\r\n\r\nhi\r\n")
    sink.wait_for(3, timeout=60)
    wait_until(lambda: "event=bounced" in relay.log(), 60, "the bounce")

    def settled() -> bool:
        found = samples(scrape(relay)[1])
        return (
            total(found, "relay_messages_delivered_total") >= 3
            and total(found, "relay_messages_bounced_total") >= 1
        )

    wait_until(settled, 60, "the counters")
    status, text = scrape(relay)
    assert status == 200
    found = samples(text)
    assert total(found, "relay_messages_accepted_total") == 4
    assert total(found, "relay_messages_delivered_total") == 3
    assert total(found, "relay_messages_bounced_total") == 1
    assert "@" not in "".join(line for line in text.splitlines() if not line.startswith("#"))
    outcomes = {
        dict(labels)["outcome"]: value
        for (name, labels), value in found.items()
        if name == "relay_delivery_outcomes_total" and dict(labels).get("domain") == "dest.test"
    }
    assert outcomes == {"delivered": 3, "bounced": 1}  # dest.test is a configured top domain
    # Every worker reports its policy shortly after it listens (the traffic may all have gone
    # to the first one up); then only the test's dead DNS resolver (127.0.0.1:9) keeps it not
    # ready, and /readyz says so.
    wait_until(lambda: "policy" not in scrape(relay, "/readyz")[1], 30, "every worker's policy")
    ready, reason = scrape(relay, "/readyz")
    assert (ready, "dns" in reason.lower()) in ((200, False), (503, True)), reason
    assert relay.stop() == 0

"""The Grafana dashboard, the Prometheus alerts and docs/metrics.md against the real registry.

Every metric name a panel, an alert or the manual mentions must be one the relay exposes, and
every metric the relay exposes must be in the manual. The alert rules are loaded by Prometheus'
own ``promtool``: ``check rules`` for syntax and ``test rules`` for alerts that fire (and stay
quiet) on synthetic series.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from relay.metrics import Metrics, serving_registry

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "relay-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DOCS = ROOT / "docs" / "metrics.md"

METRIC_NAME = re.compile(r"\b(?:relay|process)_[a-z0-9_]*[a-z0-9]\b")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}
PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "piechart", "table"}
GRID_WIDTH = 24


def registry_families(tmp_path: Path) -> dict[str, str]:
    """Family name -> type of everything ``/metrics`` can show."""
    registry: CollectorRegistry = serving_registry(tmp_path, multiprocess_dir=None)
    Metrics(registry=registry)
    return {family.name: family.type for family in registry.collect()}


@pytest.fixture
def exposed(tmp_path: Path) -> set[str]:
    """Every sample name the relay can expose."""
    return {name + suffix for name, kind in registry_families(tmp_path).items() for suffix in SUFFIXES[kind]}


def names_in(text: str) -> set[str]:
    return set(METRIC_NAME.findall(text))


# -- Grafana ---------------------------------------------------------------------------------


@pytest.fixture
def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_dashboard_is_an_importable_grafana_dashboard(dashboard: dict[str, Any]) -> None:
    assert dashboard["title"] and dashboard["uid"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["type"] == "query"
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["title"]
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"}
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= GRID_WIDTH, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        targets = panel["targets"]
        assert targets, panel["title"]
        ref_ids = [t["refId"] for t in targets]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in targets:
            assert target["expr"].strip(), panel["title"]
            assert '$instance"' in target["expr"], f"{panel['title']}: not filtered by $instance"


def test_dashboard_panels_do_not_overlap(dashboard: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_dashboard_uses_only_exposed_metrics(dashboard: dict[str, Any], exposed: set[str]) -> None:
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in names_in(target["expr"])
    }
    used |= names_in(json.dumps(dashboard["templating"]))
    assert used - exposed == set()
    # The six areas are all on it.
    for needed in (
        "relay_messages_accepted_total",
        "relay_tls_deliveries_total",
        "relay_policy_rule_hits_total",
        "relay_phi_findings_total",
        "relay_queue_messages",
        "relay_delivery_latency_seconds_bucket",
    ):
        assert needed in used


# -- Prometheus alerts -----------------------------------------------------------------------


@pytest.fixture
def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_alerts_are_complete_and_use_only_exposed_metrics(
    rules: list[dict[str, Any]], exposed: set[str]
) -> None:
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert names_in(rule["expr"]) - exposed == set(), rule["alert"]
    for needed in (
        "RelayQueueGrowing",
        "RelayBounceRateHigh",
        "RelayTlsRequirementsUnmet",
        "RelayPolicyReloadFailed",
        "RelaySpoolDiskLow",
    ):
        assert needed in names


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (Debian package prometheus; `make test` installs it)")
    return found


def test_promtool_check_rules() -> None:
    done = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


NODE = 'instance="r1", job="relay"'

# (alert, input series, evaluation time, labels of the firing alert or None for "stays quiet")
ALERT_CASES: list[tuple[str, list[tuple[str, str]], str, dict[str, str] | None]] = [
    (
        "RelayPolicyReloadFailed",
        [(f"relay_policy_last_reload_successful{{{NODE}}}", "1 1 0x10")],
        "5m",
        {"instance": "r1", "severity": "critical"},
    ),
    (
        "RelayPolicyReloadFailed",
        [(f"relay_policy_last_reload_successful{{{NODE}}}", "1x10")],
        "10m",
        None,
    ),
    (
        "RelaySpoolDiskLow",
        [
            (f"relay_spool_free_bytes{{{NODE}}}", "5x15"),
            (f"relay_spool_total_bytes{{{NODE}}}", "100x15"),
        ],
        "10m",
        {"instance": "r1", "job": "relay", "severity": "warning"},
    ),
    (
        "RelaySpoolDiskCritical",
        [
            (f"relay_spool_free_bytes{{{NODE}}}", "5x15"),
            (f"relay_spool_total_bytes{{{NODE}}}", "100x15"),
        ],
        "10m",
        None,
    ),
    (
        "RelaySpoolDiskCritical",
        [
            (f"relay_spool_free_bytes{{{NODE}}}", "2x15"),
            (f"relay_spool_total_bytes{{{NODE}}}", "100x15"),
        ],
        "10m",
        {"instance": "r1", "job": "relay", "severity": "critical"},
    ),
    (
        "RelayBounceRateHigh",
        [
            (f'relay_messages_delivered_total{{{NODE}, pool="default"}}', "0+300x60"),
            (f'relay_messages_bounced_total{{{NODE}, pool="default", reason="address"}}', "0+60x60"),
        ],
        "45m",
        {"instance": "r1", "severity": "warning"},
    ),
    (
        "RelayBounceRateHigh",
        [
            (f'relay_messages_delivered_total{{{NODE}, pool="default"}}', "0+3000x60"),
            (f'relay_messages_bounced_total{{{NODE}, pool="default", reason="address"}}', "0+60x60"),
        ],
        "45m",
        None,
    ),
    (
        "RelayTlsRequirementsUnmet",
        [(f'relay_tls_unmet_total{{{NODE}, level="dane", fallback="portal"}}', "0+1x60")],
        "45m",
        {"instance": "r1", "level": "dane", "fallback": "portal", "severity": "warning"},
    ),
    (
        "RelayQueueGrowing",
        [(f'relay_queue_messages{{{NODE}, state="deferred", pool="default"}}', "900+10x120")],
        "100m",
        {"instance": "r1", "severity": "warning"},
    ),
    (
        "RelayQueueGrowing",
        [(f'relay_queue_messages{{{NODE}, state="deferred", pool="default"}}', "5000x120")],
        "100m",
        None,
    ),
    (
        "RelayQueueStuck",
        [(f'relay_queue_oldest_message_age_seconds{{{NODE}, state="active"}}', "0+60x60")],
        "50m",
        {"instance": "r1", "severity": "warning"},
    ),
]


@pytest.mark.parametrize(
    ("alert", "series", "at", "fires"),
    ALERT_CASES,
    ids=[f"{case[0]}-{'fires' if case[3] else 'quiet'}-{n}" for n, case in enumerate(ALERT_CASES)],
)
def test_promtool_alert_fires_as_intended(
    tmp_path: Path,
    alert: str,
    series: list[tuple[str, str]],
    at: str,
    fires: dict[str, str] | None,
) -> None:
    tool = promtool()
    query = f'ALERTS{{alertname="{alert}", alertstate="firing"}}'
    expected = []
    if fires is not None:
        labels = ", ".join(f'{k}="{v}"' for k, v in sorted({**fires, "alertname": alert}.items()))
        expected = [{"labels": f'ALERTS{{alertstate="firing", {labels}}}', "value": 1}]
    spec = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": values} for name, values in series],
                "promql_expr_test": [{"expr": query, "eval_time": at, "exp_samples": expected}],
            }
        ],
    }
    test_file = tmp_path / "alerts_test.yml"
    test_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([tool, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the manual ------------------------------------------------------------------------------


DOCUMENTED_METRIC = re.compile(r"^\| `((?:relay|process)_[a-z0-9_]+)` \|", re.MULTILINE)
"""A metric's row in one of docs/metrics.md's tables."""


def test_every_metric_is_documented_and_every_documented_metric_exists(tmp_path: Path) -> None:
    documented = DOCUMENTED_METRIC.findall(DOCS.read_text())
    assert len(documented) == len(set(documented)), "a metric has two rows"
    families = registry_families(tmp_path)
    shown = {name + ("_total" if kind == "counter" else "") for name, kind in families.items()}
    assert shown - set(documented) == set(), "add these to docs/metrics.md"
    assert set(documented) - shown == set(), "docs/metrics.md names metrics the relay does not expose"


def test_docs_mention_only_exposed_sample_names(tmp_path: Path, exposed: set[str]) -> None:
    families = set(registry_families(tmp_path))
    mentioned = names_in(DOCS.read_text()) - {"relay_denied"}  # a reason label value, not a metric
    assert mentioned - exposed - families == set()

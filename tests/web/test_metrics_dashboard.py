"""deploy/grafana/postid-dashboard.json reads the metrics the application exposes: every metric
name in its queries is in a scrape, and every PostID metric of a scrape has a panel, so the
dashboard and the code cannot drift apart."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.metrics_scrape import TOKEN

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "postid-dashboard.json"
NAME = re.compile(r"\bpostid_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def exposed(text: str) -> set[str]:
    """Every sample name a scrape can carry, also for a metric that has no sample yet."""
    return {family.name + suffix for family in text_string_to_metric_families(text)
            if family.name.startswith("postid_") for suffix in SUFFIXES[family.type]}


def test_the_dashboard_and_the_scrape_name_the_same_metrics(settings, make_app):
    client = make_app(replace(settings, metrics_token=TOKEN)).test_client()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    names = exposed(text)
    used = {name for expr in queries() for name in NAME.findall(expr)}
    assert used and used <= names, sorted(used - names)
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in names}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in used}
    assert families == shown, sorted(families - shown)


def test_every_panel_is_placed_and_every_query_has_its_own_id():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(refs) == len(set(refs))
        assert panel["type"] == "row" or panel["datasource"]["uid"] == "${datasource}"

"""Read /metrics as Prometheus does: the samples of one scrape, by name and labels."""

from __future__ import annotations

from collections.abc import Mapping

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-" + "t" * 40

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client: FlaskClient, token: str = TOKEN) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 for one not reported yet (a counter before its first event)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def moved(before: Samples, after: Samples, name: str) -> Mapping[frozenset[tuple[str, str]], float]:
    """The samples of `name` that changed between two scrapes, by labels, with their change."""
    keys = {labels for n, labels in (*before, *after) if n == name}
    changes = {labels: after.get((name, labels), 0.0) - before.get((name, labels), 0.0)
               for labels in keys}
    return {labels: change for labels, change in changes.items() if change}

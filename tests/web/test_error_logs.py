"""Error log lines name the route pattern, never the path: paths carry tokens."""

from __future__ import annotations

import logging

from tests.outage import outage

TOKEN = "Tk" + "q" * 40


def test_outage_on_a_token_url_logs_the_route_not_the_token(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="idp.errors"), outage(app, "before_commit"):
        response = client.get(f"/recover/link/{TOKEN}")
    assert response.status_code == 503
    assert "backing service unavailable on GET /recover/link/<token>: OperationalError" \
        in caplog.text
    assert TOKEN not in caplog.text


def test_unexpected_error_on_a_token_url_logs_the_route_not_the_token(app, caplog):
    @app.get("/boom/<token>")
    def boom(token: str) -> str:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="idp.errors"):
        response = app.test_client().get(f"/boom/{TOKEN}")
    assert response.status_code == 500
    assert "unhandled error on GET /boom/<token>" in caplog.text
    assert TOKEN not in caplog.text

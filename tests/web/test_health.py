"""/healthz answers 503 when a backing service of sign-in is down, naming it (issue 11)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")
UNREACHABLE_REDIS = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1


def test_unreachable_redis_is_503_naming_redis_and_nothing_secret(settings, make_app):
    app = make_app(replace(settings, redis_url=UNREACHABLE_REDIS))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {"status": "unavailable", "error": "temporarily_unavailable",
                             "failed": ["redis"],
                             "checks": {"database": "ok", "redis": "unavailable"}}
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "127.0.0.1" not in body


def test_unreachable_database_is_503_naming_the_database(settings, make_app, tmp_path):
    app = make_app(replace(settings, database_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failed"] == ["database"]
    assert str(tmp_path) not in response.get_data(as_text=True)


@pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")
def test_reachable_redis_is_checked_and_ok(settings, make_app):
    app = make_app(replace(settings, redis_url=REDIS_URL))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}

"""/healthz answers 503 when a backing service of sign-in is down, naming it."""

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


@pytest.fixture
def hanging_redis():  # type: ignore[no-untyped-def]
    """A server that accepts connections and never answers: a hung Redis, not a dead one."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    server.listen(16)
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    server.close()


def test_the_storage_client_gets_the_timeouts(settings, make_app, hanging_redis):
    from idp.extensions import limiter

    app = make_app(replace(settings, redis_url=hanging_redis, redis_timeout_ms=700))
    with app.app_context():
        kwargs = limiter.storage.get_connection().connection_pool.connection_kwargs
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (0.7, 0.7)


def test_a_hanging_redis_is_503_within_the_timeout(settings, make_app, hanging_redis):
    import threading
    import time

    app = make_app(replace(settings, redis_url=hanging_redis, redis_timeout_ms=300))
    answers: list[int] = []
    started = time.monotonic()
    probe = threading.Thread(target=lambda: answers.append(
        app.test_client().get("/healthz").status_code), daemon=True)
    probe.start()
    probe.join(10)  # without a timeout the probe would wait for ever
    assert answers == [503]
    assert time.monotonic() - started < 5

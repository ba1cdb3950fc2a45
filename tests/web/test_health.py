"""/healthz (liveness: the process answers) and /readyz (readiness: the database, Redis and the
schema at this release's head), 503 naming what failed and nothing secret."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace

import pytest

from idp.web.health import schema_heads
from tests.outage import outage

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")
UNREACHABLE_REDIS = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1
UNAVAILABLE = {"status": "unavailable", "error": "temporarily_unavailable"}


def stamped(path, *revisions: str) -> str:
    """An SQLite database whose alembic_version holds `revisions` (no table if none given)."""
    with sqlite3.connect(path) as connection:
        if revisions:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            connection.executemany("INSERT INTO alembic_version VALUES (?)",
                                   [(revision,) for revision in revisions])
    return f"sqlite:///{path}"


def test_both_probes_answer_200_when_all_is_well(client):
    live = client.get("/healthz")
    assert (live.status_code, live.json) == (200, {"status": "ok"})
    assert live.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json) == (200, {"status": "ok", "checks": {
        "database": "ok", "schema": "ok"}})


def test_the_head_is_this_releases_last_migration():
    versions = os.listdir(os.path.join(os.path.dirname(__file__), "../../migrations/versions"))
    last = max(name.split("_", 1)[0] for name in versions if name[0].isdigit())
    assert schema_heads() == {last}


def test_unreachable_redis_is_not_ready_naming_redis_and_nothing_secret(settings, make_app):
    app = make_app(replace(settings, redis_url=UNREACHABLE_REDIS))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # alive all the same
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.json == {**UNAVAILABLE, "failed": ["redis"], "checks": {
        "database": "ok", "schema": "ok", "redis": "unavailable"}}
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "127.0.0.1" not in body


def test_unreachable_database_is_not_ready_naming_the_database(settings, make_app, tmp_path):
    app = make_app(replace(settings, database_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {**UNAVAILABLE, "failed": ["database"], "checks": {
        "database": "unavailable", "schema": "unavailable"}}
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_a_database_connection_lost_is_not_ready(app):
    client = app.test_client()
    with outage(app, "before_commit"):
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["database"]
    assert client.get("/readyz").status_code == 200  # and back once it answers again


@pytest.mark.parametrize(("revisions", "why"), [
    (("0010",), "an older release's schema: `idp db upgrade` not run yet"),
    (("9999",), "a newer release's schema: this node is the old one"),
    ((), "never migrated"),
    (("0011", "0010x"), "two heads, one of them not ours"),
])
def test_a_schema_not_at_this_releases_head_is_not_ready(settings, make_app, tmp_path,
                                                         revisions, why):
    database_url = stamped(tmp_path / "stamped.sqlite3", *revisions)
    client = make_app(replace(settings, database_url=database_url)).test_client()
    assert client.get("/healthz").status_code == 200, why
    response = client.get("/readyz")
    assert response.status_code == 503, why
    assert response.json == {**UNAVAILABLE, "failed": ["schema"], "checks": {
        "database": "ok", "schema": "mismatch"}}
    assert "0010" not in response.get_data(as_text=True)


def test_the_stamped_head_alone_is_ready(settings, make_app, tmp_path):
    [head] = schema_heads()
    database_url = stamped(tmp_path / "stamped.sqlite3", head)
    assert make_app(replace(settings, database_url=database_url)).test_client().get(
        "/readyz").status_code == 200


@pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")
def test_reachable_redis_is_checked_and_ok(settings, make_app):
    app = make_app(replace(settings, redis_url=REDIS_URL))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {
        "database": "ok", "schema": "ok", "redis": "ok"}}


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
        app.test_client().get("/readyz").status_code), daemon=True)
    probe.start()
    probe.join(10)  # without a timeout the probe would wait for ever
    assert answers == [503]
    assert time.monotonic() - started < 5


def test_liveness_does_not_touch_redis_or_the_database(settings, make_app, hanging_redis,
                                                       tmp_path):
    import time

    app = make_app(replace(settings, redis_url=hanging_redis, redis_timeout_ms=3000,
                           database_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3"))
    started = time.monotonic()
    assert app.test_client().get("/healthz").status_code == 200
    assert time.monotonic() - started < 1

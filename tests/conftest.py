"""Shared fixtures: an application per test on a migrated database (SQLite by default,
PostgreSQL when IDP_TEST_DATABASE_URL is set), emptied after each test."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from idp import create_app
from idp.extensions import db
from idp.settings import Settings, load_settings

TEST_DATABASE_URL = os.environ.get("IDP_TEST_DATABASE_URL")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_settings(database_url: str, instance: Path, **overrides: object) -> Settings:
    # environ={} keeps the developer's own IDP_* variables out of the tests.
    return load_settings("test", environ={}, database_url=database_url,
                         instance_path=str(instance), **overrides)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty by the real migrations, once per run."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(make_settings(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "instance")


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """A fresh application; no context is pushed (each request gets its own `g`)."""
    app = create_app(settings)
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":  # past the audit tables' append-only trigger
            db.session.execute(text("SET session_replication_role = replica"))
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[[Settings], Flask]]:
    """Another application on the same database (other settings); its pool is closed after."""
    made: list[Flask] = []

    def build(settings: Settings) -> Flask:
        made.append(create_app(settings))
        return made[-1]

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def at_once(nodes: list[Flask], call: Callable[[], object]) -> list[object]:
    """Run `call` in each node's application context, all released together by a barrier (as
    several nodes starting at the same moment); the results in the order they finished."""
    start, results = threading.Barrier(len(nodes)), []

    def run(node: Flask) -> None:
        with node.app_context():
            start.wait()
            results.append(call())

    threads = [threading.Thread(target=run, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form served at `path` (as a browser would read it)."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)

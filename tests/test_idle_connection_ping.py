"""Pooled PostgreSQL connections are pinged before use only after being idle (idp.extensions):
a dead idle connection is replaced without failing the request, and a busy node pays no
round trip for it. The last test pins the trade-off that comes with it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from idp import extensions
from idp.extensions import db
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not (TEST_DATABASE_URL or "").startswith("postgresql"),
                                reason="the pool is only used on PostgreSQL")


def _backend_pid(app) -> int:
    """The server process behind the pooled connection a request would get; checked in after."""
    with app.app_context():
        pid: int = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    return pid


def _terminate(pid: int) -> None:
    """From a connection of its own, outside the pool (which would hand out the very one)."""
    with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


@pytest.fixture
def pings(app, monkeypatch):
    with app.app_context():
        dialect = db.engine.dialect
    count = []
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: count.append(1) or real(conn))
    return count


def test_a_connection_killed_while_idle_is_replaced_before_the_request_uses_it(app, monkeypatch, pings):
    pid = _backend_pid(app)
    _terminate(pid)
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 0.0)
    response = app.test_client().get("/readyz")  # answers 200 only if the database does
    assert response.status_code == 200, response.get_data(as_text=True)
    assert pings and _backend_pid(app) != pid


def test_a_connection_back_from_a_request_moments_ago_is_not_pinged(app, pings):
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    _backend_pid(app)
    assert _backend_pid(app) and pings == []


def test_the_trade_off_a_connection_killed_moments_after_use_fails_one_query(app):
    """Without the ping, the first query on the dead connection fails (as a query in flight
    during the outage would); SQLAlchemy then invalidates the pool and the next one works."""
    pid = _backend_pid(app)
    _terminate(pid)
    with app.app_context():
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.remove()
    assert _backend_pid(app) != pid

"""Races that only a real database shows (PostgreSQL; IDP_TEST_DATABASE_URL):
N concurrent redemptions of one code, N concurrent refreshes of one refresh token."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import OAuthToken
from tests.conftest import TEST_DATABASE_URL
from tests.oidc.flow import citizen, exchange, obtain_code, refresh, registered_portal, sign_in

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                                reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)")
RACERS = 8


def race(app, call):  # type: ignore[no-untyped-def]
    """Run `call(test_client)` in RACERS threads released together; return the responses."""
    barrier = threading.Barrier(RACERS)
    results: list = []
    lock = threading.Lock()

    def run() -> None:
        client = app.test_client()
        barrier.wait()
        response = call(client)
        with lock:
            results.append((response.status_code, response.json))

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_exactly_one_of_n_concurrent_code_redemptions_wins(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid offline_access")
    results = race(app, lambda c: exchange(c, portal, code, request.verifier))
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1
    assert len(losers) == RACERS - 1 and all(b["error"] == "invalid_grant" for b in losers)
    with app.app_context():
        # The replays revoked what the winning redemption produced.
        rows = db.session.scalars(select(OAuthToken)).all()
        assert len(rows) == 1 and rows[0].revoke_reason == "code_replay"


def test_exactly_one_of_n_concurrent_refreshes_wins(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid offline_access")
    refresh_token = exchange(client, portal, code, request.verifier).json["refresh_token"]
    results = race(app, lambda c: refresh(c, portal, refresh_token))
    assert sum(1 for status, _ in results if status == 200) == 1
    assert all(body["error"] == "invalid_grant" for status, body in results if status != 200)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthToken)) == 2
        # A second presentation is a reuse: the whole family is revoked.
        assert db.session.scalar(
            select(func.count()).select_from(OAuthToken).where(OAuthToken.revoked_at.is_(None))) == 0

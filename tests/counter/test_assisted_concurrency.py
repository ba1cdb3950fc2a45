"""Races that only a real database shows (PostgreSQL; IDP_TEST_DATABASE_URL): a terminal
sending the same assisted registration N times at once, and N browsers finishing one
activation with the same flow cookie."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AccountStatus, AuditEvent, IdentityVerification, OutboxMessage
from tests.conftest import TEST_DATABASE_URL, csrf_token
from tests.counter.helpers import api_headers
from tests.counter.test_assisted import BODY
from tests.staff_factories import enrolled_clerk, post_office

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
RACERS = 6


def race(call):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(RACERS)
    results: list = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait()
        response = call(index)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_concurrent_retries_make_one_registration(app):
    with app.app_context():
        clerk = enrolled_clerk(post_office()).id
    headers = api_headers(app, clerk)
    results = race(lambda _i: app.test_client().post("/counter/api/registrations", json=BODY,
                                                     headers=headers))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * (RACERS - 1) + [201]
    assert len({r.get_json()["public_id"] for r in results}) == 1
    assert count(app, Account) == count(app, IdentityVerification) == count(app, OutboxMessage) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "counter.registration.assisted")) == 1


def test_one_flow_cookie_activates_once(app):
    with app.app_context():
        clerk = enrolled_clerk(post_office()).id
    assert app.test_client().post("/counter/api/registrations", json=BODY,
                                  headers=api_headers(app, clerk)).status_code == 201
    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body))
    code = re.findall(r"(?<!\d)\d{6}(?!\d)", body)[0]
    browser = app.test_client()
    step1 = browser.post("/activate", data={"csrf_token": csrf_token(browser, "/activate"),
                                            "national_id": BODY["national_id"], "code": code})
    assert step1.status_code == 303
    flow = browser.get_cookie("postid_activation", path="/activate").value
    clients = []
    for _ in range(RACERS):
        other = app.test_client()
        other.set_cookie("postid_activation", flow, path="/activate")
        clients.append((other, csrf_token(other, "/activate/password")))
    password = "mây trắng bay qua đồi 42"
    results = race(lambda i: clients[i][0].post("/activate/password", data={
        "csrf_token": clients[i][1], "password": password, "password_confirm": password,
        "accept_terms": "y"}))
    locations = sorted(r.headers["Location"] for r in results)
    assert locations.count("/activate/done") == 1
    assert locations.count("/activate?expired=1") == RACERS - 1
    with app.app_context():
        assert db.session.scalar(select(Account.status)) is AccountStatus.ACTIVE
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "account.activate")) == 1

"""Races on one mandate that only a real database shows (PostgreSQL; IDP_TEST_DATABASE_URL):
the citizen's code typed twice at once confirms it once, and a supervisor ending it twice at
once ends it once; both answers are the mandate."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.models import PostOffice
from tests.conftest import TEST_DATABASE_URL
from tests.counter.cast import events, make_counter, staff
from tests.counter.helpers import api_headers
from tests.counter.test_checks_concurrency import race
from tests.factories import last_sent
from tests.mandate_factories import active_mandate, pending_mandate

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
API = "/counter/api/mandates"


def test_the_same_code_twice_at_once_confirms_once(app):
    with app.app_context():
        cast = make_counter()
        office = db.session.get(PostOffice, cast.office)
        public_id = pending_mandate(office, staff(cast.clerk)).public_id
    headers = api_headers(app, cast.clerk)
    assert app.test_client().post(f"{API}/{public_id}/send-code", headers=headers).status_code == 200
    code = last_sent(app, "mandate.confirm_code", r"\b(\d{6})\b")
    results = race(app, [lambda c: c.post(f"{API}/{public_id}/confirm", headers=headers,
                                          json={"code": code})] * 2)
    assert [status for status, _ in results] == [200, 200]
    assert {body["status"] for _, body in results} == {"active"}
    with app.app_context():
        assert len(events("mandate.confirm")) == 1
        assert events("mandate.confirm.failure") == []


def test_ending_twice_at_once_ends_once(app):
    with app.app_context():
        cast = make_counter()
        office = db.session.get(PostOffice, cast.office)
        public_id = active_mandate(office, staff(cast.clerk)).public_id
    headers = api_headers(app, cast.supervisor)
    results = race(app, [lambda c: c.post(f"{API}/{public_id}/end", headers=headers)] * 2)
    assert [status for status, _ in results] == [200, 200]
    assert {body["status"] for _, body in results} == {"revoked"}
    with app.app_context():
        assert len(events("mandate.revoke")) == 1

"""Races that only a real database shows (PostgreSQL; IDP_TEST_DATABASE_URL): a terminal sending
the same child's registration N times at once, and N parents racing to be linked to one child
(at most two guardians)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, Guardianship
from tests.conftest import TEST_DATABASE_URL
from tests.counter.helpers import api_headers
from tests.counter.test_assisted_concurrency import RACERS, race
from tests.counter.test_guardians_api import BODY, parent_body
from tests.guardian_factories import verified_parent
from tests.staff_factories import enrolled_clerk, post_office

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_concurrent_retries_make_one_child(app):
    with app.app_context():
        clerk = enrolled_clerk(post_office()).id
        verified_parent()
    headers = api_headers(app, clerk)
    results = race(lambda _i: app.test_client().post("/counter/api/children", json=BODY,
                                                     headers=headers))
    assert sorted(r.status_code for r in results) == [200] * (RACERS - 1) + [201]
    assert len({r.get_json()["public_id"] for r in results}) == 1
    assert (count(app, Account), count(app, Guardianship)) == (2, 1)


def test_racing_parents_make_at_most_two_guardians(app):
    with app.app_context():
        clerk = enrolled_clerk(post_office()).id
        parents = [verified_parent(national_id=f"00108801234{i}", phone=f"091100022{i}",
                                   email=None, birthdate=date(1988, 1, 1)).national_id
                   for i in range(RACERS)]
    headers = api_headers(app, clerk)
    results = race(lambda i: app.test_client().post(
        "/counter/api/children", json=parent_body(parents[i]), headers=headers))
    assert sorted(r.status_code for r in results) == [201, 201] + [409] * (RACERS - 2)
    assert (count(app, Account), count(app, Guardianship)) == (RACERS + 1, 2)

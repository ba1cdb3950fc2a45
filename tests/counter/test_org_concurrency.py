"""Races on one organisation check that only a real database shows (PostgreSQL;
IDP_TEST_DATABASE_URL): of concurrent decisions exactly one wins, the other is a 409
`conflict`, and the organisation's status is the winner's."""

from __future__ import annotations

import pytest

from idp.extensions import db
from idp.models import Account, OrganisationStatus, VerificationStatus
from tests.conftest import TEST_DATABASE_URL
from tests.counter.cast import events, make_counter, second_supervisor, staff
from tests.counter.helpers import api_headers
from tests.counter.org_cast import org_snapshot
from tests.counter.test_checks_concurrency import race
from tests.factories import active_citizen
from tests.organisation_factories import registered_organisation, submitted_organisation_check

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
TAX_CODES = ("0100233488", "0314409058", "0100109106")
API = "/counter/api/organisation-checks"


@pytest.fixture
def setup(app):  # type: ignore[no-untyped-def]
    """The cast, a second supervisor, and one submitted check per tax code."""
    with app.app_context():
        cast = make_counter()
        other = second_supervisor(cast)
        accounts = [db.session.get(Account, cast.citizen)] + [
            active_citizen(national_id=f"00109901230{i}", phone=f"09123400{i}{i}", email=None)
            for i in range(1, len(TAX_CODES))]
        checks = [(v.public_id, v.id) for v in (
            submitted_organisation_check(registered_organisation(a, tax_code=t), staff(cast.clerk))
            for a, t in zip(accounts, TAX_CODES, strict=True))]
    return cast, other, checks


def test_approve_and_reject_race_exactly_one_wins(app, setup):
    cast, other, checks = setup
    for public_id, vid in checks:
        approve_headers, reject_headers = api_headers(app, cast.supervisor), api_headers(app, other)
        results = race(app, [
            lambda c, p=public_id, h=approve_headers: c.post(f"{API}/{p}/approve", headers=h),
            lambda c, p=public_id, h=reject_headers: c.post(f"{API}/{p}/reject", json={"reason": "other"}, headers=h),
        ])
        winners = [i for i, (status, _) in enumerate(results) if status == 200]
        assert len(winners) == 1, results
        [(status, loser)] = [r for r in results if r[0] != 200]
        assert (status, loser["error"]) == (409, "conflict"), results
        with app.app_context():
            row = org_snapshot(vid)
        assert loser["current_status"] == row["status"].value
        if winners == [0]:
            assert (row["status"], row["organisation.status"]) == (VerificationStatus.APPROVED, OrganisationStatus.VERIFIED)
        else:
            assert (row["status"], row["organisation.status"]) == (VerificationStatus.REJECTED, OrganisationStatus.UNVERIFIED)
    with app.app_context():
        decided = events("counter.organisation.approve") + events("counter.organisation.reject")
        assert sorted(e.data["verification"] for e in decided) == sorted(p for p, _ in checks)
        assert len(events("counter.organisation.refused")) == len(checks)


def test_two_supervisors_approving_at_once_make_one_approval(app, setup):
    cast, other, checks = setup
    for public_id, vid in checks:
        headers = [api_headers(app, cast.supervisor), api_headers(app, other)]
        results = race(app, [lambda c, p=public_id, h=h: c.post(f"{API}/{p}/approve", headers=h)
                             for h in headers])
        assert sorted(status for status, _ in results) == [200, 409], results
        with app.app_context():
            row = org_snapshot(vid)
        assert row["organisation.status"] is OrganisationStatus.VERIFIED
        assert row["organisation.version"] == 2  # one conditional update of the organisation
    with app.app_context():
        assert len(events("counter.organisation.approve")) == len(checks)

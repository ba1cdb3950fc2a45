"""Races on one verification that only a real database shows (PostgreSQL;
IDP_TEST_DATABASE_URL): of concurrent decisions exactly one wins, the other is a 409
`conflict`, and only the winner's decision is in the audit log."""

from __future__ import annotations

import threading

import pytest

from idp.extensions import db
from idp.models import Account, VerificationStatus
from tests.conftest import TEST_DATABASE_URL
from tests.counter.cast import events, make_counter, second_supervisor, snapshot, staff
from tests.counter.helpers import api_headers
from tests.factories import active_citizen
from tests.verification_factories import submitted_verification

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
ROUNDS = 3
API = "/counter/api/verifications"


def race(app, calls):  # type: ignore[no-untyped-def]
    """Run each `call(test_client)` in its own thread, released together; return
    [(status, json)] in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = calls[index](client)
        results[index] = (response.status_code, response.json)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def setup(app):  # type: ignore[no-untyped-def]
    """The cast, a second supervisor at the office, and ROUNDS submitted checks."""
    with app.app_context():
        cast = make_counter()
        other = second_supervisor(cast)
        accounts = [db.session.get(Account, cast.citizen)] + [
            active_citizen(national_id=f"00109901230{i}", phone=f"09123400{i}{i}", email=None)
            for i in range(1, ROUNDS)]
        checks = [(v.public_id, v.id) for v in
                  (submitted_verification(a, staff(cast.clerk)) for a in accounts)]
    return cast, other, checks


def outcome(app, results, verification_id):  # type: ignore[no-untyped-def]
    winners = [i for i, (status, _) in enumerate(results) if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1, results
    assert all(status in (200, 409) for status, _ in results), results
    assert all(b["error"] == "conflict" for b in losers), losers
    with app.app_context():
        current = snapshot(verification_id)["status"]
    assert all(b["current_status"] == current.value for b in losers)
    return winners[0], current


def test_approve_and_reject_race_exactly_one_wins(app, setup):
    cast, other, checks = setup
    for public_id, vid in checks:
        approve_headers, reject_headers = api_headers(app, cast.supervisor), api_headers(app, other)
        results = race(app, [
            lambda c, p=public_id, h=approve_headers: c.post(f"{API}/{p}/approve", headers=h),
            lambda c, p=public_id, h=reject_headers: c.post(f"{API}/{p}/reject", json={"reason": "other"}, headers=h),
        ])
        winner, current = outcome(app, results, vid)
        assert current is (VerificationStatus.APPROVED if winner == 0 else VerificationStatus.REJECTED)
    with app.app_context():
        decided = events("counter.verification.approve") + events("counter.verification.reject")
        assert sorted(e.data["verification"] for e in decided) == sorted(p for p, _ in checks)
        assert len(events("counter.verification.refused")) == ROUNDS
        loa = {a.id: a.identity_loa for a in db.session.scalars(db.select(Account))}
        approved = {e.account_id for e in events("counter.verification.approve")}
        assert all(loa[account_id] == 2 for account_id in approved)
        assert all(level == 1 for account_id, level in loa.items() if account_id not in approved)


def test_two_supervisors_approving_at_once_make_one_approval(app, setup):
    cast, other, checks = setup
    for public_id, vid in checks:
        headers = [api_headers(app, cast.supervisor), api_headers(app, other)]
        results = race(app, [lambda c, p=public_id, h=h: c.post(f"{API}/{p}/approve", headers=h)
                             for h in headers])
        _, current = outcome(app, results, vid)
        assert current is VerificationStatus.APPROVED
    with app.app_context():
        assert len(events("counter.verification.approve")) == ROUNDS
        assert len(events("counter.verification.refused")) == ROUNDS


def test_a_double_click_is_one_approval_and_two_successes(app, setup):
    cast, _, checks = setup
    public_id, vid = checks[0]
    headers = api_headers(app, cast.supervisor)
    results = race(app, [lambda c: c.post(f"{API}/{public_id}/approve", headers=headers)] * 4)
    assert [status for status, _ in results] == [200] * 4
    with app.app_context():
        assert len(events("counter.verification.approve")) == 1
        assert events("counter.verification.refused") == []
        assert snapshot(vid)["status"] is VerificationStatus.APPROVED

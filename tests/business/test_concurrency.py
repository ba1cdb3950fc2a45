"""Races that only a real database shows (PostgreSQL; IDP_TEST_DATABASE_URL): of concurrent
requests on one tax code, one person or one invitation exactly one wins, and the loser gets
the same refusal as a sequential request."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.models import MembershipStatus, OrganisationVerification
from tests.business.helpers import (
    SECOND,
    THIRD,
    browser,
    count,
    membership_of,
    memberships,
    organisation_with,
    organisations,
    refusals,
)
from tests.conftest import TEST_DATABASE_URL, csrf_token

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
Call = tuple[FlaskClient, str, dict[str, str]]


def race(calls: list[Call]) -> list[int]:
    """POST each (client, path, data) in its own thread, released together; the statuses."""
    prepared = [(client, path, {"csrf_token": csrf_token(client, "/business/"), **data})
                for client, path, data in calls]
    barrier = threading.Barrier(len(prepared))
    statuses: list[int] = [0] * len(prepared)

    def run(index: int) -> None:
        client, path, data = prepared[index]
        barrier.wait()
        statuses[index] = client.post(path, data=data).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prepared))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


FORM = {"tax_code": "0100233488", "name": "Công ty TNHH Sen Vàng", "province_code": "01",
        "ward": "Phường Hoàn Kiếm", "street": "35 Ngô Quyền", "title": "director"}


def test_two_people_register_one_tax_code(app: Flask) -> None:
    clients = [browser(app), browser(app, SECOND)]
    statuses = race([(c, "/business/register", FORM) for c in clients])
    assert sorted(statuses) == [303, 409]
    assert len(organisations(app)) == 1 and len(memberships(app)) == 1
    assert refusals(app) == [("organisation.duplicate", "register")]


def test_two_managers_invite_one_person(app: Flask) -> None:
    public_id = organisation_with(app, second="admin")
    invite = {"national_id": THIRD["national_id"], "role": "member", "valid_from": "", "valid_until": ""}
    statuses = race([(c, f"/business/{public_id}/members/invite", invite)
                     for c in (browser(app), browser(app, SECOND))])
    assert sorted(statuses) == [303, 409]
    assert [m.status for m in memberships(app) if m.national_id == THIRD["national_id"]] == [
        MembershipStatus.INVITED]
    assert refusals(app) == [("organisation.already_member", "invite")]


@pytest.mark.parametrize("round_", range(3))
def test_accept_and_cancel_at_once(app: Flask, round_: int) -> None:
    public_id = organisation_with(app, third="invited")
    invitation = membership_of(app, THIRD).public_id
    calls: list[Call] = [
        (browser(app, THIRD), f"/business/invitations/{invitation}/accept", {}),
        (browser(app), f"/business/{public_id}/members/{invitation}/cancel", {}),
    ]
    accepted, cancelled = race(calls)
    final = membership_of(app, THIRD).status
    if final is MembershipStatus.ACTIVE:
        assert (accepted, cancelled) == (303, 409)
    else:
        assert final is MembershipStatus.CANCELLED and (accepted, cancelled) == (409, 303)
    assert len(refusals(app)) == 1


def test_two_code_requests_share_one_code(app: Flask) -> None:
    public_id = organisation_with(app, verified=False)
    statuses = race([(browser(app), f"/business/{public_id}/verification/request", {})
                     for _ in range(3)])
    assert statuses == [303, 303, 303]
    assert count(app, OrganisationVerification) == 1

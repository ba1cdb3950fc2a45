"""Invitations to me and my organisations (/business/): accept, decline, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from idp.extensions import db
from idp.models import MembershipStatus, OrganisationMember
from idp.models.base import utcnow
from tests.business.helpers import (
    HOME,
    SECOND,
    THIRD,
    browser,
    events,
    membership_of,
    organisation_with,
    person,
    post,
    refusals,
    snapshot,
)


def answer(client, member_public_id: str, how: str):  # type: ignore[no-untyped-def]
    return post(client, f"/business/invitations/{member_public_id}/{how}")


def _expire_invitations(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(OrganisationMember)
                           .where(OrganisationMember.status == MembershipStatus.INVITED)
                           .values(invitation_expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def test_landing_lists_invitations_and_accept_binds_the_account(app: Flask) -> None:
    public_id = organisation_with(app, third="invited")
    client = browser(app, THIRD)
    page = client.get(HOME).get_data(as_text=True)
    invitation = membership_of(app, THIRD)
    assert "Invitations to you" in page and "Công ty TNHH Sen Vàng" in page and "0100233488" in page
    assert f"/business/invitations/{invitation.public_id}/accept" in page
    response = answer(client, invitation.public_id, "accept")
    assert response.status_code == 303 and response.headers["Location"].startswith(f"/business/{public_id}")
    row = membership_of(app, THIRD)
    assert (row.status, row.account_id) == (MembershipStatus.ACTIVE, person(app, THIRD))
    assert row.accepted_at is not None
    assert answer(client, invitation.public_id, "accept").status_code == 303  # a retry: no-op
    assert events(app, "organisation.member.accept") == [
        {"organisation": public_id, "membership": invitation.public_id, "status": "active", "role": "member"}]
    landing = client.get(HOME).get_data(as_text=True)
    assert "Invitations to you" not in landing and "Your organisations" in landing
    assert "Yes" in landing  # verified, active, no dates: can act now


def test_decline(app: Flask) -> None:
    organisation_with(app, third="invited")
    client = browser(app, THIRD)
    invitation = membership_of(app, THIRD)
    response = answer(client, invitation.public_id, "decline")
    assert response.status_code == 303 and response.headers["Location"] == "/business/?done=declined"
    row = membership_of(app, THIRD)
    assert (row.status, row.live_national_id, row.account_id) == (MembershipStatus.DECLINED, None, None)
    assert answer(client, invitation.public_id, "decline").status_code == 303
    assert len(events(app, "organisation.member.decline")) == 1
    assert answer(client, invitation.public_id, "accept").status_code == 409
    assert refusals(app) == [("organisation.invitation_closed", "accept")]


@pytest.mark.parametrize("how", ["accept", "decline"])
def test_someone_else_cannot_answer(app: Flask, how: str) -> None:
    organisation_with(app, third="invited")
    invitation = membership_of(app, THIRD)
    before = snapshot(app)
    response = answer(browser(app, SECOND), invitation.public_id, how)
    assert response.status_code == 403
    assert "for another person" in response.get_data(as_text=True)
    assert snapshot(app) == before and refusals(app) == [("organisation.not_invitee", how)]
    assert f"/business/invitations/{invitation.public_id}" not in browser(app, SECOND).get(HOME).get_data(as_text=True)


def test_an_expired_invitation_cannot_be_accepted(app: Flask) -> None:
    organisation_with(app, third="invited")
    invitation = membership_of(app, THIRD)
    _expire_invitations(app)
    client = browser(app, THIRD)
    response = answer(client, invitation.public_id, "accept")
    assert response.status_code == 409 and "has expired" in response.get_data(as_text=True)
    row = membership_of(app, THIRD)
    assert (row.status, row.live_national_id, row.account_id) == (MembershipStatus.EXPIRED, None, None)
    assert len(events(app, "organisation.member.expire")) == 1
    assert refusals(app) == [("organisation.invitation_expired", "accept")]


def test_the_landing_page_expires_stale_invitations(app: Flask) -> None:
    organisation_with(app, third="invited")
    _expire_invitations(app)
    page = browser(app, THIRD).get(HOME).get_data(as_text=True)
    assert "Invitations to you" not in page
    assert membership_of(app, THIRD).status is MembershipStatus.EXPIRED
    assert len(events(app, "organisation.member.expire")) == 1


def test_a_cancelled_invitation_cannot_be_accepted(app: Flask) -> None:
    public_id = organisation_with(app, third="invited")
    invitation = membership_of(app, THIRD)
    assert post(browser(app), f"/business/{public_id}/members/{invitation.public_id}/cancel",
                f"/business/{public_id}").status_code == 303
    before = snapshot(app)
    assert answer(browser(app, THIRD), invitation.public_id, "accept").status_code == 409
    assert snapshot(app) == before
    assert refusals(app) == [("organisation.invitation_closed", "accept")]


def test_unknown_invitation_and_csrf(app: Flask) -> None:
    organisation_with(app, third="invited")
    client = browser(app, THIRD)
    assert answer(client, "z" * 22, "accept").status_code == 404
    assert answer(client, "z" * 300, "accept").status_code == 404
    invitation = membership_of(app, THIRD)
    assert client.post(f"/business/invitations/{invitation.public_id}/accept").status_code == 400
    assert membership_of(app, THIRD).status is MembershipStatus.INVITED
    assert refusals(app) == [("organisation.invitation_not_found", "accept")] * 2


@pytest.mark.parametrize(("verified", "state", "why"), [
    (False, "member", "The organisation has not been verified at a post office yet."),
    (True, "suspended", "Your membership is suspended."),
    (True, "lapsed", "Your membership is no longer valid."),
])
def test_landing_says_why_i_cannot_act(app: Flask, verified: bool, state: str, why: str) -> None:
    organisation_with(app, verified=verified, second=state)
    page = browser(app, SECOND).get(HOME).get_data(as_text=True)
    assert f"No. {why}" in page and "Register an organisation" in page


def test_an_account_not_verified_at_a_counter_cannot_accept(app: Flask) -> None:
    """Anybody can register online with someone else's ID number (LoA1): the invitation meant
    for that person must not be theirs to take (reviewer's H1)."""
    person(app, THIRD, verified=False)
    organisation_with(app, third="invited")
    invitation = membership_of(app, THIRD)
    client = browser(app, THIRD)
    landing = client.get(HOME).get_data(as_text=True)
    assert "Before you can accept, your identity must be verified at a post office" in landing
    assert 'href="/account/verification"' in landing
    assert f"/business/invitations/{invitation.public_id}/accept" not in landing
    assert f"/business/invitations/{invitation.public_id}/decline" in landing
    before = snapshot(app)
    response = answer(client, invitation.public_id, "accept")
    assert response.status_code == 403
    assert 'id="verify-identity" href="/account/verification"' in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert membership_of(app, THIRD).status is MembershipStatus.INVITED
    assert refusals(app) == [("organisation.identity_not_verified", "accept")]
    assert events(app, "organisation.refused")[-1]["membership"] == invitation.public_id
    assert answer(client, invitation.public_id, "decline").status_code == 303  # declining is fine


def test_a_member_not_verified_at_a_counter_is_told_why_they_cannot_act(app: Flask) -> None:
    person(app, SECOND, verified=False)
    public_id = organisation_with(app, second="member")
    client = browser(app, SECOND)
    expected = "No. Your identity is not verified at a post office yet."
    assert expected in client.get(HOME).get_data(as_text=True)
    page = client.get(f"/business/{public_id}").get_data(as_text=True)
    assert expected in page and 'href="/account/verification"' in page

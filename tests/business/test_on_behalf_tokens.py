"""Tokens issued on behalf of an organisation die for good when the membership stops (suspended,
removed, dates no longer covering today) or the organisation's verification is revoked: they
do not come back to life on reinstatement or a later new verification (reviewer's M1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import (
    Account,
    AuthorizationCode,
    OAuthToken,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.counter import organisation_decisions
from idp.services.platform.clock import today_in_vietnam
from idp.services.standing.organisation_access import is_current
from tests.business.helpers import REPRESENTATIVE, SECOND, browser, person, post
from tests.oidc.flow import Portal, exchange, refresh, registered_portal, sign_in
from tests.oidc.test_organisation_signin import COLLEAGUE_ID, SCOPE, sign_in_for, tokens_for
from tests.organisation_factories import active_member, submitted_organisation_check, verified_organisation
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office


@pytest.fixture
def portal(app: Flask) -> Portal:
    return registered_portal(app, scope=SCOPE)


@pytest.fixture
def colleague(app: Flask) -> dict[str, Any]:
    """A verified company represented by the default citizen; the second person is an active
    member of it. Both identities verified at a counter."""
    representative, mate = person(app, REPRESENTATIVE), person(app, SECOND)
    assert COLLEAGUE_ID == SECOND["national_id"]
    with app.app_context():
        organisation = verified_organisation(db.session.get(Account, representative))
        membership = active_member(organisation, db.session.get(Account, mate))
        return {"organisation": organisation.public_id, "organisation_id": organisation.id,
                "membership": membership.public_id, "membership_id": membership.id}


def _userinfo(client: FlaskClient, body: dict[str, Any]) -> int:
    return client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
                      ).status_code


def _alive(client: FlaskClient, portal: Portal, body: dict[str, Any]) -> tuple[int, int]:
    """(userinfo status with the access token, refresh grant status)."""
    return _userinfo(client, body), refresh(client, portal, body["refresh_token"]).status_code


def _manage(app: Flask, colleague: dict[str, Any], action: str, **data: str) -> None:
    base = f"/business/{colleague['organisation']}"
    path = f"{base}/members/{colleague['membership']}" + (f"/{action}" if action else "")
    assert post(browser(app), path, base, **data).status_code == 303


def _revoke_reasons(app: Flask, membership_id: int) -> set[str | None]:
    with app.app_context():
        return set(db.session.scalars(select(OAuthToken.revoke_reason).where(
            OAuthToken.organisation_member_id == membership_id)))


@pytest.mark.parametrize(("stop", "reason"), [
    ("suspend", "organisation_member_suspended"),
    ("dates", "organisation_member_dates"),
])
def test_tokens_stay_dead_after_the_membership_is_restored(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any],
        stop: str, reason: str) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    assert _userinfo(client, body) == 200
    if stop == "suspend":
        _manage(app, colleague, "suspend")
        _manage(app, colleague, "reinstate")
    else:
        later = (today_in_vietnam() + timedelta(days=30)).strftime("%d/%m/%Y")
        _manage(app, colleague, "", role="member", valid_from=later, valid_until="")
        _manage(app, colleague, "", role="member", valid_from="", valid_until="")
    with app.app_context():  # the membership is current again, its old tokens are not
        assert is_current(db.session.get(OrganisationMember, colleague["membership_id"]))
    assert _revoke_reasons(app, colleague["membership_id"]) == {reason}
    assert _alive(client, portal, body) == (401, 400)
    again = app.test_client()  # a new sign-in works again
    sign_in(again, COLLEAGUE_ID)
    assert _alive(again, portal, tokens_for(again, portal, colleague["membership"])) == (200, 200)


def test_removal_revokes_tokens_and_unredeemed_codes(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    other = app.test_client()  # another browser got a code, not yet exchanged
    sign_in(other, COLLEAGUE_ID)
    params, request = sign_in_for(other, portal, colleague["membership"])
    _manage(app, colleague, "remove")
    assert _revoke_reasons(app, colleague["membership_id"]) == {"organisation_member_removed"}
    assert _alive(client, portal, body) == (401, 400)
    assert exchange(client, portal, params["code"], request.verifier).status_code == 400
    with app.app_context():
        code = db.session.scalar(select(AuthorizationCode).where(
            AuthorizationCode.organisation_member_id == colleague["membership_id"],
            AuthorizationCode.redeemed_at.is_(None)))
        assert code is not None and code.expires_at <= utcnow()


def test_a_role_change_keeps_the_tokens(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    _manage(app, colleague, "", role="admin", valid_from="", valid_until="")
    assert _revoke_reasons(app, colleague["membership_id"]) == {None}
    assert _alive(client, portal, body) == (200, 200)


def test_a_counter_revocation_kills_tokens_for_good(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    with app.app_context():
        office = post_office()
        clerk, supervisor = enrolled_clerk(office), enrolled_supervisor(office)
        organisation = db.session.get(Organisation, colleague["organisation_id"])
        check = submitted_organisation_check(
            organisation, clerk, status=VerificationStatus.APPROVED, live_organisation_id=None,
            decided_by=supervisor.id, decided_at=utcnow())
        check_id, supervisor_id = check.public_id, supervisor.id
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    with app.app_context():
        organisation_decisions.revoke(db.session.get(StaffMember, supervisor_id), check_id,
                                              "suspected_fraud")
        # A later new check verifies the organisation again.
        db.session.execute(update(Organisation).where(Organisation.id == colleague["organisation_id"])
                           .values(status=OrganisationStatus.VERIFIED, verified_at=utcnow()))
        db.session.commit()
    assert _revoke_reasons(app, colleague["membership_id"]) == {"organisation_revoked"}
    assert _alive(client, portal, body) == (401, 400)

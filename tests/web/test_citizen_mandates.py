"""The citizen's mandates page (/account/mandates): approval on their own phone, declining and
revoking (which ends the sessions and tokens opened under the mandate), and what nobody else
may do there (docs/architecture.md §14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.errors import Refusal
from idp.extensions import db
from idp.models import AuditEvent, AuditTag, Mandate, MandateConfirmation, MandateEnder, UserSession
from idp.models.base import utcnow
from idp.services.identity import mandates
from tests.conftest import csrf_token
from tests.factories import second_citizen
from tests.oidc.flow import sign_in
from tests.web.citizen_mandate_setup import (
    OFFICE_NAME,
    PORTAL_NAME,
    access_token,
    delegated_session,
    mandate_row,
    record_use,
    scene,
    use_cookie,
)


def _mandate(app: Flask, public_id: str) -> Mandate:
    with app.app_context():
        row = db.session.scalars(select(Mandate).filter_by(public_id=public_id)).one()
        db.session.expunge(row)
        return row


def _events(app: Flask, tag: AuditTag) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).filter_by(tag=tag.value)
                                  .order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _post(client: FlaskClient, path: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/account/mandates")})


def test_the_page_needs_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/account/mandates")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_pending_mandate_is_shown_first_with_what_it_covers(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False, months=0)
    sign_in(client)
    client.set_cookie("postid_lang", "en")
    page = client.get("/account/mandates")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"{OFFICE_NAME} asks to act for you" in html
    assert "Social insurance" in html and "Land and housing" in html and PORTAL_NAME in html
    assert "This visit only" in html
    assert f"/account/mandates/{s.mandate_public_id}/approve" in html
    # The profile page, where a signed-in citizen lands, points to it.
    assert "A post office asks to act for you." in client.get("/account").get_data(as_text=True)


def test_approve_on_own_device(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False)
    sign_in(client)
    response = _post(client, f"/account/mandates/{s.mandate_public_id}/approve")
    assert response.status_code == 303 and response.headers["Location"].endswith("done=approved")
    mandate = _mandate(app, s.mandate_public_id)
    assert mandate.confirmed_at is not None and mandate.confirmed_by is MandateConfirmation.OWN_DEVICE
    again = _post(client, f"/account/mandates/{s.mandate_public_id}/approve")
    assert again.status_code == 303  # a retry answers the same and changes nothing
    assert _mandate(app, s.mandate_public_id).confirmed_at == mandate.confirmed_at
    [event] = _events(app, AuditTag.MANDATE_CONFIRM)
    assert event.account_id == s.account_id and event.session_id is not None
    assert event.office_id is not None
    assert event.data == {"mandate": s.mandate_public_id, "how": "own_device"}
    client.set_cookie("postid_lang", "en")
    done = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Mandate approved" in done and "Valid now" in done
    assert f"Approved a mandate to {OFFICE_NAME}" in client.get("/account/activity").get_data(as_text=True)


def test_approve_refused_from_a_delegated_session(app: Flask, client: FlaskClient) -> None:
    s = scene(app)  # the active mandate the agent signed in under
    with app.app_context():
        from idp.models import Account
        account = db.session.get(Account, s.account_id)
        assert account is not None
        pending = mandate_row(account, _mandate(app, s.mandate_public_id).office_id, s.staff_id,
                              confirmed=False).public_id
    session_id, token = delegated_session(app, s)
    use_cookie(app, client, token)
    # A valid form token (from the sign-in page, which the agent can open): the wall, not CSRF.
    response = client.post(f"/account/mandates/{pending}/approve",
                           data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403
    assert _mandate(app, pending).confirmed_at is None
    [event] = _events(app, AuditTag.DELEGATED_ACCOUNT_CHANGE_REFUSED)
    assert event.session_id == session_id
    assert event.data == {"route": "/account/mandates/<public_id>/approve"}
    assert event.staff_id == s.staff_id and event.office_id is not None
    # The citizen reads it in their activity history.
    citizen = app.test_client()
    sign_in(citizen)
    citizen.set_cookie("postid_lang", "en")
    assert ("tried to open your account pages and was refused"
            in citizen.get("/account/activity").get_data(as_text=True))
    # The service refuses it as well, whatever page calls it.
    with app.app_context():
        delegated = db.session.get(UserSession, session_id)
        assert delegated is not None
        with pytest.raises(Refusal) as refused:
            mandates.approve(delegated, pending)
        assert refused.value.code == "mandate.delegated" and refused.value.status == 403
    assert _mandate(app, pending).confirmed_at is None


def test_approve_on_another_day_is_refused(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False, months=3, made_at=utcnow() - timedelta(days=1, hours=1))
    sign_in(client)
    client.set_cookie("postid_lang", "en")
    page = client.get("/account/mandates").get_data(as_text=True)
    assert "can no longer be approved" in page and "/approve" not in page
    assert "asks to act for you." not in client.get("/account").get_data(as_text=True)
    response = _post(client, f"/account/mandates/{s.mandate_public_id}/approve")
    assert response.status_code == 409
    assert "only be approved on the day it was made" in response.get_data(as_text=True)
    assert _mandate(app, s.mandate_public_id).confirmed_at is None
    [event] = _events(app, AuditTag.MANDATE_CONFIRM_FAILURE)
    assert event.data["reason"] == "another_day" and event.account_id == s.account_id
    assert _events(app, AuditTag.MANDATE_CONFIRM) == []


def test_decline_a_pending_mandate(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False)
    sign_in(client)
    client.set_cookie("postid_lang", "en")
    confirm = client.get(f"/account/mandates/{s.mandate_public_id}/revoke")
    assert confirm.status_code == 200 and "Decline this mandate?" in confirm.get_data(as_text=True)
    response = _post(client, f"/account/mandates/{s.mandate_public_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("done=declined")
    mandate = _mandate(app, s.mandate_public_id)
    assert mandate.revoked_at is not None and mandate.revoked_by is MandateEnder.CITIZEN
    assert mandate.confirmed_at is None
    again = _post(client, f"/account/mandates/{s.mandate_public_id}/revoke")
    assert again.headers["Location"].endswith("done=already_ended")
    [event] = _events(app, AuditTag.MANDATE_REVOKE)
    assert event.data == {"mandate": s.mandate_public_id, "by": "citizen", "status_before": "pending"}
    assert event.account_id == s.account_id and event.office_id == mandate.office_id
    assert event.session_id is not None and event.staff_id is None  # the citizen's own session
    # Approving a declined mandate is refused.
    refused = _post(client, f"/account/mandates/{s.mandate_public_id}/approve")
    assert refused.status_code == 409 and _mandate(app, s.mandate_public_id).confirmed_at is None


def test_revoke_ends_the_sessions_and_tokens_under_the_mandate(app: Flask, client: FlaskClient) -> None:
    s = scene(app)
    session_id, _ = delegated_session(app, s)
    token = access_token(app, s, session_id)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    citizen = app.test_client()
    sign_in(citizen)
    citizen.set_cookie("postid_lang", "en")
    assert "A post office, under your mandate" in citizen.get("/account/sessions").get_data(as_text=True)
    response = _post(citizen, f"/account/mandates/{s.mandate_public_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("done=revoked")
    with app.app_context():
        delegated = db.session.get(UserSession, session_id)
        assert delegated is not None and delegated.revoked_at is not None
    assert client.get("/userinfo", headers=bearer).status_code == 401
    [event] = _events(app, AuditTag.MANDATE_REVOKE)
    assert event.data["status_before"] == "active" and event.data["by"] == "citizen"
    # The citizen's own session goes on, and the history says what happened.
    assert citizen.get("/account/mandates").status_code == 200
    assert (f"The mandate to {OFFICE_NAME} was ended"
            in citizen.get("/account/activity").get_data(as_text=True))


def test_uses_are_listed_newest_first(app: Flask, client: FlaskClient) -> None:
    s = scene(app)
    record_use(app, s)
    record_use(app, s)
    sign_in(client)
    client.set_cookie("postid_lang", "en")
    html = client.get("/account/mandates").get_data(as_text=True)
    assert html.count(f"{OFFICE_NAME} signed in to {PORTAL_NAME}") == 2
    with app.app_context():
        views = mandates.mandates_of(db.session.get(Mandate, s.mandate_id).account)  # type: ignore[union-attr]
    assert views[0].uses[0].used_at >= views[0].uses[1].used_at


def test_another_accounts_mandate_is_not_found(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False)
    with app.app_context():
        second_citizen()
    sign_in(client, "079303001234")
    assert client.get(f"/account/mandates/{s.mandate_public_id}/revoke").status_code == 404
    assert _post(client, f"/account/mandates/{s.mandate_public_id}/approve").status_code == 404
    assert _post(client, f"/account/mandates/{s.mandate_public_id}/revoke").status_code == 404
    mandate = _mandate(app, s.mandate_public_id)
    assert mandate.confirmed_at is None and mandate.revoked_at is None
    assert s.mandate_public_id not in client.get("/account/mandates").get_data(as_text=True)


@pytest.mark.parametrize("bad", ["x", "A" * 300, "%C3%B1", "..", "%00", "12345678901234567890123"])
def test_bad_ids_are_not_found(app: Flask, client: FlaskClient, bad: str) -> None:
    scene(app, confirmed=False)
    sign_in(client)
    assert client.get(f"/account/mandates/{bad}/revoke").status_code == 404
    assert _post(client, f"/account/mandates/{bad}/approve").status_code == 404
    assert _post(client, f"/account/mandates/{bad}/revoke").status_code == 404


def test_a_post_without_csrf_changes_nothing(app: Flask, client: FlaskClient) -> None:
    s = scene(app, confirmed=False)
    sign_in(client)
    assert client.post(f"/account/mandates/{s.mandate_public_id}/approve").status_code == 400
    assert client.post(f"/account/mandates/{s.mandate_public_id}/revoke").status_code == 400
    mandate = _mandate(app, s.mandate_public_id)
    assert mandate.confirmed_at is None and mandate.revoked_at is None

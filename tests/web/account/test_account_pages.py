"""Account pages: portals, sessions, activity, password, data export, deletion."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AccountStatus, AuditEvent, AuditTag, Consent, OAuthToken, UserSession
from idp.models.notification import OutboxMessage
from idp.services.platform import audit, passwords
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.oidc.flow import (
    auth_request,
    citizen,
    exchange,
    obtain_code,
    registered_portal,
    sign_in,
)

NEW = "a much longer passphrase 2026"


def _signed_in(app: Flask, client: FlaskClient) -> int:
    account_id = citizen(app)
    sign_in(client)
    return account_id


def _connect(app: Flask, client: FlaskClient):  # type: ignore[no-untyped-def]
    portal = registered_portal(app)
    code, request = obtain_code(client, portal, scope="openid profile phone offline_access")
    tokens = exchange(client, portal, code, request.verifier).json
    return portal, tokens


def test_pages_require_sign_in(client: FlaskClient) -> None:
    for path in ("/account/portals", "/account/sessions", "/account/activity", "/account/password",
                 "/account/data", "/account/delete"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_pages_render(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    for path in ("/account", "/account/portals", "/account/sessions", "/account/activity",
                 "/account/password", "/account/data", "/account/delete"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "/account/security" in page.get_data(as_text=True)


def test_revoke_portal_revokes_tokens_and_asks_consent_again(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    portal, tokens = _connect(app, client)
    page = client.get("/account/portals").get_data(as_text=True)
    assert "Cổng dịch vụ công thử" in page
    with app.app_context():
        consent_id = db.session.scalar(select(Consent.id).where(Consent.account_id == account_id))
    token = csrf_token(client, "/account/portals")
    assert client.post("/account/portals/revoke", data={"target": str(consent_id)}).status_code == 400
    response = client.post("/account/portals/revoke", data={"csrf_token": token, "target": str(consent_id)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Consent, consent_id).revoked_at is not None
        assert db.session.scalar(select(func.count(OAuthToken.id)).where(OAuthToken.revoked_at.is_(None))) == 0
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.tag == "consent.revoke")) == 1
    assert "Cổng dịch vụ công thử" not in client.get("/account/portals").get_data(as_text=True)
    # Refresh no longer works; the next authorization asks for consent again.
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                            **portal.auth()["data"]}, headers=portal.auth()["headers"])
    assert refreshed.status_code == 400
    again = client.get(auth_request(portal).url)
    assert again.status_code == 200 and 'name="decision"' in again.get_data(as_text=True)
    # Revoking again (or someone else's consent) is a 404.
    assert client.post("/account/portals/revoke", data={"csrf_token": token, "target": str(consent_id)}).status_code == 404
    assert client.post("/account/portals/revoke", data={"csrf_token": token, "target": "abc"}).status_code == 400


def test_end_other_session_and_everywhere_else(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    other = app.test_client()
    sign_in(other)
    third = app.test_client()
    sign_in(third)
    with app.app_context():
        ids = db.session.scalars(select(UserSession.id).order_by(UserSession.id)).all()
    mine, second, _ = ids
    page = client.get("/account/sessions").get_data(as_text=True)
    assert page.count('name="target"') == 2
    token = csrf_token(client, "/account/sessions")
    assert client.post("/account/sessions/end", data={"target": str(second)}).status_code == 400
    assert client.post("/account/sessions/end", data={"csrf_token": token, "target": str(mine)}).status_code == 404
    assert client.post("/account/sessions/end", data={"csrf_token": token, "target": str(second)}).status_code == 302
    assert other.get("/account").status_code == 302
    assert third.get("/account").status_code == 200
    assert client.post("/account/sessions/end-others", data={"csrf_token": token}).status_code == 302
    assert third.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.account_id == account_id, AuditEvent.tag == "account.session.revoke")) >= 2


def test_activity_pagination_bounds(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    with app.app_context():
        for _ in range(45):
            audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account_id)
        db.session.commit()
    first = client.get("/account/activity").get_data(as_text=True)
    assert first.count('class="activity-what"') == 20 and "page=2" in first
    last = client.get("/account/activity?page=3").get_data(as_text=True)
    assert last.count('class="activity-what"') == 7  # 45 + account creation + the real sign-in
    for raw in ("0", "abc", "99999", "-1", "9" * 40):
        assert client.get(f"/account/activity?page={raw}").status_code == 200


def _change(client: FlaskClient, current: str, new: str, confirm: str | None = None, others: bool = True):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/account/password"), "current_password": current,
            "new_password": new, "confirm_password": new if confirm is None else confirm}
    if others:
        data["sign_out_others"] = "y"
    return client.post("/account/password", data=data)


def test_change_password(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    other = app.test_client()
    sign_in(other)
    assert client.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW,
                                                  "confirm_password": NEW}).status_code == 400
    wrong = _change(client, "not my password", NEW)
    assert wrong.status_code == 400 and "current_password-error" in wrong.get_data(as_text=True)
    assert _change(client, PASSWORD, NEW, confirm=NEW + "x").status_code == 400
    for bad in ("short", "postid-2026-abc", "nguyenvanan123", "my 001099012345", "password"):
        assert _change(client, PASSWORD, bad).status_code == 400, bad
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert passwords.verify_password(account.password.hash, PASSWORD)
    response = _change(client, PASSWORD, NEW)
    assert response.status_code == 302
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert passwords.verify_password(account.password.hash, NEW)
        sms = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "account.password_changed")).one()
        assert sms.recipient == account.phone
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.tag == "account.password.change")) == 1
    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_change_password_keeps_other_sessions_when_unticked(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    other = app.test_client()
    sign_in(other)
    assert _change(client, PASSWORD, NEW, others=False).status_code == 302
    assert other.get("/account").status_code == 200


def test_change_password_is_throttled(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    statuses = [_change(client, "wrong password!", NEW).status_code for _ in range(12)]
    assert 429 in statuses and set(statuses) <= {400, 429}


def test_export(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _connect(app, client)
    assert client.get("/account/data").status_code == 200
    assert client.post("/account/data").status_code == 400
    response = client.post("/account/data", data={"csrf_token": csrf_token(client, "/account/data")})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = response.get_data(as_text=True)
    data = json.loads(text)
    assert data["profile"]["national_id"] == "001099012345"
    assert data["connected_portals"][0]["scopes"] == ["openid", "profile", "phone", "offline_access"]
    assert data["consents"] and data["sessions"] and data["activity"]
    with app.app_context():
        account = db.session.get(Account, account_id)
        secrets = [account.password.hash] + [s.token_hash for s in db.session.scalars(select(UserSession))]
        for row in db.session.scalars(select(OAuthToken)):
            secrets += [row.access_token_hash, row.refresh_token_hash]
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.tag == "account.data.export")) == 1
    assert "$argon2" not in text
    for secret in secrets:
        if secret:
            assert secret not in text


def test_delete_account(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _connect(app, client)
    other = app.test_client()
    sign_in(other)
    token = csrf_token(client, "/account/delete")
    assert client.post("/account/delete", data={"password": PASSWORD, "confirm": "y"}).status_code == 400
    assert client.post("/account/delete", data={"csrf_token": token, "password": "nope nope",
                                                "confirm": "y"}).status_code == 400
    assert client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD}).status_code == 400
    with app.app_context():
        assert db.session.get(Account, account_id).status is AccountStatus.ACTIVE
        events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post("/account/delete", data={"csrf_token": token, "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/deleted")
    assert client.get("/account/deleted").status_code == 200
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account.status is AccountStatus.DISABLED
        assert account.full_name == "" and account.email is None and account.password is None
        assert len(account.national_id) == 12 and not account.national_id.isdigit()
        assert db.session.scalar(select(func.count(UserSession.id)).where(UserSession.revoked_at.is_(None))) == 0
        assert db.session.scalar(select(func.count(OAuthToken.id)).where(OAuthToken.revoked_at.is_(None))) == 0
        assert db.session.scalar(select(func.count(Consent.id)).where(Consent.revoked_at.is_(None))) == 0
        assert db.session.scalar(select(func.count(AuditEvent.id))) > events_before
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.account_id == account_id, AuditEvent.tag == "account.delete")) == 1
        # The ID number and phone are free again.
        again = active_citizen()
        assert again.id != account_id
    sign_in(client)


def test_unicode_digits_in_ids_and_pages_are_400_or_page_one_not_500(app, client):
    from tests.conftest import csrf_token
    from tests.factories import active_citizen
    from tests.oidc.flow import sign_in

    with app.app_context():
        active_citizen()
    sign_in(client)
    token = csrf_token(client, "/account/sessions")
    for path in ("/account/sessions/end", "/account/portals/revoke"):
        assert client.post(path, data={"csrf_token": token, "target": "²"}).status_code == 400
        assert client.post(path, data={"csrf_token": token, "target": "٣"}).status_code == 400
    assert client.get("/account/activity?page=%C2%B2").status_code == 200


def _delete(client: FlaskClient):  # type: ignore[no-untyped-def]
    return client.post("/account/delete", data={"csrf_token": csrf_token(client, "/account/delete"),
                                                "password": PASSWORD, "confirm": "y"})


def _notices(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(m.channel.value, m.recipient, m.body) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "account.deleted")
            .order_by(OutboxMessage.id))]


def test_deleting_an_account_tells_its_phone_and_confirmed_email(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    with app.app_context():
        account = db.session.get(Account, account_id)
        account.email_verified_at = account.created_at
        db.session.commit()
    assert client.post("/account/delete", data={"csrf_token": csrf_token(client, "/account/delete"),
                                                "password": "nope nope", "confirm": "y"}).status_code == 400
    assert _notices(app) == []  # a wrong password deletes nothing and tells nobody
    assert _delete(client).status_code == 302
    [sms, email] = _notices(app)
    assert sms[:2] == ("sms", "+84912345678") and "tài khoản của bạn đã bị xóa" in sms[2]
    assert email[:2] == ("email", "an@example.vn") and "Nguyễn Văn An" in email[2]


def test_an_unconfirmed_email_is_not_told_of_the_deletion(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)  # the factory's address was never confirmed
    assert _delete(client).status_code == 302
    assert [(channel, recipient) for channel, recipient, _ in _notices(app)] == [("sms", "+84912345678")]

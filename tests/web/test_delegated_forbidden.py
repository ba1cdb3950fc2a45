"""The wall around a delegated session (docs/architecture.md §14): an agent signed in for a
citizen under a mandate can never change the citizen's password, phone, e-mail, two-step
verification or mandates, nor see their codes. Every account page answers 403 with a page
that says why, changes nothing in the database and is audited once, with the route pattern
only. Signing out still works.

Each request below is one the citizen's own session could make with success (right password,
right code), so only the wall stands between it and a change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditTag,
    Guardianship,
    Mandate,
    OAuthClient,
    UserSession,
)
from idp.models.base import utcnow
from idp.models.mfa import TotpCredential
from idp.services.identity import acting, enrolment
from idp.services.platform import crypto, secrets
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.oidc.flow import sign_in
from tests.web.citizen_mandate_setup import Scene, delegated_session, mandate_row, scene, use_cookie

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
NEW_PASSWORD = "a much longer passphrase 2026"
WALL = "only the citizen can see or change their account"


@dataclass
class Agent:
    scene: Scene
    session_id: int
    browser: FlaskClient
    office_id: int


def _totp(app: Flask, account_id: int, *, confirmed: bool) -> None:
    with app.app_context():
        db.session.add(TotpCredential(
            account_id=account_id,
            secret_encrypted=crypto.seal(SECRET.encode(), aad=f"totp:{account_id}".encode()),
            confirmed_at=utcnow() if confirmed else None))
        db.session.commit()


@pytest.fixture
def agent(app: Flask, client: FlaskClient) -> Agent:
    """A post-office agent's browser holding the citizen's delegated session, in English."""
    s = scene(app)
    session_id, token = delegated_session(app, s)
    use_cookie(app, client, token)
    client.set_cookie("postid_lang", "en")
    with app.app_context():
        mandate = db.session.get(Mandate, s.mandate_id)
        assert mandate is not None
        office_id = mandate.office_id
    return Agent(s, session_id, client, office_id)


def _snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit log's; a session's last-seen touch is not a change."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            if table.name.startswith("audit"):
                continue
            columns = [c for c in table.columns if c.name != "last_seen_at"]
            rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            tables[table.name] = [tuple(row) for row in rows]
        return tables


def _refusals(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).filter_by(
            tag=AuditTag.DELEGATED_ACCOUNT_CHANGE_REFUSED.value).order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _refused(app: Flask, agent: Agent, method: str, path: str, route: str,
             data: dict[str, str] | None = None) -> str:
    """Sends the request with a valid form token and asserts the wall: 403, its page, nothing
    changed, one audit event naming the route pattern. Returns the page."""
    form = None if method == "GET" else {"csrf_token": csrf_token(agent.browser), **(data or {})}
    before, seen = _snapshot(app), len(_refusals(app))
    response = agent.browser.open(path, method=method, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 403, (path, response.status_code)
    assert WALL in page and "Nguyễn Văn An" in page
    assert _snapshot(app) == before
    new = _refusals(app)[seen:]
    assert len(new) == 1
    assert new[0].account_id == agent.scene.account_id and new[0].session_id == agent.session_id
    assert new[0].data == {"route": route}
    assert new[0].staff_id == agent.scene.staff_id and new[0].office_id == agent.office_id
    return page


def test_password_change(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/password", "/account/password",
             {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD, "sign_out_others": "y"})


def test_phone_change(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/contact/phone", "/account/contact/phone",
             {"phone": "0987 654 321", "current_password": PASSWORD})


def test_phone_change_confirmation(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/contact/phone/confirm", "/account/contact/phone/confirm",
             {"code": "123456"})


def test_email_change(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/contact/email", "/account/contact/email",
             {"email": "moi@example.vn", "current_password": PASSWORD})


def test_email_removal(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/contact/email", "/account/contact/email",
             {"email": "", "remove": "y", "current_password": PASSWORD})


def test_email_confirmation_link(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/contact/email/confirm/some-token",
             "/account/contact/email/confirm/<token>")


def test_two_step_verification_set_up(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", "/account/security/totp/setup", "/account/security/totp/setup")


def test_two_step_verification_confirmation_and_its_recovery_codes(app: Flask, agent: Agent) -> None:
    _totp(app, agent.scene.account_id, confirmed=False)
    page = _refused(app, agent, "POST", "/account/security/totp/enrol",
                    "/account/security/totp/enrol", {"code": pyotp.TOTP(SECRET).now()})
    assert "recovery" not in page.lower()


def test_two_step_verification_set_up_page_shows_no_key(app: Flask, agent: Agent) -> None:
    _totp(app, agent.scene.account_id, confirmed=False)
    page = _refused(app, agent, "GET", "/account/security/totp/enrol", "/account/security/totp/enrol")
    assert "otpauth://" not in page and SECRET[:8] not in page


def test_two_step_verification_removal(app: Flask, agent: Agent) -> None:
    _totp(app, agent.scene.account_id, confirmed=True)
    _refused(app, agent, "POST", "/account/security/totp/remove", "/account/security/totp/remove",
             {"password": PASSWORD, "code": pyotp.TOTP(SECRET).now()})


def test_step_up_of_the_delegated_session(app: Flask, agent: Agent) -> None:
    _totp(app, agent.scene.account_id, confirmed=True)
    _refused(app, agent, "POST", "/account/security/step-up", "/account/security/step-up",
             {"code": pyotp.TOTP(SECRET).now()})


def test_mandate_approval(app: Flask, agent: Agent) -> None:
    with app.app_context():
        account = db.session.get(Account, agent.scene.account_id)
        mandate = db.session.get(Mandate, agent.scene.mandate_id)
        assert account is not None and mandate is not None
        pending = mandate_row(account, mandate.office_id, agent.scene.staff_id,
                              confirmed=False).public_id
    _refused(app, agent, "POST", f"/account/mandates/{pending}/approve",
             "/account/mandates/<public_id>/approve")


def test_mandate_revocation(app: Flask, agent: Agent) -> None:
    _refused(app, agent, "POST", f"/account/mandates/{agent.scene.mandate_public_id}/revoke",
             "/account/mandates/<public_id>/revoke")


def _declared(app: Flask, agent: Agent, *, with_code: bool) -> str | None:
    """The citizen's identity back at "declared" (as after a revoked verification), with a
    live enrolment code if asked: the state in which the pages show and issue one."""
    with app.app_context():
        account = db.session.get(Account, agent.scene.account_id)
        assert account is not None
        account.identity_loa = 1
        db.session.commit()
        return enrolment.request_code(account).code if with_code else None


def test_enrolment_code_is_not_shown(app: Flask, agent: Agent) -> None:
    code = _declared(app, agent, with_code=True)
    assert code
    for path in ("/account/verification", "/account/verification/print"):
        page = _refused(app, agent, "GET", path, path)
        assert code[:4] not in page and "POSTID:" not in page


def test_enrolment_code_request(app: Flask, agent: Agent) -> None:
    _declared(app, agent, with_code=False)
    _refused(app, agent, "POST", "/account/verification/request", "/account/verification/request")


@pytest.mark.parametrize(("method", "path", "route"), [
    ("GET", "/account", "/account"),
    ("GET", "/account/security", "/account/security"),
    ("GET", "/account/mandates", "/account/mandates"),
    ("GET", "/account/portals", "/account/portals"),
    ("POST", "/account/portals/revoke", "/account/portals/revoke"),
    ("GET", "/account/sessions", "/account/sessions"),
    ("POST", "/account/sessions/end-others", "/account/sessions/end-others"),
    ("GET", "/account/activity", "/account/activity"),
    ("GET", "/account/data", "/account/data"),
    ("POST", "/account/data", "/account/data"),
    ("GET", "/account/delete", "/account/delete"),
    ("POST", "/account/delete", "/account/delete"),
    ("GET", "/account/deleted", "/account/deleted"),
    ("GET", "/login/verify", "/login/verify"),
    ("GET", "/business/", "/business/"),
    ("POST", "/business/register", "/business/register"),
    ("GET", "/activate/done", "/activate/done"),
])
def test_every_other_account_page(app: Flask, agent: Agent, method: str, path: str, route: str) -> None:
    data = {"password": PASSWORD, "confirm": "y"} if path == "/account/delete" else None
    _refused(app, agent, method, path, route, data)


def test_sign_out_still_works(app: Flask, agent: Agent) -> None:
    response = agent.browser.post("/logout", data={"csrf_token": csrf_token(agent.browser)})
    assert response.status_code == 302
    with app.app_context():
        session = db.session.get(UserSession, agent.session_id)
        assert session is not None and session.revoked_at is not None


def test_language_switch_leaves_the_citizens_notice_language(app: Flask, agent: Agent) -> None:
    with app.app_context():
        before = db.session.get(Account, agent.scene.account_id).locale  # type: ignore[union-attr]
    other = "vi" if before == "en" else "en"
    response = agent.browser.post("/language", data={"csrf_token": csrf_token(agent.browser),
                                                     "lang": other, "next": "/login"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Account, agent.scene.account_id).locale == before  # type: ignore[union-attr]


def test_the_citizens_own_session_is_not_walled(app: Flask, client: FlaskClient) -> None:
    scene(app)
    sign_in(client)
    for path in ("/account", "/account/security", "/account/mandates", "/account/verification"):
        assert client.get(path).status_code == 200, path
    assert _refusals(app) == []


def test_a_guardians_session_is_walled_too(app: Flask, client: FlaskClient) -> None:
    """A guardian signed in for a child (idp.services.identity.acting) meets the same wall."""
    s = scene(app)
    with app.app_context():
        guardian = db.session.get(Account, s.account_id)
        office = db.session.get(Mandate, s.mandate_id).office  # type: ignore[union-attr]
        child = active_citizen(national_id="001216000123", full_name="Nguyễn Minh Khôi",
                               birthdate=date(2016, 3, 4), phone="0977000111", email=None)
        child.status, child.phone = AccountStatus.MINOR, None
        link = Guardianship(public_id=secrets.new_public_id(), child_account_id=child.id,
                            guardian_account_id=s.account_id, office_id=office.id,
                            created_by_id=s.staff_id, birth_certificate_number="123/2016",
                            birth_certificate_issued_on=date(2016, 3, 10),
                            birth_certificate_matches=True)
        db.session.add(link)
        db.session.commit()
        portal = db.session.get(OAuthClient, s.client_pk)
        assert guardian is not None and portal is not None
        new = acting.open_guardian_session_in_transaction(
            link, client=portal, amr="pwd", guardian_loa=2, until=utcnow() + timedelta(days=365))
        db.session.commit()
        token, link_id = new.token, link.public_id
    use_cookie(app, client, token)
    client.set_cookie("postid_lang", "en")
    response = client.post("/account/password", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403
    assert "Nguyễn Minh Khôi as their guardian" in response.get_data(as_text=True)
    [event] = _refusals(app)
    assert event.data == {"route": "/account/password", "guardianship": link_id}

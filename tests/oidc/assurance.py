"""Levels of assurance for the OIDC tests: verified identities, TOTP, claims requests."""

from __future__ import annotations

import html
import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuthorizationCode, UserSession
from idp.models.mfa import TotpCredential
from idp.services.identity import mfa
from idp.services.platform import crypto
from tests.conftest import csrf_token
from tests.factories import PASSWORD

ACR = {1: "urn:vn:postid:loa:1", 2: "urn:vn:postid:loa:2", 3: "urn:vn:postid:loa:3"}
SESSION_COOKIE = "postid_session"
ADDRESS = {"street": "Số 6 Đinh Lễ", "ward": "Phường Hoàn Kiếm", "province_code": "01"}


def essential(*values: str) -> str:
    return json.dumps({"id_token": {"acr": {"essential": True, "values": list(values)}}})


def counter_verified(app: Flask, account_id: int, *, address: bool = False) -> None:
    """What an approved counter check leaves behind (built by another module): LoA2, and
    optionally a verified postal address."""
    with app.app_context():
        account = db.session.get(Account, account_id)
        account.identity_loa = 2
        if address:
            account.postal_address = dict(ADDRESS)
            account.address_verified_at = datetime.now(UTC)
        db.session.commit()


def enrol_totp(app: Flask, account_id: int) -> list[str]:
    """Turn TOTP on for the account, spending the code of the previous time-step; returns the
    recovery codes."""
    with app.app_context():
        account = db.session.get(Account, account_id)
        secret = mfa.secret_of(mfa.begin_enrolment(account))
        return mfa.confirm_enrolment(account, pyotp.TOTP(secret).at(time.time() - 30))


def wrong_totp_code(app: Flask, account_id: int) -> str:
    """Six digits that are no acceptable code right now."""
    with app.app_context():
        cred = db.session.scalar(select(TotpCredential).where(TotpCredential.account_id == account_id))
        secret = crypto.unseal(cred.secret_encrypted, aad=f"totp:{account_id}".encode()).decode()
    valid = {pyotp.TOTP(secret).at(time.time() + 30 * d) for d in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555")
                if code not in valid)


def totp_code(app: Flask, account_id: int) -> str:
    """A code for the earliest acceptable time-step not used yet (within ±1 step of now)."""
    with app.app_context():
        cred = db.session.scalar(select(TotpCredential).where(TotpCredential.account_id == account_id))
        secret = crypto.unseal(cred.secret_encrypted, aad=f"totp:{account_id}".encode()).decode()
        last = cred.last_used_step
    now_step = int(time.time() // 30)
    step = now_step - 1 if last is None else max(last + 1, now_step - 1)
    assert step <= now_step + 1, "no fresh TOTP code left in this window"
    return pyotp.TOTP(secret).at(step * 30)


def sign_in_with_totp(app: Flask, client: FlaskClient, account_id: int,
                      identifier: str = "001099012345") -> None:
    response = client.post("/login", data={"csrf_token": csrf_token(client), "identifier": identifier,
                                           "password": PASSWORD})
    assert response.headers["Location"] == "/login/verify"
    response = client.post("/login/verify", data={"csrf_token": csrf_token(client, "/login/verify"),
                                                  "code": totp_code(app, account_id)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def live_session(app: Flask) -> UserSession:
    with app.app_context():
        return db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None)))


def code_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuthorizationCode)) or 0


def step_up_next(response) -> str:  # type: ignore[no-untyped-def]
    """The `next` of a redirect to the step-up page (the authorization request to resume)."""
    assert response.status_code == 302, response.status_code
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/security/step-up", response.headers["Location"]
    query = parse_qs(location.query)
    assert query["next"][0].startswith("/authorize?")
    return query["next"][0]


def form_action(page: str) -> str:
    """The action of the page's CSRF-protected button form (consent, unmet)."""
    match = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf_token"',
                      page)
    assert match, "no form"
    return html.unescape(match.group(1))

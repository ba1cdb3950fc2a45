"""Signed-in counter clients for tests: a console browser and a terminal's bearer headers."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from idp.extensions import db
from idp.models import StaffMember
from idp.services.staff.sessions import COOKIE_NAME, COOKIE_PATH, open_staff_session


def _token(app: Flask, staff_id: int, channel: str) -> str:
    with app.app_context():
        staff = db.session.get(StaffMember, staff_id)
        assert staff is not None
        new = open_staff_session(staff, channel=channel, mfa_verified=True)
        db.session.commit()
        return new.token


def console_client(app: Flask, staff_id: int) -> FlaskClient:
    """A browser on /counter signed in as the staff member (password and TOTP done)."""
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, _token(app, staff_id, "web"), path=COOKIE_PATH)
    return client


def api_headers(app: Flask, staff_id: int) -> dict[str, str]:
    """Authorization header of a counter terminal signed in as the staff member."""
    return {"Authorization": f"Bearer {_token(app, staff_id, 'api')}"}

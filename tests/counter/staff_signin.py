"""Staff for the counter sign-in tests (console and terminal): the clerk's username, a staff
member made in its own application context, and the TOTP code of the enrolled factories."""

from __future__ import annotations

import time

import pyotp
from flask import Flask

from idp.extensions import db
from idp.models import PostOffice
from tests.staff_factories import STAFF_TOTP_SECRET

CLERK = "clerk-hn-boho"


def code_at(steps: int = 0, secret: str = STAFF_TOTP_SECRET) -> str:
    """The TOTP code `steps` periods of 30 seconds from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def make_staff(app: Flask, factory, office_id: int, **overrides) -> int:  # type: ignore[no-untyped-def]
    """A staff member of the office from a staff factory (its id)."""
    with app.app_context():
        return factory(db.session.get(PostOffice, office_id), **overrides).id

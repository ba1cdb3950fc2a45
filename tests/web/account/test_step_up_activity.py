"""A step-up (a second factor proven later in a signed-in session, for a portal that needs
it) has a line in the activity history naming the portal; the second factor at sign-in and
at set-up stays inside the lines that already say it."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient

from idp.i18n import LOCALE_COOKIE
from tests.oidc.assurance import (
    ACR,
    counter_verified,
    enrol_totp,
    essential,
    sign_in_with_totp,
    totp_code,
)
from tests.oidc.flow import auth_request, citizen, registered_portal, sign_in
from tests.oidc.test_step_up import STEP_UP, submit_code

LINE_RE = re.compile(r'<span class="activity-what">(.*?)</span>')


def _lines(client: FlaskClient, locale: str) -> list[str]:
    client.set_cookie(LOCALE_COOKIE, locale)
    page = client.get("/account/activity")
    assert page.status_code == 200
    return [unescape(line) for line in LINE_RE.findall(page.get_data(as_text=True))]


def test_a_step_up_for_a_portal_is_listed_with_the_portal(app: Flask, client: FlaskClient) -> None:
    portal = registered_portal(app)  # "Cổng dịch vụ công thử"
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)
    redirect = client.get(auth_request(portal, claims=essential(ACR[3])).url)
    assert redirect.headers["Location"].startswith(STEP_UP)
    assert submit_code(client, redirect.headers["Location"], totp_code(app, account_id)).status_code == 302
    assert _lines(client, "en")[0] == "Two-step verification passed for Cổng dịch vụ công thử"
    assert _lines(client, "vi")[0] == "Đã xác thực hai bước cho Cổng dịch vụ công thử"


def test_a_step_up_without_a_portal_and_the_sign_in_factor(app: Flask, client: FlaskClient) -> None:
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)
    assert submit_code(client, STEP_UP, totp_code(app, account_id)).status_code == 302
    assert _lines(client, "en")[0] == "Two-step verification passed"
    # A sign-in with the app: its second factor is part of the "Signed in" line.
    sign_in_with_totp(app, app.test_client(), account_id)
    lines = _lines(client, "en")
    assert lines[:2] == ["Signed in", "Two-step verification passed"]
    assert lines.count("Two-step verification passed") == 1

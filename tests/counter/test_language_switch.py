"""The English/Tiếng Việt switch on a counter page answering a failed POST: the POST
routes of the console answer no GET, so the switch must name the page the clerk was on (the
look-up page, the same check), never fall back to the citizens' start page."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.business.helpers import browser, organisation_with
from tests.business.helpers import post as business_post
from tests.conftest import csrf_token
from tests.counter import helpers
from tests.counter.cast import make_verification
from tests.counter.org_cast import CHECK_FORM as ORG_CHECK_FORM
from tests.counter.org_cast import make_org_check
from tests.counter.test_checks_console import CHECK_FORM
from tests.organisation_factories import pending_organisation_check
from tests.verification_factories import pending_verification

SWITCH_NEXT = re.compile(r'<form class="lang-switch".*?name="next" value="([^"]*)"', re.S)


def switch(client: FlaskClient, page, lang: str) -> str:  # type: ignore[no-untyped-def]
    """Press the switch shown on `page` (to `lang`); returns where it sends the browser."""
    match = SWITCH_NEXT.search(page.get_data(as_text=True))
    assert match, "no language switch"
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/login"),
                                              "lang": lang, "next": html.unescape(match.group(1))})
    assert response.status_code == 302
    return response.headers["Location"]


def post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/counter/"), **data})


def shown_in_english(client: FlaskClient, path: str, marker: str) -> None:
    page = client.get(path)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en">' in body and marker in body


@pytest.mark.parametrize("code", ["", "ABCD-EFGH"])  # a form error; an unknown code (404)
def test_a_failed_look_up_switches_back_to_the_look_up_page(app: Flask, cast, code: str) -> None:
    client = helpers.console_client(app, cast.clerk)  # Vietnamese, the default
    failed = post(client, "/counter/lookup", code=code)
    assert failed.status_code in (400, 404)
    back_to = switch(client, failed, "en")
    assert back_to == "/counter/"
    shown_in_english(client, back_to, 'name="code"')


@pytest.mark.parametrize(("action", "data"), [
    ("submit", {**CHECK_FORM, "issued_on": "31/02/2024"}),  # a check with errors
    ("reject", {"reason": ""}),  # a rejection with no reason
])
def test_a_failed_action_on_a_check_switches_back_to_the_same_check(
        app: Flask, cast, action: str, data: dict[str, str]) -> None:
    public_id, _, _ = make_verification(app, pending_verification)
    client = helpers.console_client(app, cast.clerk)
    failed = post(client, f"/counter/checks/{public_id}/{action}", **data)
    assert failed.status_code == 400
    back_to = switch(client, failed, "en")
    assert back_to == f"/counter/checks/{public_id}"
    shown_in_english(client, back_to, f'action="/counter/checks/{public_id}/submit"')


def test_a_refused_decision_switches_back_to_the_same_check(app: Flask, cast) -> None:
    public_id, _, _ = make_verification(app, pending_verification)
    client = helpers.console_client(app, cast.clerk)
    refused = post(client, f"/counter/checks/{public_id}/approve")
    assert refused.status_code == 403  # a clerk does not approve
    back_to = switch(client, refused, "en")
    assert back_to == f"/counter/checks/{public_id}"
    shown_in_english(client, back_to, f'action="/counter/checks/{public_id}/submit"')


@pytest.mark.parametrize(("action", "data"), [
    ("submit", {**ORG_CHECK_FORM, "certificate_issued_on": "31/02/2015"}),
    ("reject", {"reason": ""}),
])
def test_a_failed_action_on_an_organisation_check_switches_back_to_it(
        app: Flask, cast, action: str, data: dict[str, str]) -> None:
    org = make_org_check(app, pending_organisation_check, representative=cast.citizen)
    client = helpers.console_client(app, cast.clerk)
    failed = post(client, f"/counter/organisation-checks/{org.public_id}/{action}", **data)
    assert failed.status_code == 400
    back_to = switch(client, failed, "en")
    assert back_to == f"/counter/organisation-checks/{org.public_id}"
    shown_in_english(client, back_to, f'action="/counter/organisation-checks/{org.public_id}/submit"')


def test_a_member_invitation_with_errors_switches_back_to_the_organisation(app: Flask) -> None:
    public_id = organisation_with(app)
    client = browser(app)  # English
    failed = business_post(client, f"/business/{public_id}/members/invite", f"/business/{public_id}",
                           national_id="12345", role="member", valid_from="", valid_until="")
    assert failed.status_code == 400
    back_to = switch(client, failed, "vi")
    assert back_to == f"/business/{public_id}"
    page = client.get(back_to)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="vi">' in body
    assert f'action="/business/{public_id}/members/invite"' in body

"""Step-up in the authorization flow (docs/architecture.md §9): a verified person whose session lacks a
second factor proves it (or first sets TOTP up) and the same request continues to a code with
acr LoA3 and amr `pwd otp mfa` (RFC 8176)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, UserSession
from tests.conftest import csrf_token
from tests.oidc.assurance import (
    ACR,
    SESSION_COOKIE,
    code_count,
    counter_verified,
    enrol_totp,
    essential,
    form_action,
    live_session,
    step_up_next,
    totp_code,
    wrong_totp_code,
)
from tests.oidc.flow import (
    ISSUER,
    auth_request,
    citizen,
    exchange,
    redirect_params,
    registered_portal,
    sign_in,
    verify_id_token,
)

STEP_UP = "/account/security/step-up"


def step_up_action(page: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)" novalidate>', page)
    assert match, "no step-up form"
    return html.unescape(match.group(1))


def submit_code(client, url: str, code: str):  # type: ignore[no-untyped-def]
    """Post `code` on the step-up page served at `url`."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    action = step_up_action(page.get_data(as_text=True))
    return client.post(action, data={"csrf_token": csrf_token(client, url), "code": code})


def finish(client, portal, request, target):  # type: ignore[no-untyped-def]
    """Resume the authorization request at `target`, consent, redeem: the ID token claims."""
    response = client.get(target)
    page = response.get_data(as_text=True)
    if response.status_code == 200 and 'name="decision"' in page:
        response = client.post(form_action(page), data={"csrf_token": csrf_token(client, target),
                                                         "decision": "allow"})
    params = redirect_params(response)
    assert "code" in params, params
    return verify_id_token(client, exchange(client, portal, params["code"], request.verifier)
                           .json["id_token"])[1]


def verified_with_totp_later(app, client) -> int:  # type: ignore[no-untyped-def]
    """LoA2, signed in with the password, TOTP set up afterwards (the session has no otp)."""
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)
    return account_id


def test_step_up_with_totp_continues_to_a_level3_code(app, client):
    portal = registered_portal(app)
    account_id = verified_with_totp_later(app, client)
    before = live_session(app)
    old_cookie = client.get_cookie(SESSION_COOKIE).value
    request = auth_request(portal, claims=essential(ACR[3]))
    redirect = client.get(request.url)
    target = step_up_next(redirect)
    assert "optional" not in redirect.headers["Location"]  # required: no way around it

    wrong = submit_code(client, redirect.headers["Location"], wrong_totp_code(app, account_id))
    assert wrong.status_code == 401
    assert live_session(app).amr == "pwd" and client.get_cookie(SESSION_COOKIE).value == old_cookie

    response = submit_code(client, redirect.headers["Location"], totp_code(app, account_id))
    assert response.status_code == 302 and response.headers["Location"] == target
    assert client.get_cookie(SESSION_COOKIE).value != old_cookie  # a new token for the new level
    after = live_session(app)
    assert (after.id, after.sid, after.amr) == (before.id, before.sid, "pwd otp mfa")
    assert after.authenticated_at == before.authenticated_at

    claims = finish(client, portal, request, target)
    assert claims["acr"] == ACR[3] and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["sid"] == before.sid  # back-channel logout keeps naming the same session
    assert claims["auth_time"] == int(before.authenticated_at.timestamp())
    with app.app_context():
        tags = [(e.tag, e.data.get("step")) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag.like("account.mfa.%")).order_by(AuditEvent.id))]
        assert tags[-2:] == [("account.mfa.failure", "step_up"), ("account.mfa.success", "step_up")]


def test_the_old_cookie_stops_working_after_step_up(app, client):
    account_id = verified_with_totp_later(app, client)
    old_cookie = client.get_cookie(SESSION_COOKIE).value
    assert submit_code(client, STEP_UP, totp_code(app, account_id)).status_code == 302
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, old_cookie)
    assert thief.get("/account").headers["Location"].startswith("/login")
    assert client.get("/account").status_code == 200


def test_a_step_up_code_is_accepted_once(app, client):
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    other = app.test_client()
    sign_in(other)  # two password sessions of one person, then TOTP is set up
    enrol_totp(app, account_id)
    code = totp_code(app, account_id)
    assert submit_code(client, STEP_UP, code).status_code == 302
    replay = submit_code(other, STEP_UP, code)  # replay, from another session
    assert replay.status_code == 401
    assert "Mã này đã được dùng" in replay.get_data(as_text=True)  # "already used": same words
    with app.app_context():
        amrs = sorted(s.amr for s in db.session.scalars(select(UserSession)))
        assert amrs == ["pwd", "pwd otp mfa"]


def test_a_recovery_code_steps_up_without_otp(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    codes = enrol_totp(app, account_id)
    request = auth_request(portal, claims=essential(ACR[3]))
    redirect = client.get(request.url)
    response = submit_code(client, redirect.headers["Location"], codes[0])
    assert response.status_code == 302
    claims = finish(client, portal, request, step_up_next(redirect))
    assert claims["acr"] == ACR[3] and claims["amr"] == ["pwd", "mfa"]  # a look-up secret, not otp


def start_set_up_in_flow(app, client, portal, request):  # type: ignore[no-untyped-def]
    """A verified person without TOTP asks for LoA3: step-up -> security page -> enrol page.
    Returns (target, security_url, enrol_url, account_id)."""
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    redirect = client.get(request.url)
    target = step_up_next(redirect)
    to_security = client.get(redirect.headers["Location"])
    location = urlsplit(to_security.headers["Location"])
    assert location.path == "/account/security" and parse_qs(location.query)["next"] == [target]
    security_url = to_security.headers["Location"]
    page = client.get(security_url).get_data(as_text=True)
    setup_action = html.unescape(re.search(r'action="(/account/security/totp/setup[^"]*)"', page).group(1))
    response = client.post(setup_action, data={"csrf_token": csrf_token(client, security_url)})
    enrol_url = response.headers["Location"]
    assert urlsplit(enrol_url).path == "/account/security/totp/enrol"
    return target, security_url, enrol_url, account_id


def test_without_totp_the_set_up_code_is_the_second_factor_of_the_sign_in(app, client):
    portal = registered_portal(app)
    request = auth_request(portal, claims=essential("LoA3"))
    target, _, enrol_url, account_id = start_set_up_in_flow(app, client, portal, request)
    page = client.get(enrol_url).get_data(as_text=True)
    confirm_action = html.unescape(re.search(r'action="(/account/security/totp/enrol[^"]*)"', page).group(1))
    codes_page = client.post(confirm_action, data={"csrf_token": csrf_token(client, enrol_url),
                                                   "code": totp_code(app, account_id)})
    assert codes_page.status_code == 200
    body = codes_page.get_data(as_text=True)
    # One code, not two: the recovery codes page leads straight back to the portal's request.
    assert "/account/security/step-up" not in body
    continue_url = html.unescape(re.search(r'href="(/authorize\?[^"]*)"', body).group(1))
    assert continue_url == target
    assert live_session(app).amr == "pwd otp mfa"
    claims = finish(client, portal, request, target)
    assert claims["acr"] == ACR[3] and claims["amr"] == ["pwd", "otp", "mfa"]
    with app.app_context():
        steps = [(e.tag, e.data.get("step")) for e in db.session.scalars(select(AuditEvent))
                 if e.tag.startswith("account.mfa")]
    assert ("account.mfa.enrol", None) in steps and ("account.mfa.success", "enrol") in steps


def test_a_wrong_set_up_code_raises_nothing(app, client):
    portal = registered_portal(app)
    request = auth_request(portal, claims=essential("LoA3"))
    _, _, enrol_url, account_id = start_set_up_in_flow(app, client, portal, request)
    response = client.post(enrol_url, data={"csrf_token": csrf_token(client, enrol_url),
                                            "code": "000000"})
    assert response.status_code in (400, 401)
    assert live_session(app).amr == "pwd"


@pytest.mark.parametrize("page", ["security", "enrol", "step_up"])
def test_the_way_back_to_the_portal_from_set_up_and_step_up(app, client, page):
    """unmet_authentication_requirements (the portal's level cannot be met), with state and
    iss, to the registered redirect_uri; no code is issued and TOTP stays as it was."""
    portal = registered_portal(app)
    request = auth_request(portal, claims=essential("LoA3"))
    target, security_url, enrol_url, account_id = start_set_up_in_flow(app, client, portal, request)
    if page == "step_up":
        enrol_totp_for_pending = totp_code(app, account_id)  # confirm the set-up elsewhere
        with app.app_context():
            from idp.models import Account
            from idp.services.identity import mfa
            mfa.confirm_enrolment(db.session.get(Account, account_id), enrol_totp_for_pending)
        url = STEP_UP + "?" + urlencode({"next": target})
    else:
        url = security_url if page == "security" else enrol_url
    body = client.get(url).get_data(as_text=True)
    assert "Cổng dịch vụ công thử" in body
    action = html.unescape(re.search(r'action="(/authorize/no-second-factor\?[^"]*)"', body).group(1))
    response = client.post(action, data={"csrf_token": csrf_token(client, url)})
    params = redirect_params(response)
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == request.params["state"] and params["iss"] == ISSUER
    assert "code" not in params and code_count(app) == 0
    assert live_session(app).amr == "pwd"


def test_the_way_back_needs_a_form_token_and_a_valid_request(app, client):
    portal = registered_portal(app)
    request = auth_request(portal, claims=essential("LoA3"))
    _, security_url, _, _ = start_set_up_in_flow(app, client, portal, request)
    body = client.get(security_url).get_data(as_text=True)
    action = html.unescape(re.search(r'action="(/authorize/no-second-factor\?[^"]*)"', body).group(1))
    assert client.post(action, data={}).status_code == 400  # no CSRF token: nothing sent anywhere
    forged = action.replace(urlencode({"redirect_uri": portal.redirect_uri}),
                            urlencode({"redirect_uri": "https://evil.example/cb"}))
    assert forged != action
    response = client.post(forged, data={"csrf_token": csrf_token(client, security_url)})
    assert response.status_code == 400 and "Location" not in response.headers


def test_no_way_back_to_a_portal_outside_a_sign_in(app, client):
    citizen(app)
    sign_in(client)
    for url in ("/account/security", "/account/security?next=/account",
                "/account/security?next=/authorize%3Fclient_id%3Dnope"):
        assert "no-second-factor" not in client.get(url).get_data(as_text=True)


def test_step_up_page_when_already_stepped_up_goes_straight_on(app, client):
    account_id = verified_with_totp_later(app, client)
    assert submit_code(client, STEP_UP, totp_code(app, account_id)).status_code == 302
    response = client.get(STEP_UP + "?next=/authorize%3Fx%3D1")
    assert response.headers["Location"] == "/authorize?x=1"


def test_next_must_be_a_local_path(app, client):
    account_id = verified_with_totp_later(app, client)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        response = client.get(STEP_UP, query_string={"next": evil})
        assert response.status_code == 200
        assert "evil" not in step_up_action(response.get_data(as_text=True))
    response = submit_code(client, STEP_UP + "?next=https://evil.example/", totp_code(app, account_id))
    assert response.headers["Location"] == "/account"


def test_step_up_needs_a_session_and_a_form_token(app, client):
    response = client.get(STEP_UP + "?next=/authorize")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    account_id = verified_with_totp_later(app, client)
    refused = client.post(STEP_UP, data={"code": totp_code(app, account_id)})
    assert refused.status_code == 400
    assert live_session(app).amr == "pwd"


def test_bad_codes_are_refused_and_throttled(app, client):
    account_id = verified_with_totp_later(app, client)
    for code in ("", "x" * 500, "12345", "\u202e"):
        response = submit_code(client, STEP_UP, code)
        assert response.status_code in (400, 401), (code, response.status_code)
    statuses = [submit_code(client, STEP_UP, wrong_totp_code(app, account_id)).status_code
                for _ in range(8)]
    assert statuses[0] == 401 and statuses[-1] == 429
    response = submit_code(client, STEP_UP, totp_code(app, account_id))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert live_session(app).amr == "pwd"


def test_no_code_is_issued_while_the_step_up_is_pending(app, client):
    portal = registered_portal(app)
    verified_with_totp_later(app, client)
    for _ in range(2):
        step_up_next(client.get(auth_request(portal, claims=essential(ACR[3])).url))
    assert code_count(app) == 0

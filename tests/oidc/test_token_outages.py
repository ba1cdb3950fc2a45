"""A database failure around the commit of /token never turns a committed
exchange into an error, is answered in JSON (RFC 6749 §5.2), never claims that nothing
changed when that is not known, and leaves a retrying portal in a known state
(docs/portal-integration.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import OAuthToken
from idp.services.portals import keys
from idp.web import error_pages
from tests.oidc.flow import (
    citizen,
    exchange,
    obtain_code,
    refresh,
    registered_portal,
    sign_in,
    verify_id_token,
)
from tests.outage import outage


@pytest.fixture
def code(app, client):
    portal = registered_portal(app)
    citizen(app)
    with app.app_context():
        keys.ensure_keys()  # provisioned at deployment (`idp keys rotate`)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile offline_access")
    return portal, code, request.verifier


def hints(app) -> tuple[str, str]:
    """(nothing changed, could not tell) in the language of the answers (Vietnamese)."""
    with app.test_request_context():
        return str(error_pages.ERROR_HINTS[503]), str(error_pages.UNCERTAIN_HINT)


def stored_tokens(app) -> list[OAuthToken]:
    with app.app_context():
        return list(db.session.scalars(select(OAuthToken).order_by(OAuthToken.id)))


def assert_json_503(response) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json["error"] == "temporarily_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    return response.json


def test_a_failure_after_the_commit_still_answers_the_committed_tokens(app, client, code):
    portal, value, verifier = code
    with outage(app, "after_commit"):
        response = exchange(client, portal, value, verifier)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.json["access_token"] and response.json["refresh_token"]
    _, claims = verify_id_token(client, response.json["id_token"])
    assert claims["aud"] == portal.client_id
    [row] = stored_tokens(app)
    assert row.revoked_at is None
    userinfo = client.get("/userinfo", headers={"Authorization": "Bearer " + response.json["access_token"]})
    assert userinfo.status_code == 200


def test_a_failing_teardown_rollback_does_not_replace_the_answer(app, client, code):
    portal, value, verifier = code
    with outage(app, "teardown"):
        response = exchange(client, portal, value, verifier)
    assert response.status_code == 200 and response.json["id_token"]
    # The broken session was dropped: the next request works.
    userinfo = client.get("/userinfo", headers={"Authorization": "Bearer " + response.json["access_token"]})
    assert userinfo.status_code == 200


def test_a_lost_commit_answer_is_a_json_503_that_does_not_claim_nothing_changed(app, client, code):
    portal, value, verifier = code
    nothing_changed, uncertain = hints(app)
    with outage(app, "answer_lost"):
        response = exchange(client, portal, value, verifier)
    body = assert_json_503(response)
    assert uncertain in body["error_description"]
    assert nothing_changed not in body["error_description"]
    # The exchange did commit. The documented retry: invalid_grant, and the tokens that the
    # portal never received are revoked (RFC 6749 §4.1.2); the portal starts a new sign-in.
    retry = exchange(client, portal, value, verifier)
    assert retry.status_code == 400 and retry.json["error"] == "invalid_grant"
    assert [row.revoke_reason for row in stored_tokens(app)] == ["code_replay"]


def test_a_failure_before_any_commit_says_nothing_changed_and_the_code_still_works(app, client, code):
    portal, value, verifier = code
    nothing_changed, uncertain = hints(app)
    with outage(app, "before_commit"):
        response = exchange(client, portal, value, verifier)
    body = assert_json_503(response)
    assert nothing_changed in body["error_description"]
    assert uncertain not in body["error_description"]
    assert stored_tokens(app) == []
    retry = exchange(client, portal, value, verifier)
    assert retry.status_code == 200 and retry.json["id_token"]


def test_a_lost_refresh_answer_is_a_json_503_and_the_retry_is_refused(app, client, code):
    portal, value, verifier = code
    first = exchange(client, portal, value, verifier).json
    _, uncertain = hints(app)
    with outage(app, "answer_lost"):
        response = refresh(client, portal, first["refresh_token"])
    assert uncertain in assert_json_503(response)["error_description"]
    # The rotation committed: presenting the old refresh token again is a reuse; the family
    # (with the new tokens nobody received) is revoked and the portal signs the person in again.
    retry = refresh(client, portal, first["refresh_token"])
    assert retry.status_code == 400 and retry.json["error"] == "invalid_grant"
    assert {row.revoke_reason for row in stored_tokens(app)} == {"refresh_reuse"}


@pytest.mark.parametrize("path", ["/userinfo", "/token/introspect", "/token/revoke"])
def test_other_protocol_endpoints_answer_outages_in_json(app, client, code, path):
    portal, _, _ = code
    auth = portal.auth()
    with outage(app, "before_commit"):
        if path == "/userinfo":
            response = client.get(path, headers={"Authorization": "Bearer x" * 10})
        else:
            response = client.post(path, data={"token": "x" * 43, **auth["data"]},
                                   headers=auth["headers"])
    assert_json_503(response)


def test_a_failure_after_the_sign_out_commit_still_signs_out(app, client):
    from idp.models import LogoutDelivery, UserSession
    from tests.oidc.test_logout import POST_LOGOUT, signed_in_with_tokens

    _, tokens = signed_in_with_tokens(app, client, "https://portal.example.vn/backchannel")
    with outage(app, "after_commit"):  # the back-channel delivery after it cannot even read
        response = client.get("/session/end", query_string={
            "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT})
    assert response.status_code == 302 and response.headers["Location"] == POST_LOGOUT
    with app.app_context():
        assert db.session.scalar(select(UserSession)).revoke_reason == "rp_logout"
        delivery = db.session.scalar(select(LogoutDelivery))
        assert delivery.delivered_at is None and delivery.next_attempt_at is not None  # queued

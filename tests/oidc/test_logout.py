"""RP-initiated logout (oidcc-rp-initiated-logout*) and back-channel logout delivery."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.cli import cli
from idp.extensions import db
from idp.models import LogoutDelivery, OAuthToken, UserSession
from idp.services.portals import backchannel
from tests.conftest import csrf_token
from tests.oidc.flow import citizen, exchange, obtain_code, refresh, registered_portal, sign_in

POST_LOGOUT = "https://portal.example.vn/signed-out"


class Receiver:
    """A portal's back-channel logout endpoint on loopback, recording what it receives."""

    def __init__(self, status: int = 200):
        self.tokens: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                length = int(self.headers["Content-Length"])
                form = parse_qs(self.rfile.read(length).decode())
                receiver.tokens.append(form["logout_token"][0])
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.status = status
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/backchannel"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def signed_in_with_tokens(app, client, receiver_uri=None):  # type: ignore[no-untyped-def]
    portal = registered_portal(app, post_logout_redirect_uris=[POST_LOGOUT],
                               backchannel_logout_uri=receiver_uri)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid offline_access")
    return portal, exchange(client, portal, code, request.verifier).json


def test_logout_with_hint_signs_out_redirects_with_state_and_revokes(app, client):
    portal, tokens = signed_in_with_tokens(app, client)
    response = client.get("/session/end", query_string={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "s-1"})
    assert response.status_code == 302
    assert response.headers["Location"] == POST_LOGOUT + "?state=s-1"
    assert client.get("/account").status_code == 302  # signed out
    assert refresh(client, portal, tokens["refresh_token"]).json["error"] == "invalid_grant"
    with app.app_context():
        assert db.session.scalar(select(UserSession)).revoke_reason == "rp_logout"


def test_logout_without_hint_asks_for_confirmation(app, client):
    signed_in_with_tokens(app, client)
    page = client.get("/session/end")
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert client.get("/account").status_code == 200  # a GET alone changed nothing
    # Confirming without the CSRF token is refused; with it, the person is signed out.
    client.post("/session/end", data={"confirm": "yes"})
    assert client.get("/account").status_code == 200
    token = csrf_token(client, "/session/end")
    done = client.post("/session/end", data={"confirm": "yes", "csrf_token": token})
    assert done.status_code == 200 and client.get("/account").status_code == 302


def test_unregistered_post_logout_redirect_is_not_followed(app, client):
    portal, tokens = signed_in_with_tokens(app, client)
    for query in ({"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
                  {"post_logout_redirect_uri": POST_LOGOUT},  # no client named at all
                  {"client_id": "nobody", "post_logout_redirect_uri": POST_LOGOUT},
                  {"id_token_hint": "garbage"}):
        response = client.get("/session/end", query_string=query)
        assert response.status_code == 400 and "Location" not in response.headers
    assert client.get("/account").status_code == 200


def test_client_id_with_registered_uri_redirects_after_confirmation(app, client):
    portal, _ = signed_in_with_tokens(app, client)
    query = f"client_id={portal.client_id}&post_logout_redirect_uri={POST_LOGOUT}&state=xyz"
    page = client.get("/session/end?" + query)
    assert page.status_code == 200
    token = csrf_token(client, "/session/end?" + query)
    response = client.post("/session/end?" + query, data={"confirm": "yes", "csrf_token": token})
    assert response.headers["Location"] == POST_LOGOUT + "?state=xyz"


def test_back_channel_logout_token_is_delivered(app, client, receiver):
    portal, tokens = signed_in_with_tokens(app, client, receiver.uri)
    client.get("/session/end", query_string={"id_token_hint": tokens["id_token"]})
    assert len(receiver.tokens) == 1
    keys = KeySet.import_key_set(client.get("/jwks.json").json)
    decoded = jwt.decode(receiver.tokens[0], keys)
    claims = decoded.claims
    assert decoded.header["typ"] == "logout+jwt"
    assert claims["aud"] == portal.client_id and claims["iss"] == "http://localhost"
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims and claims["jti"]
    with app.app_context():
        session = db.session.scalar(select(UserSession))
        assert claims["sid"] == session.sid and claims["sub"] == session.account.sub
        delivery = db.session.scalar(select(LogoutDelivery))
        assert delivery.delivered_at is not None and delivery.attempts == 1


def test_own_sign_out_also_notifies_portals(app, client, receiver):
    signed_in_with_tokens(app, client, receiver.uri)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert len(receiver.tokens) == 1


def test_failed_delivery_is_retried_with_back_off(app, client, runner):
    failing = Receiver(status=500)
    try:
        _, tokens = signed_in_with_tokens(app, client, failing.uri)
        client.get("/session/end", query_string={"id_token_hint": tokens["id_token"]})
        with app.app_context():
            delivery = db.session.scalar(select(LogoutDelivery))
            assert delivery.delivered_at is None and delivery.attempts == 1
            assert delivery.last_error == "HTTP 500"
            first_retry = delivery.next_attempt_at
            assert first_retry is not None
            assert backchannel.deliver() == 0  # not due yet
        failing.status = 200
        with app.app_context():
            delivery = db.session.scalar(select(LogoutDelivery))
            delivery.next_attempt_at = first_retry - timedelta(minutes=1)
            db.session.commit()
        result = runner.invoke(cli, ["logout", "deliver"])
        assert result.exit_code == 0 and "delivered 1" in result.output
        with app.app_context():
            delivery = db.session.scalar(select(LogoutDelivery))
            assert delivery.delivered_at is not None and delivery.attempts == 2
            assert len(failing.tokens) == 2
    finally:
        failing.close()


def test_logout_revokes_tokens_of_that_session_only(app, client):
    portal, tokens = signed_in_with_tokens(app, client)
    client.get("/session/end", query_string={"id_token_hint": tokens["id_token"]})
    with app.app_context():
        assert all(t.revoked_at is not None for t in db.session.scalars(select(OAuthToken)))

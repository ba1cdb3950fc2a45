"""A mandate revoked takes effect on every node at once (issue 16: "tokens issued under it stop
working on every node"). The agent's browser signs in for the citizen through the real flow,
each step on another node (the portal's authorize, the sign-in page's staff link, the console
sign-in with password and TOTP, the mandate picked, consent, code, token), the access token
answers /userinfo through two nodes; then the mandate is revoked and /userinfo answers 401
`invalid_token` through every node, and the browser's delegated session is gone everywhere.

The scene (office, clerk, verified citizen, a portal accepting delegated sign-in, the confirmed
mandate) is written into the cluster's database by this process, with the nodes' settings; the
revocation is `identity.acting.end_mandate_in_transaction` on that database, as the citizen's
revoke page or the supervisor's end button run it (their pages are tested apart), while the
nodes keep serving. Nothing is cached on a node that could keep the token alive.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from deploy.cluster.cluster import Cluster
from idp import create_app
from idp.extensions import db
from idp.models import Account, AuditEvent, AuditTag, Mandate, MandateEnder, OAuthClient
from idp.services.identity import acting
from idp.settings import load_settings
from tests.cluster.browser import REDIRECT_URI, Browser, Portal, csrf_of, location, pkce
from tests.cluster.conftest import register
from tests.counter.act_cast import mandate
from tests.counter.staff_signin import code_at
from tests.factories import second_citizen
from tests.oidc.flow import consent_action
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk, post_office

NODES = ["idp1", "idp2", "idp3"]
STAFF_LINK = re.compile(r'<a href="(/counter/act\?next=[^"]+)">')


@pytest.fixture(scope="module")
def shared(cluster: Cluster) -> Iterator[Flask]:
    """An application of this process on the cluster's database, with the nodes' settings (the
    key-encryption key that seals the clerk's TOTP secret is theirs)."""
    app = create_app(load_settings("test", environ=cluster.env))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def scene(cluster: Cluster, app: Flask) -> tuple[Portal, int, str, str]:
    """A portal accepting delegated sign-in for social insurance, a clerk of a new office, a
    verified citizen and a confirmed mandate: (portal, citizen id, mandate id, clerk username)."""
    portal = register(cluster, "Cổng bảo hiểm xã hội của cụm")
    with app.app_context():
        client = db.session.scalars(select(OAuthClient).filter_by(
            client_id=portal.client_id)).one()
        client.accepts_delegation, client.procedures = True, ["social_insurance"]
        office = post_office(code="HN-CUM", name="Bưu cục cụm thử")
        clerk = enrolled_clerk(office, username="clerk-cum", national_id="001085000077")
        citizen = second_citizen()
        citizen.identity_loa = 2
        db.session.commit()
        citizen_id, clerk_id, username = citizen.id, clerk.id, clerk.username
    return portal, citizen_id, mandate(app, citizen_id, clerk_id), username


def delegated_sign_in(browser: Browser, portal: Portal, public_id: str, username: str
                      ) -> dict[str, str]:
    """The agent's browser, from the portal's button to the tokens; each step on the next node."""
    route = iter(NODES * 5)
    verifier, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": portal.client_id,
                       "redirect_uri": REDIRECT_URI, "scope": "openid profile", "state": "s1",
                       "nonce": "n1", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    login = location(browser.call("authorize", "GET", "/authorize?" + query, node=next(route),
                                  expect=302))
    page = browser.call("login page", "GET", login, node=next(route)).text
    act_url = html.unescape(STAFF_LINK.search(page).group(1))  # type: ignore[union-attr]
    counter_login = location(browser.call("act", "GET", act_url, node=next(route), expect=302))
    page = browser.call("counter login page", "GET", counter_login, node=next(route)).text
    mfa = location(browser.call("counter login", "POST", counter_login, node=next(route),
                                expect=302, data={"csrf_token": csrf_of(page),
                                                  "username": username,
                                                  "password": STAFF_PASSWORD}))
    page = browser.call("counter code page", "GET", mfa, node=next(route)).text
    back = location(browser.call("counter code", "POST", mfa, node=next(route), expect=302,
                                 data={"csrf_token": csrf_of(page), "code": code_at()}))
    assert back == act_url
    page = browser.call("mandates", "GET", act_url, node=next(route)).text
    assert public_id in page
    resume = location(browser.call("pick", "POST", act_url, node=next(route), expect=303,
                                   data={"csrf_token": csrf_of(page), "mandate": public_id}))
    answer = browser.call("authorize again", "GET", resume, node=next(route), expect=(200, 302))
    if answer.status_code == 200:  # consent
        answer = browser.call("consent", "POST", consent_action(answer.text), node=next(route),
                              expect=302, data={"csrf_token": csrf_of(answer.text),
                                                "decision": "allow"})
    params = {k: v[0] for k, v in parse_qs(urlsplit(location(answer)).query).items()}
    assert params.get("state") == "s1" and "code" in params, params
    return browser.call("token", "POST", "/token", node=next(route), auth=portal.auth, data={
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json()


def test_a_revoked_mandate_stops_its_tokens_on_every_node(cluster: Cluster, shared: Flask) -> None:
    portal, citizen_id, public_id, username = scene(cluster, shared)
    browser = Browser(cluster.url)
    tokens = delegated_sign_in(browser, portal, public_id, username)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    for node in ("idp1", "idp2"):
        answer = browser.call("userinfo", "GET", "/userinfo", node=node, headers=bearer)
        assert answer.headers["X-PostID-Node"] == node
        assert answer.json()["name"] == "Trần Thị Bích Ngọc"

    with shared.app_context():  # the citizen revokes it, while the nodes serve
        row = db.session.scalars(select(Mandate).filter_by(public_id=public_id)).one()
        assert acting.end_mandate_in_transaction(row, by=MandateEnder.CITIZEN) is not None
        db.session.commit()

    for node in NODES:
        answer = browser.call("userinfo", "GET", "/userinfo", node=node, expect=401,
                              headers=bearer)
        assert answer.headers["X-PostID-Node"] == node
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
        # The delegated session went with it: the portal's request asks for a sign-in again.
        query = urlencode({"response_type": "code", "client_id": portal.client_id,
                           "redirect_uri": REDIRECT_URI, "scope": "openid", "state": "s2",
                           "code_challenge": pkce()[1], "code_challenge_method": "S256"})
        again = browser.call("authorize", "GET", "/authorize?" + query, node=node, expect=302)
        assert urlsplit(location(again)).path == "/login"
    with shared.app_context():
        revoke = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.MANDATE_REVOKE.value)).one()
        account = db.session.get(Account, citizen_id)
        assert revoke.account_id == citizen_id and account is not None
        assert revoke.data["mandate"] == public_id

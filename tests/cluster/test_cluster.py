"""Three nodes behind HAProxy, driven over HTTP: what one node does, every node knows at once.

A step's node is chosen with the X-PostID-Node request header (the local cluster's HAProxy
honours it, deploy/cluster/proxy.py) rather than left to round-robin: other requests in flight
(HAProxy's own health checks are not, but retries are) would shift round-robin's turn, and the
test must know, not hope, that consecutive steps met different nodes. Every answer names its
node, which each test asserts.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.cluster.browser import Browser, csrf_of, sign_in
from tests.cluster.conftest import KEY_CACHE_SECONDS, LOGIN_IP_LIMIT, register

NODES = ["idp1", "idp2", "idp3"]


def test_each_step_of_a_sign_in_lands_on_another_node(cluster, portal):
    browser = Browser(cluster.url)
    signed_in = sign_in(browser, portal, NODES)
    steps = [(step.name, step.node) for step in signed_in.steps]
    assert [name for name, _ in steps] == ["authorize", "login page", "login", "authorize again",
                                           "consent", "token", "userinfo", "logout"]
    assert [node for _, node in steps] == (NODES * 3)[:8]
    assert signed_in.userinfo["sub"] == jwt.decode(signed_in.tokens["id_token"], public_keys(
        cluster.url, "idp1")).claims["sub"]
    # Signed out on every node: the account page sends the browser back to sign in.
    for node in NODES:
        answer = browser.call("account", "GET", "/account", node=node, expect=302)
        assert urlsplit(answer.headers["Location"]).path == "/login"


def test_the_per_address_login_limit_is_counted_across_nodes(cluster):
    browser = Browser(cluster.url)
    page = browser.call("login page", "GET", "/login", node="idp1").text
    form = {"csrf_token": csrf_of(page), "password": "not-the-password"}

    def attempt(number: int, node: str) -> int:
        # A new unknown identifier each time (no per-account throttle), and a forged
        # X-Forwarded-For each time: HAProxy drops it, or each would be counted apart.
        return browser.call("login", "POST", "/login", node=node, expect=(401, 429),
                            headers={"X-Forwarded-For": f"203.0.113.{number}"},
                            data={**form, "identifier": f"0010990{number:05d}"}).status_code

    counted = [attempt(n, NODES[n % 3]) for n in range(LOGIN_IP_LIMIT)]
    assert counted == [401] * LOGIN_IP_LIMIT  # wrong password, counted on the three nodes
    assert [attempt(LOGIN_IP_LIMIT + n, node) for n, node in enumerate(NODES)] == [429] * 3
    # Another client address (HAProxy's X-Forwarded-For), on the same node, is not held back.
    other = Browser(cluster.url)
    page = other.call("login page", "GET", "/login", node="idp3").text
    other.call("login", "POST", "/login", node="idp3", expect=401, data={
        "csrf_token": csrf_of(page), "password": "x", "identifier": "001099099999"})


def public_keys(base: str, node: str) -> KeySet:
    response = requests.get(base + "/jwks.json", headers={"X-PostID-Node": node}, timeout=10)
    assert response.headers["X-PostID-Node"] == node
    return KeySet.import_key_set(response.json())


def kids(base: str, node: str) -> set[str]:
    return {key.kid for key in public_keys(base, node)}  # type: ignore[misc]


def test_a_key_rotation_reaches_every_node_within_the_key_cache(cluster, portal):
    before = {node: kids(cluster.url, node) for node in NODES}  # every node's snapshot now
    assert len({frozenset(k) for k in before.values()}) == 1
    rotated = json.loads(cluster.idp("keys", "rotate", "--alg", "RS256", "--json").stdout)
    started, seen = time.monotonic(), {}
    while len(seen) < len(NODES) and time.monotonic() - started < KEY_CACHE_SECONDS + 5:
        for node in set(NODES) - set(seen):
            if rotated["next"] in kids(cluster.url, node):
                seen[node] = time.monotonic() - started
        time.sleep(0.1)
    assert set(seen) == set(NODES), seen
    assert max(seen.values()) <= KEY_CACHE_SECONDS + 1, seen
    # The new current key signs on every node; the ID token verifies with every node's JWKS.
    for node in NODES:
        signed_in = sign_in(Browser(cluster.url), portal, [node])
        token = signed_in.tokens["id_token"]
        for verifier in NODES:
            assert jwt.decode(token, public_keys(cluster.url, verifier)).header["kid"] == rotated["current"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}


def test_a_revoked_token_and_a_disabled_client_are_refused_by_every_node_at_once(cluster):
    portal = register(cluster, "Cổng sẽ bị tắt", scope="openid profile offline_access")
    browser = Browser(cluster.url)
    tokens = sign_in(browser, portal, ["idp1"], scope="openid profile offline_access",
                     logout=False).tokens
    revoked = sign_in(Browser(cluster.url), portal, ["idp2"], logout=False).tokens["access_token"]

    def introspect(token: str, node: str, expect: int = 200) -> requests.Response:
        return browser.call("introspect", "POST", "/token/introspect", node=node, expect=expect,
                            auth=portal.auth, data={"token": token})

    for node in NODES:
        assert introspect(revoked, node).json()["active"] is True
        browser.call("userinfo", "GET", "/userinfo", node=node, headers=bearer(revoked))
    browser.call("revoke", "POST", "/token/revoke", node="idp1", auth=portal.auth,
                 data={"token": revoked, "token_type_hint": "access_token"})
    for node in NODES:
        browser.call("userinfo", "GET", "/userinfo", node=node, expect=401, headers=bearer(revoked))
        assert introspect(revoked, node).json() == {"active": False}

    for node in NODES:
        browser.call("userinfo", "GET", "/userinfo", node=node, headers=bearer(tokens["access_token"]))
        assert introspect(tokens["access_token"], node).json()["active"] is True
        tokens = {**tokens, **browser.call("token", "POST", "/token", node=node, auth=portal.auth, data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()}
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    cluster.idp("clients", "disable", portal.client_id)
    for node in NODES:
        browser.call("userinfo", "GET", "/userinfo", node=node, expect=401,
                     headers=bearer(tokens["access_token"]))
        assert introspect(tokens["access_token"], node, expect=401).json()["error"] == "invalid_client"
        answer = browser.call("token", "POST", "/token", node=node, expect=401, auth=portal.auth,
                              data=refresh)
        assert answer.json()["error"] == "invalid_client"

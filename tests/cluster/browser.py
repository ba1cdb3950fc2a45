"""A browser and a portal over real HTTP, through the cluster's HAProxy.

Each Browser connects from an address of its own in 127.0.0.0/8 (all of it is loopback on
Linux), so HAProxy's X-Forwarded-For gives every simulated person their own client address: the
per-address limit of one test does not count the requests of another. A step may name the node
that must serve it (the X-PostID-Node request header of the local cluster's HAProxy); every
answer names the node that served it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from deploy.cluster.proxy import NODE_HEADER
from tests.conftest import CSRF_RE
from tests.oidc.flow import consent_action

# Never requested: the browser stops at the redirect, as a portal's callback would take over.
REDIRECT_URI = "http://127.0.0.1:9/callback"
POST_LOGOUT_URI = "http://127.0.0.1:9/signed-out"
DEMO_ID, DEMO_PASSWORD = "001099012345", "Hoa-sen-demo-2026"  # idp demo seed
LOGIN_FORM_RE = re.compile(r'<form method="post" action="([^"]+)" novalidate>')
INPUT_RE = re.compile(r"<input [^>]*>")

# A second octet per run: the rate-limit counters of an earlier run (kept a minute in Redis)
# never meet this run's addresses.
_addresses = (f"127.{random.randint(2, 254)}.{n // 250}.{n % 250 + 1}" for n in itertools.count())


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


@dataclass
class Portal:
    client_id: str
    client_secret: str

    @property
    def auth(self) -> tuple[str, str]:
        return self.client_id, self.client_secret


@dataclass
class Step:
    name: str
    node: str | None  # the node that answered (None: no answer)
    status: int | None
    started: float  # time.monotonic()
    error: str | None = None  # why there was no answer


class StepFailed(Exception):
    def __init__(self, step: Step, detail: str) -> None:
        super().__init__(f"{step.name}: {detail}")
        self.step = step


@dataclass
class Browser:
    base: str
    address: str = field(default_factory=lambda: next(_addresses))
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.mount("http://", _FromAddress(self.address))

    def call(self, name: str, method: str, url: str, *, node: str | None = None,
             expect: int | tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response:
        """One request; `node`: the node that must serve it. Raises StepFailed on another
        status (or no answer), with the step recorded either way."""
        headers = {**kwargs.pop("headers", {}), **({NODE_HEADER: node} if node else {})}
        step = Step(name, None, None, time.monotonic())
        self.steps.append(step)
        try:
            response = self.session.request(method, urljoin(self.base, url), headers=headers,
                                            allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException as error:
            step.error = repr(error)
            raise StepFailed(step, f"no answer ({error!r})") from None
        step.node, step.status = response.headers.get(NODE_HEADER), response.status_code
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            raise StepFailed(step, f"{response.status_code} from {step.node}: {response.text[:200]!r}")
        return response


@dataclass
class SignedIn:
    tokens: dict[str, Any]
    userinfo: dict[str, Any]
    steps: list[Step]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_of(page: str) -> str:
    match = CSRF_RE.search(page)
    assert match, "no CSRF token"
    return match.group(1) or match.group(2)


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's forms (the CSRF token, the sign-in form's `next`)."""
    fields = {}
    for tag in INPUT_RE.findall(page):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return fields


def location(response: requests.Response) -> str:
    return response.headers["Location"]


def sign_in(browser: Browser, portal: Portal, nodes: list[str | None] | None = None, *,
            scope: str = "openid profile", logout: bool = True) -> SignedIn:
    """The authorization code flow with PKCE as a person and a portal go through it: authorize,
    the sign-in form (GET for its CSRF token, POST), consent when asked, the code at /token,
    userinfo, then RP-initiated logout. `nodes`: the node of each step in turn (None: HAProxy
    chooses), cycled."""
    route = itertools.cycle(nodes or [None])
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(8)
    query = urlencode({"response_type": "code", "client_id": portal.client_id,
                       "redirect_uri": REDIRECT_URI, "scope": scope, "state": state,
                       "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    login = location(browser.call("authorize", "GET", "/authorize?" + query, node=next(route), expect=302))
    page = browser.call("login page", "GET", login, node=next(route)).text
    action = html.unescape(LOGIN_FORM_RE.search(page).group(1))  # type: ignore[union-attr]
    back = browser.call("login", "POST", action, node=next(route), expect=302,
                        data={**hidden_fields(page), "identifier": DEMO_ID,
                              "password": DEMO_PASSWORD})
    answer = browser.call("authorize again", "GET", location(back), node=next(route), expect=(200, 302))
    if answer.status_code == 200:  # consent asked (the first time for this portal)
        answer = browser.call("consent", "POST", consent_action(answer.text), node=next(route),
                              expect=302, data={"csrf_token": csrf_of(answer.text), "decision": "allow"})
    callback = location(answer)
    assert callback.startswith(REDIRECT_URI), callback
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert params["state"] == state and "code" in params, params
    tokens = browser.call("token", "POST", "/token", node=next(route), auth=portal.auth, data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier}).json()
    userinfo = browser.call("userinfo", "GET", "/userinfo", node=next(route),
                            headers={"Authorization": "Bearer " + tokens["access_token"]}).json()
    if logout:
        ended = browser.call("logout", "GET", "/session/end?" + urlencode({
            "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "bye"}), node=next(route), expect=302)
        assert location(ended) == POST_LOGOUT_URI + "?state=bye"
    return SignedIn(tokens, userinfo, browser.steps)

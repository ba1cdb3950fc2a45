"""The operations an operator sizes for, driven through the application (Flask test client),
with every database statement they send recorded: shared by the sizing benchmarks in `bench/`
(query_counts.py, latency.py) and the query-plan test (tests/ops/test_hot_query_plans.py).

Each scenario prepares what it needs first (outside the recording), then records exactly one
operation: a sign-in through the browser flow, the sign-in POST alone, a code exchange, a
refresh, a userinfo call, an introspection.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from idp.extensions import db

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CONSENT_RE = re.compile(r'<form method="post" action="([^"]+)" class="button-row">')
REDIRECT_URI = "https://portal.example.vn/callback"
PASSWORD = "correct horse battery staple"


@dataclass
class Statement:
    sql: str
    parameters: Any
    kind: str  # "read", "write" or "other"


@dataclass
class Recording:
    statements: list[Statement] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for s in self.statements if s.kind == kind)


def kind_of(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if verb in ("SELECT", "WITH"):
        return "read"
    if verb in ("INSERT", "UPDATE", "DELETE"):
        return "write"
    return "other"


class Recorder:
    """Every statement, commit and rollback the engine sends while `recording()` is open."""

    def __init__(self, engine: Engine) -> None:
        self.current: Recording | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any,
                   _executemany: bool) -> None:
        if self.current is not None:
            self.current.statements.append(Statement(sql, parameters, kind_of(sql)))

    def _commit(self, _conn: Any) -> None:
        if self.current is not None:
            self.current.commits += 1

    def _rollback(self, _conn: Any) -> None:
        if self.current is not None:
            self.current.rollbacks += 1

    @contextmanager
    def recording(self) -> Iterator[Recording]:
        self.current = Recording()
        try:
            yield self.current
        finally:
            self.current = None


@dataclass
class Portal:
    client_id: str
    client_secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_portal(app: Flask, *, client_id: str = "ops-portal") -> Portal:
    from idp.services.portals import keys
    from idp.services.portals.clients import register_client

    secret = "ops-portal-secret-" + secrets.token_hex(16)
    with app.app_context():
        register_client(name="Cổng dịch vụ công thử", redirect_uris=[REDIRECT_URI],
                        scope="openid profile email phone offline_access",
                        client_id=client_id, client_secret=secret)
        keys.ensure_keys()
    return Portal(client_id, secret)


def _csrf(page: str) -> str:
    match = CSRF_RE.search(page)
    assert match, "no CSRF token"
    return match.group(1) or match.group(2)


def _pkce() -> tuple[str, str]:
    import hashlib

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _authorize_url(portal: Portal, challenge: str, scope: str) -> str:
    return "/authorize?" + urlencode({
        "response_type": "code", "client_id": portal.client_id, "redirect_uri": REDIRECT_URI,
        "scope": scope, "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256"})


def _code_from(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)["code"][0]


@dataclass
class Steps:
    """One sign-in through the browser, step by step, each step its own callable so that a
    caller can record (or time) any of them."""

    client: FlaskClient
    portal: Portal
    identifier: str
    scope: str = "openid profile email phone offline_access"
    verifier: str = ""
    url: str = ""
    login_path: str = ""
    csrf: str = ""
    consent_path: str = ""
    consent_csrf: str = ""
    code: str = ""
    tokens: dict[str, Any] = field(default_factory=dict)

    def authorize(self) -> None:
        self.verifier, challenge = _pkce()
        self.url = _authorize_url(self.portal, challenge, self.scope)
        response = self.client.get(self.url)
        assert response.status_code == 302, response.status_code
        self.login_path = response.headers["Location"]

    def login_page(self) -> None:
        response = self.client.get(self.login_path)
        assert response.status_code == 200, response.status_code
        self.csrf = _csrf(response.get_data(as_text=True))

    def login_post(self) -> None:
        target = urlsplit(self.login_path)  # the form posts back to its own URL
        response = self.client.post(f"{target.path}?{target.query}",
                                    data={"csrf_token": self.csrf, "identifier": self.identifier,
                                          "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    def authorize_again(self) -> None:
        """Back at /authorize signed in: the consent page, or (consent standing) the code."""
        response = self.client.get(self.url)
        if response.status_code == 302:
            self.code = _code_from(response)
            return
        assert response.status_code == 200, response.status_code
        page = response.get_data(as_text=True)
        found = CONSENT_RE.search(page)
        assert found, "no consent form"
        self.consent_path, self.consent_csrf = html.unescape(found.group(1)), _csrf(page)

    def consent(self) -> None:
        if self.code:
            return  # consent was standing: no page was shown
        response = self.client.post(self.consent_path, data={"csrf_token": self.consent_csrf,
                                                             "decision": "allow"})
        self.code = _code_from(response)

    def token(self) -> None:
        response = self.client.post("/token", headers=self.portal.basic(), data={
            "grant_type": "authorization_code", "code": self.code, "redirect_uri": REDIRECT_URI,
            "code_verifier": self.verifier})
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
        self.tokens = response.json or {}

    def all(self) -> list[tuple[str, Callable[[], None]]]:
        return [("GET /authorize", self.authorize), ("GET /login", self.login_page),
                ("POST /login", self.login_post), ("GET /authorize (signed in)", self.authorize_again),
                ("POST consent", self.consent), ("POST /token (code)", self.token)]


def signed_in_tokens(app: Flask, portal: Portal, identifier: str) -> dict[str, Any]:
    """A whole sign-in, unrecorded: the tokens a portal holds afterwards."""
    steps = Steps(app.test_client(), portal, identifier)
    for _name, step in steps.all():
        step()
    return steps.tokens


def refresh(client: FlaskClient, portal: Portal, refresh_token: str) -> dict[str, Any]:
    response = client.post("/token", headers=portal.basic(), data={
        "grant_type": "refresh_token", "refresh_token": refresh_token})
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    return response.json or {}


def userinfo(client: FlaskClient, access_token: str) -> None:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.status_code


def introspect(client: FlaskClient, portal: Portal, token: str) -> None:
    response = client.post("/token/introspect", headers=portal.basic(), data={"token": token})
    assert response.status_code == 200 and (response.json or {}).get("active") is True


def recorder_for(app: Flask) -> Recorder:
    with app.app_context():
        return Recorder(db.engine)

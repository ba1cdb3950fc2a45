"""Discovery and the JWK Set as static documents: bytes, headers and an ETag computed once per
content, answered by a fast path before Flask (docs/architecture.md §5, "Public documents").

Every portal and proxy fetches these two documents; they change only with the settings (a
restart) or a key rotation. So they are served as precomputed bytes with a strong ETag
(RFC 9110 §8.8.3): a client that sends it back in If-None-Match gets 304 with no body
(RFC 9110 §13.1.2, weak comparison), and Cache-Control lets portals and shared caches keep
them — 300 s for discovery, 60 s for the JWKS, because a NEXT key is published a whole rotation
before it signs (idp.services.portals.keys).

`PublicDocuments` answers a plain GET or HEAD of either path (no query string) without routing,
hooks or a database session: profiled, the Flask path spent ~0.3 ms per request on limiter
bookkeeping, hooks and headers around a body that never changes (bench/README.md, issue 14).
Anything else (a query string, another method) goes through Flask, which answers with the same
document through the same code (`answer`), so the two paths cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from werkzeug.http import parse_etags

from idp.oidc.discovery import metadata
from idp.services.portals import keys
from idp.web.route_log import ROUTE_ENVIRON_KEY
from idp.web.security_headers import page_headers

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"
DISCOVERY_MAX_AGE = 300
JWKS_MAX_AGE = 60
_STATUS = {200: "200 OK", 304: "304 Not Modified"}
Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class StaticDocument:
    body: bytes
    etag: str  # unquoted
    headers: tuple[tuple[str, str], ...]  # of a 304; a 200 adds Content-Type and Content-Length

    @classmethod
    def of(cls, data: Any, *, mimetype: str, max_age: int) -> StaticDocument:
        body = json.dumps(data, separators=(",", ":")).encode()
        etag = hashlib.sha256(body).hexdigest()[:32]
        headers = (
            ("ETag", f'"{etag}"'),
            ("Cache-Control", f"public, max-age={max_age}"),
            # Public: any origin may read them (no credentials involved).
            ("Access-Control-Allow-Origin", "*"),
            *page_headers(),
        )
        return cls(body, etag, (("Content-Type", mimetype), *headers))

    def answer(self, if_none_match: str | None) -> Answer:
        """(status, headers, body) for a GET with this If-None-Match header."""
        if if_none_match and parse_etags(if_none_match).contains_weak(self.etag):
            return 304, [h for h in self.headers if h[0] != "Content-Type"], b""
        return 200, [*self.headers, ("Content-Length", str(len(self.body)))], self.body


def discovery_document() -> StaticDocument:
    """Built once per process: metadata depends only on the settings."""
    document: StaticDocument | None = current_app.extensions.get("idp.discovery.document")
    if document is None:
        document = StaticDocument.of(metadata(), mimetype="application/json",
                                     max_age=DISCOVERY_MAX_AGE)
        current_app.extensions["idp.discovery.document"] = document
    return document


def jwks_document() -> StaticDocument:
    """Rebuilt when the key snapshot changes (a rotation seen by this node, an expiry)."""
    published = keys.public_jwks()
    if not published["keys"]:
        # First start without `idp demo seed`/`idp keys rotate`: create the rings now so that
        # a portal never sees an empty key set.
        keys.ensure_keys()
        published = keys.public_jwks()
    cached = current_app.extensions.get("idp.jwks.document")
    if cached is None or cached[0] is not published:
        cached = (published, StaticDocument.of(published, mimetype="application/jwk-set+json",
                                               max_age=JWKS_MAX_AGE))
        current_app.extensions["idp.jwks.document"] = cached
    document: StaticDocument = cached[1]
    return document


DOCUMENTS: dict[str, Callable[[], StaticDocument]] = {
    DISCOVERY_PATH: discovery_document,
    JWKS_PATH: jwks_document,
}


class PublicDocuments:
    """WSGI middleware answering plain GET/HEAD of the public documents before Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        build = DOCUMENTS.get(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if build is None or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        try:
            with self.app.app_context():
                status, headers, body = build().answer(environ.get("HTTP_IF_NONE_MATCH"))
        except Exception:
            # E.g. the database is down while the key snapshot is refreshed: Flask's view tries
            # again and its error handlers answer (503 for a backing service), never the
            # server's bare 500.
            return self.wsgi_app(environ, start_response)
        environ[ROUTE_ENVIRON_KEY] = environ["PATH_INFO"]  # the access log names the route
        start_response(_STATUS[status], headers)
        return [] if method == "HEAD" else [body]

"""What the log may say about a request besides its id: the route pattern, for every log line
about it (the access log of `idp serve`, idp.cli.waitress_worker, and the error log,
idp.web.error_pages), and the portal a protocol request names (its client_id).

The path itself is not logged: it carries secrets (/recover/link/<token>, /register/email/<token>,
/contact/email/confirm/<token>) and, percent-decoded, characters that could forge log lines.
The pattern (`/recover/link/<token>`) says which page was asked for and nothing more.
"""

from __future__ import annotations

import re

from flask import request

# WSGI environ keys; the environ dict is shared with the server that wraps the app.
ROUTE_ENVIRON_KEY = "idp.route"
CLIENT_ID_ENVIRON_KEY = "idp.client_id"
# The blueprints of the protocol endpoints (authorize, token, revocation, introspection,
# userinfo, logout), whose requests name a portal.
PROTOCOL_BLUEPRINTS = ("oidc", "oidc_logout")
# The characters a client_id may have (idp.services.portals.clients): anything else is not a
# portal's id, and is not written to the log.
LOGGABLE_CLIENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def record_route() -> None:
    if request.url_rule is not None:
        request.environ[ROUTE_ENVIRON_KEY] = request.url_rule.rule


def record_client_id(_exc: BaseException | None = None) -> None:
    """At the end of a protocol request: the client_id it names, from HTTP Basic client
    authentication (RFC 6749 §2.3.1), the query or an already-read form. Never reads a body
    the view did not read (it may be too large, or not a form)."""
    if request.blueprint not in PROTOCOL_BLUEPRINTS:
        return
    named = request.args.get("client_id")
    if "form" in request.__dict__:  # the view parsed the body (a cached property)
        named = request.form.get("client_id") or named
    authorization = request.authorization
    if authorization is not None and authorization.type == "basic" and authorization.username:
        named = authorization.username
    if named and LOGGABLE_CLIENT_ID.fullmatch(named):
        request.environ[CLIENT_ID_ENVIRON_KEY] = named


def route_pattern() -> str:
    """The pattern of the page asked for, or "-" for a path that matches none."""
    return request.url_rule.rule if request.url_rule is not None else "-"

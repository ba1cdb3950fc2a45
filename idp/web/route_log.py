"""The route pattern of a request, for the access log of `idp serve` (idp.cli.waitress_worker).

The path itself is not logged: it carries secrets (/recover/link/<token>, /register/email/<token>,
/contact/email/confirm/<token>) and, percent-decoded, characters that could forge log lines.
The pattern (`/recover/link/<token>`) says which page was asked for and nothing more.
"""

from __future__ import annotations

from flask import request

# WSGI environ key; the environ dict is shared with the server that wraps the app.
ROUTE_ENVIRON_KEY = "idp.route"


def record_route() -> None:
    if request.url_rule is not None:
        request.environ[ROUTE_ENVIRON_KEY] = request.url_rule.rule

"""The route pattern of a request, for every log line about it: the access log of `idp serve`
(idp.cli.waitress_worker) and the error log (idp.web.error_pages).

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


def route_pattern() -> str:
    """The pattern of the page asked for, or "-" for a path that matches none."""
    return request.url_rule.rule if request.url_rule is not None else "-"

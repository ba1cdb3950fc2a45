"""Every request gets an id: the one the proxy in front sent (`X-Request-ID`, deploy/haproxy.cfg
sets one when the client did not) if it is a sane value, otherwise a new one. It is answered in
the response's `X-Request-ID`, written in the access log line and carried by every log line
written while the request is served (idp.logs), so a request can be followed from the proxy's
log to the node's.

A sane id is short and of safe characters only: the header comes from the client when no proxy
is in front, and a log line must not carry whatever a client chose to put there.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from idp.logs import current_request_id

HEADER = "X-Request-ID"
# WSGI environ key; the environ dict is shared with the server that wraps the app.
REQUEST_ID_ENVIRON_KEY = "idp.request_id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(environ: dict[str, Any]) -> str:
    offered = environ.get("HTTP_X_REQUEST_ID", "")
    if SANE_REQUEST_ID.fullmatch(offered):
        return str(offered)
    return secrets.token_hex(16)


class RequestId:
    """WSGI middleware, outermost in create_app: the id exists before anything can log."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request_id = environ[REQUEST_ID_ENVIRON_KEY] = request_id_of(environ)
        # Set for the thread that runs the request (waitress runs each on one of its threads);
        # the next request this thread runs sets its own.
        current_request_id.set(request_id)

        def with_request_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        return self.app(environ, with_request_id)

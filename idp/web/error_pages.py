"""One place that renders every error that escapes a view.

Services raise `idp.errors.IdpError` subclasses; views turn the expected ones into form errors.
Whatever escapes a view is rendered here as HTML for people or JSON for programs (RFC 6749 §5.2
shape: `error`, `error_description`), never with raw input echoed back and never as a stack trace.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response, g, has_request_context, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from idp.domain.errors import N_
from idp.errors import IdpError, Throttled
from idp.web.route_log import route_pattern

# The error log keeps the name it had before the pages moved here: log filters select it.
log = logging.getLogger("idp.errors")


# /token (also /token/revoke and /token/introspect), /userinfo and /jwks.json are for programs:
# RFC 6749 §5.2 and RFC 6750 §3 errors are JSON, outages included.
JSON_PREFIXES = ("/api/", "/counter/api/", "/.well-known/", "/oauth/", "/healthz", "/readyz", "/token",
                 "/userinfo", "/jwks.json")
# The counter API documents its own error shape (docs/counter-api.openapi.json: `message`).
COUNTER_API_PREFIX = "/counter/api/"
# Token responses, errors included, must not be cached (RFC 6749 §5.1, §5.2).
NO_STORE_PREFIXES = ("/token", "/userinfo")

ERROR_TITLES = {
    400: lazy_gettext("The request could not be understood"),
    403: lazy_gettext("Access denied"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("This action is not allowed here"),
    413: lazy_gettext("The request is too large"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong on our side"),
    503: lazy_gettext("The service is temporarily unavailable"),
}
ERROR_HINTS = {
    404: lazy_gettext("Check the address, or go back to the start page."),
    429: lazy_gettext("Please wait a few minutes, then try again."),
    500: lazy_gettext("Please try again in a moment. Your data has not been changed."),
    503: lazy_gettext("Please try again in a moment. Your data has not been changed."),
}
# Once this request has sent a COMMIT, its fate is unknown when the failure came after it (the
# answer to the COMMIT may be what was lost): never claim that nothing changed then.
UNCERTAIN_HINT = lazy_gettext(
    "We could not tell whether your request was completed. Check before you try again.")
CSRF_HINT = N_("This form has expired. Go back, reload the page and try again.")


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def mark_commit_attempt(_session: object) -> None:
    """Session `before_commit` listener (installed by create_app): remembers for the error
    handlers that this request may have changed something."""
    if has_request_context():
        g.commit_attempted = True


def _failure_hint(status: int) -> str | None:
    if status >= 500 and has_request_context() and g.get("commit_attempted"):
        return str(UNCERTAIN_HINT)
    hint = ERROR_HINTS.get(status)
    return str(hint) if hint else None


def _render(status: int, error: str, hint: str | None) -> Response:
    if wants_json():
        title = str(ERROR_TITLES.get(status, error))
        # Outages tell a program what they tell a person: whether anything may have changed.
        description = f"{title}. {hint}" if status >= 500 and hint else title
        if request.path.startswith(COUNTER_API_PREFIX):
            response = jsonify(error=error, message=description)
        else:
            response = jsonify(error=error, error_description=description)
        if request.path.startswith(NO_STORE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
    else:
        title = ERROR_TITLES.get(status) or ERROR_TITLES[400 if status < 500 else 500]
        try:
            body = render_template("errors/error.html", status=status, title=title, hint=hint)
        except Exception:  # the page itself failed: still answer, plainly
            log.exception("error page could not be rendered")
            body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
        response = Response(body, mimetype="text/html")
    response.status_code = status
    return response


def handle_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, CSRFError):
        return _render(400, "invalid_request", gettext(CSRF_HINT))
    response = _render(status, _wire_code(status), _failure_hint(status))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        response.headers["Retry-After"] = str(_limit_wait())
    return response


def _limit_wait() -> int:
    """Seconds until the per-address limit that refused this request lets one through."""
    from idp.extensions import limiter

    limit = limiter.current_limit
    return max(1, math.ceil(limit.window.reset_time - time.time())) if limit is not None else 60


def handle_idp_error(exc: IdpError) -> Response:
    response = _render(exc.status, exc.code, gettext(exc.message))
    if isinstance(exc, Throttled):  # views answer their own; this is for one that escapes
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def handle_unavailable(exc: Exception) -> Response:
    """A backing service (database, Redis) is down: 503, so load balancers and people retry."""
    # The route pattern, not the path: paths carry tokens (/recover/link/<token>).
    log.error("backing service unavailable on %s %s: %s", request.method, route_pattern(),
              type(exc).__name__)
    response = _render(503, "temporarily_unavailable", _failure_hint(503))
    response.headers["Retry-After"] = "30"
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, route_pattern())
    return handle_http_error(InternalServerError())


def _wire_code(status: int) -> str:
    return {
        400: "invalid_request",
        401: "unauthorized",
        403: "access_denied",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
        414: "uri_too_long",
        429: "slow_down",
    }.get(status, "server_error" if status >= 500 else "invalid_request")


def init_app(app: Flask) -> None:
    from sqlalchemy import event

    from idp.extensions import db

    factory = db.session.session_factory
    if not event.contains(factory, "before_commit", mark_commit_attempt):
        event.listen(factory, "before_commit", mark_commit_attempt)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IdpError, handle_idp_error)
    app.register_error_handler(Exception, handle_unexpected)
    for unavailable in _unavailable_errors():
        app.register_error_handler(unavailable, handle_unavailable)


def _unavailable_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)

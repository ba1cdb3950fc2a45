"""The one access rule of the counter console and the counter API (docs/architecture.md §2, §8).

Console (/counter): every page needs a live web session of an active staff member with the
TOTP step done; the sign-in pages need at least a password-accepted session. The session is
checked on every request (idle and absolute timeouts, staff status), so a disabled staff
member is refused at their very next click.

API (/counter/api): every endpoint but the sign-in needs `Authorization: Bearer <token>` of a
live api session. Cookies are never read there, so the API cannot be driven cross-site and
needs no CSRF token. Errors are JSON `{"error", "message"}`.

For the route modules: `current_staff()`, `current_staff_session()`, `api_error(...)`,
`require_supervisor`, `home_url()` and `console_next()` (a console page to come back to after
the sign-in steps); every console template gets `staff` and `console_return`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import abort, g, jsonify, redirect, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Response

from idp.errors import IdpError
from idp.extensions import csrf
from idp.models import StaffMember, StaffSession
from idp.services.staff import passkeys as staff_passkeys
from idp.services.staff.sessions import COOKIE_NAME, COOKIE_PATH, load_staff_session
from idp.settings import current_settings
from idp.web.counter import api_bp, bp
from idp.web.redirects import safe_next

# Reachable without a verified session: the view itself decides what to show.
OPEN_ENDPOINTS = frozenset({"counter.login", "counter.logout"})
# Reachable with a password-accepted session whose TOTP step is still to do.
PENDING_ENDPOINTS = frozenset({"counter.mfa", "counter.mfa_enrol", "counter.mfa_passkey_options",
                               "counter.mfa_passkey"})
# All a signed-in staff member may reach while their office requires a passkey they have not
# added yet (staff.passkeys.must_add): the security page, to add one.
ADD_PASSKEY_ENDPOINTS = frozenset({"counter.security", "counter.passkey_options",
                                   "counter.passkey_add"})
API_OPEN_ENDPOINTS = frozenset({"counter_api.create_session"})
# Console pages reached from outside the console (the "sign in for a citizen" link of a
# portal's sign-in page): the sign-in steps come back to them (`next`), query included.
RESUMABLE_ENDPOINTS = frozenset({"counter.act"})
CONSOLE_PREFIX, API_PREFIX = "/counter/", "/counter/api"

csrf.exempt(api_bp)  # bearer tokens only: a browser never sends one on its own


# --- for the route modules -----------------------------------------------------------------

def current_staff() -> StaffMember:
    """The signed-in staff member; the guard guarantees one on every protected endpoint."""
    staff = g.get("staff")
    if staff is None:
        raise RuntimeError("current_staff() outside a guarded counter endpoint")
    return staff


def current_staff_session() -> StaffSession:
    session = g.get("staff_session")
    if session is None:
        raise RuntimeError("current_staff_session() outside a guarded counter endpoint")
    return session


def home_url() -> str:
    """The console's start page (counter.home, defined in checks.py)."""
    return url_for("counter.home")


def console_next(target: str | None) -> str | None:
    """`target` if it is a console page to come back to after the sign-in steps, else None:
    a same-site path (idp.web.redirects.safe_next) under /counter/, outside the API, without
    dot segments. Never another site, nor a page of the citizens' side."""
    target = safe_next(target, "")
    path = unquote(urlsplit(target).path)
    if not path.startswith(CONSOLE_PREFIX) or path.startswith(API_PREFIX):
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    return target


def after_sign_in_url() -> str:
    """Where a completed sign-in goes: the page it was asked for (`next`), else the start page."""
    return console_next(request.args.get("next")) or home_url()


def api_error(status: int, error: str, message: str) -> Response:
    """A JSON error of the counter API; 401 carries the RFC 6750 challenge."""
    response = jsonify(error=error, message=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="counter"'
    return response


def _refuse_non_supervisor() -> None:
    staff = current_staff()
    if staff.is_supervisor:
        return
    if request.blueprint == api_bp.name:
        abort(api_error(403, "forbidden", gettext("Only a supervisor may do this.")))
    abort(403)


def require_supervisor(view: Callable[..., Any] | None = None) -> Any:
    """As a decorator (`@require_supervisor`) or a call inside a view (`require_supervisor()`):
    a clerk gets 403, `{"error": "forbidden"}` on the API, the error page on the console."""
    if view is None:
        _refuse_non_supervisor()
        return None

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _refuse_non_supervisor()
        return view(*args, **kwargs)

    return wrapper


def set_console_cookie(response: Response, token: str) -> None:
    """The console cookie: only sent to /counter, never cross-site (SameSite=Strict)."""
    settings = current_settings()
    response.set_cookie(COOKIE_NAME, token, max_age=settings.staff_absolute_hours * 3600,
                        path=COOKIE_PATH, secure=settings.cookie_secure, httponly=True,
                        samesite="Strict")


def clear_console_cookie(response: Response) -> None:
    settings = current_settings()
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=settings.cookie_secure,
                           httponly=True, samesite="Strict")


# --- console -------------------------------------------------------------------------------

@bp.before_request
def guard_console() -> Response | None:
    token = request.cookies.get(COOKIE_NAME)
    session = load_staff_session(token, channel="web") if token else None
    g.staff_session = session
    g.staff = session.staff if session is not None else None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    back = (console_next(request.full_path) if request.endpoint in RESUMABLE_ENDPOINTS
            and request.method == "GET" else None)
    if session is None:
        # A cookie that no longer opens a session: it timed out (or was ended); say so.
        response = redirect(url_for("counter.login", expired=1, next=back) if token
                            else url_for("counter.login", next=back))
        if token:
            clear_console_cookie(response)
        return response
    if request.endpoint in PENDING_ENDPOINTS:
        return redirect(home_url()) if session.mfa_verified_at is not None else None
    if session.mfa_verified_at is None:
        # Password accepted, TOTP not done: nothing else until it is (enrolment first).
        return redirect(url_for("counter.mfa" if session.staff.totp_confirmed_at is not None
                                else "counter.mfa_enrol", next=back))
    if request.endpoint not in ADD_PASSKEY_ENDPOINTS and staff_passkeys.must_add(session.staff):
        return redirect(url_for("counter.security"))
    return None


@bp.context_processor
def console_context() -> dict[str, Any]:
    """`staff` for counter/base.html: only once signed in completely (no nav before)."""
    session = g.get("staff_session")
    verified = session is not None and session.mfa_verified_at is not None
    # The sign-in steps' forms post to their own URL with the page to come back to.
    return {"staff": g.get("staff") if verified else None,
            "console_return": console_next(request.args.get("next"))}


# --- API -----------------------------------------------------------------------------------

def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _has_unencodable_text(value: Any) -> bool:
    """JSON may carry a lone UTF-16 surrogate ("\\ud800"): Python keeps it, but it can be
    neither hashed, stored nor rendered as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_unencodable_text(k) or _has_unencodable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unencodable_text(v) for v in value)
    return False


@api_bp.before_request
def refuse_unencodable_json() -> Response | None:
    """Checked once for every API body, before any view reads it."""
    if request.is_json and _has_unencodable_text(request.get_json(silent=True)):
        return api_error(400, "invalid_request", gettext("The request body is not valid text."))
    return None


@api_bp.before_request
def guard_api() -> Response | None:
    g.staff_session = g.staff = None
    if request.endpoint in API_OPEN_ENDPOINTS:
        return None
    token = bearer_token()
    session = load_staff_session(token, channel="api") if token else None
    if session is None or session.mfa_verified_at is None:
        return api_error(401, "unauthorized", gettext(
            "Sign in at the counter terminal first, or again: the session has ended."))
    g.staff_session, g.staff = session, session.staff
    return None


# Errors raised inside API views answer in the API's shape, never as an HTML page.
API_WIRE_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden",
                  404: "not_found", 405: "method_not_allowed", 414: "uri_too_long",
                  429: "throttled"}


@api_bp.errorhandler(HTTPException)
def api_http_error(exc: HTTPException) -> Response:
    if exc.code is None:  # abort(response): already shaped
        return exc.get_response()
    # An oversized body is malformed input like any other (the API takes small JSON only).
    status = 400 if exc.code == 413 else exc.code
    response = api_error(status, API_WIRE_CODES.get(status, "server_error" if status >= 500
                                                   else "invalid_request"),
                         gettext("The request could not be processed."))
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


@api_bp.errorhandler(IdpError)
def api_idp_error(exc: IdpError) -> Response:
    return api_error(exc.status, exc.code, gettext(exc.message))

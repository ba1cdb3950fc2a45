"""Counter terminal sign-in (JSON): one request with username, password and TOTP code gives a
bearer token; staff set up TOTP in the console first (docs/architecture.md §8: staff accounts require TOTP).

    POST   /counter/api/sessions          {"username", "password", "totp"} -> 201 {"token", ...}
    DELETE /counter/api/sessions/current  sign out                        -> 204
    GET    /counter/api/me                who is signed in                -> 200
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.models import StaffMember
from idp.services.staff import signin
from idp.settings import current_settings
from idp.web.counter import api_bp
from idp.web.counter.guard import api_error, current_staff, current_staff_session

# The three fields fit in well under 2 KiB; anything larger is not a sign-in request.
MAX_BODY_BYTES = 4096
LIMITS = {"username": signin.MAX_USERNAME_LENGTH, "password": signin.MAX_PASSWORD_LENGTH,
          "totp": signin.MAX_CODE_LENGTH}


def staff_json(staff: StaffMember) -> dict[str, Any]:
    return {"username": staff.username, "role": staff.role.value,
            "office": {"code": staff.office.code, "name": staff.office.name}}


def _credentials() -> tuple[str, str, str] | None:
    """The three non-empty strings of a well-formed body, or None."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None
    values = [body.get(name) for name in LIMITS]
    strings = [v for v, limit in zip(values, LIMITS.values(), strict=True)
               if isinstance(v, str) and 0 < len(v) <= limit]
    if len(strings) != len(LIMITS):  # one is missing, not a string, empty or too long
        return None
    return strings[0], strings[1], strings[2]


@api_bp.post("/sessions")
@limiter.limit(login_ip_limit)
def create_session() -> Response | tuple[Response, int]:
    credentials = _credentials()
    if credentials is None:
        return api_error(400, "invalid_request", gettext(
            'Send a JSON object with the text fields “username”, “password” and “totp”.'))
    try:
        new = signin.api_sign_in(*credentials)
    except Throttled as exc:
        response = api_error(429, "throttled", gettext(exc.message))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Refusal as exc:
        if exc.code == "staff.totp_enrolment_required":
            return api_error(403, "totp_enrolment_required", gettext(exc.message))
        if exc.code == "staff.passkey_required":
            # The office requires passkeys, which a terminal cannot use: the console only.
            return api_error(403, "passkey_required", gettext(exc.message))
        return api_error(401, "invalid_credentials", gettext(
            "The username, password or code is not right."))
    settings = current_settings()
    return jsonify(
        token=new.token,
        idle_timeout_seconds=settings.staff_idle_minutes * 60,
        absolute_timeout_seconds=settings.staff_absolute_hours * 3600,
        staff=staff_json(new.session.staff),
    ), 201


@api_bp.delete("/sessions/current")
def delete_session() -> tuple[str, int]:
    signin.sign_out(current_staff_session())
    return "", 204


@api_bp.get("/me")
def me() -> Response:
    return jsonify(staff=staff_json(current_staff()))

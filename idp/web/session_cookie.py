"""Binds the server-side sign-in session to the request (`current_session()`).

Views ask for a cookie change through `set_session_cookie` / `clear_session_cookie`; the cookie
is written once, after the view, so no code path can forget its flags.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from idp.models import Account, UserSession
from idp.services.identity import devices, sessions
from idp.settings import current_settings

_NOT_LOADED = object()


def current_session() -> UserSession | None:
    """The live sign-in session of this request, loaded on first use: protocol endpoints that
    never ask (token, userinfo, discovery) pay no database query for a browser cookie."""
    session = g.get("user_session", _NOT_LOADED)
    if session is _NOT_LOADED:
        token = request.cookies.get(current_app.config["IDP_SESSION_COOKIE"])
        session = g.user_session = sessions.load_session(token)
        if token and session is None and g.get("new_session_token") is None:
            clear_session_cookie()  # expired or revoked: drop the dead cookie
    return session  # type: ignore[return-value]


def current_account() -> Account | None:
    session = current_session()
    return session.account if session else None


def set_session_cookie(token: str) -> None:
    g.new_session_token = token


def clear_session_cookie() -> None:
    g.new_session_token = ""


def device_cookie() -> str | None:
    return request.cookies.get(current_app.config["IDP_DEVICE_COOKIE"])


def set_device_cookie(token: str) -> None:
    g.new_device_token = token


def _write(response: Response) -> Response:
    settings = current_settings()
    device = g.get("new_device_token")
    if device:
        response.set_cookie(current_app.config["IDP_DEVICE_COOKIE"], device,
                            max_age=devices.LIFETIME_SECONDS, path="/",
                            secure=settings.cookie_secure, httponly=True, samesite="Lax")
    token = g.get("new_session_token")
    if token is None:
        return response
    name = current_app.config["IDP_SESSION_COOKIE"]
    if token:
        response.set_cookie(
            name,
            token,
            max_age=settings.session_absolute_hours * 3600,
            path="/",
            secure=settings.cookie_secure,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(name, path="/", secure=settings.cookie_secure, httponly=True,
                               samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_write)

"""Binds the server-side sign-in session to the request (`current_session()`).

Views ask for a cookie change through `set_session_cookie` / `clear_session_cookie`; the cookie
is written once, after the view, so no code path can forget its flags.

The blueprints of a signed-in citizen's pages (citizen, business, mfa) are gated once, by
`require_sign_in` as their `before_request`. The same gate is the wall around a delegated
session (an agent signed in for a citizen under a mandate, a guardian for a child): it is good
for one portal only, so every account page answers 403 to it (`refuse_delegated`), even the
ones signed-out people see; `own_session_only` puts a page outside those blueprints behind the
same wall. Sign-out stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, current_app, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.models import Account, UserSession
from idp.services.identity import devices, mandates, sessions
from idp.settings import current_settings
from idp.web.route_log import route_pattern

_NOT_LOADED = object()
# Set on a view of a gated blueprint that signed-out people see too (`signed_out_allowed`).
_OPEN_MARK = "signed_out_allowed"

View = TypeVar("View", bound=Callable[..., object])


def current_session() -> UserSession | None:
    """The live sign-in session of this request, loaded on first use: protocol endpoints that
    never ask (token, userinfo, discovery) pay no database query for a browser cookie."""
    session = g.get("user_session", _NOT_LOADED)
    if session is _NOT_LOADED:
        token = request.cookies.get(current_app.config["IDP_SESSION_COOKIE"])
        session = g.user_session = sessions.load_session(token)
        if token and session is None and g.get("new_session_token") is None:
            clear_session_cookie()  # expired or revoked: drop the dead cookie
    return session


def current_account() -> Account | None:
    session = current_session()
    return session.account if session else None


def require_sign_in() -> Response | None:
    """`before_request` of the blueprints of a signed-in citizen's pages: without a live
    session, to the sign-in page, which comes back here once signed in."""
    refused = refuse_delegated()
    if refused is not None:
        return refused
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, _OPEN_MARK, False):
        return None
    if current_session() is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def refuse_delegated() -> Response | None:
    """A delegated session asking for an account page: the 403 page, audited once (the route
    pattern only). None for anyone else. Under a mandate the agent may never see or change the
    citizen's password, phone, e-mail, second factors, codes or mandates (docs/architecture.md §14)."""
    session = current_session()
    if session is None or not session.is_delegated:
        return None
    mandates.record_delegated_refusal(session, route=route_pattern())
    return make_response(render_template("errors/delegated.html", name=session.account.full_name,
                                         guardian=session.guardianship_id is not None), 403)


def own_session_only(view: View) -> View:
    """`refuse_delegated` for one view of a blueprint without the sign-in gate."""
    @wraps(view)
    def guarded(*args: object, **kwargs: object) -> object:
        return refuse_delegated() or view(*args, **kwargs)
    return guarded  # type: ignore[return-value]


def signed_out_allowed(view: View) -> View:
    """Lets signed-out people through `require_sign_in` to this one view of a gated blueprint."""
    setattr(view, _OPEN_MARK, True)
    return view


def signed_in_session() -> UserSession:
    """The live session of a page behind `require_sign_in`."""
    session = current_session()
    assert session is not None  # require_sign_in let the request through
    return session


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

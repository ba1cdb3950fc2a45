"""Locale choice: Vietnamese unless the person chose English or a portal asked for it.

Accept-Language is deliberately ignored: many phones in Vietnam are set to English while their
owners read Vietnamese, so the default stays Vietnamese and the switch is one click away.

The language of a sign-in flow (the interaction that starts at /authorize and ends with the
redirect back to the portal) is remembered in its own cookie, FLOW_COOKIE, so that it holds on
every page of the flow: sign-in, the TOTP step, step-up, two-step set-up and its recovery codes,
"who are you acting as?", consent, the "not now" pages and error pages. Why a cookie and not
`ui_locales` carried along: the flow leaves /authorize for pages (the TOTP step, set-up) whose
URLs do not carry the request, and a parameter in a `next` URL would also beat the person's
own switch on the way back. Order of precedence:

1. The flow's language. On /authorize it is the portal's `ui_locales` (OIDC Core §3.1.2.1) for
   a new request; for the same request coming back (after sign-in, set-up, the consent form)
   it is what the cookie remembers, which the person's switch (POST /language) overwrites: the
   person's explicit choice wins over the portal's. The cookie names the request by a digest of
   its identifying parameters, so a new request from a portal starts afresh.
2. `ui_locales` on the request itself (a link to /login with it, outside a flow).
3. The person's lasting choice (LOCALE_COOKIE, set by the switch).
4. The default (Vietnamese).

The flow cookie is deleted when the authorization response goes back to the portal
(finish_flow), and lives at most FLOW_MAX_AGE for a flow that was abandoned.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

from flask import Flask, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from idp.extensions import babel
from idp.settings import current_settings

LOCALES = ("vi", "en")
LOCALE_COOKIE = "postid_lang"
FLOW_COOKIE = "postid_flow_lang"
FLOW_MAX_AGE = 3600  # longer than any sign-in; an abandoned flow's language then lapses
# What names one authorization request (our own markers, added on the way, are not part of it).
REQUEST_IDENTITY = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
                    "code_challenge", "ui_locales")


def _supported(ui_locales: str | None) -> str | None:
    """The first supported language of a space-separated, preference-ordered list."""
    for tag in (ui_locales or "")[:64].split():
        primary = tag.split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return None


def _is_authorization_request() -> bool:
    # /authorize and its own forms (consent, organisation, the ways back to the portal).
    return (request.endpoint or "").startswith("oidc.authorize")


def _request_values() -> MultiDict[str, str]:
    # An oversized or unreadable body raises when the form is parsed; the error page that
    # answers it picks its language here too, so fall back to the query (never raise twice).
    try:
        return request.values
    except HTTPException:
        return request.args


def _request_digest() -> str:
    values = _request_values()
    raw = "\n".join(f"{name}={values.get(name, '')[:4096]}" for name in REQUEST_IDENTITY)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _remembered() -> tuple[str, str] | None:
    """(language, request digest) of the flow cookie, if well formed."""
    lang, _, digest = request.cookies.get(FLOW_COOKIE, "").partition(".")
    return (lang, digest) if lang in LOCALES else None


def flow_language() -> str | None:
    """The language of the sign-in flow this request belongs to, if one was chosen."""
    if "flow_language" not in g:
        remembered = _remembered()
        if _is_authorization_request():
            digest = _request_digest()
            if remembered and remembered[1] == digest:
                g.flow_language = remembered[0]
            else:  # a new request: the portal's choice, or none (then the person's own)
                g.flow_language = _supported(_request_values().get("ui_locales"))
        else:
            g.flow_language = remembered[0] if remembered else None
    return g.flow_language


def select_locale() -> str:
    chosen = flow_language() or _supported(request.args.get("ui_locales"))
    if chosen:
        return chosen
    lasting = request.cookies.get(LOCALE_COOKIE)
    if lasting in LOCALES:
        return lasting
    return current_settings().default_locale


def finish_flow() -> None:
    """The authorization response is on its way to the portal: the flow's language ends."""
    g.flow_finished = True


class _CookieOptions(TypedDict):
    secure: bool
    httponly: bool
    samesite: str


def _cookie_options() -> _CookieOptions:
    return {"secure": current_settings().cookie_secure, "httponly": True,
            "samesite": "Lax"}


def remember_switch(response: Response, lang: str) -> None:
    """The person chose `lang` (POST /language): it lasts, and it wins in the current flow."""
    response.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 24 * 3600, **_cookie_options())
    remembered = _remembered()
    if remembered:  # only inside a flow: outside one, the lasting choice is enough
        response.set_cookie(FLOW_COOKIE, f"{lang}.{remembered[1]}", max_age=FLOW_MAX_AGE,
                            **_cookie_options())


def _remember_flow_language(response: Response) -> Response:
    if g.get("flow_finished"):
        if FLOW_COOKIE in request.cookies:
            response.delete_cookie(FLOW_COOKIE, **_cookie_options())
    elif _is_authorization_request() and response.status_code < 400:
        lang = flow_language()
        if lang:
            response.set_cookie(FLOW_COOKIE, f"{lang}.{_request_digest()}", max_age=FLOW_MAX_AGE,
                                **_cookie_options())
        elif FLOW_COOKIE in request.cookies:
            response.delete_cookie(FLOW_COOKIE, **_cookie_options())
    return response


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["IDP_SETTINGS"].default_locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(_remember_flow_language)
    init_filters(app)


def _date_short(value: object) -> str:
    from flask_babel import format_date

    return format_date(value, "dd/MM/yyyy" if current_language() == "vi" else "d MMMM yyyy")


def _datetime_short(value: object) -> str:
    from flask_babel import format_datetime

    fmt = "HH:mm, dd/MM/yyyy" if current_language() == "vi" else "HH:mm, d MMMM yyyy"
    return format_datetime(value, fmt)


def _version_date(value: str) -> str:
    """A version named by its ISO date (idp.domain.terms.TERMS_VERSION) as a date of the page's
    language (07/12/2026 in Vietnamese), not as 2026-12-07; any other version as it is."""
    from datetime import date

    try:
        return _date_short(date.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def current_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "vi"


def init_filters(app: Flask) -> None:
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.filters["dateformat_short"] = _date_short
    app.jinja_env.filters["version_date"] = _version_date
    app.jinja_env.filters["datetimeformat_short"] = _datetime_short

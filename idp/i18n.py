"""Locale choice: Vietnamese unless the person chose English (cookie) or a portal asked for it.

Accept-Language is deliberately ignored: many phones in Vietnam are set to English while their
owners read Vietnamese, so the default stays Vietnamese and the switch is one click away.
"""

from flask import Flask, current_app, request

from idp.extensions import babel

LOCALES = ("vi", "en")
LOCALE_COOKIE = "postid_lang"


def select_locale() -> str:
    # OIDC ui_locales (space-separated, preference order) applies to the request it is on.
    for tag in request.args.get("ui_locales", "")[:64].split():
        primary = tag.split("-")[0].lower()
        if primary in LOCALES:
            return primary
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    return current_app.config["IDP_SETTINGS"].default_locale


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["IDP_SETTINGS"].default_locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Ho_Chi_Minh"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    babel.init_app(app, locale_selector=select_locale)
    init_filters(app)


def _date_short(value: object) -> str:
    from flask_babel import format_date

    return format_date(value, "dd/MM/yyyy" if current_language() == "vi" else "d MMMM yyyy")


def _datetime_short(value: object) -> str:
    from flask_babel import format_datetime

    fmt = "HH:mm, dd/MM/yyyy" if current_language() == "vi" else "HH:mm, d MMMM yyyy"
    return format_datetime(value, fmt)


def current_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "vi"


def init_filters(app: Flask) -> None:
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.filters["dateformat_short"] = _date_short
    app.jinja_env.filters["datetimeformat_short"] = _datetime_short

"""The demo relying party ("demo portal"): a separate Flask app that signs in with PostID.

It is what a partner portal would build, on Authlib's Flask *client*, so newcomers can see the
whole code flow (PKCE S256, nonce, state, ID-token validation, userinfo, RP-initiated logout,
and levels of assurance asked for with an essential `acr` in the claims parameter) against a
local `idp serve`. It talks to the provider only over HTTP, like any real portal,
and is mounted at /demo-portal in development only (`mount_demo_portal`), because the demo
client it uses is only seeded there.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask_babel import Babel

from idp.i18n import init_filters
from idp.settings import ROOT, Settings

__all__ = ["MOUNT_PATH", "create_demo_portal", "mount_demo_portal"]

MOUNT_PATH = "/demo-portal"
SCOPE = "openid profile email phone address national_id offline_access"
CLIENT_NAME = "postid"


def create_demo_portal(
    issuer: str,
    *,
    client_id: str,
    client_secret: str,
    secret_key: str,
    base_url: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Flask:
    """Build the portal for the provider at `issuer`.

    `base_url` is the portal's own absolute address (default: mounted under the issuer); the
    redirect and post-logout URIs are derived from it, not from the request's Host header, so
    they always match the registration. `metadata` replaces discovery (tests without a server).
    """
    base_url = (base_url or issuer.rstrip("/") + MOUNT_PATH).rstrip("/")
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "idp" / "static"),  # the provider's site.css, served by us
    )
    app.config.update(
        SECRET_KEY=secret_key,
        # The provider clears *its* Flask session cookie at sign-in; ours must be another
        # cookie, scoped to our path, or the pending state/nonce would vanish mid-flow.
        SESSION_COOKIE_NAME="postid_demo_portal",
        SESSION_COOKIE_PATH=urlsplit(base_url).path or "/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
        DEMO_PORTAL_BASE_URL=base_url,
        DEMO_PORTAL_ISSUER=issuer.rstrip("/"),
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh",
        # The provider's catalogue: the portal's strings are translated there too.
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "idp" / "translations"),
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from idp.demo_portal import views

    Babel(app, locale_selector=views.select_locale)
    init_filters(app)
    oauth = OAuth(app)
    if metadata is None:
        discovery: dict[str, Any] = {
            "server_metadata_url": issuer.rstrip("/") + "/.well-known/openid-configuration"}
    else:
        discovery = {"server_metadata_url": None, **metadata}
    oauth.register(
        CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",  # PostID requires PKCE S256 of every client
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": 10,  # a hung provider must not hang this worker thread for ever
        },
        **discovery,
    )
    app.register_blueprint(views.bp)
    views.init_app(app)
    return app


def mount_demo_portal(app: Flask, settings: Settings) -> None:
    """Serve the demo portal at /demo-portal on the provider's own WSGI app (development only)."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from idp.services.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    # A key of its own, derived from the provider's: the two cookies can never be swapped.
    portal_key = hmac.new(settings.secret_key.encode(), b"postid demo portal session",
                          hashlib.sha256).hexdigest()
    portal = create_demo_portal(settings.issuer, client_id=DEMO_CLIENT_ID,
                                client_secret=DEMO_CLIENT_SECRET, secret_key=portal_key)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {MOUNT_PATH: portal})  # type: ignore[method-assign]

"""The demo portal's pages: home, sign-in (at level 1, 2 or 3), callback, sign-out.

Everything protocol-related is Authlib's: it makes the PKCE verifier, nonce and state, keeps
them in our session cookie, redeems the code with client_secret_basic and validates the ID
token (signature against the JWKS, iss, aud, exp, nonce, at_hash; aud only because we name it
in claims_options, which Authlib does not do by default). We add what a careful
portal adds on top: the RFC 9207 `iss` check, the userinfo `sub` check, a CSRF-protected
sign-out, a check that the returned `acr` reaches the level we asked for, and a friendly
page for every way the provider can say no.

Levels (docs/architecture.md §9) are asked for as an essential `acr` in the claims parameter (OIDC Core
§5.5.1.1): the provider must meet it or answer error=unmet_authentication_requirements.
Signing in on behalf of an organisation adds the scope `organization` and prompt=select_account,
so the person chooses every time whom they act for (themself or one of their organisations).
Signing in at a post office for a citizen is the same request with prompt=login, so that the
sign-in page shows (and with it the counter agent's way in); the ID token then carries `act`.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth, OAuthError
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from idp.demo_portal import SCOPE, display

bp = Blueprint("portal", __name__)
log = logging.getLogger(__name__)
LOCALES = ("vi", "en")
# Shown with their own explanation; any other error code gets the generic one.
KNOWN_PROBLEMS = frozenset({
    "access_denied", "login_required", "consent_required", "interaction_required",
    "unmet_authentication_requirements", "state", "issuer", "provider", "not_found", "form", "http",
    "acr",
})
ORGANISATION_SCOPE = SCOPE + " organization"


def select_locale() -> str:
    """Vietnamese unless the visitor chose English (`?lang=en`, remembered in our session)."""
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "vi"


def _client() -> FlaskOAuth2App:
    oauth: OAuth = current_app.extensions["authlib.integrations.flask_client"]
    return oauth.create_client("postid")


def _base_url() -> str:
    return current_app.config["DEMO_PORTAL_BASE_URL"]


@bp.get("/")
def home() -> str:
    notice = None
    if request.args.get("state"):
        # Back from the provider's end_session_endpoint: trust it only with our own state.
        try:
            _client().validate_logout_response()
            notice = "signed_out"
        except OAuthError:
            notice = "logout_state"
    signed_in = session.get("signed_in")
    return render_template(
        "demo_portal/home.html",
        notice=notice,
        signed_in=signed_in,
        claims=display.ordered(signed_in["claims"]) if signed_in else [],
        userinfo=display.ordered(signed_in["userinfo"]) if signed_in else [],
        level=display.loa_level(signed_in["claims"].get("acr")) if signed_in else None,
        amr=display.amr_values(signed_in["claims"].get("amr")) if signed_in else [],
        address=_address(signed_in["userinfo"]) if signed_in else None,
        acting_for=display.organisation(signed_in["userinfo"], signed_in["claims"])
        if signed_in else None,
        dvcqg=display.dvcqg(signed_in["claims"], signed_in["userinfo"]) if signed_in else [],
        act=display.act(signed_in["claims"]) if signed_in else None,
    )


def _address(userinfo: dict) -> dict | None:
    address = userinfo.get("address")
    if not isinstance(address, dict) or not isinstance(address.get("formatted"), str):
        return None
    return {"formatted": address["formatted"], "verified": userinfo.get("address_verified") is True}


def _asked_level() -> int:
    raw = request.args.get("acr", "1")
    return int(raw) if raw in ("1", "2", "3") else 1


@bp.get("/login")
def login() -> BaseResponse:
    """Start a sign-in; `?acr=2` / `?acr=3` asks for that level as an essential acr;
    `?organisation=1` asks to act for an organisation, chosen at PostID every time;
    `?counter=1` always shows PostID's sign-in page, where a post-office agent signs in for a
    citizen (prompt=login: an earlier sign-in in this browser does not count)."""
    level = _asked_level()
    for_organisation = request.args.get("organisation") == "1"
    extra = {}
    if request.args.get("counter") == "1":
        extra["prompt"] = "login"
    if level > 1:
        extra["claims"] = json.dumps({"id_token": {"acr": {
            "essential": True, "values": [display.acr_for_level(level)]}}})
    if for_organisation:
        extra.update(scope=ORGANISATION_SCOPE, prompt="select_account")
    session["asked_loa"] = level  # checked against the ID token's acr on the way back
    session["asked_organisation"] = for_organisation
    try:
        return _client().authorize_redirect(_base_url() + "/callback", ui_locales=select_locale(),
                                            **extra)
    except (requests.RequestException, ValueError):
        log.exception("demo portal: provider metadata unavailable")
        return _failure("provider", 502)


@bp.get("/callback")
def callback() -> BaseResponse:
    client = _client()
    issuer = current_app.config["DEMO_PORTAL_ISSUER"]
    # RFC 9207: a response naming another issuer is a mix-up attack, whatever else it says.
    if request.args.get("iss") not in (None, issuer):
        return _failure("issuer", 400)
    try:
        # Authlib's default checks iss and azp but not aud; our options replace it: name both.
        token = client.authorize_access_token(claims_options={
            "iss": {"essential": True, "values": [issuer]},
            "aud": {"essential": True, "values": [client.client_id]},
        })
        claims = token.get("userinfo")
        if not claims:
            raise OAuthError(error="provider", description="no ID token")
        userinfo = client.userinfo(token=token)
    except MismatchingStateError:
        return _failure("state", 400)
    except OAuthError as exc:
        # The provider said no (?error=...) or the token endpoint refused the code.
        client.framework.clear_state_data(session, request.args.get("state"))
        return _failure(exc.error or "oauth_error", 400,
                        organisation=session.get("asked_organisation") is True)
    # requests' JSONDecodeError is a ValueError: a provider answering HTML instead of JSON.
    except (requests.RequestException, ValueError, JoseError, AuthlibBaseError):
        log.exception("demo portal: token exchange or ID token validation failed")
        return _failure("provider", 502)
    if userinfo.get("sub") != claims["sub"]:  # OIDC Core §5.3.2: must be the same person
        return _failure("provider", 502)
    asked = session.get("asked_loa", 1)
    # The acr is what was achieved; higher levels include lower ones. Less than we asked for
    # must never happen with an essential acr: a careful portal refuses it anyway.
    if (display.loa_level(claims.get("acr")) or 0) < asked:
        return _failure("acr", 400)
    lang = session.get("lang")
    asked_organisation = session.get("asked_organisation") is True
    session.clear()  # a fresh session for the signed-in visitor (no fixation)
    if lang:
        session["lang"] = lang
    session["signed_in"] = {
        "id_token": token["id_token"],  # kept only as the id_token_hint for sign-out
        "claims": dict(claims),
        "userinfo": dict(userinfo),
        "refresh_token": bool(token.get("refresh_token")),
        "asked_loa": asked,
        "asked_organisation": asked_organisation,
    }
    return redirect(url_for(".home"))


@bp.post("/logout")
def logout() -> BaseResponse:
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(request.form.get("csrf_token", ""), expected):
        return _failure("form", 400)  # a stale page (expired session) or a cross-site post
    signed_in = session.pop("signed_in", None)  # signed out here first, whatever PostID says
    if not signed_in:
        return redirect(url_for(".home"))
    try:
        # Authlib adds a random state, remembers it in our session and checks it on return.
        return _client().logout_redirect(post_logout_redirect_uri=_base_url() + "/",
                                         id_token_hint=signed_in["id_token"],
                                         ui_locales=select_locale())
    except (requests.RequestException, ValueError):
        log.exception("demo portal: provider metadata unavailable")
        return _failure("provider", 502)


def _failure(problem: str, status: int, *, organisation: bool = False) -> Response:
    """`organisation`: the failed sign-in was on behalf of an organisation (explained apart)."""
    known = problem if problem in KNOWN_PROBLEMS else None
    page = render_template("demo_portal/error.html", problem=known, code=problem[:64],
                           organisation=organisation)
    return Response(page, status=status, mimetype="text/html")


def _csrf_token() -> str:
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def _remember_language() -> None:
    if request.args.get("lang") in LOCALES:
        session["lang"] = request.args["lang"]


def _canonical_host() -> BaseResponse | None:
    """Browse on the registered host: our cookie set on `localhost` is not sent to `127.0.0.1`,
    and the callback always comes back to the registered redirect URI."""
    base = _base_url()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    if request.method == "GET" and f"{request.scheme}://{request.host}" != origin:
        return redirect(base + request.full_path.rstrip("?"))
    return None


def _security_headers(response: Response) -> Response:
    issuer = current_app.config["DEMO_PORTAL_ISSUER"]
    response.headers.setdefault("Content-Security-Policy", "; ".join([
        "default-src 'none'", "style-src 'self'", "img-src 'self' data:",
        # Browsers apply form-action to the redirect after a POST: sign-out goes to PostID.
        f"form-action 'self' {issuer}", "base-uri 'none'", "frame-ancestors 'none'"]))
    # The callback URL carries the code and state: never in a Referer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"  # pages show personal data
    return response


def _http_error(error: HTTPException) -> Response:
    problem = "not_found" if error.code == 404 else "http"
    return _failure(problem, error.code or 500)


def init_app(app: Flask) -> None:
    app.before_request(_canonical_host)
    app.before_request(_remember_language)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.jinja_env.globals["csrf_token"] = _csrf_token
    app.jinja_env.globals["is_time_claim"] = display.is_time
    app.jinja_env.filters["claim_time"] = display.claim_time
    app.jinja_env.filters["claim_value"] = display.claim_value

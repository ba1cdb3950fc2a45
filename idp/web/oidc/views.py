"""Protocol endpoints. Thin: parse, let Authlib validate, run the named checks, respond."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.extensions import csrf
from idp.oidc import checks, consent, server, userinfo
from idp.oidc.discovery import metadata
from idp.services import keys
from idp.web.session_cookie import current_session

bp = Blueprint("oidc", __name__)
MAX_PARAM_LENGTH = 4096
SINGLE_VALUED = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                 "prompt", "max_age", "code_challenge", "code_challenge_method", "claims",
                 "login_hint", "id_token_hint", "acr_values", "ui_locales", "display",
                 "grant_type", "code", "code_verifier", "refresh_token", "client_secret",
                 "client_assertion", "client_assertion_type", "token", "token_type_hint")


def _publish(response: Response) -> Response:
    """Discovery and keys are public: any origin may read them (no credentials involved)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


PUBLIC_CACHE = "public, max-age=300"


def _cached_json(key: str, build) -> Response:  # type: ignore[no-untyped-def]
    """Serialise once per process; these documents change only with settings or keys."""
    body = current_app.extensions.get(key)
    if body is None:
        body = json.dumps(build(), separators=(",", ":")).encode()
        current_app.extensions[key] = body
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return _publish(response)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    return _cached_json("idp.discovery.body", metadata)


@bp.get("/jwks.json")
def jwks() -> Response:
    published = keys.public_jwks()
    if not published["keys"]:
        # First start without `idp demo seed`/`idp keys rotate`: create the rings now so that
        # a portal never sees an empty key set.
        keys.ensure_keys()
        published = keys.public_jwks()
    cached = current_app.extensions.get("idp.jwks.body")
    if cached is None or cached[0] is not published:  # the key snapshot changed
        cached = (published, json.dumps(published, separators=(",", ":")).encode())
        current_app.extensions["idp.jwks.body"] = cached
    response = Response(cached[1], mimetype="application/jwk-set+json")
    # Short: a NEXT key is published a whole rotation before it signs, so a minute is safe.
    response.headers["Cache-Control"] = "public, max-age=60"
    return _publish(response)


def _bad_parameters() -> str | None:
    """Repeated or oversized protocol parameters (RFC 6749 §3.1, §3.2)."""
    for name in SINGLE_VALUED:
        values = request.values.getlist(name)
        if len(values) > 1:
            return f"Parameter '{name}' is repeated."
        if values and len(values[0]) > MAX_PARAM_LENGTH:
            return f"Parameter '{name}' is too long."
    return None


def _with_iss(response: Response) -> Response:
    """RFC 9207: every authorization response names its issuer."""
    location = response.headers.get("Location")
    if response.status_code in (301, 302, 303) and location:
        response.headers["Location"] = add_params_to_uri(
            location, [("iss", current_app.config["IDP_SETTINGS"].issuer)]
        )
    return response


def _authorization_error(error: OAuth2Error) -> Response:
    """Redirect to a validated redirect_uri, or show a page: never an unvalidated redirect."""
    if error.redirect_uri:
        status, body, headers = error()
        return _with_iss(Response(body, status=status, headers=headers))
    return Response(
        render_template("oidc/error.html", error=error.error, language_next="/"),
        status=400, mimetype="text/html",
    )


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # relying parties POST here (OIDC Core §3.1.2.1); nothing changes without consent
def authorize() -> Response:
    return _authorize(decision=None)


@bp.post("/authorize/consent")
def authorize_consent() -> Response:
    """The consent form (CSRF-protected) posts here with the original request in the query."""
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return _authorization_error(InvalidRequestError("Missing consent decision."))
    return _authorize(decision=decision)


def _authorize(decision: str | None) -> Response:
    problem = _bad_parameters()
    session = current_session()
    try:
        if problem:
            raise InvalidRequestError(problem)
        grant = server.get_consent_grant(end_user=session.account if session else None)
    except OAuth2Error as error:
        return _authorization_error(error)
    except ValueError:
        # Authlib refuses to build an error description from non-ASCII input; so do we.
        return _authorization_error(InvalidRequestError("Malformed request parameters."))
    ctx = checks.AuthorizationContext(grant=grant, client=grant.request.client.row,
                                      session=session, params=request.values)
    try:
        checks.check_request_parameters(ctx)
        interaction = checks.require_login(ctx)
        if interaction is not None:
            return _ask_to_sign_in(interaction)
        checks.require_acr(ctx)
        if decision is None and checks.require_consent(ctx) is not None:
            return _ask_for_consent(ctx)
        return _with_iss(consent.complete_authorization(ctx, decision))
    except ValueError:
        error = InvalidRequestError("Malformed request parameters.")
    except OAuth2Error as raised:
        error = raised
    # From here on the redirect_uri has been validated: errors go back to the client.
    error.redirect_uri = error.redirect_uri or grant.redirect_uri
    error.state = request.values.get("state")
    return _authorization_error(error)


def _ask_to_sign_in(interaction: checks.Interaction) -> Response:
    params = [(k, v) for k, v in request.values.items(multi=True)
              if k not in (checks.LOGIN_MARKER, "csrf_token", "decision")]
    params.append((checks.LOGIN_MARKER, checks.login_marker_value()))
    target = url_for("oidc.authorize") + "?" + urlencode(params)
    query = {"next": target}
    if request.values.get("ui_locales"):
        query["ui_locales"] = request.values["ui_locales"][:64]  # the sign-in page speaks it too
    if interaction.login_hint:
        query["login_hint"] = interaction.login_hint
    return redirect(url_for("auth.login", **query))


def _ask_for_consent(ctx: checks.AuthorizationContext) -> Response:
    params = [(k, v) for k, v in request.values.items(multi=True) if k not in ("csrf_token", "decision")]
    return Response(
        render_template(
            "oidc/consent.html",
            client=ctx.client,
            scopes=[s for s in ctx.scopes if s != "openid"],
            account=ctx.account,
            action=url_for("oidc.authorize_consent") + "?" + urlencode(params),
        ),
        mimetype="text/html",
    )


@bp.post("/token")
@csrf.exempt
def token() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.handle_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_token_response()
    except ValueError:
        return server.handle_error_response(None, InvalidRequestError("Malformed request parameters."))


def _form_problem() -> str | None:
    if request.mimetype != "application/x-www-form-urlencoded":
        return "The body must be application/x-www-form-urlencoded."
    if request.args:
        return "Parameters must be sent in the body, not the query."
    return None


@bp.post("/token/revoke")
@csrf.exempt
def revoke() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.handle_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_endpoint_response("revocation")
    except ValueError:
        return server.handle_error_response(None, InvalidRequestError("Malformed request parameters."))


@bp.post("/token/introspect")
@csrf.exempt
def introspect() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.handle_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_endpoint_response("introspection")
    except ValueError:
        return server.handle_error_response(None, InvalidRequestError("Malformed request parameters."))


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo_endpoint() -> Response:
    return userinfo.respond()

"""OpenID Connect provider: Authlib's server with PostID's storage hooks and checks."""

from __future__ import annotations

from flask import Flask

from idp.oidc.client_auth import PrivateKeyJWT
from idp.oidc.endpoints import Introspection, Revocation
from idp.oidc.grants import ClientCredentialsGrant, CodeGrant, RefreshGrant
from idp.oidc.openid import PostIdOpenIDCode
from idp.oidc.pkce import RequiredS256CodeChallenge
from idp.oidc.server import PostIdAuthorizationServer

server = PostIdAuthorizationServer()


def init_app(app: Flask) -> None:
    server.init_app(app)
    if getattr(server, "_postid_configured", False):
        return  # grants and endpoints are registered once per process
    server.register_grant(CodeGrant, [RequiredS256CodeChallenge(), PostIdOpenIDCode()])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server._postid_configured = True

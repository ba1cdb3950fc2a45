"""Known-device tokens: a signed, long-lived cookie set at a successful sign-in.

It proves only "this browser has signed in to account X before". The login throttle uses it
to count the owner's attempts apart from strangers' (login_throttle). It is not an
authenticator and grants nothing by itself; it is signed, not stored.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "postid.known-device"
MAX_LENGTH = 256


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(account_id: int) -> str:
    return _serializer().dumps({"a": account_id, "n": secrets.token_urlsafe(12)})


def device_id(token: str | None, account_id: int) -> str | None:
    """The device's id if `token` is a valid device token for `account_id`, else None."""
    if not token or len(token) > MAX_LENGTH:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != account_id or not isinstance(data.get("n"), str):
        return None
    return data["n"]

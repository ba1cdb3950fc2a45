"""Known-device tokens: a signed cookie set at a successful sign-in.

It proves only "this browser has signed in to account X with its current password, within
the cookie's lifetime". The login throttle uses it to count the owner's attempts apart from
strangers' (platform.throttle), and SMS limits give the owner's own recovery its own budget
(sms_limits "device"). It is not an authenticator and grants nothing by itself; it is signed,
not stored.

Revocation without storage (an old or stolen cookie kept the "device" class
for ever). The token is timed (LIFETIME_SECONDS, the cookie's own lifetime, counted from the
last sign-in: every sign-in renews it) and carries a tag of the account's current password
hash (an HMAC with the server secret, so the cookie tells nothing about the hash): a password
change or reset changes the hash, and every older token of the account stops counting.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from idp.models import Account

SALT = "postid.known-device.v2"  # v1 tokens (untimed, unbound) are refused
MAX_LENGTH = 256
LIFETIME_SECONDS = 365 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _password_tag(account: Account) -> str:
    from idp.services.platform.otp import secret_hash

    credential = account.password
    return secret_hash("known-device:" + (credential.hash if credential is not None else ""))[:16]


def _issue(account: Account, device: str) -> str:
    return _serializer().dumps({"a": account.id, "n": device, "p": _password_tag(account)})


def issue(account: Account) -> str:
    """A new device token for `account` (a new device id)."""
    return _issue(account, secrets.token_urlsafe(12))


def renew(token: str | None, account: Account) -> str:
    """After a successful sign-in: the same device id with a fresh timestamp and the current
    password's tag when `token` is still valid for `account`, else a new device."""
    return renew_known(device_id(token, account), account)


def renew_known(device: str | None, account: Account) -> str:
    """`renew` for a device id read earlier (before the stored hash was rewritten)."""
    return issue(account) if device is None else _issue(account, device)


def device_id(token: str | None, account: Account) -> str | None:
    """The device's id if `token` is a valid device token for `account`, issued within
    LIFETIME_SECONDS and under its current password; else None."""
    if not token or len(token) > MAX_LENGTH:
        return None
    try:
        data = _serializer().loads(token, max_age=LIFETIME_SECONDS)
    except BadSignature:  # SignatureExpired included
        return None
    if (not isinstance(data, dict) or data.get("a") != account.id
            or not isinstance(data.get("n"), str) or not isinstance(data.get("p"), str)):
        return None
    # Compared only once the signature and the account match, so a browser without the
    # account's cookie (a stranger) never causes the password credential to be loaded.
    if not secrets.compare_digest(data["p"], _password_tag(account)):
        return None
    device: str = data["n"]
    return device

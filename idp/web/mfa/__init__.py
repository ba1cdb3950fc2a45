"""TOTP: its set-up under /account/security, the second step of sign-in (/login/verify) and
the step-up of a signed-in session."""

from __future__ import annotations

from flask import Blueprint

from idp.web.session_cookie import require_sign_in

bp = Blueprint("mfa", __name__)
# The second step of sign-in (verify) is the one page for people not signed in yet.
bp.before_request(require_sign_in)

# The route module registers itself on the blueprint above.
from idp.web.mfa import passkey_step_up, passkeys, views  # noqa: E402,F401

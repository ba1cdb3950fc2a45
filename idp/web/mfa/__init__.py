"""TOTP: its set-up under /account/security, the second step of sign-in (/login/verify) and
the step-up of a signed-in session."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mfa", __name__)

# The route module registers itself on the blueprint above.
from idp.web.mfa import views  # noqa: E402,F401

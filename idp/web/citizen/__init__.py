"""The citizen's own pages (/account): profile, portals, mandates, sessions, activity, password, data,
deletion, contact changes and verification at a post office. Every page needs a live sign-in,
except the goodbye page after the account was deleted."""

from __future__ import annotations

from flask import Blueprint

from idp.web.session_cookie import require_sign_in

bp = Blueprint("citizen", __name__, url_prefix="/account")
bp.before_request(require_sign_in)

# Route modules register themselves on the blueprint above.
from idp.web.citizen import children, contact, mandates, verification, views  # noqa: E402,F401

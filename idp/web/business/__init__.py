"""The organisation pages of a signed-in citizen (/business): register an organisation, get it
verified at a post office, manage its members, answer invitations (docs/architecture.md §10)."""

from __future__ import annotations

from flask import Blueprint

from idp.web.session_cookie import require_sign_in

bp = Blueprint("business", __name__, url_prefix="/business")
bp.before_request(require_sign_in)

# Route modules register themselves on the blueprint above.
from idp.web.business import members, views  # noqa: E402,F401

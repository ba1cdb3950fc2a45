"""The citizen's own pages (/account): profile, portals, sessions, activity, password, data,
deletion, contact changes and verification at a post office. Every page needs a live sign-in."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("citizen", __name__, url_prefix="/account")

# Route modules register themselves on the blueprint above.
from idp.web.citizen import contact, verification, views  # noqa: E402,F401

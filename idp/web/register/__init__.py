"""Self-registration (/register), activation of an account opened at a post office
(/activate), and the terms of use and privacy notice they accept (/terms, /privacy)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("register", __name__)

# Route modules register themselves on the blueprint above.
from idp.web.register import activate, legal, views  # noqa: E402,F401

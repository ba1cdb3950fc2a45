"""Sign-in with ID number or phone and password, sign-out, and the language switch."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)

# The route modules register themselves on the blueprint above.
from idp.web.auth import for_child, passkey, views  # noqa: E402,F401

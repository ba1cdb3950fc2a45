"""Forgotten password (/recover): a code by SMS or a link by e-mail, then a new password."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recovery", __name__)

# The route module registers itself on the blueprint above.
from idp.web.recovery import views  # noqa: E402,F401

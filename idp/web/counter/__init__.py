"""The counter console (/counter, HTML for post-office staff) and the counter JSON API
(/counter/api, for the console's integrations and counter terminals). Both call the same
services and are guarded once, in `guard.py`: staff signed in with password and TOTP."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter")
api_bp = Blueprint("counter_api", __name__, url_prefix="/counter/api")

# Route modules register themselves on the blueprints above.
from idp.web.counter import (  # noqa: E402,F401
    act,
    api,
    api_auth,
    api_guardians,
    api_mandates,
    api_organisations,
    assisted,
    auth,
    checks,
    guard,
    guardians,
    mandates,
    organisations,
    passkeys,
)

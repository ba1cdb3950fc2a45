"""The organisation pages of a signed-in citizen (/business): register an organisation, get it
verified at a post office, manage its members, answer invitations (DESIGN §1, §5)."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from idp.web.session_cookie import current_session

bp = Blueprint("business", __name__, url_prefix="/business")


@bp.before_request
def require_login() -> Response | None:
    if current_session() is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


# Route modules register themselves on the blueprint above.
from idp.web.business import members, views  # noqa: E402,F401

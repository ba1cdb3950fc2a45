"""The citizen's own pages. Everything here requires a live sign-in session."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.domain.phone import display_phone
from idp.web.session_cookie import current_account, current_session

bp = Blueprint("citizen", __name__, url_prefix="/account")


@bp.before_request
def require_login() -> Response | None:
    if current_session() is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.get("")
def account() -> str:
    return render_template(
        "citizen/account.html",
        account=current_account(),
        session=current_session(),
        display_phone=display_phone,
    )

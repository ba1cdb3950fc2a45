"""The guardian's children under 14 (docs/architecture.md §14): who they may sign in to
services for, and until when (local midnight starting the 14th birthday); and the links a post
office made today that wait for the parent's own approval on this page."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal
from idp.services.identity import guardian_confirmation
from idp.services.identity.guardian_sign_in import children_of
from idp.web.citizen import bp
from idp.web.citizen.forms import ActionForm
from idp.web.session_cookie import signed_in_session


def _page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    session = signed_in_session()
    pending = guardian_confirmation.pending_links(session.account)
    waiting = {link.id for link in pending}
    children = [c for c in children_of(session.account_id) if c.link.id not in waiting
                and c.refusal != "guardianship_not_confirmed"]
    return render_template("citizen/children.html", nav="children", children=children,
                           pending=pending, form=ActionForm(), error=error,
                           approved=request.args.get("done") == "approved"), status


@bp.get("/children")
def children() -> tuple[str, int]:
    return _page()


@bp.post("/children/<public_id>/approve")
def approve_child(public_id: str) -> Response | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        link = guardian_confirmation.approve(signed_in_session(), public_id)
    except Refusal as exc:
        return _page(gettext(exc.message), exc.status)
    if link is None:
        abort(404)
    return redirect(url_for("citizen.children", done="approved"), code=303)

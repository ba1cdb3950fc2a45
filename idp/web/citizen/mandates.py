"""The citizen's mandates (/account/mandates): who at which post office may sign in to portals
for them, for what and until when, every use, the approval of a pending mandate on their own
phone and revocation at any moment (a pending one: declined), after a confirmation step."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask import redirect as redirect_to
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.mandates import Status
from idp.errors import Refusal
from idp.services.identity import mandates
from idp.web.citizen import bp
from idp.web.citizen.forms import ActionForm
from idp.web.citizen.labels import PROCEDURE_LABELS
from idp.web.session_cookie import signed_in_session

# The answer shown after a POST, named in the redirect (?done=...).
DONE = ("approved", "revoked", "declined", "already_ended")
_GROUPS = (("pending", (Status.PENDING,)), ("active", (Status.ACTIVE,)),
           ("ended", (Status.REVOKED, Status.EXPIRED)))


def _list_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    listed = mandates.mandates_of(signed_in_session().account)
    groups = {name: [m for m in listed if m.status in statuses] for name, statuses in _GROUPS}
    done = request.args.get("done")
    return render_template("citizen/mandates.html", nav="mandates", form=ActionForm(),
                           groups=groups, labels=PROCEDURE_LABELS, error=error,
                           done=done if done in DONE else None), status


@bp.get("/mandates")
def mandates_page() -> tuple[str, int]:
    return _list_page()


@bp.post("/mandates/<public_id>/approve")
def approve_mandate(public_id: str) -> Response | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        approved = mandates.approve(signed_in_session(), public_id)
    except Refusal as exc:
        return _list_page(gettext(exc.message), exc.status)
    if approved is None:
        abort(404)
    return redirect_to(url_for("citizen.mandates_page", done="approved"), code=303)


@bp.get("/mandates/<public_id>/revoke")
def revoke_mandate_page(public_id: str) -> str:
    mandate = mandates.mandate_of(signed_in_session().account, public_id)
    if mandate is None:
        abort(404)
    return render_template("citizen/mandates_revoke.html", nav="mandates", form=ActionForm(),
                           mandate=mandate, labels=PROCEDURE_LABELS)


@bp.post("/mandates/<public_id>/revoke")
def revoke_mandate(public_id: str) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = mandates.revoke(signed_in_session(), public_id)
    if outcome is None:
        abort(404)
    return redirect_to(url_for("citizen.mandates_page", done=outcome.value), code=303)

"""Account page: get verified at a post office (docs/architecture.md §8), the citizen's side.

Routes on the `citizen` blueprint, so every page needs a live sign-in. GET only shows (a lazy
expiry of a code that ran out is the one write, and it changes nothing the person can see
differently); asking for a code and cancelling one are POSTs with a CSRF token. The cancel
form names the verification by its public id, so a page left open in an old tab cannot
cancel a newer code.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.domain.enrolment_code import qr_payload
from idp.errors import Refusal
from idp.models import IdentityVerification, OrganisationVerification, RejectReason, VerificationStatus
from idp.services.identity import enrolment
from idp.services.platform import qr
from idp.web.citizen import bp
from idp.web.citizen.forms import ActionForm
from idp.web.session_cookie import signed_in_session

Page = tuple[str, int]

# Said to the citizen, not to staff: what happened and, implicitly, what to bring next time.
REASONS = {
    RejectReason.DOCUMENT_EXPIRED: _l("The ID card you brought had expired. Renew it first, "
                                      "then come back with the new card."),
    RejectReason.NUMBER_MISMATCH: _l("The number on the card you brought is not the personal ID "
                                     "number of this account."),
    RejectReason.DATA_MISMATCH: _l("The name, date of birth or sex on your card does not match "
                                   "the details of this account."),
    RejectReason.PHOTO_MISMATCH: _l("The photo on the card could not be matched to the person at "
                                    "the counter."),
    RejectReason.DOCUMENT_DAMAGED: _l("The card was damaged or could not be read."),
    RejectReason.SUSPECTED_FRAUD: _l("The document could not be accepted."),
    RejectReason.OTHER: _l("The post office could not complete the check."),
}


def qr_data_uri(payload: str) -> str:
    """The enrolment QR, with the wide quiet zone a counter scanner reads best."""
    return qr.svg_data_uri(payload, border=4)


def pending_qr(check: IdentityVerification | OrganisationVerification | None) -> str | None:
    """The enrolment QR of a pending check (a citizen's or an organisation's); None when
    there is no code to bring to the counter."""
    if check is None or check.status is not VerificationStatus.PENDING:
        return None
    return qr_data_uri(qr_payload(check.code))


def _page(status: int = 200, *, error: str | None = None) -> Page:
    standing = enrolment.current(signed_in_session().account)
    return render_template(
        "citizen/verification.html", nav="verification", standing=standing,
        qr=pending_qr(standing.verification),
        reasons=REASONS, error=error, cancelled=request.args.get("cancelled") == "1",
    ), status


@bp.get("/verification")
def verification() -> Page:
    return _page()


@bp.get("/verification/print")
def verification_print() -> Response | str:
    standing = enrolment.current(signed_in_session().account)
    found = standing.verification
    if found is None or found.status is not VerificationStatus.PENDING:
        return redirect(url_for("citizen.verification"))
    return render_template("citizen/verification_print.html", verification=found,
                           qr=qr_data_uri(qr_payload(found.code)))


@bp.post("/verification/request")
def verification_request() -> Response | Page:
    if not ActionForm().validate_on_submit():
        abort(400)
    session = signed_in_session()
    try:
        enrolment.request_code(session.account, session_id=session.id)
    except Refusal as exc:
        return _page(exc.status, error=gettext(exc.message))
    return redirect(url_for("citizen.verification"), code=303)


@bp.post("/verification/cancel")
def verification_cancel() -> Response | Page:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    target = form.target.data or ""
    if not enrolment.PUBLIC_ID_RE.fullmatch(target):
        abort(400)
    session = signed_in_session()
    try:
        enrolment.cancel(session.account, target, session_id=session.id)
    except Refusal as exc:
        if exc.code == "verification.not_found":
            abort(404)
        return _page(exc.status, error=gettext(exc.message))
    return redirect(url_for("citizen.verification", cancelled=1), code=303)

"""Counter console pages for the document check and the decisions (DESIGN §5). Thin views:
parse a form, call one service (idp.services.counter_checks / counter_decisions), then
redirect or render. The guard (guard.py) has put the signed-in staff member in `g.staff`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.admin_units import PROVINCES
from idp.models import IdentityVerification
from idp.services import (
    backchannel,
    counter_checks,
    counter_decisions,
    counter_organisation_decisions,
    counter_organisations,
)
from idp.services.account_data import parse_page
from idp.services.counter_checks import CounterRefusal
from idp.web.counter import bp
from idp.web.counter.check_forms import (
    DOCUMENT_LABELS,
    DONE_MESSAGES,
    STATUS_LABELS,
    WAITING_MESSAGES,
    ApproveForm,
    DocumentCheckForm,
    LookupForm,
    ReasonForm,
    reason_label,
)
from idp.web.counter.guard import current_staff, require_supervisor

Page = Response | tuple[str, int] | str
DONE = {"submitted", "rejected", "approved", "revoked"}


def refusal_text(refusal: CounterRefusal) -> str:
    return gettext(refusal.message, **refusal.message_args)


def _refused(refusal: CounterRefusal) -> tuple[str, int]:
    return render_template("counter/refused.html", nav="home", message=refusal_text(refusal),
                           form=LookupForm()), refusal.status


@bp.get("/")
def home() -> str:
    return render_template("counter/home.html", nav="home", form=LookupForm())


@bp.post("/lookup")
def lookup() -> Page:
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("counter/home.html", nav="home", form=form), 400
    code = form.code.data or ""
    # One field for both kinds of code (unique across both): an organisation's opens its page.
    organisation = counter_organisations.holds_code(code)
    try:
        if organisation:
            verification = counter_organisations.lookup(current_staff(), code)
        else:
            verification = counter_checks.lookup(current_staff(), code)
    except CounterRefusal as refusal:
        form.code.errors = [refusal_text(refusal)]
        return render_template("counter/home.html", nav="home", form=form), refusal.status
    return redirect(url_for("counter.org_check" if organisation else "counter.check",
                            public_id=verification.public_id))


def _check_page(verification: IdentityVerification, status: int = 200, **forms: Any
                ) -> tuple[str, int]:
    staff = current_staff()
    actions = counter_checks.allowed_actions(staff, verification)
    names = counter_checks.staff_by_id(verification.clerk_id, verification.decided_by,
                                       verification.revoked_by)
    context = {
        "check_form": forms.get("check_form") or DocumentCheckForm(formdata=None),
        "reason_form": forms.get("reason_form") or ReasonForm(formdata=None),
        "approve_form": ApproveForm(formdata=None),
    }
    done = request.args.get("done")
    return render_template(
        "counter/check.html", nav="queue" if verification.status.value == "submitted" else "home",
        v=verification, account=verification.account, actions=actions, staff_names=names,
        masked_phone=counter_checks.masked_phone(verification.account.phone),
        document_labels=DOCUMENT_LABELS, reason_label=reason_label, provinces=PROVINCES,
        status_labels=STATUS_LABELS, done_messages=DONE_MESSAGES, waiting_messages=WAITING_MESSAGES,
        done=done if done in DONE else None, **context), status


@bp.get("/checks/<public_id>")
def check(public_id: str) -> Page:
    try:
        verification = counter_checks.get(current_staff(), public_id)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _check_page(verification)


def _done(verification: IdentityVerification, what: str) -> Response:
    return redirect(url_for("counter.check", public_id=verification.public_id, done=what))


def _reload(public_id: str, status: int, **forms: Any) -> Page:
    """The check page again, with a form's errors (the record is read without a new event)."""
    try:
        verification = counter_checks.load_for_action(current_staff(), public_id, channel="web",
                                                      action="view")
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _check_page(verification, status, **forms)


@bp.post("/checks/<public_id>/submit")
def submit(public_id: str) -> Page:
    form = DocumentCheckForm()
    check = form.document_check()
    if check is None:
        return _reload(public_id, 400, check_form=form)
    try:
        verification = counter_checks.submit(current_staff(), public_id, check)
    except CounterRefusal as refusal:
        if not refusal.problems:
            return _refused(refusal)
        form.form_errors.extend(gettext(p.message) for p in refusal.problems)
        return _reload(public_id, refusal.status, check_form=form)
    return _done(verification, "submitted")


@bp.post("/checks/<public_id>/reject")
def reject(public_id: str) -> Page:
    form = ReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    try:
        verification = counter_decisions.reject(current_staff(), public_id, form.reason.data)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _done(verification, "rejected")


@bp.post("/checks/<public_id>/approve")
def approve(public_id: str) -> Page:
    if not ApproveForm().validate_on_submit():
        return _reload(public_id, 400)
    try:
        verification = counter_decisions.approve(current_staff(), public_id)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _done(verification, "approved")


@bp.post("/checks/<public_id>/revoke")
def revoke(public_id: str) -> Page:
    form = ReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    try:
        result = counter_decisions.revoke(current_staff(), public_id, form.reason.data)
    except CounterRefusal as refusal:
        return _refused(refusal)
    if result.logouts:
        backchannel.deliver(result.logouts)  # first attempt; `idp logout deliver` retries
    return _done(result.verification, "revoked")


@bp.get("/queue")
@require_supervisor
def queue() -> str:
    staff = current_staff()
    page = counter_decisions.approval_queue(staff, parse_page(request.args.get("page")))
    org_page = counter_organisation_decisions.approval_queue(
        staff, parse_page(request.args.get("org_page")))
    return render_template("counter/queue.html", nav="queue", page=page, org_page=org_page)


@bp.get("/approved")
@require_supervisor
def approved() -> str:
    code = (request.args.get("code") or "")[:64].strip()
    page = counter_decisions.approved(current_staff(), parse_page(request.args.get("page")),
                                      code=code or None)
    return render_template("counter/approved.html", nav="approved", page=page, code=code)

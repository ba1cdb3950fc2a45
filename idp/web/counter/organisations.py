"""Counter console pages for the check of an organisation and the decisions on it (DESIGN §5,
business accounts). Thin views over idp.services.counter_organisations and
counter_organisation_decisions; the lookup of a code is in checks.py (one field for both
kinds of code). The guard (guard.py) has put the signed-in staff member in `g.staff`."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.admin_units import PROVINCES
from idp.models import OrganisationVerification
from idp.services import counter_checks, counter_organisation_decisions, counter_organisations
from idp.services.account_data import parse_page
from idp.services.counter_checks import CounterRefusal
from idp.web.business.labels import KIND_LABELS, TITLE_LABELS
from idp.web.counter import bp
from idp.web.counter.check_forms import DOCUMENT_LABELS, STATUS_LABELS, ApproveForm, LookupForm
from idp.web.counter.guard import current_staff, require_supervisor
from idp.web.counter.org_forms import (
    AUTHORITY_LABELS,
    DONE_MESSAGES,
    WAITING_MESSAGES,
    BusinessCheckForm,
    OrgReasonForm,
    reason_label,
)

Page = Response | tuple[str, int] | str
DONE = {"submitted", "rejected", "approved", "revoked"}
MAX_SEARCH = 64


def _refused(refusal: CounterRefusal) -> tuple[str, int]:
    message = gettext(refusal.message, **refusal.message_args)
    return render_template("counter/refused.html", nav="home", message=message,
                           form=LookupForm()), refusal.status


def _check_page(verification: OrganisationVerification, status: int = 200,
                **forms: Any) -> tuple[str, int]:
    staff = current_staff()
    organisation = verification.organisation
    representative = organisation.representative
    done = request.args.get("done")
    return render_template(
        "counter/org_check.html",
        nav="queue" if verification.status.value == "submitted" else "home",
        v=verification, organisation=organisation, representative=representative,
        actions=counter_checks.allowed_actions(staff, verification),
        staff_names=counter_checks.staff_by_id(verification.clerk_id, verification.decided_by,
                                               verification.revoked_by),
        masked_phone=counter_checks.masked_phone(representative.phone),
        check_form=forms.get("check_form") or BusinessCheckForm(formdata=None),
        reason_form=forms.get("reason_form") or OrgReasonForm(formdata=None),
        approve_form=ApproveForm(formdata=None), provinces=PROVINCES,
        document_labels=DOCUMENT_LABELS, authority_labels=AUTHORITY_LABELS,
        kind_labels=KIND_LABELS, title_labels=TITLE_LABELS, reason_label=reason_label,
        status_labels=STATUS_LABELS, done_messages=DONE_MESSAGES,
        waiting_messages=WAITING_MESSAGES, done=done if done in DONE else None), status


def _done(verification: OrganisationVerification, what: str) -> Response:
    return redirect(url_for("counter.org_check", public_id=verification.public_id, done=what))


def _reload(public_id: str, status: int, **forms: Any) -> Page:
    """The check page again, with a form's errors (the record is read without a new event)."""
    try:
        verification = counter_organisations.load_for_action(current_staff(), public_id,
                                                             channel="web", action="view")
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _check_page(verification, status, **forms)


@bp.get("/organisation-checks/<public_id>")
def org_check(public_id: str) -> Page:
    try:
        verification = counter_organisations.get(current_staff(), public_id)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _check_page(verification)


@bp.post("/organisation-checks/<public_id>/submit")
def org_submit(public_id: str) -> Page:
    form = BusinessCheckForm()
    check = form.business_check()
    if check is None:
        return _reload(public_id, 400, check_form=form)
    try:
        verification = counter_organisations.submit(current_staff(), public_id, check)
    except CounterRefusal as refusal:
        if not refusal.problems:
            return _refused(refusal)
        form.form_errors.extend(gettext(p.message) for p in refusal.problems)
        return _reload(public_id, refusal.status, check_form=form)
    return _done(verification, "submitted")


@bp.post("/organisation-checks/<public_id>/reject")
def org_reject(public_id: str) -> Page:
    form = OrgReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    try:
        verification = counter_organisation_decisions.reject(current_staff(), public_id,
                                                             form.reason.data)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _done(verification, "rejected")


@bp.post("/organisation-checks/<public_id>/approve")
def org_approve(public_id: str) -> Page:
    if not ApproveForm().validate_on_submit():
        return _reload(public_id, 400)
    try:
        verification = counter_organisation_decisions.approve(current_staff(), public_id)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _done(verification, "approved")


@bp.post("/organisation-checks/<public_id>/revoke")
def org_revoke(public_id: str) -> Page:
    form = OrgReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    try:
        verification = counter_organisation_decisions.revoke(current_staff(), public_id,
                                                             form.reason.data)
    except CounterRefusal as refusal:
        return _refused(refusal)
    return _done(verification, "revoked")


@bp.get("/organisations/approved")
@require_supervisor
def org_approved() -> str:
    search = (request.args.get("q") or "")[:MAX_SEARCH].strip()
    page = counter_organisation_decisions.approved(
        current_staff(), parse_page(request.args.get("page")), search=search or None)
    return render_template("counter/org_approved.html", nav="org_approved", page=page, q=search)

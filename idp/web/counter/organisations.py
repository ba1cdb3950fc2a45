"""Counter console pages for the check of an organisation and the decisions on it (docs/architecture.md §8,
business accounts). Thin views over idp.services.counter.organisation_checks and
counter_organisation_decisions; the lookup of a code is in checks.py (one field for both
kinds of code). The guard (guard.py) has put the signed-in staff member in `g.staff`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request, url_for

from idp.domain.admin_units import PROVINCES
from idp.domain.phone import mask_phone_for_staff
from idp.models import OrganisationVerification
from idp.services.account_data import parse_page
from idp.services.counter import checks as counter_checks
from idp.services.counter import organisation_checks, organisation_decisions
from idp.web.business.labels import KIND_LABELS, TITLE_LABELS
from idp.web.counter import bp
from idp.web.counter.check_forms import DOCUMENT_LABELS, STATUS_LABELS, ApproveForm
from idp.web.counter.checks import DONE, Page, decided, shown, with_problems
from idp.web.counter.guard import current_staff, require_supervisor
from idp.web.counter.org_forms import (
    AUTHORITY_LABELS,
    DONE_MESSAGES,
    WAITING_MESSAGES,
    BusinessCheckForm,
    OrgReasonForm,
    reason_label,
)

MAX_SEARCH = 64
CHECK_PAGE = "counter.org_check"


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
        masked_phone=mask_phone_for_staff(representative.own_phone),
        check_form=forms.get("check_form") or BusinessCheckForm(formdata=None),
        reason_form=forms.get("reason_form") or OrgReasonForm(formdata=None),
        approve_form=ApproveForm(formdata=None), provinces=PROVINCES,
        document_labels=DOCUMENT_LABELS, authority_labels=AUTHORITY_LABELS,
        kind_labels=KIND_LABELS, title_labels=TITLE_LABELS, reason_label=reason_label,
        status_labels=STATUS_LABELS, done_messages=DONE_MESSAGES,
        waiting_messages=WAITING_MESSAGES, done=done if done in DONE else None,
        # The switch stays on this check, also after a failed POST (its paths answer no GET).
        language_next=url_for(CHECK_PAGE, public_id=verification.public_id,
                              done=done if done in DONE else None)), status


def _reload(public_id: str, status: int, **forms: Any) -> Page:
    """The check page again, with a form's errors (the record is read without a new event)."""
    return shown(lambda: organisation_checks.load_for_action(current_staff(), public_id,
                                                               channel="web", action="view"),
                 _check_page, url_for(CHECK_PAGE, public_id=public_id), status, **forms)


@bp.get("/organisation-checks/<public_id>")
def org_check(public_id: str) -> Page:
    return shown(lambda: organisation_checks.get(current_staff(), public_id), _check_page,
                 url_for(CHECK_PAGE, public_id=public_id))


@bp.post("/organisation-checks/<public_id>/submit")
def org_submit(public_id: str) -> Page:
    form = BusinessCheckForm()
    check = form.business_check()
    if check is None:
        return _reload(public_id, 400, check_form=form)
    return decided(lambda: organisation_checks.submit(current_staff(), public_id, check),
                   CHECK_PAGE, public_id, "submitted",
                   lambda refusal: _reload(public_id, refusal.status,
                                           check_form=with_problems(form, refusal)))


def _with_reason(public_id: str, decide: Callable[..., OrganisationVerification],
                 done: str) -> Page:
    """Reject or revoke: `decide(staff, public_id, reason)` with the reason from the form."""
    form = OrgReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    return decided(lambda: decide(current_staff(), public_id, form.reason.data), CHECK_PAGE,
                   public_id, done)


@bp.post("/organisation-checks/<public_id>/reject")
def org_reject(public_id: str) -> Page:
    return _with_reason(public_id, organisation_decisions.reject, "rejected")


@bp.post("/organisation-checks/<public_id>/approve")
def org_approve(public_id: str) -> Page:
    if not ApproveForm().validate_on_submit():
        return _reload(public_id, 400)
    return decided(lambda: organisation_decisions.approve(current_staff(), public_id),
                   CHECK_PAGE, public_id, "approved")


@bp.post("/organisation-checks/<public_id>/revoke")
def org_revoke(public_id: str) -> Page:
    return _with_reason(public_id, organisation_decisions.revoke, "revoked")


@bp.get("/organisations/approved")
@require_supervisor
def org_approved() -> str:
    search = (request.args.get("q") or "")[:MAX_SEARCH].strip()
    page = organisation_decisions.approved(
        current_staff(), parse_page(request.args.get("page")), search=search or None)
    return render_template("counter/org_approved.html", nav="org_approved", page=page, q=search)

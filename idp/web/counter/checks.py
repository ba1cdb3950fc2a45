"""Counter console pages for the document check and the decisions (docs/architecture.md §8). Thin views:
parse a form, call one service (idp.services.counter.checks / counter_decisions), then
redirect or render. The guard (guard.py) has put the signed-in staff member in `g.staff`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.admin_units import PROVINCES
from idp.domain.phone import mask_phone_for_staff
from idp.models import IdentityVerification, OrganisationVerification, StaffMember
from idp.services.account_data import parse_page
from idp.services.counter import (
    checks as counter_checks,
)
from idp.services.counter import (
    decisions as counter_decisions,
)
from idp.services.counter import (
    organisation_checks,
    organisation_decisions,
)
from idp.services.counter.checks import CounterRefusal
from idp.services.portals import backchannel
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
CHECK_PAGE = "counter.check"
Verification = TypeVar("Verification", IdentityVerification, OrganisationVerification)


def refusal_text(refusal: CounterRefusal) -> str:
    return gettext(refusal.message, **refusal.message_args)


# --- shared by the check pages of citizens (here) and of organisations (organisations.py) ---


def refused(refusal: CounterRefusal, back: str) -> tuple[str, int]:
    """Why not, on a page of its own. `back`: the page the language switch returns to (the
    check's own page: the POST routes that end here answer no GET)."""
    return render_template("counter/refused.html", nav="home", message=refusal_text(refusal),
                           form=LookupForm(), language_next=back), refusal.status


def shown(load: Callable[[], Verification], page: Callable[..., tuple[str, int]],
          back: str, status: int = 200, **forms: Any) -> Page:
    """`page(verification, status, **forms)` of the record `load` reads, else why not."""
    try:
        verification = load()
    except CounterRefusal as refusal:
        return refused(refusal, back)
    return page(verification, status, **forms)


def decided(decide: Callable[[], Verification], endpoint: str, public_id: str, done: str,
            on_problems: Callable[[CounterRefusal], Page] | None = None) -> Page:
    """Runs one service call that changes the record, then back to its page (`endpoint`) saying
    what was `done`. A refusal shows why, on the form again (`on_problems`) if it lists
    problems of the check the clerk can correct."""
    try:
        verification = decide()
    except CounterRefusal as refusal:
        if on_problems is None or not refusal.problems:
            return refused(refusal, url_for(endpoint, public_id=public_id))
        return on_problems(refusal)
    return redirect(url_for(endpoint, public_id=verification.public_id, done=done))


def with_problems(form: DocumentCheckForm, refusal: CounterRefusal) -> DocumentCheckForm:
    """The check form with the problems the service found, each next to its input."""
    form.attach_problems(refusal.problems)
    return form


# --- the lookup of a code, and citizens' checks ------------------------------------------


@bp.get("/")
def home() -> str:
    return render_template("counter/home.html", nav="home", form=LookupForm())


def _home(form: LookupForm, status: int) -> tuple[str, int]:
    """The look-up page after a failed look-up: /lookup answers no GET, so the language switch
    returns to the look-up page itself, not to the start page."""
    return render_template("counter/home.html", nav="home", form=form,
                           language_next=url_for("counter.home")), status


@bp.post("/lookup")
def lookup() -> Page:
    form = LookupForm()
    if not form.validate_on_submit():
        return _home(form, 400)
    code = form.code.data or ""
    # One field for both kinds of code (unique across both): an organisation's opens its page.
    organisation = organisation_checks.holds_code(code)
    verification: IdentityVerification | OrganisationVerification
    try:
        if organisation:
            verification = organisation_checks.lookup(current_staff(), code)
        else:
            verification = counter_checks.lookup(current_staff(), code)
    except CounterRefusal as refusal:
        form.code.errors = [refusal_text(refusal)]
        return _home(form, refusal.status)
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
        masked_phone=mask_phone_for_staff(verification.account.own_phone),
        document_labels=DOCUMENT_LABELS, reason_label=reason_label, provinces=PROVINCES,
        status_labels=STATUS_LABELS, done_messages=DONE_MESSAGES, waiting_messages=WAITING_MESSAGES,
        done=done if done in DONE else None, **context,
        # The switch stays on this check, also after a failed POST (its paths answer no GET).
        language_next=url_for(CHECK_PAGE, public_id=verification.public_id,
                              done=done if done in DONE else None)), status


@bp.get("/checks/<public_id>")
def check(public_id: str) -> Page:
    return shown(lambda: counter_checks.get(current_staff(), public_id), _check_page,
                 url_for(CHECK_PAGE, public_id=public_id))


def _reload(public_id: str, status: int, **forms: Any) -> Page:
    """The check page again, with a form's errors (the record is read without a new event)."""
    return shown(lambda: counter_checks.load_for_action(current_staff(), public_id, channel="web",
                                                        action="view"),
                 _check_page, url_for(CHECK_PAGE, public_id=public_id), status, **forms)


@bp.post("/checks/<public_id>/submit")
def submit(public_id: str) -> Page:
    form = DocumentCheckForm()
    check = form.document_check()
    if check is None:
        return _reload(public_id, 400, check_form=form)
    return decided(lambda: counter_checks.submit(current_staff(), public_id, check),
                   CHECK_PAGE, public_id, "submitted",
                   lambda refusal: _reload(public_id, refusal.status,
                                           check_form=with_problems(form, refusal)))


def _with_reason(public_id: str, decide: Callable[..., IdentityVerification], done: str) -> Page:
    """Reject or revoke: `decide(staff, public_id, reason)` with the reason from the form."""
    form = ReasonForm()
    if not form.validate_on_submit():
        return _reload(public_id, 400, reason_form=form)
    return decided(lambda: decide(current_staff(), public_id, form.reason.data), CHECK_PAGE,
                   public_id, done)


def _revoke(staff: StaffMember, public_id: str, reason: str | None) -> IdentityVerification:
    result = counter_decisions.revoke(staff, public_id, reason)
    if result.logouts:
        backchannel.deliver(result.logouts)  # first attempt; `idp logout deliver` retries
    return result.verification


@bp.post("/checks/<public_id>/reject")
def reject(public_id: str) -> Page:
    return _with_reason(public_id, counter_decisions.reject, "rejected")


@bp.post("/checks/<public_id>/approve")
def approve(public_id: str) -> Page:
    if not ApproveForm().validate_on_submit():
        return _reload(public_id, 400)
    return decided(lambda: counter_decisions.approve(current_staff(), public_id),
                   CHECK_PAGE, public_id, "approved")


@bp.post("/checks/<public_id>/revoke")
def revoke(public_id: str) -> Page:
    return _with_reason(public_id, _revoke, "revoked")


@bp.get("/queue")
@require_supervisor
def queue() -> str:
    staff = current_staff()
    page = counter_decisions.approval_queue(staff, parse_page(request.args.get("page")))
    org_page = organisation_decisions.approval_queue(
        staff, parse_page(request.args.get("org_page")))
    return render_template("counter/queue.html", nav="queue", page=page, org_page=org_page)


@bp.get("/approved")
@require_supervisor
def approved() -> str:
    code = (request.args.get("code") or "")[:64].strip()
    page = counter_decisions.approved(current_staff(), parse_page(request.args.get("page")),
                                      code=code or None)
    return render_template("counter/approved.html", nav="approved", page=page, code=code)

"""Counter console pages of mandates (docs/architecture.md §14): a new mandate (the citizen's ID
number, then the ID-card check, the scope and the duration), the mandate's page (its status;
the SMS code the citizen types in, or their approval on their own phone), the supervisor's list
of the office's mandates, and ending one. Thin views over idp.services.counter.mandates and
mandate_confirmation; the guard (guard.py) has put the staff member in `g.staff`.

The citizen's ID number never goes in a URL (URLs are logged): the look-up is a POST whose
answer is the form, which carries the number on to the POST that makes the mandate.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.phone import mask_phone_for_staff
from idp.models import Account, Mandate
from idp.services.account_data import parse_page
from idp.services.counter import mandate_confirmation, mandates
from idp.services.counter.mandate_refusals import MandateRefusal
from idp.services.counter.mandate_scope import (
    delegating_portals,
    duration_words,
    last_day,
    scope_words,
)
from idp.services.standing import delegation
from idp.web.counter import bp
from idp.web.counter.check_forms import DOCUMENT_LABELS
from idp.web.counter.guard import current_staff, require_supervisor
from idp.web.counter.mandate_forms import (
    DONE_MESSAGES,
    STATUS_LABELS,
    ButtonForm,
    CitizenLookupForm,
    CodeForm,
    MandateForm,
    procedure_label,
)

Page = Response | tuple[str, int] | str
MANDATE_PAGE = "counter.mandate"
NEW_PAGE = "counter.mandate_start"
# Refusals of a typed code, shown next to the code field rather than on a page of their own.
CODE_ERRORS = {"wrong_code", "code_used_up"}


def _text(refusal: MandateRefusal) -> str:
    return gettext(refusal.message, **refusal.message_args)


def _refused(refusal: MandateRefusal, back: str) -> tuple[str, int]:
    return render_template("counter/mandate_refused.html", nav="mandate_new",
                           message=_text(refusal), language_next=back), refusal.status


# --- a new mandate -------------------------------------------------------------------------


def _start(form: CitizenLookupForm, status: int = 200) -> tuple[str, int]:
    return render_template("counter/mandate_start.html", nav="mandate_new", form=form,
                           language_next=url_for(NEW_PAGE)), status


@bp.get("/mandates/new")
def mandate_start() -> Page:
    return _start(CitizenLookupForm())


def _form_page(account: Account, form: MandateForm, status: int = 200) -> tuple[str, int]:
    return render_template("counter/mandate_new.html", nav="mandate_new", account=account,
                           form=form, masked_phone=mask_phone_for_staff(account.own_phone),
                           language_next=url_for(NEW_PAGE)), status


@bp.post("/mandates/new")
def mandate_lookup() -> Page:
    form = CitizenLookupForm()
    if not form.validate_on_submit():
        return _start(form, 400)
    try:
        account = mandates.find_citizen(current_staff(), form.national_id.data or "")
    except MandateRefusal as refusal:
        form.national_id.errors = [_text(refusal)]
        return _start(form, refusal.status)
    mandate_form = MandateForm(formdata=None, portals=delegating_portals(),
                               national_id=account.national_id)
    return _form_page(account, mandate_form)


@bp.post("/mandates")
def mandate_create() -> Page:
    staff = current_staff()
    form = MandateForm(portals=delegating_portals())
    try:
        # The citizen again (the number came back from the page): refused as at the look-up.
        account = mandates.find_citizen(staff, form.national_id.data or "", action="create")
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(NEW_PAGE))
    check = form.document_check()
    if check is None:
        return _form_page(account, form, 400)
    try:
        mandate = mandates.create_mandate(
            staff, account.national_id, check, kinds=list(form.kinds.data or []),
            client_ids=list(form.portals.data or []), months=int(form.months.data or 0))
    except MandateRefusal as refusal:
        if not refusal.problems:
            return _refused(refusal, url_for(NEW_PAGE))
        form.attach_problems(refusal.problems)
        return _form_page(account, form, refusal.status)
    return redirect(url_for(MANDATE_PAGE, public_id=mandate.public_id, done="created"))


# --- the mandate's page: status and the citizen's confirmation ------------------------------


def _mandate_page(mandate: Mandate, status: int = 200, **forms: Any) -> tuple[str, int]:
    staff = current_staff()
    done = request.args.get("done")
    state = delegation.status_of(mandate)
    wait = mandate_confirmation.resend_in(mandate) if state.value == "pending" else None
    return render_template(
        "counter/mandate.html", nav="mandates" if staff.is_supervisor else "mandate_new",
        m=mandate, account=mandate.account, state=state, status_labels=STATUS_LABELS,
        scope=scope_words(mandate), duration=duration_words(mandate.months),
        last_day=last_day(mandate),
        kinds=[procedure_label(k) for k in mandate.kinds], document_labels=DOCUMENT_LABELS,
        masked_phone=mask_phone_for_staff(mandate.account.own_phone),
        uses=mandates.uses_of(mandate.id)[mandate.id], code_sent=mandate.confirmation_challenge_id
        is not None, resend_in=wait, button_form=ButtonForm(formdata=None),
        code_form=forms.get("code_form") or CodeForm(formdata=None),
        done=DONE_MESSAGES.get(done or ""), waiting=request.args.get("wait", type=int),
        language_next=url_for(MANDATE_PAGE, public_id=mandate.public_id)), status


def _shown(public_id: str, status: int = 200, **forms: Any) -> Page:
    try:
        mandate = mandates.get_mandate(current_staff(), public_id)
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(NEW_PAGE))
    return _mandate_page(mandate, status, **forms)


@bp.get("/mandates/<public_id>")
def mandate(public_id: str) -> Page:
    return _shown(public_id)


@bp.post("/mandates/<public_id>/send-code")
def mandate_send_code(public_id: str) -> Page:
    if not ButtonForm().validate_on_submit():
        return _shown(public_id, 400)
    try:
        result = mandate_confirmation.send_confirmation_code(current_staff(), public_id)
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(MANDATE_PAGE, public_id=public_id))
    if not result.sent:  # one went out moments ago: nothing new sent
        return redirect(url_for(MANDATE_PAGE, public_id=public_id, wait=result.resend_in))
    return redirect(url_for(MANDATE_PAGE, public_id=public_id, done="sent"))


@bp.post("/mandates/<public_id>/confirm")
def mandate_confirm(public_id: str) -> Page:
    form = CodeForm()
    if not form.validate_on_submit():
        return _shown(public_id, 400, code_form=form)
    try:
        mandate_confirmation.confirm_with_code(current_staff(), public_id, form.code.data or "")
    except MandateRefusal as refusal:
        if refusal.code not in CODE_ERRORS:
            return _refused(refusal, url_for(MANDATE_PAGE, public_id=public_id))
        form.code.errors = [_text(refusal)]
        return _shown(public_id, refusal.status, code_form=form)
    return redirect(url_for(MANDATE_PAGE, public_id=public_id, done="confirmed"))


# --- the supervisor's list, and ending a mandate ------------------------------------------


@bp.get("/mandates")
def mandate_list() -> Page:
    try:
        page = mandates.office_mandates(current_staff(), parse_page(request.args.get("page")))
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(NEW_PAGE))
    return render_template("counter/mandates.html", nav="mandates", page=page,
                           status_labels=STATUS_LABELS, scope_words=scope_words,
                           duration_words=duration_words, last_day=last_day)


@bp.get("/mandates/<public_id>/end")
@require_supervisor
def mandate_end_confirm(public_id: str) -> Page:
    try:
        found = mandates.get_mandate(current_staff(), public_id)
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(MANDATE_PAGE, public_id=public_id))
    return render_template("counter/mandate_end.html", nav="mandates", m=found,
                           account=found.account, state=delegation.status_of(found),
                           status_labels=STATUS_LABELS, scope=scope_words(found),
                           form=ButtonForm(formdata=None),
                           language_next=url_for(MANDATE_PAGE, public_id=public_id))


@bp.post("/mandates/<public_id>/end")
def mandate_end(public_id: str) -> Page:
    if not ButtonForm().validate_on_submit():
        return _shown(public_id, 400)
    try:
        mandates.end_mandate(current_staff(), public_id)
    except MandateRefusal as refusal:
        return _refused(refusal, url_for(MANDATE_PAGE, public_id=public_id))
    return redirect(url_for(MANDATE_PAGE, public_id=public_id, done="ended"))

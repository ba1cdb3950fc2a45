"""Organisations: my organisations and invitations, registering one, its page with its counter
check. Thin views: a form, one service call, a page or a redirect (303 after a POST)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.admin_units import PROVINCES
from idp.models import MemberRole, MembershipStatus, OrganisationStatus
from idp.services.business import (
    enrolment,
    organisations,
)
from idp.services.business import (
    invitations as organisation_invitations,
)
from idp.services.business import (
    members as organisation_members,
)
from idp.services.business.organisations import RegistrationInput
from idp.services.business.refusals import OrganisationRefusal
from idp.services.standing.organisation_access import access_problem, identity_verified
from idp.web.business import bp, labels
from idp.web.business.forms import InviteForm, RegisterOrganisationForm
from idp.web.citizen.forms import ActionForm
from idp.web.citizen.verification import pending_qr
from idp.web.session_cookie import signed_in_session

Page = tuple[str, int]


def _require_csrf(form: Any) -> None:
    if not form.validate_on_submit():
        abort(400)


# --- my organisations and invitations ------------------------------------------------------


@bp.get("/")
def home() -> str:
    account = signed_in_session().account
    memberships = organisations.my_memberships(account)
    return render_template(
        "business/home.html", nav="organisations", labels=labels,
        identity_verified=identity_verified(account),
        invitations=organisation_invitations.invitations_for(account),
        memberships=[(m, access_problem(m)) for m in memberships],
        notice=request.args.get("done"))


def _answer(member_id: str, accept: bool) -> Response | Page:
    _require_csrf(ActionForm())
    session = signed_in_session()
    answer = organisation_invitations.accept if accept else organisation_invitations.decline
    try:
        membership = answer(session.account, member_id, session_id=session.id)
    except OrganisationRefusal as exc:
        return _refusal_page(exc)
    if accept:
        return redirect(url_for("business.organisation", public_id=membership.organisation.public_id,
                                done="accepted"), code=303)
    return redirect(url_for("business.home", done="declined"), code=303)


def _refusal_page(exc: OrganisationRefusal) -> Page:
    if exc.status == 404:
        abort(404)
    return refused_page(exc)


def refused_page(exc: OrganisationRefusal) -> Page:
    """A refusal on a page of its own, with its status. It answers POSTs only, some to paths
    with no GET: the language switch returns to my organisations."""
    return render_template("business/refused.html", nav="organisations",
                           error=gettext(exc.message),
                           verify=exc.code == "organisation.identity_not_verified",
                           language_next=url_for("business.home")), exc.status


@bp.post("/invitations/<member_id>/accept")
def accept(member_id: str) -> Response | Page:
    return _answer(member_id, True)


@bp.post("/invitations/<member_id>/decline")
def decline(member_id: str) -> Response | Page:
    return _answer(member_id, False)


# --- registration ----------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response | Page | str:
    form = RegisterOrganisationForm()
    verified = identity_verified(signed_in_session().account)
    if request.method == "GET":
        return render_template("business/register.html", nav="organisations", form=form,
                               identity_verified=verified)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return render_template("business/register.html", nav="organisations", form=form,
                               identity_verified=verified), 400
    session = signed_in_session()
    details = RegistrationInput(
        tax_code=form.tax_code.data or "", name=form.name.data or "",
        title=form.title.data or "", province_code=form.province_code.data or "",
        ward=form.ward.data or "", street=form.street.data or "")
    try:
        organisation = organisations.register(session.account, details, session_id=session.id)
    except OrganisationRefusal as exc:
        for name, message in ((exc.field, exc.message), *exc.more):
            field = getattr(form, name) if name else None
            if field is not None:
                field.errors = [*field.errors, gettext(message)]
            else:
                form.form_errors.append(gettext(message))
        return render_template("business/register.html", nav="organisations", form=form,
                               identity_verified=verified), exc.status
    return redirect(url_for("business.organisation", public_id=organisation.public_id,
                            done="registered"), code=303)


# --- one organisation --------------------------------------------------------------------------


def organisation_page(public_id: str, status: int = 200, *, error: str | None = None,
                      invite_form: InviteForm | None = None) -> Page:
    """The organisation's page as the signed-in member sees it (404 for anybody else)."""
    try:
        membership = organisations.viewer_membership(signed_in_session().account, public_id)
    except OrganisationRefusal:
        abort(404)
    organisation = membership.organisation
    active = membership.status is MembershipStatus.ACTIVE
    representative = active and membership.role is MemberRole.REPRESENTATIVE
    standing = enrolment.standing(organisation) if representative else None
    # The member list (names, ID numbers) only for those who may manage it now: the same rule
    # as the POSTs (organisation_members.manager_of).
    manager_role = active and membership.role in (MemberRole.REPRESENTATIVE, MemberRole.ADMIN)
    problem = access_problem(membership)
    can_manage = manager_role and problem is None
    members = organisation_members.members_of(organisation) if can_manage else None
    # After an invitation: the row it made, to show the ID number as typed (see organisation.html).
    invited = next((row for row in members or () if row.public_id == request.args.get("member")
                    and row.status is MembershipStatus.INVITED), None)
    return render_template(
        "business/organisation.html", nav="organisations", labels=labels,
        organisation=organisation, membership=membership,
        verified=organisation.status is OrganisationStatus.VERIFIED,
        problem=problem,
        representative=representative, standing=standing,
        qr=pending_qr(standing.verification) if standing is not None else None,
        province=PROVINCES.get(organisation.head_office.get("province_code", ""), ""),
        hold_ends=organisations.hold_ends(organisation),
        members=members, invited=invited,
        manager_role=manager_role,
        invite_form=invite_form or InviteForm(formdata=None),
        error=error, notice=request.args.get("done"),
        # Also shown by POSTs (invite, change, verification) whose paths answer no GET: the
        # language switch stays on this organisation.
        language_next=url_for("business.organisation", public_id=organisation.public_id,
                              done=request.args.get("done"), member=request.args.get("member"))
    ), status


@bp.get("/<public_id>")
def organisation(public_id: str) -> Page:
    return organisation_page(public_id)


@bp.post("/<public_id>/verification/request")
def verification_request(public_id: str) -> Response | Page:
    _require_csrf(ActionForm())
    session = signed_in_session()
    try:
        enrolment.request_code(session.account, public_id, session_id=session.id)
    except OrganisationRefusal as exc:
        if exc.status == 404:
            abort(404)
        return organisation_page(public_id, exc.status, error=gettext(exc.message))
    return redirect(url_for("business.organisation", public_id=public_id), code=303)


@bp.post("/<public_id>/verification/cancel")
def verification_cancel(public_id: str) -> Response | Page:
    form = ActionForm()
    _require_csrf(form)
    session = signed_in_session()
    try:
        enrolment.cancel(session.account, public_id, form.target.data or "",
                                      session_id=session.id)
    except OrganisationRefusal as exc:
        if exc.status == 404:
            abort(404)
        return organisation_page(public_id, exc.status, error=gettext(exc.message))
    return redirect(url_for("business.organisation", public_id=public_id, done="cancelled"),
                    code=303)

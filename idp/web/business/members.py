"""Managing an organisation's members: invite, cancel an invitation, suspend, reinstate,
remove, change role and dates. Every POST carries a CSRF token; who may do what is decided
(and every refusal audited) by idp.services.business.members."""

from __future__ import annotations

from datetime import date

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.models import OrganisationMember
from idp.services.business import members as organisation_members
from idp.services.business import organisations
from idp.services.business.members import Actor, MemberInput
from idp.services.business.refusals import OrganisationRefusal
from idp.services.standing.organisation_access import is_current
from idp.web.business import bp, labels
from idp.web.business.forms import InviteForm, MemberEditForm
from idp.web.business.views import Page, organisation_page, refused_page
from idp.web.citizen.forms import ActionForm
from idp.web.session_cookie import signed_in_session


def _actor() -> Actor:
    session = signed_in_session()
    return Actor(account=session.account, session_id=session.id)


def _back(public_id: str, done: str) -> Response:
    return redirect(url_for("business.organisation", public_id=public_id, done=done,
                            _anchor="members"), code=303)


@bp.post("/<public_id>/members/invite")
def invite(public_id: str) -> Response | Page:
    form = InviteForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return organisation_page(public_id, 400, invite_form=form)
    fields = MemberInput(role=form.role.data or "", valid_from=form.valid_from.data or "",
                         valid_until=form.valid_until.data or "",
                         national_id=form.national_id.data or "")
    try:
        invited = organisation_members.invite(_actor(), public_id, fields)
    except OrganisationRefusal as exc:
        if exc.status == 404:
            abort(404)
        field = getattr(form, exc.field, None) if exc.field else None
        if field is not None:
            field.errors = [*field.errors, gettext(exc.message)]
            return organisation_page(public_id, exc.status, invite_form=form)
        return organisation_page(public_id, exc.status, error=gettext(exc.message),
                                 invite_form=form)
    # The notice names the invited ID number, so a typo can be seen and withdrawn at once.
    return redirect(url_for("business.organisation", public_id=public_id, done="invited",
                            member=invited.public_id, _anchor="notice"), code=303)


@bp.post("/<public_id>/members/<member_id>/<action>")
def change(public_id: str, member_id: str, action: str) -> Response | Page:
    if action not in organisation_members.TRANSITIONS:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        organisation_members.change_status(_actor(), public_id, member_id, action)
    except OrganisationRefusal as exc:
        if exc.status == 404:
            abort(404)
        return organisation_page(public_id, exc.status, error=gettext(exc.message))
    return _back(public_id, action)


def _member(public_id: str, member_id: str) -> OrganisationMember:
    """The member to edit, for a viewer who may manage members now: the same rule as the
    POSTs (a representative or admin whose membership is current, organisation verified);
    404 for anybody else, so a suspended or lapsed admin learns nothing about the members."""
    try:
        viewer = organisations.viewer_membership(signed_in_session().account, public_id)
    except OrganisationRefusal:
        abort(404)
    member = None
    if viewer.role in organisation_members.MANAGERS and is_current(viewer):
        member = organisation_members.member_of(viewer.organisation, member_id)
    if member is None:
        abort(404)
    return member


def _edit_page(member: OrganisationMember, form: MemberEditForm, status: int = 200,
               error: str | None = None) -> Page:
    return render_template("business/member_edit.html", nav="organisations", labels=labels,
                           organisation=member.organisation, member=member, form=form,
                           error=error), status


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@bp.get("/<public_id>/members/<member_id>")
def edit(public_id: str, member_id: str) -> Page:
    """The form to change a member's role and dates (the POST decides who may)."""
    member = _member(public_id, member_id)
    form = MemberEditForm(formdata=None, data={
        "role": member.role.value, "valid_from": _day(member.valid_from),
        "valid_until": _day(member.valid_until)})
    return _edit_page(member, form)


@bp.post("/<public_id>/members/<member_id>")
def update(public_id: str, member_id: str) -> Response | Page:
    form = MemberEditForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _edit_page(_member(public_id, member_id), form, 400)
    fields = MemberInput(role=form.role.data or "", valid_from=form.valid_from.data or "",
                         valid_until=form.valid_until.data or "")
    try:
        organisation_members.update_member(_actor(), public_id, member_id, fields)
    except OrganisationRefusal as exc:
        if exc.status == 404:
            abort(404)
        field = getattr(form, exc.field, None) if exc.field else None
        if exc.code in ("organisation.forbidden", "organisation.not_verified"):
            return refused_page(exc)  # no longer a manager: no member to show
        if field is not None:
            field.errors = [*field.errors, gettext(exc.message)]
            return _edit_page(_member(public_id, member_id), form, exc.status)
        return _edit_page(_member(public_id, member_id), form, exc.status, gettext(exc.message))
    return _back(public_id, "updated")

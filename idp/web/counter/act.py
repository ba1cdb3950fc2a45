"""Signing in to a portal for a citizen (docs/architecture.md §14): the agent pressed the
portal's ordinary "Sign in with PostID", then "Post-office staff: sign in for a citizen" on the
sign-in page, which opens /counter/act?next=<the authorization request>. Behind the console
guard (the sign-in steps come back here), the page lists the mandates of the agent's office
that let them sign in to that portal now; the one picked opens the citizen's delegated session
(idp.services.counter.acting) and the browser goes back to the authorization request with it.

`next` must be this site's /authorize of an active portal (the same reading as the sign-in
page's way back); anything else is a page saying so, never a redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from idp.domain import mandates as rules
from idp.domain.organisation_rules import mask_national_id
from idp.domain.procedures import Procedure
from idp.models import Mandate, OAuthClient
from idp.services.counter import acting
from idp.services.portals import clients
from idp.services.standing import delegation
from idp.web.counter import bp
from idp.web.counter.guard import current_staff, current_staff_session
from idp.web.oidc.interactions import waiting_portal
from idp.web.redirects import safe_next
from idp.web.session_cookie import current_session, set_session_cookie

Page = Response | tuple[str, int]

PROCEDURE_NAMES = {
    Procedure.SOCIAL_INSURANCE: _l("Social insurance"),
    Procedure.LAND_HOUSING: _l("Land and housing"),
    Procedure.BUSINESS_REGISTRATION: _l("Business registration"),
    Procedure.JUSTICE_RECORDS: _l("Justice records"),
    Procedure.CIVIL_STATUS: _l("Civil status"),
    Procedure.HEALTH_INSURANCE: _l("Health insurance"),
    Procedure.ANY_DELEGATING_PORTAL: _l("Any portal that accepts delegation"),
}


class PickMandateForm(FlaskForm):
    mandate = HiddenField(validators=[DataRequired(), Length(max=acting.MAX_PUBLIC_ID)])


@dataclass(frozen=True)
class Row:
    """One mandate as the agent sees it: never the full ID number."""

    public_id: str
    name: str
    masked_id: str
    covers: list[str]
    valid_until: date


def _row(mandate: Mandate) -> Row:
    covers = [str(PROCEDURE_NAMES[kind]) for kind in Procedure
              if kind in delegation.procedures_of(mandate.kinds)]
    for client_id in mandate.client_ids or ():
        portal = clients.get_client(client_id)
        if portal is not None:
            covers.append(portal.name)
    # expires_at is the first instant it no longer grants: the day before is the last one.
    last_day = rules.vietnam_date(mandate.expires_at - timedelta(microseconds=1))
    return Row(public_id=mandate.public_id, name=mandate.account.full_name,
               masked_id=mask_national_id(mandate.account.national_id), covers=covers,
               valid_until=last_day)


@dataclass(frozen=True)
class Target:
    """The authorization request to resume (a same-site /authorize URL) and its portal."""

    next_url: str
    client: OAuthClient


def _target() -> Target | Page:
    """What `next` resumes, or the page that says why there is nothing to sign in to."""
    next_url = safe_next(request.args.get("next"), "")
    portal = waiting_portal(next_url or None)
    if portal is None:
        return render_template("counter/act_no_portal.html", nav="act"), 400
    if not portal.client.accepts_delegation:
        return _refused(Target(next_url, portal.client), gettext(
            acting.MESSAGES[rules.Reason.PORTAL_NOT_DELEGATING]), 403, listed=False)
    return Target(next_url, portal.client)


def _refused(target: Target, message: str, status: int, *, listed: bool = True) -> Page:
    """Why not; nothing else is shown. `listed`: the portal has a list to go back to."""
    return render_template("counter/act_refused.html", nav="act", client=target.client,
                           message=message, next_url=target.next_url,
                           back=url_for("counter.act", next=target.next_url) if listed else None
                           ), status


def _list(target: Target, form: PickMandateForm, status: int = 200) -> Page:
    rows = [_row(m) for m in delegation.usable_mandates(current_staff(), target.client)]
    return render_template("counter/act.html", nav="act", client=target.client, rows=rows,
                           form=form, next_url=target.next_url), status


@bp.route("/act", methods=["GET", "POST"])
def act() -> Page:
    target = _target()
    if not isinstance(target, Target):
        return target
    form = PickMandateForm()
    if request.method == "GET":
        return _list(target, form)
    if not form.validate_on_submit():
        return _list(target, form, 400)
    try:
        new = acting.sign_in_under_mandate(
            current_staff(), current_staff_session(), form.mandate.data or "",
            target.client.client_id, previous_session=current_session(),
            user_agent=request.user_agent.string)
    except acting.MandateSignInRefusal as refusal:
        return _refused(target, gettext(refusal.message), refusal.status)
    set_session_cookie(new.token)
    # A fresh CSRF token: the one from before this sign-in does not outlive it.
    form_session.clear()
    return redirect(target.next_url, code=303)

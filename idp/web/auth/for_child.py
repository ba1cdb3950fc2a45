"""A guardian signs in to a portal for their child under 14 (docs/architecture.md §14): from the
portal's sign-in page (auth/_delegation_links.html) to /login/for-child, which needs the
guardian's own sign-in, lists the children the guardian may sign in for to that portal and
opens the child's session (idp.services.identity.guardian_sign_in), then resumes the
authorization request."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField

from idp.services.identity import guardian_sign_in
from idp.services.identity.guardian_sign_in import GuardianSignInRefused
from idp.web.auth import bp
from idp.web.oidc.interactions import WaitingPortal, waiting_portal
from idp.web.redirects import safe_next
from idp.web.session_cookie import current_session, set_session_cookie


class ChildPickForm(FlaskForm):
    child = HiddenField()
    next = HiddenField()


@bp.route("/login/for-child", methods=["GET", "POST"])
def sign_in_for_child() -> Response | str | tuple[str, int]:
    form = ChildPickForm()
    next_url = safe_next(request.args.get("next") if request.method == "GET"
                         else form.next.data, "")
    portal = waiting_portal(next_url or None, endpoint="oidc.authorize_consent")
    if portal is None:
        return _page(None, [], next_url, 400, message=gettext(
            "Open this page from a portal's “Sign in with PostID” page."))
    session = current_session()
    if session is None or session.is_delegated:
        # The guardian's own sign-in first, then back here.
        return redirect(url_for("auth.login",
                                next=url_for("auth.sign_in_for_child", next=next_url)))
    if request.method == "GET":
        children = guardian_sign_in.children_of(session.account_id, client=portal.client)
        return _page(portal, [c for c in children if c.refusal is None], next_url, 200)
    if not form.validate_on_submit():
        return _page(portal, [], next_url, 400,
                     message=gettext("The page expired. Open it again from the portal."))
    try:
        new = guardian_sign_in.sign_in_for_child(session, form.child.data or "", portal.client,
                                                 user_agent=request.user_agent.string)
    except GuardianSignInRefused as exc:
        return _page(portal, [], next_url, exc.status, message=gettext(exc.message))
    set_session_cookie(new.token)
    form_session.clear()  # a new sign-in: the form cookie of the guardian's pages ends
    return redirect(next_url)


def _page(portal: WaitingPortal | None, children: list[guardian_sign_in.Child], next_url: str,
          status: int, *, message: str | None = None) -> tuple[str, int]:
    return render_template("auth/for_child.html", portal=portal, children=children,
                           next=next_url, message=message, form=ChildPickForm()), status

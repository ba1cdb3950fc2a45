"""The guardian's children under 14 (docs/architecture.md §14): who they may sign in to
services for, and until when (local midnight starting the 14th birthday)."""

from __future__ import annotations

from flask import render_template

from idp.services.identity.guardian_sign_in import children_of
from idp.web.citizen import bp
from idp.web.session_cookie import signed_in_session


@bp.get("/children")
def children() -> str:
    return render_template("citizen/children.html", nav="children",
                           children=children_of(signed_in_session().account_id))

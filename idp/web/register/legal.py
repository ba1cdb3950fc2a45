"""The terms of use and the privacy notice (/terms, /privacy): public pages, linked from every
page's footer and from the checkbox that accepts them at /register and /activate. Both name
the version (idp.domain.terms.TERMS_VERSION) that an account records when it accepts them; the
durations they state come from the settings the code enforces."""

from __future__ import annotations

from flask import render_template

from idp.domain.terms import TERMS_VERSION
from idp.settings import current_settings
from idp.web.register import bp


def _page(template: str) -> str:
    return render_template(template, terms_version=TERMS_VERSION,
                           settings=current_settings())


@bp.get("/terms")
def terms() -> str:
    return _page("legal/terms.html")


@bp.get("/privacy")
def privacy() -> str:
    return _page("legal/privacy.html")

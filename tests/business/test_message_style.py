"""One style for the Vietnamese error messages of the business forms: a plain
imperative (“Nhập…”, “Chọn…”), as the rest of the product words its errors, never “Hãy nhập…”
or “Hãy chọn…” next to them."""

from __future__ import annotations

import html
import re

from flask import Flask

from tests.business.helpers import browser, organisation_with
from tests.business.test_members import invite
from tests.business.test_register import register


def errors_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="error-message" id="[^"]+">(.*?)</p>', body)]


def test_the_organisation_form_says_what_to_do_in_the_product_s_style(app: Flask) -> None:
    client = browser(app)
    client.set_cookie("postid_lang", "vi")
    response = register(client, name="", title="")
    assert response.status_code == 400
    errors = errors_of(response)
    assert "Nhập tên tổ chức." in errors and "Chọn chức vụ của bạn trong tổ chức." in errors
    assert not [e for e in errors if e.startswith("Hãy")]


def test_the_invitation_form_says_what_to_do_in_the_product_s_style(app: Flask) -> None:
    public_id = organisation_with(app)
    client = browser(app)
    client.set_cookie("postid_lang", "vi")
    response = invite(client, public_id, role="")
    assert response.status_code == 400
    assert errors_of(response) == ["Chọn quản trị viên hoặc thành viên."]

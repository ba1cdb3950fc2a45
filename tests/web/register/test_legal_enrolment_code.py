"""The terms and the privacy notice say staff never ask for codes, and name the one exception:
the enrolment code, shown to the clerk at a post office counter to have the identity verified
(otherwise they contradict the counter visit)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient

from idp.i18n import LOCALE_COOKIE

EXCEPTION = {
    ("/terms", "en"): "The one exception is your enrolment code: you show it to the clerk at a post "
                      "office counter, only there and only to have your identity verified.",
    ("/terms", "vi"): "Ngoại lệ duy nhất là mã đăng ký xác minh: bạn đưa mã này cho nhân viên tại "
                      "quầy bưu cục, chỉ ở đó và chỉ để được xác minh danh tính.",
    ("/privacy", "en"): "the one exception is the enrolment code you show to the clerk at a post "
                        "office counter, only there and only to have your identity verified.",
    ("/privacy", "vi"): "ngoại lệ duy nhất là mã đăng ký xác minh mà bạn đưa cho nhân viên tại quầy "
                        "bưu cục, chỉ ở đó và chỉ để được xác minh danh tính.",
}


def _text(client: FlaskClient, path: str, locale: str) -> str:
    client.set_cookie(LOCALE_COOKIE, locale)
    page = client.get(path)
    assert page.status_code == 200
    return re.sub(r"\s+", " ", unescape(page.get_data(as_text=True)))


@pytest.mark.parametrize(("path", "locale"), sorted(EXCEPTION))
def test_the_enrolment_code_is_named_as_the_exception(client: FlaskClient, path: str, locale: str) -> None:
    assert EXCEPTION[(path, locale)] in _text(client, path, locale)

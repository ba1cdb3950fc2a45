"""The demo portal and delegated sign-in: the "at a post office" button always shows PostID's
sign-in page (prompt=login), and a sign-in made for a citizen shows who acted, from `act`.
No provider runs here (see test_demo_portal.py)."""

from __future__ import annotations

import pytest

from tests.demo_portal.test_demo_portal_organisation import (  # noqa: F401 (the fixture)
    authorize_params,
    browser,
    signed_in_as,
)

AGENT = {"sub": "a-42", "role": "post_office_agent", "office": "HN-BOHO",
         "office_name": "Bưu điện Bờ Hồ", "mandate": "m-7"}


def test_the_counter_button_asks_for_a_fresh_sign_in_with_the_usual_request(browser):  # noqa: F811
    params = authorize_params(browser, "?counter=1")
    assert params["prompt"] == "login"
    assert params["scope"].split() == ["openid", "profile", "email", "phone", "address",
                                       "national_id", "offline_access"]
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]


@pytest.mark.parametrize("lang, words", [
    ("en", "Sign in at a post office for a citizen"),
    ("vi", "Đăng nhập tại bưu cục cho công dân"),
])
def test_home_offers_the_counter_button(browser, lang, words):  # noqa: F811
    page = browser.get(f"/?lang={lang}").get_data(as_text=True)
    assert 'href="/demo-portal/login?counter=1"' in page and words in page


def test_a_sign_in_by_an_agent_says_who_did_it_for_whom(browser):  # noqa: F811
    page = signed_in_as(browser, {"name": "Nguyễn Văn An", "act": AGENT}, asked_organisation=False,
                        claims={"act": AGENT})
    assert 'id="act"' in page
    assert "Done by Bưu điện Bờ Hồ (HN-BOHO) for Nguyễn Văn An" in page
    assert '<dt class="mono">act</dt>' in page and "post_office_agent" in page  # the raw claim


def test_a_guardians_sign_in(browser):  # noqa: F811
    page = signed_in_as(browser, {"name": "Trần Bé Na"}, asked_organisation=False,
                        claims={"act": {"sub": "g-1", "role": "guardian"}})
    assert "Done by a guardian for Trần Bé Na" in page


@pytest.mark.parametrize("value", ["agent", {"role": 3}, ["post_office_agent"], {}])
def test_a_malformed_act_is_not_taken_for_one(browser, value):  # noqa: F811
    page = signed_in_as(browser, {"name": "Nguyễn Văn An"}, asked_organisation=False,
                        claims={"act": value})
    assert 'id="act"' not in page and "Done by" not in page


def test_a_persons_own_sign_in_shows_no_act(browser):  # noqa: F811
    page = signed_in_as(browser, {"name": "Nguyễn Văn An"}, asked_organisation=False)
    assert 'id="act"' not in page

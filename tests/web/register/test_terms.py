"""Terms of use and privacy notice: the pages exist, are linked from the checkbox of
/register and from every page's footer, and the accepted version is stored on the account only
when the person accepted it (/activate: tests/web/register/test_activate.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from idp.domain.terms import TERMS_VERSION
from idp.extensions import db
from idp.models import Account, PendingRegistration
from tests.conftest import csrf_token
from tests.web.register.test_register import confirm, count, latest_code, register

LAW = "91/2025/QH15"


@pytest.mark.parametrize("path,title_vi", [("/terms", "Điều khoản sử dụng"),
                                           ("/privacy", "Thông báo về quyền riêng tư")])
def test_the_terms_and_the_privacy_notice_are_public_pages_in_vietnamese(client, path, title_vi):
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"<h1>{title_vi}</h1>" in text
    assert LAW in text
    assert 'href="mailto:privacy@postid.vn"' in text  # a contact


VERSION_DATE = date.fromisoformat(TERMS_VERSION)
SHOWN = {"vi": VERSION_DATE.strftime("%d/%m/%Y"),  # 07/12/2026
         "en": f"{VERSION_DATE.day} {VERSION_DATE:%B %Y}"}  # 7 December 2026


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", ["/terms", "/privacy", "/register"])
def test_the_version_is_a_date_in_the_page_language(client, lang, path):
    """TERMS_VERSION is an ISO date; people read it as a date of their language."""
    shown = SHOWN[lang]
    client.set_cookie("postid_lang", lang)
    text = client.get(path).get_data(as_text=True)
    assert shown in text and TERMS_VERSION not in text


@pytest.mark.parametrize("lang,hint", [("vi", "nn/tt/nnnn"), ("en", "dd/mm/yyyy")])
def test_the_date_of_birth_shows_its_format_as_a_visible_hint(client, lang, hint):
    """A placeholder disappears once typing starts: the format is also a hint above the field,
    as on the counter form."""
    client.set_cookie("postid_lang", lang)
    text = client.get("/register").get_data(as_text=True)
    assert f'<p class="hint" id="birthdate-hint">{hint}</p>' in text
    assert 'aria-describedby="birthdate-hint"' in text


def test_the_privacy_notice_says_what_why_how_long_who_and_how_to_use_each_right(client):
    client.set_cookie("postid_lang", "en")
    text = client.get("/privacy").get_data(as_text=True)
    for section in ("What we collect", "Why", "Who receives your data", "How long we keep it",
                    "Your rights and how to use them"):
        assert f">{section}</h2>" in text
    for right in ("To be informed", "To give or withdraw consent", "To see your data and get a copy",
                  "To correct it", "To have it deleted", "To restrict or object to processing",
                  "To complain"):
        assert f"<strong>{right}</strong>" in text
    # Durations come from the settings the code enforces.
    assert "for 10 minutes" in text and "for 24 hours" in text and "30 days" in text


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/activate", "/recover", "/terms",
                                  "/privacy", "/counter/login", "/no-such-page"])
def test_every_page_links_both_texts_in_its_footer(client, path):
    page = client.get(path, follow_redirects=True)
    footer = page.get_data(as_text=True).split('<footer class="site-footer">', 1)[1]
    assert 'href="/terms"' in footer and 'href="/privacy"' in footer


@pytest.mark.parametrize("path", ["/register"])
def test_the_checkbox_links_both_texts(client, path):
    page = client.get(path).get_data(as_text=True)
    label = re.search(r'<label for="accept_terms">(.*?)</label>', page, re.S).group(1)
    assert 'href="/terms"' in label and 'href="/privacy"' in label and SHOWN["vi"] in label


def test_registration_stores_the_accepted_version_on_the_account(app, client):
    assert register(client).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(PendingRegistration.terms_version)) == TERMS_VERSION
    assert confirm(client, latest_code(app)).status_code == 303
    with app.app_context():
        account = db.session.scalar(select(Account))
        registration = db.session.scalar(select(PendingRegistration))
        assert account.terms_version == TERMS_VERSION
        assert account.terms_accepted_at == registration.created_at


def test_refusing_the_terms_at_registration_stores_nothing(app, client):
    response = register(client, accept_terms=None)
    assert response.status_code == 400
    assert 'id="accept_terms-error"' in response.get_data(as_text=True)
    assert count(app, PendingRegistration) == 0 and count(app, Account) == 0


def test_the_language_switch_keeps_the_legal_pages(client):
    token = csrf_token(client, "/privacy")
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/privacy"})
    assert response.headers["Location"] == "/privacy"
    assert "<h1>Privacy notice</h1>" in client.get("/privacy").get_data(as_text=True)


@pytest.mark.parametrize("lang,registrations,messages", [
    ("en", "kept for 45 days after you send them", "Messages we sent you: 400 days"),
    ("vi", "được giữ 45 ngày kể từ khi bạn gửi", "Tin nhắn đã gửi cho bạn: 400 ngày")])
def test_the_privacy_notice_states_the_configured_retention_periods(
        make_app, database_url, tmp_path, lang, registrations, messages):
    from tests.conftest import make_settings

    app = make_app(make_settings(database_url, tmp_path / "r", registration_retention_days=45,
                                 message_retention_days=400))
    client = app.test_client()
    client.set_cookie("postid_lang", lang)
    text = client.get("/privacy").get_data(as_text=True)
    assert registrations in text and messages in text


def test_the_data_download_holds_the_accepted_terms(app, client):
    assert register(client).status_code == 303
    assert confirm(client, latest_code(app)).status_code == 303
    response = client.post("/account/data", data={"csrf_token": csrf_token(client, "/account/data")})
    profile = response.get_json(force=True)["profile"]
    with app.app_context():
        accepted_at = db.session.scalar(select(Account.terms_accepted_at))
    assert profile["terms_version"] == TERMS_VERSION
    assert profile["terms_accepted_at"] == accepted_at.isoformat()

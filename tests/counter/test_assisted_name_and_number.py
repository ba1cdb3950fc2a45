"""The walk-in form (/counter/register): a name typed without Vietnamese accents is
asked to be confirmed, as /register does, not accepted silently; an ID number that disagrees
with both the sex and the birth year says both in one round."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account
from tests.counter.helpers import api_headers, console_client
from tests.counter.test_assisted import BODY, nothing_stored, post_form, summary_targets
from tests.staff_factories import enrolled_clerk, post_office

NO_ACCENTS = {"vi": "Tên này không có dấu tiếng Việt",
              "en": "This name has no Vietnamese accents."}


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def console(app: Flask, clerk: int):  # type: ignore[no-untyped-def]
    return console_client(app, clerk)


def error_of(body: str, field: str) -> str | None:
    match = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', body)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_name_without_accents_is_asked_to_be_confirmed(app: Flask, console, lang: str) -> None:
    console.set_cookie("postid_lang", lang)
    response = post_form(console, full_name="Nguyen Van An")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert NO_ACCENTS[lang] in (error_of(body, "full_name") or "")
    assert 'type="checkbox" value="y"' in body and 'name="name_without_marks"' in body
    assert summary_targets(body)[0] == "full_name"
    assert nothing_stored(app)


def test_a_name_without_accents_is_registered_once_the_clerk_confirms_it(app: Flask,
                                                                       console) -> None:
    response = post_form(console, full_name="Nguyen Van An", name_without_marks="y")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Account.full_name)) == "Nguyen Van An"


def test_a_name_with_accents_needs_no_confirmation(console) -> None:
    page = console.get("/counter/register").get_data(as_text=True)
    assert 'name="name_without_marks"' not in page
    response = post_form(console, full_name="Nguyễn Văn An", phone="12")  # another error
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and 'name="name_without_marks"' not in body
    assert error_of(body, "full_name") is None


def test_an_id_number_disagreeing_with_sex_and_birth_year_says_both_at_once(app: Flask,
                                                                          console) -> None:
    console.set_cookie("postid_lang", "en")
    # 001099012345: a man born in 1999; typed as a woman born in 1998.
    response = post_form(console, gender="female", birthdate="17/05/1998")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "does not match the sex entered" in (error_of(body, "national_id") or "")
    assert "does not match the date of birth entered" in (error_of(body, "birthdate") or "")
    assert summary_targets(body)[:2] == ["national_id", "birthdate"]
    assert nothing_stored(app)


def test_the_api_names_both_mismatches_too(app: Flask, clerk: int) -> None:
    response = app.test_client().post(
        "/counter/api/registrations", headers=api_headers(app, clerk),
        json={**BODY, "gender": "female", "birthdate": "1998-05-17"})
    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert set(fields) >= {"national_id", "birthdate"}
    assert nothing_stored(app)

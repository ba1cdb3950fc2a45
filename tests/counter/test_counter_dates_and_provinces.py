"""Counter forms (issue 11): a date that does not exist is called so, not a format error, and
the province list is in Vietnamese alphabetical order."""

from __future__ import annotations

import re

import pytest

from idp.models import Account
from tests.counter.test_assisted import clerk, console, count, post_form  # noqa: F401  (fixtures)

NO_SUCH_DATE_VI = "Ngày này không có"


@pytest.mark.parametrize("field,value", [("birthdate", "31/02/1999"), ("issued_on", "31/04/2021"),
                                         ("expires_on", "30/02/2039")])
def test_a_date_that_does_not_exist_is_called_so(app, console, field, value):
    response = post_form(console, **{field: value})
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert NO_SUCH_DATE_VI in error.group(1)
    assert count(app, Account) == 0


def test_a_misshapen_date_still_gets_the_format_hint(console):
    response = post_form(console, issued_on="2021/06/01")
    error = re.search(r'id="issued_on-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert response.status_code == 400 and "dd/mm/yyyy" in error.group(1)


def test_the_province_list_is_in_vietnamese_order(console):
    html = console.get("/counter/register").get_data(as_text=True)
    select = html.split('name="province_code"', 1)[1].split("</select>", 1)[0]
    names = re.findall(r'<option value="\d+">([^<]+)</option>', select)
    assert names.index("Cần Thơ") < names.index("Đà Nẵng") < names.index("Gia Lai")
    assert names[-1] == "Vĩnh Long"

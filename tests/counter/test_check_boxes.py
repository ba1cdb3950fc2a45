"""The match boxes of the counter's check pages: boxes left unticked are reported in
the same round as every other error, next to the boxes, with the error summary linking to the
first unticked one; never only once the rest is fixed, as a message above the whole form."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from tests.counter.cast import make_verification, row
from tests.counter.org_cast import CHECK_FORM as ORG_CHECK_FORM
from tests.counter.org_cast import make_org_check, org_row
from tests.counter.test_checks_console import CHECK_FORM, console_client, post
from tests.organisation_factories import pending_organisation_check
from tests.verification_factories import pending_verification

MISMATCH = "Every item must match the document to submit; otherwise reject the check."
SUMMARY_LINK = re.compile(r'<ul class="error-summary-list">(.*?)</ul>', re.S)


def summary_links(body: str) -> list[tuple[str, str]]:
    """(target id, message) of every linked item of the error summary, in order."""
    match = SUMMARY_LINK.search(body)
    assert match, "no error summary"
    return [(target, html.unescape(text)) for target, text in
            re.findall(r'<a href="#([^"]+)">(.*?)</a>', match.group(1))]


def box_error(body: str, name: str) -> str | None:
    """The message shown next to box `name`, if any."""
    match = re.search(rf'<p class="error-message" id="{name}-error">(.*?)</p>', body)
    return html.unescape(match.group(1)) if match else None


def unticked(**names: str) -> dict[str, str]:
    return {**CHECK_FORM, **{name: "" for name in names}}


def test_unticked_boxes_are_reported_with_the_other_errors_of_the_form(app: Flask, cast) -> None:
    public_id, _, vid = make_verification(app, pending_verification)
    before = row(app, vid)
    form = {**unticked(name_match="", sex_match=""), "issued_on": "31/02/2024"}
    response = post(console_client(app, cast.clerk), f"/counter/checks/{public_id}/submit", **form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    links = summary_links(body)
    assert [target for target, _ in links] == ["issued_on", "name_match"]
    assert links[1][1] == MISMATCH
    assert box_error(body, "name_match") == MISMATCH
    # The other unticked box is marked too; the ticked ones are not.
    assert re.search(r'<input aria-invalid="true" id="sex_match"', body)
    assert not re.search(r'aria-invalid="true"[^>]*id="photo_match"', body)
    assert row(app, vid) == before


def test_unticked_boxes_with_problems_found_by_the_rules_are_attached_to_their_inputs(
        app: Flask, cast) -> None:
    public_id, _, vid = make_verification(app, pending_verification)
    before = row(app, vid)
    form = {**unticked(birthdate_match=""), "document_number": "079303001235"}
    response = post(console_client(app, cast.clerk), f"/counter/checks/{public_id}/submit", **form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert [target for target, _ in summary_links(body)] == ["document_number", "birthdate_match"]
    assert box_error(body, "birthdate_match") == MISMATCH
    assert row(app, vid) == before


def test_the_organisation_check_reports_its_unticked_boxes_with_the_other_errors(
        app: Flask, cast) -> None:
    org = make_org_check(app, pending_organisation_check, representative=cast.citizen)
    before = org_row(app, org.id)
    form = {**ORG_CHECK_FORM, "certificate_match": "", "photo_match": "",
            "issued_on": "31/02/2024"}
    response = post(console_client(app, cast.clerk),
                    f"/counter/organisation-checks/{org.public_id}/submit", **form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert [target for target, _ in summary_links(body)] == [
        "certificate_match", "issued_on", "photo_match"]
    assert box_error(body, "photo_match") == MISMATCH
    assert "must be those registered online" in (box_error(body, "certificate_match") or "")
    assert org_row(app, org.id) == before


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_box_is_flagged_before_a_submit(app: Flask, cast, lang: str) -> None:
    public_id, _, _ = make_verification(app, pending_verification)
    client = console_client(app, cast.clerk)
    client.set_cookie("postid_lang", lang)
    body = client.get(f"/counter/checks/{public_id}").get_data(as_text=True)
    assert 'aria-invalid' not in body and 'error-summary' not in body

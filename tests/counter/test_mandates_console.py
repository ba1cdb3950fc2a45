"""The counter console's mandate pages (black-box HTTP through the guard, with the database
effects checked): a new mandate confirmed with the citizen's SMS code, the refusals, the
supervisor's list and ending one."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Mandate, MandateConfirmation, MandateEnder, PostOffice, UserSession
from idp.services.identity import acting
from tests.conftest import csrf_token
from tests.counter import helpers
from tests.counter.cast import events, staff
from tests.factories import last_sent
from tests.mandate_factories import (
    VERIFIED_ID,
    active_mandate,
    delegating_portal,
    pending_mandate,
    verified_citizen,
)

LOCALE_COOKIE = "postid_lang"
CARD = {"document_type": "can_cuoc", "document_number": "0010 8800 4567",
        "issued_on": "01/06/2021", "expires_on": "12/04/2040", "name_match": "y",
        "birthdate_match": "y", "sex_match": "y", "photo_match": "y"}


def console(app: Flask, staff_id: int, language: str = "en"):  # type: ignore[no-untyped-def]
    client = helpers.console_client(app, staff_id)
    client.set_cookie(LOCALE_COOKIE, language)
    return client


def post(client, path: str, **data: Any):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/counter/"), **data})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Mandate)) or 0


def stored(app: Flask, public_id: str) -> Mandate:
    with app.app_context():
        found = db.session.scalar(select(Mandate).where(Mandate.public_id == public_id))
        assert found is not None
        db.session.expunge(found)
        return found


@pytest.fixture
def citizen(app: Flask, cast) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return verified_citizen().id


@pytest.fixture
def portal(app: Flask) -> str:
    with app.app_context():
        return delegating_portal(name="Cổng Dịch vụ công quốc gia").client_id


def make(app: Flask, factory, office_id: int, staff_id: int, **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = db.session.get(PostOffice, office_id)
        return factory(found, staff(staff_id), **kwargs).public_id


# --- a new mandate, confirmed with the SMS code ------------------------------------------------


def test_home_links_to_new_mandate_and_supervisors_to_the_list(app, cast):
    clerk = text(console(app, cast.clerk).get("/counter/"))
    supervisor = text(console(app, cast.supervisor).get("/counter/"))
    assert 'href="/counter/mandates/new"' in clerk and 'href="/counter/mandates"' not in clerk
    assert 'href="/counter/mandates"' in supervisor


def test_a_mandate_made_at_the_counter_and_confirmed_with_the_sms_code(app, cast, citizen, portal):
    client = console(app, cast.clerk)
    found = post(client, "/counter/mandates/new", national_id=" 0010 8800 4567 ")
    page = text(found)
    assert found.status_code == 200 and "Hoàng Văn Minh" in page and "09*****999" in page
    assert "Social insurance" in page and "Any portal that accepts delegation" in page
    assert "Cổng Dịch vụ công quốc gia" in page and "This visit only" in page
    assert 'name="province_code"' not in page  # no address with a mandate
    made = post(client, "/counter/mandates", national_id=VERIFIED_ID, **CARD,
                 kinds=["social_insurance", "land_housing"], portals=[portal], months="6")
    assert made.status_code == 302
    public_id = made.headers["Location"].split("/counter/mandates/")[1].split("?")[0]
    mandate = stored(app, public_id)
    assert (mandate.kinds, mandate.client_ids, mandate.months, mandate.confirmed_at) == (
        ["social_insurance", "land_housing"], [portal], 6, None)
    page = text(client.get(made.headers["Location"]))
    assert "Waiting for the citizen's confirmation" in page and "/account/mandates" in page
    assert "Send code to the citizen's phone" in page and 'name="code"' not in page

    sent = post(client, f"/counter/mandates/{public_id}/send-code")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("done=sent")
    assert 'name="code"' in text(client.get(sent.headers["Location"]))
    code = last_sent(app, "mandate.confirm_code", r"\b(\d{6})\b")
    wrong = post(client, f"/counter/mandates/{public_id}/confirm",
                 code="000000" if code != "000000" else "111111")
    assert wrong.status_code == 400 and "This code is not right" in text(wrong)
    done = post(client, f"/counter/mandates/{public_id}/confirm", code=code)
    assert done.status_code == 302 and done.headers["Location"].endswith("done=confirmed")
    page = text(client.get(done.headers["Location"]))
    assert "Active" in page and "with the SMS code at the counter" in page
    assert stored(app, public_id).confirmed_by is MandateConfirmation.SMS_CODE
    with app.app_context():
        [looked_up] = events("mandate.lookup")  # the form's look-up, not the form's submit
        assert (looked_up.staff_id, looked_up.office_id) == (cast.clerk, cast.office)
        [created] = events("mandate.create")
        [confirmed] = events("mandate.confirm")
        assert (created.staff_id, created.office_id) == (cast.clerk, cast.office)
        assert (confirmed.staff_id, confirmed.office_id) == (cast.clerk, cast.office)


def test_the_pages_speak_vietnamese(app, cast, citizen):
    client = console(app, cast.clerk, "vi")
    page = text(post(client, "/counter/mandates/new", national_id=VERIFIED_ID))
    assert "Bảo hiểm xã hội" in page and "Chỉ lần giao dịch này" in page


def test_sending_again_at_once_sends_nothing_new(app, cast):
    public_id = make(app, pending_mandate, cast.office, cast.clerk)
    client = console(app, cast.clerk)
    post(client, f"/counter/mandates/{public_id}/send-code")
    again = post(client, f"/counter/mandates/{public_id}/send-code")
    assert again.status_code == 302 and "wait=" in again.headers["Location"]
    assert "nothing new was sent" in text(client.get(again.headers["Location"]))
    with app.app_context():
        assert len(events("mandate.code.sent")) == 1


@pytest.mark.parametrize(("number", "status", "message"), [
    ("001099012345", 409, "not active or not verified"),  # the cast's citizen: LoA1
    ("001099099999", 404, "No PostID account has this ID number"),
    ("12", 400, "12-digit"),
])
def test_the_lookup_says_why_not(app, cast, number, status, message):
    response = post(console(app, cast.clerk), "/counter/mandates/new", national_id=number)
    assert response.status_code == status and message in text(response)
    assert 'name="document_type"' not in text(response)


def test_own_account_is_refused(app, cast):
    with app.app_context():
        verified_citizen(national_id="001085000001", birthdate=date(1985, 3, 1), phone="0912000222")
    response = post(console(app, cast.clerk), "/counter/mandates/new", national_id="001085000001")
    assert response.status_code == 403 and "your own account" in text(response)


def test_a_document_problem_shows_on_the_form_and_stores_nothing(app, cast, citizen):
    client = console(app, cast.clerk)
    response = post(client, "/counter/mandates", national_id=VERIFIED_ID,
                    **{**CARD, "document_number": "001088004568"}, kinds=["any_delegating_portal"],
                    months="0")
    page = text(response)
    assert response.status_code == 400 and "not the ID number" in page
    assert 'name="document_type"' in page and count(app) == 0
    unticked = post(client, "/counter/mandates", national_id=VERIFIED_ID,
                    **{**CARD, "photo_match": ""}, kinds=["any_delegating_portal"], months="0")
    assert unticked.status_code == 400 and count(app) == 0


def test_nothing_chosen_is_a_form_error(app, cast, citizen):
    response = post(console(app, cast.clerk), "/counter/mandates", national_id=VERIFIED_ID,
                    **CARD, months="3")
    assert response.status_code == 400
    assert "Choose at least one kind of procedure or one portal" in text(response)
    assert count(app) == 0


@pytest.mark.parametrize("months", ["13", "-1", "x"])
def test_a_bad_duration_is_a_form_error(app, cast, citizen, months):
    response = post(console(app, cast.clerk), "/counter/mandates", national_id=VERIFIED_ID,
                    **CARD, kinds=["civil_status"], months=months)
    assert response.status_code == 400 and count(app) == 0


def test_another_offices_mandate_is_not_found(app, cast):
    public_id = make(app, pending_mandate, cast.other_office, cast.other_clerk)
    client = console(app, cast.supervisor)
    assert client.get(f"/counter/mandates/{public_id}").status_code == 404
    assert post(client, f"/counter/mandates/{public_id}/send-code").status_code == 404
    assert post(client, f"/counter/mandates/{public_id}/end").status_code == 404
    assert client.get("/counter/mandates/nonsense").status_code == 404


# --- the supervisor's list and ending ---------------------------------------------------------


def test_clerks_cannot_list_or_end(app, cast):
    public_id = make(app, active_mandate, cast.office, cast.clerk)
    client = console(app, cast.clerk)
    assert client.get("/counter/mandates").status_code == 403
    assert client.get(f"/counter/mandates/{public_id}/end").status_code == 403
    assert post(client, f"/counter/mandates/{public_id}/end").status_code == 403
    assert stored(app, public_id).revoked_at is None


def test_a_supervisor_ends_a_mandate_after_confirming(app, cast):
    public_id = make(app, active_mandate, cast.office, cast.clerk)
    with app.app_context():
        mandate = db.session.scalar(select(Mandate).where(Mandate.public_id == public_id))
        session_id = acting.open_mandate_session_in_transaction(
            mandate, staff=staff(cast.clerk), client=delegating_portal(), amr="pwd otp mfa").session.id
        db.session.commit()
    client = console(app, cast.supervisor)
    listing = text(client.get("/counter/mandates"))
    assert "Hoàng Văn Minh" in listing and "Active" in listing
    assert f"/counter/mandates/{public_id}/end" in listing
    ask = client.get(f"/counter/mandates/{public_id}/end")
    assert ask.status_code == 200 and "End the mandate" in text(ask)
    assert stored(app, public_id).revoked_at is None  # asking changes nothing
    ended = post(client, f"/counter/mandates/{public_id}/end")
    assert ended.status_code == 302 and ended.headers["Location"].endswith("done=ended")
    assert "Ended" in text(client.get(ended.headers["Location"]))
    mandate = stored(app, public_id)
    assert (mandate.revoked_by, mandate.revoked_by_staff_id) == (MandateEnder.SUPERVISOR,
                                                                 cast.supervisor)
    with app.app_context():
        assert db.session.get(UserSession, session_id).revoked_at is not None
        [event] = events("mandate.revoke")
        assert (event.staff_id, event.office_id) == (cast.supervisor, cast.office)

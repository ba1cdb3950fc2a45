"""The confirmation code of a mandate counts against the counter's SMS budget of the citizen's
number (idp.services.platform.sms_limits); over it the clerk is told at once (429
`sms_not_sent`) and nothing is stored, instead of waiting for a code that never comes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import Mandate, OutboxMessage, PostOffice
from tests.counter.cast import events, staff
from tests.counter.helpers import api_headers
from tests.mandate_factories import pending_mandate, verified_citizen

API = "/counter/api/mandates"


@pytest.fixture
def app(settings, make_app):  # type: ignore[no-untyped-def]
    return make_app(replace(settings, sms_per_number_limit="1 per day",
                            sms_per_national_id_limit="1 per day"))


def test_over_the_counters_sms_budget_the_clerk_is_told_and_nothing_is_stored(app: Flask, client,
                                                                                cast) -> None:
    with app.app_context():
        office, clerk = db.session.get(PostOffice, cast.office), staff(cast.clerk)
        citizen = verified_citizen()
        first = pending_mandate(office, clerk, account=citizen).public_id
        second = pending_mandate(office, clerk, account=citizen).public_id
    headers = api_headers(app, cast.clerk)
    sent = client.post(f"{API}/{first}/send-code", headers=headers)
    assert sent.status_code == 200 and sent.json["sent"] is True
    refused = client.post(f"{API}/{second}/send-code", headers=headers)
    assert (refused.status_code, refused.json["error"]) == (429, "sms_not_sent")
    with app.app_context():
        mandate = db.session.scalar(select(Mandate).where(Mandate.public_id == second))
        assert mandate is not None and mandate.confirmation_challenge_id is None
        assert len(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "mandate.confirm_code")).all()) == 1
        [refusal] = [e for e in events("mandate.refused") if e.data.get("action") == "send_code"]
        assert (refusal.staff_id, refusal.office_id) == (cast.clerk, cast.office)

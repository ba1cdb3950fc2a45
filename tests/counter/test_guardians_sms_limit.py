"""The parent's confirmation code counts against the counter's SMS budget of the parent's number
(idp.services.platform.sms_limits), as a mandate's does; over it the clerk is told at once (429
`sms_not_sent`) and nothing is stored."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, Guardianship, OutboxMessage
from tests.counter.helpers import api_headers
from tests.counter.test_openapi import assert_documented, document
from tests.guardian_factories import registered_child, verified_parent
from tests.staff_factories import enrolled_clerk, post_office

DOC = "/counter/api/children/{public_id}/send-code"


@pytest.fixture
def app(settings, make_app):  # type: ignore[no-untyped-def]
    return make_app(replace(settings, sms_per_number_limit="1 per day",
                            sms_per_national_id_limit="1 per day"))


def test_over_the_counters_sms_budget_the_clerk_is_told_and_nothing_is_stored(app: Flask,
                                                                                client) -> None:
    with app.test_request_context():
        clerk = enrolled_clerk(post_office())
        parent = verified_parent()
        first = registered_child(clerk, parent).public_id
        second = registered_child(clerk, parent, full_name="Nguyễn Thị Lan",
                                  serial="054321").public_id
        clerk_id = clerk.id
    headers = api_headers(app, clerk_id)
    sent = client.post(f"/counter/api/children/{first}/send-code", headers=headers)
    assert sent.status_code == 200 and sent.json["sent"] is True
    refused = client.post(f"/counter/api/children/{second}/send-code", headers=headers)
    assert (refused.status_code, refused.json["error"]) == (429, "sms_not_sent")
    assert_documented(document(), "post", DOC, refused)
    with app.app_context():
        link = db.session.scalar(select(Guardianship).where(Guardianship.public_id == second))
        assert link is not None and link.confirmation_challenge_id is None
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "guardian.confirm_code")) == 1
        assert db.session.scalar(select(func.count()).select_from(Account)) == 3  # no new one

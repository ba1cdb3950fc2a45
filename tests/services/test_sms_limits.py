"""The SMS gate itself (issue 11): all-or-nothing counting, and owner-started flows that
strangers cannot drain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from idp.extensions import limiter
from idp.services import sms_limits

ID_NUMBER = "001099012345"


@pytest.fixture
def tight(settings, make_app):  # type: ignore[no-untyped-def]
    app = make_app(replace(settings, sms_per_number_limit="1 per hour;5 per day",
                           sms_per_national_id_limit="2 per hour;10 per day"))
    with app.app_context():
        yield app


def test_a_message_refused_by_one_budget_uses_up_no_other(tight, monkeypatch):
    assert sms_limits.admit("+84900000001", template="register.code",
                            national_id=ID_NUMBER) is None
    assert sms_limits.admit("+84900000002", template="register.code",
                            national_id=ID_NUMBER) is None
    storage = limiter.storage
    # A concurrent request read the counts before this one counted: the reading passes.
    monkeypatch.setattr(storage, "get", lambda key: 0)
    assert sms_limits.admit("+84900000003", template="register.code",
                            national_id=ID_NUMBER) == "national_id"
    monkeypatch.undo()
    # The refused SMS did not use up the number's budget (either window) ...
    assert sms_limits.admit("+84900000003", template="register.code") is None
    # ... and the ID number's count is where the two sent SMS left it.
    assert sms_limits.admit("+84900000004", template="register.code",
                            national_id=ID_NUMBER) == "national_id"


def test_a_message_refused_before_counting_counts_nothing(tight):
    for phone in ("+84900000011", "+84900000012"):
        assert sms_limits.admit(phone, template="activate.code", national_id=ID_NUMBER) is None
    for _ in range(3):
        assert sms_limits.admit("+84900000013", template="activate.code",
                                national_id=ID_NUMBER) == "national_id"
    assert sms_limits.admit("+84900000013", template="activate.code") is None


def test_strangers_draining_an_id_number_do_not_hold_back_the_owners_phone_change(tight):
    for phone in ("+84900000021", "+84900000022"):  # e.g. recovery codes asked by anyone
        assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER) is None
    assert sms_limits.admit("+84900000023", template="recover.code",
                            national_id=ID_NUMBER) == "national_id"
    # The signed-in owner's code to a new number counts in its own budgets ...
    assert sms_limits.admit("+84900000021", template="account.change_phone_code",
                            national_id=ID_NUMBER) is None
    # ... which keep the per-number cap against pumping by a password holder.
    assert sms_limits.admit("+84900000021", template="account.change_phone_code",
                            national_id=ID_NUMBER) == "number"


def test_the_deletion_notice_reaches_the_owner_whatever_the_counts(tight):
    for phone in ("+84900000031", "+84900000032", "+84900000033"):
        sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER)
    assert sms_limits.admit("+84900000031", template="recover.code",
                            national_id=ID_NUMBER) is not None
    assert sms_limits.admit("+84900000031", template="account.deleted",
                            national_id=ID_NUMBER) is None

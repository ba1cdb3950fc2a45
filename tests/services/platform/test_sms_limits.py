"""The SMS gate itself: all-or-nothing counting in one atomic step with the same
store calls whatever the outcome, budgets by who asks (strangers, a network's share, the
owner's known device, counter staff, the signed-in owner) under one per-number ceiling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from flask import Flask

from idp.extensions import limiter
from idp.services.platform import sms_limits

ID_NUMBER = "001099012345"


@pytest.fixture
def tight(settings, make_app):  # type: ignore[no-untyped-def]
    app = make_app(replace(settings, sms_per_number_limit="1 per hour;5 per day",
                           sms_per_national_id_limit="2 per hour;10 per day"))
    with app.app_context():
        yield app


@pytest.fixture
def daily(settings, make_app):  # type: ignore[no-untyped-def]
    """A daily stranger budget of 4 per number and per ID number: a network's share is 2."""
    return make_app(replace(settings, sms_per_number_limit="4 per day",
                            sms_per_national_id_limit="4 per day",
                            sms_per_number_ceiling="9 per day"))


@contextmanager
def asking_from(app: Flask, address: str) -> Iterator[None]:
    with app.test_request_context("/recover", method="POST",
                                  environ_base={"REMOTE_ADDR": address}):
        yield


@contextmanager
def store_calls() -> Iterator[list[str]]:
    seen: list[str] = []
    storage = limiter.storage
    for name in ("get", "incr", "clear"):
        method = getattr(storage, name)

        def call(*args, _name=name, _method=method, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(_name)
            return _method(*args, **kwargs)
        setattr(storage, name, call)
    try:
        yield seen
    finally:
        for name in ("get", "incr", "clear"):
            delattr(storage, name)


def test_a_message_refused_before_counting_counts_nothing(tight):
    for phone in ("+84900000011", "+84900000012"):
        assert sms_limits.admit(phone, template="activate.code", national_id=ID_NUMBER) is None
    for _ in range(3):
        assert sms_limits.admit("+84900000013", template="activate.code",
                                national_id=ID_NUMBER) == "national_id"
    assert sms_limits.admit("+84900000013", template="activate.code") is None


def test_refused_and_admitted_messages_make_the_same_store_calls(tight):
    with store_calls() as admitted:
        assert sms_limits.admit("+84900000041", template="recover.code",
                                national_id=ID_NUMBER) is None
    with store_calls() as refused:  # the number's hourly window is full
        assert sms_limits.admit("+84900000041", template="recover.code",
                                national_id=ID_NUMBER) == "number"
    assert refused == admitted
    assert admitted.count("incr") >= 7  # 2 number, 2 ID number, 2 ceiling windows, total


def test_concurrent_messages_admit_exactly_the_limit_and_no_counter_goes_negative(tight):
    app = tight
    results: list[str | None] = []
    gate = threading.Barrier(12)

    def send() -> None:
        with app.app_context():
            gate.wait()
            results.append(sms_limits.admit("+84900000051", template="register.code",
                                            national_id=ID_NUMBER))

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 1  # "1 per hour" for the number
    counts = dict(limiter.storage.storage)
    assert counts and min(counts.values()) >= 0
    assert max(count for key, count in counts.items() if "/stranger/number/" in key) == 1


def test_one_network_uses_only_half_of_a_persons_daily_stranger_budget(daily):
    phone = "+84900000061"
    with asking_from(daily, "203.0.113.7"):
        sent = [sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER)
                for _ in range(4)]
    assert sent == [None, None, "source", "source"]
    with asking_from(daily, "198.51.100.1"):  # another network has its own share
        assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER) is None
    other = "+84900000062"
    with asking_from(daily, "2001:db8:1:2::99"):
        assert sms_limits.admit(other, template="recover.code") is None
    with asking_from(daily, "2001:db8:1:2::abcd"):  # the same /64: the same source
        assert sms_limits.admit(other, template="recover.code") is None
        assert sms_limits.admit(other, template="recover.code") == "source"
    with asking_from(daily, "192.0.2.1"):  # 3 of 4 spent: one left for the person
        assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER) is None
        assert sms_limits.admit(phone + "1", template="recover.code",
                                national_id=ID_NUMBER) == "national_id"


def test_strangers_cannot_hold_back_the_known_device_or_the_counter(daily):
    phone = "+84900000071"
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        with asking_from(daily, address):
            for _ in range(2):
                sms_limits.admit(phone, template="register.duplicate", national_id=ID_NUMBER)
    with asking_from(daily, "203.0.113.4"):
        assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER) == "number"
        for _ in range(4):
            assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER,
                                    asker="device") is None
        assert sms_limits.admit(phone, template="recover.code", national_id=ID_NUMBER,
                                asker="device") == "number"  # the device's own cap
        assert sms_limits.admit(phone, template="activate.code", national_id=ID_NUMBER,
                                asker="counter") is None
        # The ceiling, 9 a day to the number whoever asks: 4 + 4 + 1 are spent.
        assert sms_limits.admit(phone, template="activate.code", national_id=ID_NUMBER,
                                asker="counter") == "ceiling"


def test_an_unknown_asker_is_a_programming_error(tight):
    with pytest.raises(ValueError):
        sms_limits.admit("+84900000081", template="recover.code", asker="anyone")


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

"""SMS limits on the production store: Redis, shared by every node (IDP_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from idp.extensions import limiter
from idp.services.platform import sms_limits

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")


def test_two_nodes_share_the_per_number_and_per_id_counts(settings, make_app):
    shared = replace(settings, redis_url=REDIS_URL, sms_per_number_limit="3 per hour",
                     sms_per_national_id_limit="4 per hour")
    node_a, node_b = make_app(shared), make_app(shared)
    phone = f"+849{uuid.uuid4().int % 10 ** 8:08d}"  # a number no earlier run counted
    national_id = f"{uuid.uuid4().int % 10 ** 12:012d}"
    with node_a.app_context():
        assert type(limiter.storage).__name__ == "RedisStorage"
        assert [sms_limits.admit(phone, template="register.code") for _ in range(2)] == [None] * 2
    with node_b.app_context():
        assert sms_limits.admit(phone, template="register.code") is None
        assert sms_limits.admit(phone, template="register.code") == "number"
        for i in range(4):  # four other numbers, one ID number
            assert sms_limits.admit(f"{phone}{i}", template="recover.code",
                                    national_id=national_id) is None
    with node_a.app_context():
        assert sms_limits.admit(phone + "x", template="recover.code",
                                national_id=national_id) == "national_id"
        assert sms_limits.admit(phone, template="recover.done") is None  # a notice


def test_one_round_trip_whatever_the_outcome_and_all_or_nothing(settings, make_app, monkeypatch):
    app = make_app(replace(settings, redis_url=REDIS_URL, sms_per_number_limit="1 per hour",
                           sms_per_national_id_limit="5 per hour"))
    phone = f"+849{uuid.uuid4().int % 10 ** 8:08d}"
    national_id = f"{uuid.uuid4().int % 10 ** 12:012d}"
    with app.app_context():
        client = limiter.storage.get_connection()
        sms_limits.admit(phone + "9", template="register.code")  # the script is loaded
        calls: list[str] = []
        real = client.execute_command

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(str(args[0]))
            return real(*args, **kwargs)

        monkeypatch.setattr(client, "execute_command", counted)
        assert sms_limits.admit(phone, template="register.code", national_id=national_id) is None
        admitted = list(calls)
        calls.clear()
        assert sms_limits.admit(phone, template="register.code",
                                national_id=national_id) == "number"
        assert calls == admitted == ["EVALSHA"]
        monkeypatch.undo()
        # The refused SMS counted in no window: the ID number has 4 of 5 left.
        for i in range(4):
            assert sms_limits.admit(f"{phone}{i}", template="register.code",
                                    national_id=national_id) is None
        assert sms_limits.admit(phone + "x", template="register.code",
                                national_id=national_id) == "national_id"
        keys = client.keys("LIMITS:LIMITER/postid/sms/*")
        assert keys and all(client.ttl(key) > 0 for key in keys)  # every window expires
        assert min(int(client.get(key)) for key in keys) >= 0

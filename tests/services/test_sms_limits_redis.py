"""SMS limits on the production store: Redis, shared by every node (IDP_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from idp.extensions import limiter
from idp.services import sms_limits

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

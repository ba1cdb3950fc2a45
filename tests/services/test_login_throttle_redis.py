"""The throttle on the production store: Redis, shared by every node (IDP_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from idp.extensions import limiter
from idp.services import login_throttle

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")


def test_two_nodes_share_one_count(settings, make_app):
    node_a = make_app(replace(settings, redis_url=REDIS_URL))
    node_b = make_app(replace(settings, redis_url=REDIS_URL))
    key = f"test-{uuid.uuid4().hex}"
    try:
        with node_a.app_context():
            for _ in range(settings.login_free_failures):
                assert login_throttle.record_failure(key) == 0
        with node_b.app_context():
            assert type(limiter.storage).__name__ == "RedisStorage"
            assert login_throttle.record_failure(key) == 1
            assert 1 <= login_throttle.retry_after(key) <= 2
        with node_a.app_context():
            assert login_throttle.retry_after(key) >= 1
            login_throttle.record_success(key)
            assert login_throttle.retry_after(key) == 0
    finally:
        with node_a.app_context():
            login_throttle.record_success(key)

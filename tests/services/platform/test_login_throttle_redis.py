"""The throttle on the production store: Redis, shared by every node (IDP_TEST_REDIS_URL)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest

from idp.extensions import limiter
from idp.services.platform import throttle as login_throttle

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="IDP_TEST_REDIS_URL not set")


def test_two_nodes_share_one_count(settings, make_app):
    node_a = make_app(replace(settings, redis_url=REDIS_URL))
    node_b = make_app(replace(settings, redis_url=REDIS_URL))
    key = f"test-{uuid.uuid4().hex}"
    with node_a.app_context():
        for _ in range(settings.login_free_failures):
            attempt = login_throttle.begin(key)  # counted, never reported as a success
    try:
        with node_b.app_context():
            assert type(limiter.storage).__name__ == "RedisStorage"
            login_throttle.begin(key)  # the first slot
            with pytest.raises(login_throttle.Throttled) as info:
                login_throttle.begin(key)
            assert 1 <= info.value.retry_after <= 2
        with node_a.app_context():
            assert login_throttle.retry_after(key) >= 1
    finally:
        with node_a.app_context():
            login_throttle.succeeded(attempt)
            assert login_throttle.retry_after(key) == 0

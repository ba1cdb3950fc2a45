"""`idp serve` passes X-Forwarded-For to the app, and ProxyFix alone decides to believe it.

waitress drops the X-Forwarded-* headers by default when it trusts no proxy itself: with
IDP_TRUSTED_PROXIES=1 every client behind HAProxy then shared one rate-limit bucket.
"""

from __future__ import annotations

from tests.cli.served import raw_exchange, serving_idp, status_of

# Limited per client address by IDP_LOGIN_IP_LIMIT; an empty JSON object is a 400 that counts.
SIGN_IN = "/counter/api/sessions"
LIMIT = {"IDP_LOGIN_IP_LIMIT": "2 per minute"}


def sign_in_from(port: int, forwarded_for: str) -> int:
    body = b"{}"
    request = (f"POST {SIGN_IN} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               f"X-Forwarded-For: {forwarded_for}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    return status_of(raw_exchange(port, request))


def test_each_forwarded_address_has_its_own_bucket_behind_one_proxy(database_url, tmp_path):
    env = {**LIMIT, "IDP_TRUSTED_PROXIES": "1"}
    with serving_idp(database_url, tmp_path, env=env) as served:
        assert [sign_in_from(served.port, "203.0.113.7") for _ in range(3)] == [400, 400, 429]
        assert sign_in_from(served.port, "198.51.100.9") == 400


def test_forwarded_address_is_ignored_without_a_trusted_proxy(database_url, tmp_path):
    env = {**LIMIT, "IDP_TRUSTED_PROXIES": "0"}
    with serving_idp(database_url, tmp_path, env=env) as served:
        assert [sign_in_from(served.port, "203.0.113.7") for _ in range(2)] == [400, 400]
        # Another claimed address is the same client (loopback): its bucket is spent.
        assert sign_in_from(served.port, "198.51.100.9") == 429

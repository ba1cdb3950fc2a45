"""Retry-After: only on 429, and it states the real wait of the limit that refused."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen

ID = "001099012345"


def login(client, token: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"csrf_token": token, "identifier": ID, "password": password})


def test_a_401_carries_no_retry_after_and_the_account_429_states_the_real_wait(app, client, settings):
    with app.app_context():
        active_citizen()
    token = csrf_token(client)
    for _ in range(settings.login_free_failures + 1):  # the last one takes a 1-second slot
        failed = login(client, token, "wrong")
        assert failed.status_code == 401 and "Retry-After" not in failed.headers
    refused = login(client, token, PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] in {"1", "2"}  # the slot, not the 60 s address window


def test_the_per_address_429_states_when_that_limit_lets_one_through(settings, make_app):
    app = make_app(replace(settings, login_ip_limit="2 per 10 seconds"))
    client = app.test_client()
    token = csrf_token(client)
    assert [login(client, token, "wrong").status_code for _ in range(2)] == [401, 401]
    refused = login(client, token, "wrong")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 10

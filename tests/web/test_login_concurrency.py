"""The per-account sign-in limit: concurrent right passwords are not refused for
having been counted, concurrent wrong ones still are, and the ID number and the phone of one
account share one count."""

from __future__ import annotations

import threading
import time

import pytest

from idp.services.platform import passwords
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen

ID, PHONE = "001099012345", "0912345678"


def login(client, token: str, password: str, identifier: str = ID):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"csrf_token": token, "identifier": identifier,
                                       "password": password})


@pytest.fixture
def slow_argon2(monkeypatch):  # type: ignore[no-untyped-def]
    """Every password check takes 0.3 s, so concurrent sign-ins really overlap."""
    real = passwords.verify_password

    def slow(stored_hash: str, password: str) -> bool:
        time.sleep(0.3)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", slow)


def concurrently(app, password: str, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    clients = [app.test_client() for _ in range(n)]
    tokens = [csrf_token(c) for c in clients]
    statuses: list[int] = [0] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        statuses[i] = login(clients[i], tokens[i], password).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def spend_free_failures(app, settings) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(settings.login_free_failures):
        assert login(client, token, "wrong").status_code == 401


def test_concurrent_right_passwords_all_sign_in(app, settings, slow_argon2, monkeypatch):
    from types import SimpleNamespace

    from idp.extensions import db
    from idp.services.platform import throttle

    in_transaction: list[bool] = []

    def sleep(seconds: float) -> None:  # a waiter holds no database transaction
        in_transaction.append(db.session().in_transaction())
        time.sleep(seconds)

    monkeypatch.setattr(throttle, "time", SimpleNamespace(
        time=time.time, monotonic=time.monotonic, sleep=sleep))
    with app.app_context():
        active_citizen()
    spend_free_failures(app, settings)  # the next attempt takes a slot
    assert concurrently(app, PASSWORD, 3) == [302] * 3
    assert in_transaction and not any(in_transaction)


def test_concurrent_wrong_passwords_are_still_refused(app, settings, slow_argon2):
    with app.app_context():
        active_citizen()
    spend_free_failures(app, settings)
    statuses = concurrently(app, "wrong", 6)
    assert 429 in statuses and statuses.count(401) <= 3  # slots of 1 s and 2 s, waits of 3 s


def test_the_id_number_and_the_phone_share_one_count(app, client, settings):
    with app.app_context():
        active_citizen()
    token = csrf_token(client)
    for i in range(settings.login_free_failures + 1):
        assert login(client, token, "wrong", (ID, PHONE)[i % 2]).status_code == 401
    assert login(client, token, PASSWORD, PHONE).status_code == 429
    assert login(client, token, PASSWORD, ID).status_code == 429


def test_an_error_during_the_password_check_leaves_no_attempt_pending(app, settings,
                                                                       monkeypatch):
    from idp.services.identity import authentication

    with app.app_context():
        active_citizen()
    spend_free_failures(app, settings)

    def broken(stored_hash: str, password: str) -> bool:
        raise RuntimeError("the password check failed")

    monkeypatch.setattr(passwords, "verify_password", broken)
    with app.test_request_context(), pytest.raises(RuntimeError):
        authentication.sign_in(ID, PASSWORD)  # takes the next slot (1 s), then fails
    monkeypatch.undo()
    client = app.test_client()
    token = csrf_token(client)
    started = time.monotonic()
    refused = login(client, token, PASSWORD)
    # Refused at once: no leaked mark makes it wait (it used to wait for the slot to open).
    assert refused.status_code == 429
    assert time.monotonic() - started < 0.5


def test_many_refused_attempts_on_a_busy_key_return_promptly(app, settings, monkeypatch):
    real = passwords.verify_password

    def slow(stored_hash: str, password: str) -> bool:
        time.sleep(2.0)  # a password check far slower than the longest wait
        return real(stored_hash, password)

    with app.app_context():
        active_citizen()
    spend_free_failures(app, settings)
    monkeypatch.setattr(passwords, "verify_password", slow)
    n = 8
    clients = [app.test_client() for _ in range(n)]
    tokens = [csrf_token(c) for c in clients]
    results: list[tuple[int, float]] = [(0, 0.0)] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        began = time.monotonic()
        status = login(clients[i], tokens[i], "wrong").status_code
        results[i] = (status, time.monotonic() - began)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [seconds for status, seconds in results if status == 429]
    assert len(refused) >= n - 2
    # Waits are capped near one normal password check (each used to wait for the slow check
    # to end, up to 3 s), and beyond two waiters the refusal comes at once.
    assert max(refused) < 1.5
    assert sum(seconds < 0.5 for seconds in refused) >= len(refused) - 2

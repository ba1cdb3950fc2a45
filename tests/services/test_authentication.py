"""Password hashing and login throttling, at the service level."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, PasswordCredential
from idp.services import authentication, login_throttle, passwords
from tests.factories import PASSWORD, active_citizen


def test_password_is_nfkc_normalised(app):
    with app.app_context():
        stored = passwords.hash_password("Mật khẩu ＡＢＣ123")
        assert passwords.verify_password(stored, unicodedata.normalize("NFD", "Mật khẩu ABC123"))
        assert not passwords.verify_password(stored, "Mật khẩu ABC124")
        assert not passwords.verify_password("not a hash", "anything")


def test_hash_is_upgraded_at_sign_in_when_parameters_change(app, settings, make_app):
    with app.app_context():
        account = active_citizen()
        old_hash = account.password.hash
        assert "t=1," in old_hash
    stronger = make_app(replace(settings, argon2_time_cost=2))
    with stronger.app_context():
        authentication.sign_in("001099012345", PASSWORD)
        credential = db.session.scalar(select(PasswordCredential))
        assert credential.hash != old_hash and "t=2," in credential.hash
        assert passwords.verify_password(credential.hash, PASSWORD)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "account.password.rehash"))


def test_throttle_starts_after_the_free_failures_and_doubles(app, settings):
    with app.app_context():
        active_citizen()
        for _ in range(settings.login_free_failures):
            with pytest.raises(authentication.SignInFailed):
                authentication.sign_in("001099012345", "wrong")
        with pytest.raises(authentication.SignInFailed):
            authentication.sign_in("001099012345", "wrong")  # this one imposes a wait
        with pytest.raises(authentication.SignInThrottled) as info:
            authentication.sign_in("001099012345", PASSWORD)  # even the right password waits
        assert 1 <= info.value.retry_after <= 2
        # The same identifier typed differently is the same key.
        with pytest.raises(authentication.SignInThrottled):
            authentication.sign_in(" 001 099 012 345 ", PASSWORD)


def test_unknown_identifiers_are_throttled_exactly_like_known_ones(app, settings):
    with app.app_context():
        for _ in range(settings.login_free_failures + 1):
            with pytest.raises(authentication.SignInFailed):
                authentication.sign_in("079203001234", "wrong")
        with pytest.raises(authentication.SignInThrottled):
            authentication.sign_in("079203001234", "wrong")


def test_delay_is_capped_so_nobody_is_locked_out_for_long(app, settings):
    with app.app_context():
        key = "001099012345"
        delays = [login_throttle.record_failure(key) for _ in range(60)]
        assert delays[: settings.login_free_failures] == [0] * settings.login_free_failures
        assert delays[settings.login_free_failures: settings.login_free_failures + 4] == [1, 2, 4, 8]
        assert max(delays) == settings.login_max_delay_seconds == 900
        login_throttle.record_success(key)
        assert login_throttle.retry_after(key) == 0


def test_hard_limit_after_100_failures(app):
    with app.app_context():
        key = "0912345678"
        for _ in range(login_throttle.HARD_LIMIT):
            login_throttle.record_failure(key)
        login_throttle.limiter.storage.clear(login_throttle._key(key, "blocked"))
        assert login_throttle.retry_after(key) > 3600


def test_success_resets_the_count(app, settings):
    with app.app_context():
        active_citizen()
        for _ in range(settings.login_free_failures - 1):
            with pytest.raises(authentication.SignInFailed):
                authentication.sign_in("001099012345", "wrong")
        authentication.sign_in("001099012345", PASSWORD)
        for _ in range(settings.login_free_failures):
            with pytest.raises(authentication.SignInFailed):
                authentication.sign_in("001099012345", "wrong")
        authentication.sign_in("001099012345", PASSWORD)  # still free: the count had restarted


def test_throttled_response_over_http(client, app, settings):
    from tests.conftest import csrf_token

    with app.app_context():
        active_citizen()
    token = csrf_token(client)
    for _ in range(settings.login_free_failures + 1):
        client.post("/login", data={"csrf_token": token, "identifier": "001099012345", "password": "x"})
    response = client.post("/login", data={"csrf_token": token, "identifier": "001099012345",
                                           "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Bạn đã thử không thành công quá nhiều lần" in response.get_data(as_text=True)

"""Password hashing and login throttling, at the service level."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from sqlalchemy import select

from idp.errors import Refusal, Throttled
from idp.extensions import db
from idp.models import AuditEvent, PasswordCredential
from idp.services.identity import authentication
from idp.services.platform import passwords, throttle
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
            with pytest.raises(Refusal):
                authentication.sign_in("001099012345", "wrong")
        with pytest.raises(Refusal):
            authentication.sign_in("001099012345", "wrong")  # this one imposes a wait
        with pytest.raises(Throttled) as info:
            authentication.sign_in("001099012345", PASSWORD)  # even the right password waits
        assert 1 <= info.value.retry_after <= 2


def test_unknown_identifiers_are_throttled_exactly_like_known_ones(app, settings):
    with app.app_context():
        for _ in range(settings.login_free_failures + 1):
            with pytest.raises(Refusal):
                authentication.sign_in("079203001234", "wrong")
        with pytest.raises(Throttled):
            authentication.sign_in("079203001234", "wrong")


def test_delay_doubles_and_is_capped_so_nobody_is_locked_out_for_long(app, settings):
    with app.app_context():
        free = settings.login_free_failures
        delays = [throttle.delay_for(n) for n in range(1, 61)]
        assert delays[:free] == [0] * free
        assert delays[free: free + 4] == [1, 2, 4, 8]
        assert max(delays) == settings.login_max_delay_seconds == 900


def test_hard_limit_after_100_failures(app):
    with app.app_context():
        key = "account:42"
        for _ in range(throttle.HARD_LIMIT):
            throttle.limiter.storage.incr(throttle._storage_key(key, "failures"),
                                                throttle.WINDOW_SECONDS)
        with pytest.raises(Throttled) as info:
            throttle.begin(key)
        assert info.value.retry_after > 3600


def test_a_slot_admits_one_attempt_only(app, settings):
    """Check-then-act race: the attempt is counted before the password is checked."""
    with app.app_context():
        key = "national_id:079203001234"
        for _ in range(settings.login_free_failures):
            throttle.begin(key)
        throttle.begin(key)  # takes the first slot
        for _ in range(5):  # requests arriving while the first one is still hashing
            with pytest.raises(Throttled):
                throttle.begin(key)
        failures = throttle.limiter.storage.get(throttle._storage_key(key, "failures"))
        assert failures == settings.login_free_failures + 1  # refused attempts are not counted


@pytest.mark.parametrize("first, spelling", [
    ("001099012345", "001-099-012-345"), ("001099012345", "001.099.012.345"),
    ("0912345678", "+84 912 345 678"), ("0912345678", "84912345678"),
    ("0912345678", "(091) 234-5678"),
])
def test_every_spelling_of_one_identifier_shares_one_count(app, settings, first, spelling):
    with app.app_context():
        active_citizen()
        for _ in range(settings.login_free_failures + 1):
            with pytest.raises(Refusal):
                authentication.sign_in(first, "wrong")
        with pytest.raises(Throttled):
            authentication.sign_in(spelling, PASSWORD)


def test_throttle_counts_the_id_number_and_the_phone_of_an_account_together(app, settings):
    """Counted apart, alternating the ID number and the phone would double the guesses (see throttle_key
    for the price of sharing)."""
    with app.app_context():
        active_citizen()
        for _ in range(settings.login_free_failures + 1):
            with pytest.raises(Refusal):
                authentication.sign_in("001099012345", "wrong")
        with pytest.raises(Throttled):
            authentication.sign_in("0912345678", PASSWORD)


def test_success_resets_the_count(app, settings):
    with app.app_context():
        active_citizen()
        for _ in range(settings.login_free_failures - 1):
            with pytest.raises(Refusal):
                authentication.sign_in("001099012345", "wrong")
        authentication.sign_in("001099012345", PASSWORD)
        for _ in range(settings.login_free_failures):
            with pytest.raises(Refusal):
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


def test_strangers_do_not_throttle_the_owners_known_browser(client, app, settings):
    from tests.conftest import csrf_token

    with app.app_context():
        active_citizen()
    owner = client
    login = {"identifier": "001099012345", "password": PASSWORD}
    assert owner.post("/login", data={**login, "csrf_token": csrf_token(owner)}).status_code == 302
    assert owner.get_cookie("postid_device") is not None
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/account")})

    stranger = app.test_client()
    token = csrf_token(stranger)
    for _ in range(settings.login_free_failures + 1):
        stranger.post("/login", data={**login, "password": "guess", "csrf_token": token})
    assert stranger.post("/login", data={**login, "csrf_token": token}).status_code == 429
    # The owner's browser is counted on its own key and signs straight in.
    assert owner.post("/login", data={**login, "csrf_token": csrf_token(owner)}).status_code == 302


def test_a_forged_device_cookie_counts_as_a_stranger(client, app, settings):
    from tests.conftest import csrf_token

    with app.app_context():
        active_citizen()
    client.set_cookie("postid_device", "eyJhIjoxLCJuIjoieCJ9.forged")
    token = csrf_token(client)
    for _ in range(settings.login_free_failures + 1):
        client.post("/login", data={"identifier": "001099012345", "password": "x", "csrf_token": token})
    other = app.test_client()
    response = other.post("/login", data={"identifier": "001099012345", "password": PASSWORD,
                                          "csrf_token": csrf_token(other)})
    assert response.status_code == 429

"""services.mfa: time-steps, replay refusal, recovery codes."""

from __future__ import annotations

import time

import pyotp
import pytest

from idp.errors import Refusal, Throttled
from idp.extensions import db
from idp.services.identity import mfa, sessions, step_up
from idp.services.platform.totp import WRONG_CODE, matching_step
from tests.factories import active_citizen


def test_matching_step_accepts_one_step_either_side_only():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for delta in (-1, 0, 1):
        assert matching_step(secret, totp.at((step + delta) * 30), now=now) == step + delta
    for delta in (-3, -2, 2, 3):
        code = totp.at((step + delta) * 30)
        if all(code != totp.at((step + d) * 30) for d in (-1, 0, 1)):
            assert matching_step(secret, code, now=now) is None
    assert matching_step(secret, "12345", now=now) is None
    assert matching_step(secret, "abcdef", now=now) is None


@pytest.fixture
def enrolled(app):
    with app.app_context():
        account = active_citizen()
        cred = mfa.begin_enrolment(account)
        secret = mfa.secret_of(cred)
        code = pyotp.TOTP(secret).at(time.time() - 30)
        codes = mfa.confirm_enrolment(account, code)
        yield account, secret, codes


def test_refuses_a_replayed_totp_code(enrolled):
    account, secret, _ = enrolled
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert mfa.check_second_factor(account.id, code) == "otp"
    db.session.commit()
    # Refused, and told apart from a wrong code: "wait for the next code", not "not right".
    with pytest.raises(Refusal) as used:
        mfa.check_second_factor(account.id, code)
    assert used.value.code == "mfa.code_used"
    # An older step than the last one used is refused too.
    with pytest.raises(Refusal) as used:
        mfa.check_second_factor(account.id, pyotp.TOTP(secret).now())
    assert used.value.code == "mfa.code_used"
    assert mfa.check_code(account.id, code)[0] is None
    assert mfa.check_code(account.id, "000000" if code != "000000" else "111111")[1].message \
        == WRONG_CODE


def test_recovery_codes_are_single_use_and_hashed(enrolled):
    account, _, codes = enrolled
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert all(len(c) == 9 and c[4] == "-" for c in codes)
    assert mfa.check_second_factor(account.id, codes[0]) == "recovery"
    db.session.commit()
    assert mfa.check_second_factor(account.id, codes[0]) is None
    assert mfa.check_second_factor(account.id, codes[1].upper()) == "recovery"


def test_enrolment_cannot_restart_over_a_confirmed_credential(enrolled):
    account, _, _ = enrolled
    with pytest.raises(Refusal):
        mfa.begin_enrolment(account)


# --- step-up of a signed-in session (services.step_up) --------------------------------------

def open_password_session(account):  # type: ignore[no-untyped-def]
    new = sessions.open_session(account, amr="pwd")
    db.session.commit()
    return new


def test_step_up_raises_amr_and_rotates_the_token_of_the_same_session(enrolled):
    account, secret, _ = enrolled
    new = open_password_session(account)
    row, sid = new.session, new.session.sid
    token = step_up.step_up(row, pyotp.TOTP(secret).at(time.time() + 30))
    db.session.expire_all()
    assert token != new.token and sessions.load_session(new.token) is None
    loaded = sessions.load_session(token)
    assert loaded.id == row.id and loaded.sid == sid and loaded.amr == "pwd otp mfa"


def test_step_up_refuses_a_replayed_code_and_changes_nothing(enrolled):
    account, secret, _ = enrolled
    first, second = open_password_session(account), open_password_session(account)
    code = pyotp.TOTP(secret).at(time.time() + 30)
    step_up.step_up(first.session, code)
    with pytest.raises(Refusal) as refused:
        step_up.step_up(second.session, code)
    assert refused.value.code == "mfa.code_used"
    db.session.expire_all()
    assert sessions.load_session(second.token).amr == "pwd"


def test_step_up_with_a_recovery_code_is_mfa_without_otp(enrolled):
    account, _, codes = enrolled
    new = open_password_session(account)
    token = step_up.step_up(new.session, codes[3])
    assert sessions.load_session(token).amr == "pwd mfa"


def test_step_up_needs_totp(app):
    with app.app_context():
        account = active_citizen()
        new = open_password_session(account)
        with pytest.raises(Refusal) as refused:
            step_up.step_up(new.session, "123456")
        assert refused.value.code == "mfa.not_enrolled"
        assert sessions.load_session(new.token).amr == "pwd"


def test_step_up_failures_are_throttled(enrolled):
    account, secret, _ = enrolled
    new = open_password_session(account)
    with pytest.raises(Throttled):
        for _ in range(20):
            with pytest.raises(Refusal):
                step_up.step_up(new.session, "not-a-code")
    with pytest.raises(Throttled):
        step_up.step_up(new.session, pyotp.TOTP(secret).now())


@pytest.mark.parametrize("amr, method, expected", [
    ("pwd", "otp", "pwd otp mfa"), ("pwd", "recovery", "pwd mfa"),
    ("pwd mfa", "otp", "pwd otp mfa"), ("pwd otp mfa", "otp", "pwd otp mfa"),
])
def test_raised_amr(amr, method, expected):
    assert step_up.raised_amr(amr, method) == expected

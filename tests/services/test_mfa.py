"""services.mfa: time-steps, replay refusal, recovery codes."""

from __future__ import annotations

import time

import pyotp
import pytest

from idp.extensions import db
from idp.services import mfa
from tests.factories import active_citizen


def test_matching_step_accepts_one_step_either_side_only():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for delta in (-1, 0, 1):
        assert mfa.matching_step(secret, totp.at((step + delta) * 30), now=now) == step + delta
    for delta in (-3, -2, 2, 3):
        code = totp.at((step + delta) * 30)
        if all(code != totp.at((step + d) * 30) for d in (-1, 0, 1)):
            assert mfa.matching_step(secret, code, now=now) is None
    assert mfa.matching_step(secret, "12345", now=now) is None
    assert mfa.matching_step(secret, "abcdef", now=now) is None


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
    assert mfa.check_second_factor(account.id, code) is None
    # An older step than the last one used is refused too.
    assert mfa.check_second_factor(account.id, pyotp.TOTP(secret).now()) is None


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
    with pytest.raises(mfa.MfaError):
        mfa.begin_enrolment(account)

"""Registration and one-time-code services: single use, HMAC storage, back-off, CLI."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from idp.cli import cli
from idp.extensions import db
from idp.models import OutboxMessage
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.identity import registration
from idp.services.identity.accounts import validate_citizen
from idp.services.platform import otp
from tests.factories import PASSWORD, citizen_details


def test_codes_are_single_use_and_stored_as_hmac(app):
    with app.test_request_context():
        challenge, code = otp.issue_code(OtpPurpose.REGISTER_PHONE, "+84912345678")
        db.session.commit()
        assert code not in challenge.secret_hash and len(code) == 6
        assert otp.check_code(challenge, code) is True
        db.session.commit()
        assert otp.check_code(challenge, code) is False  # replay


def test_unusable_challenge_never_matches(app):
    with app.test_request_context():
        challenge, code = otp.issue_code(OtpPurpose.REGISTER_PHONE, "+84912345678", usable=False)
        db.session.commit()
        assert otp.check_code(challenge, code) is False


def test_resend_wait_doubles(app):
    with app.test_request_context():
        challenge, _ = otp.issue_code(OtpPurpose.REGISTER_PHONE, "+84912345678")
        assert 29 <= otp.resend_wait(challenge) <= 30
        challenge.last_sent_at -= timedelta(seconds=30)
        otp.renew_code(challenge)
        assert 59 <= otp.resend_wait(challenge) <= 60
        challenge.sends = otp.MAX_SENDS
        assert otp.resend_wait(challenge) is None


def test_start_sends_a_code_in_the_person_s_language(app):
    with app.test_request_context():
        clean = validate_citizen(citizen_details(), PASSWORD)
        token = registration.start(clean, PASSWORD, locale="en")
        assert registration.load(token) is not None
        message = db.session.scalar(select(OutboxMessage))
        assert message.locale == "en" and "PostID: your code is" in message.body
        assert db.session.scalar(select(OtpChallenge.purpose)) is OtpPurpose.REGISTER_PHONE


def test_outbox_cli_prints_the_latest_code(app, runner):
    with app.test_request_context():
        registration.start(validate_citizen(citizen_details(), PASSWORD), PASSWORD, locale="en")
    result = runner.invoke(cli, ["outbox", "list", "--limit", "1"])
    assert result.exit_code == 0 and "your code is" in result.output and "+84912345678" in result.output
    result = runner.invoke(cli, ["outbox", "list", "--json"])
    rows = json.loads(result.output)
    assert rows[0]["template"] == "register.code" and rows[0]["body"][:6] == "PostID"


def test_a_resend_does_not_forgive_wrong_guesses(app):
    from idp.extensions import db
    from idp.models import OtpPurpose
    from idp.services.platform import otp

    with app.app_context():
        challenge, _ = otp.issue_code(OtpPurpose.CHANGE_PHONE, "+84987654321")
        db.session.commit()
        for _ in range(5):
            assert not otp.check_code(challenge, "000000" if _ % 2 else "999999")
        fresh = otp.renew_code(challenge)
        db.session.commit()
        assert not otp.check_code(challenge, fresh)  # dead after 5 wrong guesses in all

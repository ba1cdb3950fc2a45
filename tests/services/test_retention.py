"""Retention (/privacy, “How long we keep it”): `idp purge` deletes registrations and messages
past the configured periods and nothing younger; deleting an account blanks a message waiting
for the gateway as soon as it is delivered, so the deletion notice still reaches the person."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.domain.gender import Gender
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, PendingRegistration
from idp.models.base import utcnow
from idp.models.notification import Channel
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services import account_data, retention
from idp.services.platform import notify
from tests.conftest import make_settings
from tests.factories import PASSWORD, active_citizen
from tests.services.platform.test_notifiers import FakeGateway, gateway, gateway_app  # noqa: F401

DAY = timedelta(days=1)


def registration_sent(days_ago: float, national_id: str, *, completed: bool = False) -> int:
    sent = utcnow() - days_ago * DAY
    row = PendingRegistration(
        token_hash=national_id.ljust(64, "0"), national_id=national_id, full_name="Trần Thị Ngọc",
        birthdate=date(2003, 2, 1), gender=Gender.FEMALE, phone="+84983456789", email=None,
        password_hash="$argon2id$x", terms_version="2026-12-07", created_at=sent,
        expires_at=sent + DAY, completed_at=sent if completed else None)
    db.session.add(row)
    db.session.flush()
    db.session.add(OtpChallenge(purpose=OtpPurpose.REGISTER_PHONE, registration_id=row.id,
                                destination=row.phone, secret_hash="0" * 64, expires_at=sent))
    db.session.commit()
    return row.id


def message_written(days_ago: float, body: str, *, sent: bool = True) -> int:
    written = utcnow() - days_ago * DAY
    row = OutboxMessage(channel=Channel.SMS, recipient="+84983456789", template="t", body=body,
                        created_at=written, sent_at=written if sent else None)
    db.session.add(row)
    db.session.commit()
    return row.id


def _ages(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        registration_sent(31, "079303000031")
        registration_sent(30.9, "079303000030", completed=True)
        registration_sent(29, "079303000029")
        message_written(366, "old, delivered")
        message_written(366, "old, never delivered", sent=False)
        message_written(364, "young")


def _left(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return (sorted(db.session.scalars(select(PendingRegistration.national_id))),
                db.session.scalar(select(func.count(OtpChallenge.id))),
                sorted(db.session.scalars(select(OutboxMessage.body))))


def test_purge_deletes_only_what_is_older_than_the_periods_and_is_idempotent(app):
    _ages(app)
    with app.app_context():
        assert retention.purge() == retention.Purged(registrations=2, messages=2)
    assert _left(app) == (["079303000029"], 1, ["young"])
    with app.app_context():
        assert retention.purge() == retention.Purged(registrations=0, messages=0)
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "retention.purge")
                                    .order_by(AuditEvent.id)).all()
        assert [e.data for e in events] == [
            {"registrations": 2, "messages": 2, "ceremonies": 0},
            {"registrations": 0, "messages": 0, "ceremonies": 0}]
        assert all(e.account_id is None and e.channel == "cli" for e in events)
    assert _left(app) == (["079303000029"], 1, ["young"])


def test_purge_follows_the_configured_periods(make_app, database_url, tmp_path):
    app = make_app(make_settings(database_url, tmp_path / "p", registration_retention_days=60,
                                 message_retention_days=400))
    _ages(app)
    with app.app_context():
        assert retention.purge() == retention.Purged(registrations=0, messages=0)


def test_idp_purge_command(app, runner):
    _ages(app)
    result = runner.invoke(cli, ["purge", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"registrations": 2, "messages": 2, "ceremonies": 0}
    result = runner.invoke(cli, ["purge"])
    assert result.exit_code == 0
    assert result.output == ("deleted 0 registration(s) older than 30 days and 0 message(s) "
                             "older than 365 days, and 0 expired passkey ceremony(ies)\n")


def test_purge_deletes_passkey_ceremonies_a_day_past_their_expiry(app):
    """Anyone can start one from the sign-in page: none is kept for long."""
    from idp.models.passkey import CeremonyPurpose, WebauthnChallenge

    now = utcnow()
    with app.app_context():
        for name, expired_ago in (("old", timedelta(days=1, minutes=1)),
                                  ("recent", timedelta(minutes=1)), ("live", -timedelta(minutes=4))):
            db.session.add(WebauthnChallenge(
                handle_hash=name.ljust(64, "0"), purpose=CeremonyPurpose.SIGN_IN,
                challenge=b"c" * 32, created_at=now - expired_ago - timedelta(minutes=5),
                expires_at=now - expired_ago))
        db.session.commit()
        assert retention.purge().ceremonies == 1
        left = db.session.scalars(select(WebauthnChallenge.handle_hash)).all()
        assert sorted(h.rstrip("0") for h in left) == ["live", "recent"]


def test_a_retention_shorter_than_a_registration_is_refused(database_url, tmp_path):
    from idp.settings import SettingsError

    with pytest.raises(SettingsError, match="IDP_REGISTRATION_RETENTION_DAYS"):
        make_settings(database_url, tmp_path, registration_hours=48, registration_retention_days=1)
    with pytest.raises(SettingsError, match="IDP_MESSAGE_RETENTION_DAYS"):
        make_settings(database_url, tmp_path, message_retention_days=0)


def _readable(app, account_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return [(m.template, m.recipient) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.account_id == account_id)
            .order_by(OutboxMessage.id)) if m.recipient or m.body]


def test_with_the_gateway_the_deletion_notice_is_delivered_then_blanked(gateway_app):  # noqa: F811
    with gateway_app.app_context():
        account = active_citizen()
        account_id = account.id
        notify.send_sms(account.phone, "PostID: mã 123456", template="earlier", account_id=account_id)
        db.session.commit()
        assert notify.deliver_pending() >= 1  # and what creating the account sent
        before = len(FakeGateway.received)
        notify.send_sms(account.phone, "PostID: chưa gửi", template="waiting", account_id=account_id)
        db.session.commit()
        account_data.delete_account(account, PASSWORD, session_id=None)
    # Delivered: blanked at once. Waiting for the gateway: still there to be sent.
    assert _readable(gateway_app, account_id) == [("waiting", "+84912345678"),
                                                  ("account.deleted", "+84912345678")]
    with gateway_app.app_context():
        assert notify.deliver_pending() == 2
    delivered = FakeGateway.received[before:]
    assert [r["body"]["to"] for r in delivered] == ["+84912345678"] * 2
    assert "không thể khôi phục" in delivered[-1]["body"]["text"]
    assert _readable(gateway_app, account_id) == []


def test_a_notice_the_gateway_gives_up_on_is_blanked_too(gateway_app):  # noqa: F811
    FakeGateway.status = 500
    with gateway_app.app_context():
        account = active_citizen()
        account_id = account.id
        account_data.delete_account(account, PASSWORD, session_id=None)
        for _ in range(notify.MAX_ATTEMPTS):
            notify.deliver_pending()
    assert _readable(gateway_app, account_id) == []

"""Notification adapters: the outbox twin, the HTTP SMS gateway and SMTP, against local fakes."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import OutboxMessage
from idp.models.notification import Channel
from idp.services.platform import notify
from tests.conftest import make_settings


class FakeGateway(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        FakeGateway.received.append({"auth": self.headers["Authorization"],
                                     "body": json.loads(self.rfile.read(length))})
        self.send_response(FakeGateway.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway():
    FakeGateway.received = []
    FakeGateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


class FakeSMTP:
    sent: list = []
    calls: list = []

    def __init__(self, host: str, port: int, timeout: float = 0) -> None:
        FakeSMTP.calls.append(("connect", host, port))

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        FakeSMTP.calls.append(("quit",))

    def starttls(self) -> None:
        FakeSMTP.calls.append(("starttls",))

    def login(self, user: str, password: str) -> None:
        FakeSMTP.calls.append(("login", user, password))

    def send_message(self, message) -> None:  # type: ignore[no-untyped-def]
        FakeSMTP.sent.append(message)


@pytest.fixture
def gateway_app(make_app, database_url, tmp_path, gateway):
    return make_app(make_settings(database_url, tmp_path / "gw", notifier="gateway",
                                  sms_gateway_url=gateway, sms_gateway_token="tok",
                                  sms_sender="PostID", smtp_host="smtp.test", smtp_port=2525,
                                  smtp_username="mailer", smtp_password="pw"))


def test_outbox_adapter_writes_the_row_and_logs_it_in_development_only(app, make_app, settings,
                                                                       caplog):
    caplog.set_level(logging.INFO, logger="idp.notify")
    with app.app_context():
        notify.send_sms("+84912345678", "PostID: code 654321", template="t")
    assert "654321" not in caplog.text and "+84912345678" not in caplog.text  # test, production
    app = make_app(replace(settings, env="development"))
    with app.app_context():
        notify.send_sms("+84912345678", "PostID: code 123456", template="t")
        db.session.commit()
        row = db.session.scalar(select(OutboxMessage))
        assert row.channel is Channel.SMS and row.body == "PostID: code 123456"
        assert row.sent_at is None
    assert "SMS to +84912345678: PostID: code 123456" in caplog.text


def test_gateway_sms_is_posted_with_the_bearer_token(gateway_app):
    with gateway_app.app_context():
        notify.send_sms("+84912345678", "xin chào", template="t")
        assert db.session.scalar(select(OutboxMessage)).sent_at is None  # nothing in the request
        db.session.commit()
        assert notify.deliver_pending() == 1
        db.session.commit()
        row = db.session.scalar(select(OutboxMessage))
        assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    assert FakeGateway.received == [{"auth": "Bearer tok", "body": {
        "to": "+84912345678", "from": "PostID", "text": "xin chào"}}]


def test_gateway_failure_keeps_the_row_pending(gateway_app):
    FakeGateway.status = 500
    with gateway_app.app_context():
        notify.send_sms("+84912345678", "x", template="t")
        db.session.commit()
        assert notify.deliver_pending() == 0
        db.session.commit()
        row = db.session.scalar(select(OutboxMessage))
        assert row.sent_at is None and row.attempts == 1 and "500" in row.last_error


def test_email_goes_over_smtp_with_starttls_and_login(gateway_app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.calls = [], []
    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    with gateway_app.app_context():
        notify.send_email("an@example.vn", "Xác nhận", "Nội dung", template="t")
        db.session.commit()
        notify.deliver_pending()
        db.session.commit()
        row = db.session.scalar(select(OutboxMessage))
        assert row.sent_at is not None and row.channel is Channel.EMAIL
    assert FakeSMTP.calls[:3] == [("connect", "smtp.test", 2525), ("starttls",),
                                  ("login", "mailer", "pw")]
    message = FakeSMTP.sent[0]
    assert message["To"] == "an@example.vn" and message["Subject"] == "Xác nhận"
    assert "Nội dung" in message.get_content()


def test_a_rolled_back_transaction_sends_nothing(gateway_app):
    with gateway_app.app_context():
        notify.send_sms("+84912345678", "mật khẩu của bạn đã được đặt lại", template="t")
        db.session.rollback()
        assert notify.deliver_pending() == 0
    assert FakeGateway.received == []

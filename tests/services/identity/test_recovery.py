"""The recovery service on its own: single use, no enumeration, one transaction."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.domain.errors import DomainError
from idp.errors import Refusal
from idp.extensions import db
from idp.models import OutboxMessage
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge
from idp.services.identity import recovery
from idp.services.platform import otp, passwords
from tests.factories import active_citizen

NEW = "blue mango river lantern"
LINK_PATH = "/recover/link/{}".format


@pytest.fixture
def account(app):
    with app.test_request_context():
        row = active_citizen()
        row.phone_verified_at = utcnow()
        db.session.commit()
        yield row


def _code(account_id: int) -> str:
    body = db.session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.template == "recover.code", OutboxMessage.account_id == account_id)).all()[-1]
    return re.findall(r"(?<!\d)\d{6}(?!\d)", body)[0]  # the body is in the person's language


def test_code_is_single_use(account):
    flow = recovery.start("001099012345", link_path=LINK_PATH)
    code = _code(account.id)
    recovery.reset_with_code(flow, code, NEW)
    assert passwords.verify_password(account.password.hash, NEW)
    with pytest.raises(Refusal):
        recovery.reset_with_code(flow, code, "another fine password 7")


def test_unknown_identifier_gets_an_unusable_challenge(account):
    flow = recovery.start("079303001234", link_path=LINK_PATH)
    challenge, _key = recovery.load_flow(flow)
    assert challenge.account_id is None and challenge.destination != "079303001234"
    for guess in ("000000", "123456"):
        with pytest.raises(Refusal):
            recovery.reset_with_code(flow, guess, NEW)


def test_policy_error_rolls_back_and_keeps_the_code(account):
    flow = recovery.start("0912345678", link_path=LINK_PATH)
    code = _code(account.id)
    with pytest.raises(DomainError):
        recovery.reset_with_code(flow, code, "short")
    assert otp.is_live(db.session.scalar(select(OtpChallenge)))
    recovery.reset_with_code(flow, code, NEW)


def test_tampered_flow_is_refused(account):
    flow = recovery.start("001099012345", link_path=LINK_PATH)
    assert recovery.load_flow(flow[:-2] + "xx") is None
    assert recovery.load_flow("") is None and recovery.load_flow("a" * 1000) is None

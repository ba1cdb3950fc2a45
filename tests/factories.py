"""Test data named after domain states. Call inside an application context."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AccountStatus, OutboxMessage
from idp.services.identity.accounts import CitizenDetails, create_citizen

PASSWORD = "correct horse battery staple"


def citizen_details(**overrides: Any) -> CitizenDetails:
    values: dict[str, Any] = {
        "national_id": "001099012345",
        "full_name": "Nguyễn Văn An",
        "birthdate": date(1999, 5, 17),
        "gender": "male",
        "phone": "0912345678",
        "email": "an@example.vn",
    }
    values.update(overrides)
    return CitizenDetails(**values)


def active_citizen(password: str = PASSWORD, **overrides: Any) -> Account:
    return create_citizen(citizen_details(**overrides), password)


def disabled_citizen(password: str = PASSWORD, **overrides: Any) -> Account:
    account = active_citizen(password, **overrides)
    account.status = AccountStatus.DISABLED
    db.session.commit()
    return account


def second_citizen(password: str = PASSWORD) -> Account:
    """Another valid person: a woman born in 2003 in Ho Chi Minh City."""
    return active_citizen(
        password,
        national_id="079303001234",
        full_name="Trần Thị Bích Ngọc",
        birthdate=date(2003, 2, 1),
        gender="female",
        phone="+84 983 456 789",
        email=None,
    )


def last_sent(app: Flask, template: str, pattern: str) -> str:
    """What the citizen's phone or mailbox received last for `template`: `pattern`'s group 1."""
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.template == template)
                                  .order_by(OutboxMessage.id.desc())).first()
    match = re.search(pattern, body or "")
    assert match, (template, body)
    return match.group(1)

"""Two post offices with a clerk and a supervisor each, and a citizen: the cast of the counter
tests. `Counter` holds ids only, so it outlives the application context that made it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, IdentityVerification, OutboxMessage, PostOffice, StaffMember
from idp.services.counter.checks import CounterRefusal
from tests.factories import active_citizen, second_citizen
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office


@dataclass(frozen=True)
class Counter:
    office: int
    clerk: int
    supervisor: int
    other_office: int
    other_clerk: int
    other_supervisor: int
    citizen: int


def make_counter() -> Counter:
    office = post_office()
    other = post_office(code="HCM-SG", name="Bưu điện Trung tâm Sài Gòn", province_code="79")
    clerk = enrolled_clerk(office)
    supervisor = enrolled_supervisor(office)
    other_clerk = enrolled_clerk(other, national_id="079090000011")
    other_supervisor = enrolled_supervisor(other, national_id="079080000012")
    citizen = active_citizen()
    return Counter(office.id, clerk.id, supervisor.id, other.id, other_clerk.id,
                   other_supervisor.id, citizen.id)


def staff(staff_id: int) -> StaffMember:
    member = db.session.get(StaffMember, staff_id)
    assert member is not None
    return member


def second_supervisor(counter: Counter) -> int:
    office = db.session.get(PostOffice, counter.office)
    assert office is not None
    return enrolled_supervisor(office, username="supervisor-2", national_id="001070000003").id


def make_verification(app: Flask, factory, *staff_ids: int,  # type: ignore[no-untyped-def]
                      citizen: int | None = None) -> tuple[str, str, int]:
    """A verification from a factory (for `citizen`, else a second citizen), made in its own
    application context; returns (public_id, code, row id)."""
    with app.app_context():
        account = db.session.get(Account, citizen) if citizen else second_citizen()
        v = factory(account, *[staff(i) for i in staff_ids])
        return v.public_id, v.code, v.id


def row(app: Flask, verification_id: int) -> dict[str, Any]:
    """`snapshot` in its own application context."""
    with app.app_context():
        return snapshot(verification_id)


def events(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)
                                   .order_by(AuditEvent.id)))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def snapshot(verification_id: int) -> dict[str, Any]:
    """Every column of a verification, to show that a refusal changed nothing."""
    db.session.expire_all()
    row = db.session.get(IdentityVerification, verification_id)
    assert row is not None
    return {c.key: getattr(row, c.key) for c in IdentityVerification.__table__.columns}


def outbox(account_id: int, template_prefix: str = "counter.") -> list[OutboxMessage]:
    """The counter's notices to one citizen, oldest first."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.account_id == account_id,
                                    OutboxMessage.template.startswith(template_prefix))
        .order_by(OutboxMessage.id)))


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> CounterRefusal:
    """The CounterRefusal that the call raises (the test fails if it raises none)."""
    with pytest.raises(CounterRefusal) as caught:
        call(*args, **kwargs)
    return caught.value

"""Recovery must not tell known identifiers by timing (issue 11): `POST /recover` runs the same
SQL statements whether or not an account matches, with or without a confirmed e-mail. A
figure for the time itself: bench/recovery_timing.py (timed unit tests are flaky)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, func, select

from idp.extensions import db
from idp.models import OutboxMessage
from idp.models.base import utcnow
from tests.conftest import csrf_token
from tests.factories import active_citizen, second_citizen

STATEMENT = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE)\s*(\w*)",
                       re.IGNORECASE)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """What each SQL statement does (verb and table for writes), in order."""
    seen: list[str] = []

    def note(_conn, _cursor, sql, _params, _context, _many):  # type: ignore[no-untyped-def]
        match = STATEMENT.match(sql)
        verb = match.group(1).upper() if match else sql.split()[0].upper()
        seen.append(verb if verb == "SELECT" else f"{verb} {match.group(2) if match else ''}")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def work_of(app: Flask, identifier: str) -> list[str]:
    client = app.test_client()
    token = csrf_token(client, "/recover")
    with statements(app) as seen:
        response = client.post("/recover", data={"csrf_token": token, "identifier": identifier})
    assert response.status_code == 303
    return seen


def test_known_and_unknown_identifiers_run_the_same_sql(app):
    with app.app_context():
        with_email = active_citizen(email="an@example.vn")
        with_email.phone_verified_at = with_email.email_verified_at = utcnow()
        second_citizen().phone_verified_at = utcnow()  # no e-mail address
        db.session.commit()
    known = work_of(app, "001099012345")
    assert "INSERT INTO outbox_message" in known and "INSERT INTO audit_event" in known
    assert work_of(app, "079303001234") == known  # known, no e-mail
    assert work_of(app, "001099099999") == known  # unknown ID number
    assert work_of(app, "0987654321") == known  # unknown phone number
    with app.app_context():  # the stand-ins were deleted: only the real code and link remain
        templates = db.session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.template.like("recover.%")).order_by(OutboxMessage.id)).all()
        assert templates == ["recover.code", "recover.link", "recover.code"]
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient.like("stand-in%"))) == 0

"""Recovery must not tell known identifiers by timing: `POST /recover` runs the same
SQL statements and the same rate-limit store calls whether or not an account matches, with or
without a confirmed e-mail, for a typed ID number or phone. A figure for the time itself:
bench/recovery_timing.py (timed unit tests are flaky)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, func, select

from idp.extensions import db, limiter
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


STORE_CALLS = ("get", "incr", "clear", "get_expiry", "acquire_entry", "get_moving_window",
               "acquire_sliding_window_entry", "get_sliding_window")


@contextmanager
def store_calls(app: Flask) -> Iterator[list[str]]:
    """The rate-limit store's methods called, in order (the keys differ by design)."""
    seen: list[str] = []
    with app.app_context():
        storage = limiter.storage
    originals = {name: getattr(storage, name) for name in STORE_CALLS if hasattr(storage, name)}

    def counted(name, method):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(name)
            return method(*args, **kwargs)
        return call

    for name, method in originals.items():
        setattr(storage, name, counted(name, method))
    try:
        yield seen
    finally:
        for name in originals:
            delattr(storage, name)  # the class's method again


def work_of(app: Flask, identifier: str) -> tuple[list[str], list[str]]:
    client = app.test_client()
    token = csrf_token(client, "/recover")
    with statements(app) as seen, store_calls(app) as store:
        response = client.post("/recover", data={"csrf_token": token, "identifier": identifier})
    assert response.status_code == 303
    return seen, store


def test_known_and_unknown_identifiers_run_the_same_sql(app):
    with app.app_context():
        with_email = active_citizen(email="an@example.vn")
        with_email.phone_verified_at = with_email.email_verified_at = utcnow()
        second_citizen().phone_verified_at = utcnow()  # no e-mail address
        db.session.commit()
    known, store = work_of(app, "001099012345")
    assert "INSERT INTO outbox_message" in known and "INSERT INTO audit_event" in known
    assert store.count("incr") >= 5  # attempt, number, ID number and total windows
    assert work_of(app, "079303001234") == (known, store)  # known, no e-mail
    assert work_of(app, "001099099999") == (known, store)  # unknown ID number
    assert work_of(app, "0987654321") == (known, store)  # unknown phone number
    assert work_of(app, "0912345678") == (known, store)  # known phone number (with e-mail)
    with app.app_context():  # the stand-ins were deleted: only the real code and link remain
        templates = db.session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.template.like("recover.%")).order_by(OutboxMessage.id)).all()
        assert templates == ["recover.code", "recover.link", "recover.code", "recover.code",
                             "recover.link"]
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient.like("stand-in%"))) == 0

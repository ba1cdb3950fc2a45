"""Simulated database outages for one request at a time: the connection dies before the
first statement, right after a COMMIT (its answer lost, or everything after it failing), or
at the teardown ROLLBACK. Armed only around the request under test, so that the fixtures'
own sign-in and clean-up keep a working database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from idp.extensions import db


def connection_lost(statement: str = "COMMIT") -> OperationalError:
    return OperationalError(statement, {}, Exception("server closed the connection unexpectedly"))


@contextmanager
def outage(app: Flask, mode: str) -> Iterator[None]:
    """mode: "before_commit" (every statement fails, so nothing is ever committed),
    "answer_lost" (the COMMIT happens, then the connection dies before its answer arrives),
    "after_commit" (the COMMIT succeeds; every statement after it fails),
    "teardown" (closing the session at the end of the request fails)."""
    with app.app_context():
        engine = db.engine
    factory = db.session.session_factory
    state = {"committed": False, "closed": False}

    def on_statement(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if mode == "before_commit" or (mode == "after_commit" and state["committed"]):
            raise connection_lost(statement)

    def on_commit(session):  # type: ignore[no-untyped-def]
        state["committed"] = True
        if mode == "answer_lost":
            raise connection_lost()

    real_close = Session.close

    def failing_close(session):  # type: ignore[no-untyped-def]
        if mode == "teardown" and not state["closed"]:
            state["closed"] = True
            raise connection_lost("ROLLBACK")
        real_close(session)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(factory, "after_commit", on_commit)
    Session.close = failing_close  # type: ignore[method-assign]
    try:
        yield
    finally:
        Session.close = real_close  # type: ignore[method-assign]
        event.remove(factory, "after_commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_statement)

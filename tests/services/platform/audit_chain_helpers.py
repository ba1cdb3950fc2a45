"""Build an audit chain by real commits and tamper with it by direct SQL (the chain tests)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import JSON, bindparam, func, select, text

from idp.domain.audit_chain import GENESIS_HASH, chain_hash
from idp.extensions import db
from idp.models import AuditChainHead, AuditEvent, AuditTag
from idp.services.platform import audit
from idp.services.platform.audit_verify import ChainReport, verify_chain
from tests.conftest import TEST_DATABASE_URL
from tests.factories import active_citizen

ON_POSTGRES = bool(TEST_DATABASE_URL and "postgres" in TEST_DATABASE_URL)
EVENTS = 8  # what build_chain commits


@dataclass(frozen=True)
class Stored:
    id: int
    seq: int
    hash: str


def build_chain(app: Flask) -> list[Stored]:
    """Eight events from real commits; two rolled-back transactions leave nothing behind."""
    with app.app_context():
        account = active_citizen()  # account.create
        for _ in range(3):
            audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=7)
            db.session.commit()
        audit.record(AuditTag.ACCOUNT_LOGIN_FAILURE, account_id=account.id)
        db.session.execute(select(1))
        db.session.rollback()  # after database work
        audit.record(AuditTag.ACCOUNT_LOGIN_FAILURE, account_id=account.id)
        db.session.rollback()  # before any database work in the transaction
        audit.record(AuditTag.CONSENT_GRANT, account_id=account.id, client="portal-1",
                     scope="openid profile")
        audit.record(AuditTag.KEYS_ROTATE, channel="cli", alg="RS256", next_kid="k2")
        db.session.commit()  # two events in one transaction
        audit.record(AuditTag.ACCOUNT_MFA_ENROL, account_id=account.id, method="totp")
        db.session.commit()
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=account.id, actor_id=account.id,
                     staff_id=3, office_id=4, channel="api", note="Tiếng Việt ✓", n=1.5, ok=True)
        db.session.commit()
        return stored()


def stored() -> list[Stored]:
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.seq, AuditEvent.hash)
                              .order_by(AuditEvent.seq)).all()
    return [Stored(*row) for row in rows]


def tamper(app: Flask, sql: str, **params: object) -> None:
    """Direct SQL, as an attacker with database access would write it."""
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def verify(app: Flask, **kwargs: object) -> ChainReport:
    with app.app_context():
        return verify_chain(**kwargs)  # type: ignore[arg-type]


def assert_broken(report: ChainReport, reason: str, seq: int | None, row_id: int | None) -> None:
    assert (report.ok, report.reason, report.bad_seq, report.bad_row_id) == (False, reason, seq, row_id), report


CHAINED = ("seq", "tag", "occurred_at", "account_id", "actor_id", "session_id", "staff_id",
           "office_id", "channel", "data")


def fields_of(event: AuditEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in CHAINED}


def build_hash_at(app: Flask, seq: int) -> str:
    with app.app_context():
        return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def forge(app: Flask, seq: int, prev_hash: str, *, good_hash: bool = True) -> int:
    """Insert an event at `seq` after `prev_hash`, hashed correctly or not; returns its row id."""
    with app.app_context():
        fields = {"seq": seq, "tag": "account.login.success",
                  "occurred_at": db.session.scalar(select(func.max(AuditEvent.occurred_at))),
                  "account_id": 1, "actor_id": None, "session_id": None, "staff_id": None,
                  "office_id": None, "channel": "web", "data": {}}
        digest = chain_hash(prev_hash, fields) if good_hash else "ab" * 32
        db.session.execute(
            text("INSERT INTO audit_event (seq, tag, occurred_at, account_id, channel, data, "
                 "prev_hash, hash) VALUES (:seq, :tag, :occurred_at, :account_id, :channel, "
                 ":data, :prev, :hash)").bindparams(bindparam("data", type_=JSON),
                                                     bindparam("occurred_at", type_=AuditEvent.occurred_at.type)),
            {**fields, "prev": prev_hash, "hash": digest})
        db.session.commit()
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))


def rewrite_history(app: Flask, from_seq: int) -> None:
    """The strongest forger: edit an event, then rehash everything after it and the head."""
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        events[from_seq - 1].data = {"rewritten": True}
        prev = events[from_seq - 2].hash if from_seq > 1 else GENESIS_HASH
        for event in events[from_seq - 1:]:
            event.prev_hash, event.hash = prev, chain_hash(prev, fields_of(event))
            prev = event.hash
        db.session.get(AuditChainHead, 1).hash = prev
        db.session.commit()

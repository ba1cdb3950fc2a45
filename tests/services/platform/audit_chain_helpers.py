"""Build a sealed audit log by real commits and tamper with it by direct SQL (the log tests)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import JSON, bindparam, select, text

from idp.domain.audit_chain import GENESIS_HASH, chain_hash
from idp.extensions import db
from idp.models import AuditEvent, AuditLeaf, AuditTag
from idp.services.platform import audit, audit_seal
from idp.services.platform.audit_verify import LogReport, verify_log
from tests.conftest import TEST_DATABASE_URL
from tests.factories import active_citizen

ON_POSTGRES = bool(TEST_DATABASE_URL and "postgres" in TEST_DATABASE_URL)
EVENTS = 8  # what build_log commits


@dataclass(frozen=True)
class Sealed:
    seq: int  # leaf index + 1
    event_id: int
    leaf_hash: str


def commit_events(app: Flask) -> None:
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


def seal(app: Flask, limit: int = audit_seal.BATCH_SIZE) -> int:
    with app.app_context():
        return audit_seal.seal_all(limit)


def build_log(app: Flask, limit: int = 3) -> list[Sealed]:
    """The eight events, sealed in batches of `limit` (several checkpoints)."""
    commit_events(app)
    assert seal(app, limit) == EVENTS
    with app.app_context():
        return sealed()


def sealed() -> list[Sealed]:
    rows = db.session.execute(select(AuditLeaf.leaf_index, AuditLeaf.event_id, AuditLeaf.leaf_hash)
                              .order_by(AuditLeaf.leaf_index)).all()
    return [Sealed(index + 1, event_id, leaf) for index, event_id, leaf in rows]


def tamper(app: Flask, sql: str, **params: object) -> None:
    """Direct SQL, as an attacker with database access would write it: past the append-only
    trigger on PostgreSQL (replica role, the test user is a superuser) and the foreign keys."""
    with app.app_context():
        unguard()
        db.session.execute(text(sql), params)
        db.session.commit()


def unguard() -> None:
    """On the current session's connection: lift the append-only trigger and foreign keys."""
    if ON_POSTGRES:
        db.session.execute(text("SET session_replication_role = replica"))
    else:
        db.session.execute(text("PRAGMA foreign_keys = OFF"))


def verify(app: Flask, **kwargs: object) -> LogReport:
    with app.app_context():
        return verify_log(**kwargs)  # type: ignore[arg-type]


def assert_broken(report: LogReport, reason: str, seq: int | None, row_id: int | None) -> None:
    assert (report.ok, report.reason, report.bad_seq, report.bad_row_id) == (False, reason, seq, row_id), report


def legacy_chain(app: Flask, count: int, *, head: bool = True) -> list[int]:
    """Events as the hash-chain code wrote them (seq, prev_hash, hash, head row); their ids."""
    with app.app_context():
        prev = GENESIS_HASH
        moment = audit.utcnow()
        for seq in range(1, count + 1):
            fields = {"seq": seq, "tag": "account.login.success", "occurred_at": moment,
                      "account_id": seq, "actor_id": None, "session_id": None, "staff_id": None,
                      "office_id": None, "channel": "web", "data": {"n": seq}}
            digest = chain_hash(prev, fields)
            db.session.execute(
                text("INSERT INTO audit_event (seq, tag, occurred_at, account_id, channel, data, "
                     "prev_hash, hash) VALUES (:seq, :tag, :occurred_at, :account_id, :channel, "
                     ":data, :prev, :hash)").bindparams(
                         bindparam("data", type_=JSON),
                         bindparam("occurred_at", type_=AuditEvent.occurred_at.type)),
                {**fields, "prev": prev, "hash": digest})
            prev = digest
        db.session.execute(text("DELETE FROM audit_chain_head"))  # migration 0004's empty head
        if head:
            db.session.execute(text("INSERT INTO audit_chain_head (id, seq, hash, updated_at) "
                                    "VALUES (1, :seq, :hash, CURRENT_TIMESTAMP)"),
                               {"seq": count, "hash": prev})
        db.session.commit()
        return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.seq)))

"""The citizen's approval and revocation of a mandate have a single winner
(docs/architecture.md §4): parallel requests, as from two taps or two tabs, on PostgreSQL."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.domain.mandates import Status
from idp.errors import Refusal
from idp.extensions import db
from idp.models import Account, AuditEvent, AuditTag, Mandate, UserSession
from idp.services.identity import mandates, sessions
from tests.conftest import TEST_DATABASE_URL, at_once
from tests.web.citizen_mandate_setup import Scene, scene

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="real concurrency needs PostgreSQL")
NODES = 4


def _own_session(app: Flask, s: Scene) -> int:
    with app.app_context():
        account = db.session.get(Account, s.account_id)
        assert account is not None
        new = sessions.open_session(account, amr="pwd")
        db.session.commit()
        return new.session.id


def _session(session_id: int) -> UserSession:
    found = db.session.get(UserSession, session_id)
    assert found is not None
    return found


def _count(app: Flask, tag: AuditTag) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.tag == tag.value)) or 0


def test_parallel_approvals_confirm_once_and_all_answer_active(app: Flask) -> None:
    s = scene(app, confirmed=False)
    session_id = _own_session(app, s)

    def approve() -> object:
        try:
            view = mandates.approve(_session(session_id), s.mandate_public_id)
            return view.status if view else None
        finally:
            db.session.remove()

    results = at_once([app] * NODES, approve)
    assert results == [Status.ACTIVE] * NODES
    assert _count(app, AuditTag.MANDATE_CONFIRM) == 1


def test_parallel_revocations_end_it_once(app: Flask) -> None:
    s = scene(app)
    session_id = _own_session(app, s)

    def revoke() -> object:
        try:
            return mandates.revoke(_session(session_id), s.mandate_public_id)
        finally:
            db.session.remove()

    results = at_once([app] * NODES, revoke)
    assert sorted(r.value for r in results) == sorted(  # type: ignore[attr-defined]
        ["revoked"] + ["already_ended"] * (NODES - 1))
    assert _count(app, AuditTag.MANDATE_REVOKE) == 1


def test_approval_racing_a_decline_never_revives_it(app: Flask) -> None:
    s = scene(app, confirmed=False)
    session_id = _own_session(app, s)
    order = iter(["approve", "revoke"] * (NODES // 2))

    def either() -> object:
        action = next(order)
        try:
            if action == "approve":
                view = mandates.approve(_session(session_id), s.mandate_public_id)
                return ("approve", view.status if view else None)
            return ("revoke", mandates.revoke(_session(session_id), s.mandate_public_id))
        except Refusal as refused:
            return (action, refused.code)
        finally:
            db.session.remove()

    results = at_once([app] * NODES, either)
    with app.app_context():
        mandate = db.session.scalars(select(Mandate).filter_by(public_id=s.mandate_public_id)).one()
        assert mandate.revoked_at is not None  # whatever the order, the citizen's "no" stands
    assert _count(app, AuditTag.MANDATE_REVOKE) == 1
    assert _count(app, AuditTag.MANDATE_CONFIRM) <= 1
    for action, outcome in results:  # type: ignore[misc]
        assert (action, outcome) in {("approve", Status.ACTIVE), ("approve", "mandate.ended"),
                                     ("revoke", mandates.Revoked.REVOKED),
                                     ("revoke", mandates.Revoked.DECLINED),
                                     ("revoke", mandates.Revoked.ALREADY_ENDED)}

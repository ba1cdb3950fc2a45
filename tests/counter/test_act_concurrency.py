"""A mandate revoked at the very moment an agent signs in under it (PostgreSQL only;
IDP_TEST_DATABASE_URL): whichever comes first, no live session is left under a revoked
mandate. The sign-in locks the mandate row while it checks and opens the session, so the
revocation either comes first (the sign-in is refused `revoked`) or ends the new session with
the others."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import Mandate, MandateEnder, StaffMember, UserSession
from idp.services.counter import acting as counter_acting
from idp.services.identity import acting
from idp.services.staff.sessions import open_staff_session
from tests.conftest import TEST_DATABASE_URL
from tests.counter.act_cast import Scene, make_scene, mandate

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL or "postgres" not in TEST_DATABASE_URL,
                       reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)"),
]
ROUNDS = 5


def together(app: Flask, calls: list[Callable[[], object]]) -> list[object]:
    """Each call in its own thread and application context, released together."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[index] = calls[index]()
            except Exception as error:  # noqa: BLE001 - the refusal is the result
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_revocation_racing_a_sign_in_never_leaves_a_live_session(app: Flask) -> None:
    scene: Scene = make_scene(app)
    for _ in range(ROUNDS):
        public_id = mandate(app, scene.citizen, scene.clerk)

        def sign_in(public_id: str = public_id) -> object:
            staff = db.session.get(StaffMember, scene.clerk)
            assert staff is not None
            staff_session = open_staff_session(staff, channel="web", mfa_verified=True).session
            db.session.commit()
            return counter_acting.sign_in_under_mandate(staff, staff_session, public_id,
                                                        scene.portal.client_id)

        def revoke(public_id: str = public_id) -> object:
            row = db.session.scalars(select(Mandate).filter_by(public_id=public_id)).one()
            ended = acting.end_mandate_in_transaction(row, by=MandateEnder.CITIZEN)
            db.session.commit()
            return ended

        signed_in, revoked = together(app, [sign_in, revoke])
        assert revoked is not None and not isinstance(revoked, Exception), revoked
        if isinstance(signed_in, counter_acting.MandateSignInRefusal):
            assert signed_in.code == "revoked"
        else:
            assert not isinstance(signed_in, Exception), signed_in
        with app.app_context():
            row = db.session.scalars(select(Mandate).filter_by(public_id=public_id)).one()
            live = db.session.scalars(select(UserSession).where(
                UserSession.mandate_id == row.id, UserSession.revoked_at.is_(None))).all()
            assert row.revoked_at is not None and live == []

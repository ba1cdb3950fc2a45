"""Upgrading from the hash-chained log: the legacy chain is checked and sealed as the first
leaves (leaf i is seq i + 1, the bytes its chain hash covered), then new events follow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditLeaf, AuditTag
from idp.services.platform import audit, audit_seal
from tests.services.platform.audit_chain_helpers import (
    assert_broken,
    legacy_chain,
    seal,
    tamper,
    verify,
)


def test_a_legacy_chain_is_sealed_first_then_new_events_and_verifies(app):
    ids = legacy_chain(app, 5)
    with app.app_context():
        for number in range(3):
            audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=number)
            db.session.commit()
    assert seal(app, 2) == 8
    with app.app_context():
        leaves = db.session.execute(select(AuditLeaf.leaf_index, AuditLeaf.event_id)
                                    .order_by(AuditLeaf.leaf_index)).all()
    assert [event_id for _, event_id in leaves[:5]] == ids
    report = verify(app)
    assert (report.ok, report.events_checked, report.unsealed) == (True, 8, 0), report


def test_an_edited_legacy_event_sealed_since_is_named(app):
    ids = legacy_chain(app, 4)
    seal(app)
    tamper(app, "UPDATE audit_event SET account_id = 77 WHERE id = :id", id=ids[1])
    assert_broken(verify(app), "leaf_mismatch", 2, ids[1])


@pytest.mark.parametrize("sql", [
    "UPDATE audit_event SET account_id = 77 WHERE seq = 3",
    "DELETE FROM audit_event WHERE seq = 3",
    "DELETE FROM audit_event WHERE seq = 5",
    "UPDATE audit_chain_head SET seq = 9",
])
def test_a_broken_legacy_chain_is_refused_not_sealed(app, sql):
    legacy_chain(app, 5)
    tamper(app, sql)
    with app.app_context(), pytest.raises(audit_seal.LegacyChainBroken):
        audit_seal.seal_all()
    with app.app_context():
        assert db.session.scalar(select(AuditLeaf.leaf_index).limit(1)) is None


def test_a_legacy_chain_without_its_head_row_is_refused(app):
    legacy_chain(app, 3, head=False)
    with app.app_context(), pytest.raises(audit_seal.LegacyChainBroken):
        audit_seal.seal_all()

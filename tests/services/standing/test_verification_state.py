"""The one place a verification's status changes (idp.services.standing.verification_state):
a conditional UPDATE on the expected status, so a second action on the same record loses and
changes nothing; the live key follows the status; a pending code past its expiry expires once."""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, VerificationStatus
from idp.services.standing.verification_state import expire_if_due, transition
from tests.factories import active_citizen
from tests.verification_factories import expired_verification, pending_verification


def _tags(tag: AuditTag) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def test_only_the_first_of_two_transitions_from_the_same_status_wins(app):
    with app.app_context():
        verification = pending_verification(active_citizen())
        before = verification.version
        assert transition(verification, VerificationStatus.PENDING, VerificationStatus.CANCELLED)
        assert not transition(verification, VerificationStatus.PENDING, VerificationStatus.EXPIRED)
        db.session.commit()
        assert verification.status is VerificationStatus.CANCELLED
        assert verification.version == before + 1  # the losing call wrote nothing


def test_the_live_key_follows_the_status(app):
    with app.app_context():
        account = active_citizen()
        verification = pending_verification(account)
        assert verification.live_account_id == account.id
        transition(verification, (VerificationStatus.PENDING,), VerificationStatus.CANCELLED)
        db.session.commit()
        assert verification.live_account_id is None  # the account may ask for a new code


def test_a_code_past_its_expiry_expires_once_with_one_audit_event(app):
    with app.app_context():
        verification = expired_verification(active_citizen())
        assert expire_if_due(verification) and expire_if_due(verification)
        db.session.commit()
        assert verification.status is VerificationStatus.EXPIRED
        assert len(_tags(AuditTag.VERIFICATION_EXPIRE)) == 1


def test_a_live_code_does_not_expire(app):
    with app.app_context():
        verification = pending_verification(active_citizen())
        assert not expire_if_due(verification)
        db.session.commit()
        assert verification.status is VerificationStatus.PENDING
        assert _tags(AuditTag.VERIFICATION_EXPIRE) == []

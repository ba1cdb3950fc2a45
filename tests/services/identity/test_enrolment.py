"""Enrolment codes, the citizen's side of counter verification (idp.services.identity.enrolment)."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from idp.domain.enrolment_code import ALPHABET, LENGTH
from idp.errors import Refusal
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditTag,
    IdentityVerification,
    RejectReason,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.identity import enrolment
from tests.conftest import TEST_DATABASE_URL
from tests.factories import active_citizen, second_citizen
from tests.staff_factories import enrolled_clerk, post_office


def _events(tag: AuditTag) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)
                                   .order_by(AuditEvent.id)))


def _count() -> int:
    return db.session.scalar(select(func.count(IdentityVerification.id))) or 0


def verification_row(account: Account, status: VerificationStatus, **values: object
                     ) -> IdentityVerification:
    """A verification in any state, written directly (as the counter services would leave it)."""
    fields: dict[str, object] = {
        "public_id": secrets.token_urlsafe(16), "account_id": account.id, "status": status,
        "code": "".join(secrets.choice(ALPHABET) for _ in range(LENGTH)),
        "live_account_id": account.id if status in (VerificationStatus.PENDING,
                                                    VerificationStatus.SUBMITTED) else None,
        "expires_at": utcnow() + timedelta(days=30)}
    row = IdentityVerification(**{**fields, **values})
    db.session.add(row)
    db.session.commit()
    return row


def test_request_creates_a_pending_code(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        before = utcnow()
        v = enrolment.request_code(account, session_id=7)
        assert v.status is VerificationStatus.PENDING
        assert len(v.code) == LENGTH and set(v.code) <= set(ALPHABET)
        assert len(v.public_id) == 22 and v.live_account_id == account.id and not v.assisted
        days = app.config["IDP_SETTINGS"].enrolment_code_days
        assert before + timedelta(days=days) <= v.expires_at <= utcnow() + timedelta(days=days)
        [event] = _events(AuditTag.VERIFICATION_REQUEST)
        assert (event.account_id, event.session_id) == (account.id, 7)
        assert event.data == {"verification": v.public_id}  # no code, no personal data


def test_second_request_returns_the_live_code(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        first = enrolment.request_code(account)
        again = enrolment.request_code(account)
        assert (again.id, again.code) == (first.id, first.code)
        assert _count() == 1 and len(_events(AuditTag.VERIFICATION_REQUEST)) == 1


def test_a_submitted_check_is_returned_not_replaced(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        submitted = verification_row(account, VerificationStatus.SUBMITTED)
        assert enrolment.request_code(account).id == submitted.id
        assert _count() == 1


def test_cancel_then_new_code(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        first = enrolment.request_code(account)
        cancelled = enrolment.cancel(account, first.public_id, session_id=3)
        assert cancelled.status is VerificationStatus.CANCELLED
        assert cancelled.cancelled_at is not None and cancelled.live_account_id is None
        [event] = _events(AuditTag.VERIFICATION_CANCEL)
        assert event.data == {"verification": first.public_id} and event.session_id == 3
        # A second click changes nothing and is not audited twice.
        assert enrolment.cancel(account, first.public_id).status is VerificationStatus.CANCELLED
        assert len(_events(AuditTag.VERIFICATION_CANCEL)) == 1
        second = enrolment.request_code(account)
        assert second.id != first.id and second.code != first.code
        assert second.status is VerificationStatus.PENDING


def test_expired_code_is_replaced(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        first = enrolment.request_code(account)
        db.session.execute(update(IdentityVerification).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        standing = enrolment.current(account)
        assert standing.state == "expired" and standing.verification.live_account_id is None
        assert len(_events(AuditTag.VERIFICATION_EXPIRE)) == 1
        second = enrolment.request_code(account)
        assert second.id != first.id and second.status is VerificationStatus.PENDING


def test_expired_live_code_is_expired_and_replaced_in_one_request(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        first = enrolment.request_code(account)
        first.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        second = enrolment.request_code(account)
        assert second.id != first.id
        assert db.session.get(IdentityVerification, first.id).status is VerificationStatus.EXPIRED


def test_cancel_of_an_expired_code_is_a_no_op(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        first = enrolment.request_code(account)
        first.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert enrolment.cancel(account, first.public_id).status is VerificationStatus.EXPIRED
        assert _events(AuditTag.VERIFICATION_CANCEL) == []


def test_request_limit_per_day(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        for _ in range(enrolment.MAX_CODES_PER_DAY):
            enrolment.cancel(account, enrolment.request_code(account).public_id)
        with pytest.raises(Refusal) as raised:
            enrolment.request_code(account)
        assert raised.value.status == 429 and raised.value.code == "verification.too_many_codes"
        assert _count() == enrolment.MAX_CODES_PER_DAY
        assert len(_events(AuditTag.VERIFICATION_REQUEST)) == enrolment.MAX_CODES_PER_DAY
        # Another person is not affected; a day later the first one may ask again.
        assert enrolment.request_code(second_citizen()).status is VerificationStatus.PENDING
        db.session.execute(update(IdentityVerification)
                           .where(IdentityVerification.account_id == account.id)
                           .values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        assert enrolment.request_code(account).status is VerificationStatus.PENDING


def test_codes_opened_at_a_counter_do_not_count(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        for _ in range(enrolment.MAX_CODES_PER_DAY):
            verification_row(account, VerificationStatus.CANCELLED, assisted=True)
        assert enrolment.request_code(account).status is VerificationStatus.PENDING


def test_verified_account_cannot_ask(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        account.identity_loa = 2
        db.session.commit()
        with pytest.raises(Refusal) as raised:
            enrolment.request_code(account)
        assert (raised.value.code, raised.value.status) == ("verification.already_verified", 409)
        assert _count() == 0 and _events(AuditTag.VERIFICATION_REQUEST) == []


def test_approved_verification_blocks_a_new_code(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        verification_row(account, VerificationStatus.APPROVED, decided_at=utcnow())
        with pytest.raises(Refusal) as raised:
            enrolment.request_code(account)
        assert raised.value.code == "verification.already_verified"
        assert _count() == 1


def test_after_revocation_a_new_code_may_be_asked(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        verification_row(account, VerificationStatus.REVOKED, revoked_at=utcnow(),
                         revoke_reason=RejectReason.SUSPECTED_FRAUD)
        assert enrolment.request_code(account).status is VerificationStatus.PENDING


@pytest.mark.parametrize("status", [AccountStatus.DISABLED, AccountStatus.PENDING_ACTIVATION])
def test_inactive_account_cannot_ask(app: Flask, status: AccountStatus) -> None:
    with app.app_context():
        account = active_citizen()
        account.status = status
        db.session.commit()
        with pytest.raises(Refusal) as raised:
            enrolment.request_code(account)
        assert raised.value.code == "verification.account_not_active"
        assert raised.value.status == 403 and _count() == 0


def test_cannot_cancel_another_accounts_code(app: Flask) -> None:
    with app.app_context():
        owner, other = active_citizen(), second_citizen()
        v = enrolment.request_code(owner)
        for target in (v.public_id, "x" * 22, "short", "", "é" * 22, "a" * 5000):
            with pytest.raises(Refusal) as missing:
                enrolment.cancel(other, target)
            assert (missing.value.code, missing.value.status) == ("verification.not_found", 404)
        db.session.refresh(v)
        assert v.status is VerificationStatus.PENDING and _events(AuditTag.VERIFICATION_CANCEL) == []


@pytest.mark.parametrize("status", [VerificationStatus.SUBMITTED, VerificationStatus.APPROVED,
                                    VerificationStatus.REJECTED])
def test_checked_verification_cannot_be_cancelled(app: Flask, status: VerificationStatus) -> None:
    with app.app_context():
        account = active_citizen()
        v = verification_row(account, status)
        with pytest.raises(Refusal) as raised:
            enrolment.cancel(account, v.public_id)
        assert (raised.value.code, raised.value.status) == ("verification.not_cancellable", 409)
        db.session.refresh(v)
        assert v.status is status and v.cancelled_at is None


def test_code_collision_draws_again(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        taken = verification_row(second_citizen(), VerificationStatus.PENDING).code
        fresh = "23456789" if taken != "23456789" else "ABCDEFGH"
        codes = iter([taken, fresh])
        monkeypatch.setattr(enrolment, "new_code", lambda: next(codes))
        v = enrolment.request_code(active_citizen())
        assert v.code == fresh and _count() == 2
        assert len(_events(AuditTag.VERIFICATION_REQUEST)) == 1  # the failed insert left no event


def test_concurrent_request_returns_the_winners_code(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests both saw no live code; the unique live_account_id lets one insert win."""
    with app.app_context():
        account = active_citizen()
        winner = verification_row(account, VerificationStatus.PENDING)
        real = enrolment._live_or_none
        calls = iter([None])
        monkeypatch.setattr(enrolment, "_live_or_none", lambda a: next(calls, real(a)))
        assert enrolment.request_code(account).id == winner.id
        assert _count() == 1 and _events(AuditTag.VERIFICATION_REQUEST) == []


def test_current_without_verification(app: Flask) -> None:
    with app.app_context():
        standing = enrolment.current(active_citizen())
        assert (standing.state, standing.loa, standing.verification, standing.office) == ("none", 1, None, None)


def test_current_reports_the_latest_with_its_office(app: Flask) -> None:
    with app.app_context():
        account = active_citizen()
        office = post_office()
        clerk = enrolled_clerk(office)
        verification_row(account, VerificationStatus.CANCELLED)
        latest = verification_row(account, VerificationStatus.SUBMITTED, office_id=office.id,
                                  clerk_id=clerk.id, submitted_at=utcnow())
        standing = enrolment.current(account)
        assert standing.verification.id == latest.id and standing.office.id == office.id
        assert standing.state == "submitted"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="real concurrency needs PostgreSQL")
def test_parallel_requests_store_one_code(app: Flask) -> None:
    with app.app_context():
        account_id = active_citizen().id
    barrier = threading.Barrier(4)
    results: list[int] = []

    def ask() -> None:
        with app.app_context():
            account = db.session.get(Account, account_id)
            barrier.wait()
            results.append(enrolment.request_code(account).id)
            db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert _count() == 1 and len(_events(AuditTag.VERIFICATION_REQUEST)) == 1
    assert len(results) == 4 and len(set(results)) == 1

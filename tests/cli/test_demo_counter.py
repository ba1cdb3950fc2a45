"""`idp demo seed` adds a post office with a clerk and a supervisor; `idp demo totp` prints a
demo authenticator code (development only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import PostOffice, StaffMember, StaffRole
from idp.models.base import utcnow
from idp.services.demo import DEMO_SETUP_CODE, DEMO_STAFF_PASSWORD
from idp.services.platform import crypto
from idp.services.staff import enrolment
from tests.conftest import csrf_token


def test_seed_creates_one_office_with_a_clerk_and_a_supervisor(app, runner):
    first = runner.invoke(cli, ["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "giaodichvien" in first.stdout and DEMO_STAFF_PASSWORD in first.stdout
    again = runner.invoke(cli, ["demo", "seed"])
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PostOffice)) == 1
        roles = sorted(s.role.value for s in db.session.scalars(select(StaffMember)))
        assert roles == [StaffRole.CLERK.value, StaffRole.SUPERVISOR.value]


def test_demo_totp_prints_the_current_code_of_a_staff_key(app, runner):
    runner.invoke(cli, ["demo", "seed"])
    secret = pyotp.random_base32()
    with app.app_context():
        clerk = db.session.scalar(select(StaffMember).where(StaffMember.username == "giaodichvien"))
        clerk.totp_secret_encrypted = crypto.seal(secret.encode(),
                                                  aad=f"staff-totp:{clerk.id}".encode())
        clerk.totp_confirmed_at = utcnow()
        db.session.commit()
    result = runner.invoke(cli, ["demo", "totp", "giaodichvien"])
    assert result.exit_code == 0, result.output
    assert pyotp.TOTP(secret).verify(result.stdout.strip(), valid_window=1)


def test_the_demo_clerk_signs_in_the_first_time_with_the_printed_set_up_code(app, runner, client):
    seeded = runner.invoke(cli, ["demo", "seed"])
    assert DEMO_SETUP_CODE in seeded.stdout
    assert runner.invoke(cli, ["demo", "totp", "giaodichvien"]).exit_code == 1  # no key yet
    token = csrf_token(client, "/counter/login")
    client.post("/counter/login", data={"csrf_token": token, "username": "giaodichvien",
                                        "password": DEMO_STAFF_PASSWORD})
    typed = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": DEMO_SETUP_CODE})
    assert typed.status_code == 302
    printed = runner.invoke(cli, ["demo", "totp", "giaodichvien"])  # the key shown: a code
    assert printed.exit_code == 0, printed.output
    done = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": printed.stdout.strip()})
    assert done.status_code == 302 and done.headers["Location"] == "/counter/"


def test_seeding_again_renews_an_expired_demo_set_up_code(app, runner):
    runner.invoke(cli, ["demo", "seed"])
    with app.app_context():
        clerk = db.session.scalar(select(StaffMember).where(StaffMember.username == "giaodichvien"))
        enrolment.issue(clerk, DEMO_SETUP_CODE)
        clerk.totp_secret_encrypted = enrolment._seal(clerk, replace(
            enrolment.record_of(clerk), expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert not enrolment.matches(clerk, DEMO_SETUP_CODE)
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    with app.app_context():
        clerk = db.session.scalar(select(StaffMember).where(StaffMember.username == "giaodichvien"))
        assert enrolment.matches(clerk, DEMO_SETUP_CODE)


def test_demo_totp_without_a_key_is_refused(app, runner):
    runner.invoke(cli, ["demo", "seed"])
    result = runner.invoke(cli, ["demo", "totp", "kiemsoatvien"])
    assert result.exit_code == 1


def test_the_demo_colleague_is_verified_at_the_demo_office_through_the_workflow(app, runner):
    from idp.models import Account, IdentityVerification, VerificationStatus
    from idp.services.demo import DEMO_CITIZEN, DEMO_COLLEAGUE

    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0  # once, not twice
    with app.app_context():
        colleague = db.session.scalar(select(Account).where(
            Account.national_id == DEMO_COLLEAGUE.national_id))
        citizen = db.session.scalar(select(Account).where(
            Account.national_id == DEMO_CITIZEN.national_id))
        assert colleague.identity_loa == 2 and citizen.identity_loa == 1
        checks = db.session.scalars(select(IdentityVerification)).all()
        assert [(c.account_id, c.status) for c in checks] == [
            (colleague.id, VerificationStatus.APPROVED)]
        assert checks[0].clerk_id != checks[0].decided_by  # four eyes, even in the demo

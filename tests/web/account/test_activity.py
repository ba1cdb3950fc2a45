"""The activity history: one readable line per meaningful event, with the names of the
organisation, post office and portal; no line for the person's own form mistakes, a clerk's
refused attempts or bookkeeping; one line per counter visit."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.i18n import LOCALE_COOKIE
from idp.models import (
    Account,
    AuditTag,
    IdentityVerification,
    Organisation,
    OrganisationVerification,
    StaffMember,
)
from idp.services.counter import checks, decisions, organisation_checks, organisation_decisions
from idp.services.counter.checks import CounterRefusal
from idp.services.identity.activity import DECISIONS, Decision
from idp.services.platform import audit
from idp.web.citizen.activity_lines import LINES
from tests.business.helpers import REPRESENTATIVE, browser, person, post
from tests.conftest import csrf_token
from tests.counter.org_cast import good_business_check
from tests.oidc.flow import citizen, sign_in
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office
from tests.verification_factories import good_check

LINE_RE = re.compile(r'<span class="activity-what">(.*?)</span>')
REGISTER = {"tax_code": "0100233488", "name": "Công ty TNHH Sen Vàng", "province_code": "01",
            "ward": "Phường Hoàn Kiếm", "street": "35 Ngô Quyền", "title": "director"}


def test_every_audit_tag_has_a_decision_and_every_shown_one_a_line() -> None:
    """A new audit tag fails here until it is decided: shown, merged into a visit, hidden, or
    never recorded against a citizen's account."""
    assert set(AuditTag) - set(DECISIONS) == set()
    shown = {tag for tag, decision in DECISIONS.items() if decision in (Decision.SHOWN, Decision.VISIT)}
    assert shown - set(LINES) == set()
    assert set(LINES) - shown == set()  # no wording for a tag that is never shown


def lines(client: FlaskClient, locale: str) -> list[str]:
    client.set_cookie(LOCALE_COOKIE, locale)
    page = client.get("/account/activity")
    assert page.status_code == 200
    return [unescape(line) for line in LINE_RE.findall(page.get_data(as_text=True))]


def staff_of(office_name: str) -> tuple[int, int]:
    office = post_office(name=office_name)
    return enrolled_clerk(office).id, enrolled_supervisor(office).id


def test_a_business_counter_check_reads_as_one_line_per_step(app: Flask) -> None:
    representative = browser(app)
    page = "/business/register"
    # The person's own typing mistakes: refused, audited, but no line.
    assert post(representative, page, page, **{**REGISTER, "tax_code": "0100233480"}).status_code == 400
    assert post(representative, page, page, **{**REGISTER, "name": "Sen\x00Vàng"}).status_code == 400
    assert post(representative, page, page, **REGISTER).status_code == 303
    with app.app_context():
        org = db.session.scalars(select(Organisation)).one().public_id
    org_page = f"/business/{org}"
    assert post(representative, f"{org_page}/verification/request", org_page).status_code == 303
    with app.app_context():
        clerk_id, supervisor_id = staff_of("Bưu điện Hoàn Kiếm")
        check = db.session.scalars(select(OrganisationVerification)).one()
        clerk, supervisor = db.session.get(StaffMember, clerk_id), db.session.get(StaffMember, supervisor_id)
        account = db.session.get(Account, person(app, REPRESENTATIVE))
        # The clerk's typo first (a refused look-up), then the visit's look-ups and the check.
        try:
            organisation_checks.lookup(clerk, "ZZZZ-ZZZZ")
        except organisation_checks.CounterOrganisationRefusal:
            pass
        organisation_checks.lookup(clerk, check.code)
        for _ in range(4):
            organisation_checks.get(clerk, check.public_id)
        organisation_checks.submit(clerk, check.public_id, good_business_check(account))
        organisation_checks.get(clerk, check.public_id)
        organisation_decisions.approve(supervisor, check.public_id)
    assert lines(representative, "en") == [
        "Công ty TNHH Sen Vàng was verified at Bưu điện Hoàn Kiếm",
        "The enrolment code of Công ty TNHH Sen Vàng was looked up at Bưu điện Hoàn Kiếm",
        "Asked for an enrolment code for Công ty TNHH Sen Vàng",
        "Registered Công ty TNHH Sen Vàng",
        "Signed in",
        "Account created",
    ]
    assert lines(representative, "vi") == [
        "Công ty TNHH Sen Vàng đã được xác minh tại Bưu điện Hoàn Kiếm",
        "Mã đăng ký xác minh của Công ty TNHH Sen Vàng được tra cứu tại Bưu điện Hoàn Kiếm",
        "Yêu cầu mã đăng ký xác minh cho Công ty TNHH Sen Vàng",
        "Đã đăng ký Công ty TNHH Sen Vàng",
        "Đăng nhập",
        "Tạo tài khoản",
    ]


def test_a_citizen_counter_visit_reads_as_one_look_up_and_the_decision(app: Flask, client: FlaskClient) -> None:
    citizen(app)
    sign_in(client)
    token = csrf_token(client, "/account/verification")
    assert client.post("/account/verification/request", data={"csrf_token": token}).status_code in (302, 303)
    with app.app_context():
        clerk_id, supervisor_id = staff_of("Bưu điện Hoàn Kiếm")
        clerk, supervisor = db.session.get(StaffMember, clerk_id), db.session.get(StaffMember, supervisor_id)
        verification = db.session.scalars(select(IdentityVerification)).one()
        account = db.session.get(Account, verification.account_id)
        checks.lookup(clerk, verification.code)
        checks.lookup(clerk, verification.code.lower())  # scanned again
        for _ in range(3):
            checks.get(clerk, verification.public_id)
        try:  # the clerk submits a check the rules refuse: audited, no line
            checks.submit(clerk, verification.public_id, good_check(account, document_number="001099099999"))
        except CounterRefusal:
            pass
        checks.submit(clerk, verification.public_id, good_check(account))
        checks.get(clerk, verification.public_id)
        decisions.approve(supervisor, verification.public_id)
    assert lines(client, "en") == [
        "Identity verified at Bưu điện Hoàn Kiếm",
        "Your enrolment code was looked up at Bưu điện Hoàn Kiếm",
        "Asked for an enrolment code",
        "Signed in",
        "Account created",
    ]
    assert lines(client, "vi") == [
        "Đã xác minh danh tính tại Bưu điện Hoàn Kiếm",
        "Mã đăng ký xác minh của bạn được tra cứu tại Bưu điện Hoàn Kiếm",
        "Yêu cầu mã đăng ký xác minh",
        "Đăng nhập",
        "Tạo tài khoản",
    ]


def test_a_second_visit_with_the_same_code_at_another_office_has_its_own_line(app: Flask, client: FlaskClient) -> None:
    citizen(app)
    sign_in(client)
    token = csrf_token(client, "/account/verification")
    assert client.post("/account/verification/request", data={"csrf_token": token}).status_code in (302, 303)
    with app.app_context():
        first, _ = staff_of("Bưu điện Hoàn Kiếm")
        office = post_office(code="HCM-SG", name="Bưu điện Trung tâm Sài Gòn", province_code="79")
        second = enrolled_clerk(office, national_id="079090000011").id
        code = db.session.scalars(select(IdentityVerification)).one().code
        checks.lookup(db.session.get(StaffMember, first), code)
        checks.lookup(db.session.get(StaffMember, second), code)
        checks.lookup(db.session.get(StaffMember, first), code)
    assert lines(client, "en")[:2] == [
        "Your enrolment code was looked up at Bưu điện Trung tâm Sài Gòn",
        "Your enrolment code was looked up at Bưu điện Hoàn Kiếm",
    ]
    assert lines(client, "en")[2] == "Asked for an enrolment code"


def test_a_mistyped_code_while_turning_on_two_step_verification_makes_no_line(app: Flask, client: FlaskClient) -> None:
    account_id = citizen(app)
    sign_in(client)
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account_id, step="enrol")
        audit.record(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account_id, step="sign_in")
        audit.record(AuditTag.ACCOUNT_PASSWORD_REHASH, account_id=account_id)
        db.session.commit()
    assert lines(client, "en") == ["Wrong two-step verification code", "Signed in", "Account created"]


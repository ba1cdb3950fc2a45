"""Offices and staff services: every rule refuses with its code and writes nothing; disabling
ends sessions; staff TOTP codes are single-use and the sign-in contract holds."""

from __future__ import annotations

import datetime
import time
import unicodedata

import pyotp
import pytest
from sqlalchemy import func, select

from idp.domain.admin_units import PROVINCES
from idp.errors import Conflict, IdpError, InvalidInput, Refusal
from idp.extensions import db
from idp.models import AuditEvent, PostOffice, StaffMember, StaffRole, StaffSession, StaffStatus
from idp.services.platform import passwords
from idp.services.staff import admin as staff_service
from idp.services.staff import enrolment, offices, signin
from idp.services.staff import sessions as staff_sessions
from idp.services.staff.admin import StaffDetails
from tests.staff_factories import STAFF_PASSWORD, STAFF_TOTP_SECRET, enrolled_clerk, post_office

PASSWORD = "counter desk opens at seven"


def details(**overrides: str) -> StaffDetails:
    values = {"username": "Lan.Nguyen", "national_id": "001 190 012 345",
              "full_name": unicodedata.normalize("NFD", "Nguyễn Thị Lan"),
              "office_code": "hn-boho", "role": "clerk"}
    values.update(overrides)
    return StaffDetails(**values)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def events(tag: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


# --- offices -------------------------------------------------------------------------------

def test_province_table_is_the_34_units_in_nfc():
    assert len(PROVINCES) == 34
    assert all(len(code) == 2 and code.isdigit() for code in PROVINCES)
    assert all(unicodedata.is_normalized("NFC", name) for name in PROVINCES.values())
    assert PROVINCES["15"] == "Lào Cai" and PROVINCES["46"] == "Huế"  # not the ID prefixes


def test_create_office_normalises(app):
    with app.app_context():
        office = offices.create_office(" hn-boho ", unicodedata.normalize("NFD", " Bưu  điện Bờ Hồ "), "01")
        assert (office.code, office.name, office.province_code) == ("HN-BOHO", "Bưu điện Bờ Hồ", "01")
        [event] = events("office.create")
        assert event.office_id == office.id and event.channel == "cli"
        assert event.data == {"province_code": "01"}  # a code, never the name


@pytest.mark.parametrize("code, name, province, error", [
    ("H", "Bưu điện", "01", "office.code"),
    ("H" * 17, "Bưu điện", "01", "office.code"),
    ("HN BOHO", "Bưu điện", "01", "office.code"),
    ("HN_BOHO", "Bưu điện", "01", "office.code"),
    ("HÀ-NỘI", "Bưu điện", "01", "office.code"),
    ("ǅX", "Bưu điện", "01", "office.code"),
    ("HN-1", "", "01", "office.name"),
    ("HN-1", "   ", "01", "office.name"),
    ("HN-1", "x" * 101, "01", "office.name"),
    ("HN-1", "Bưu\u200bđiện", "01", "office.name"),
    ("HN-1", "Bưu điện", "1", "office.province"),
    ("HN-1", "Bưu điện", "001", "office.province"),  # an ID prefix, not a province code
    ("HN-1", "Bưu điện", "02", "office.province"),  # Hà Giang merged into Tuyên Quang
    ("HN-1", "Bưu điện", "", "office.province"),
])
def test_create_office_refuses(app, code, name, province, error):
    with app.app_context():
        with pytest.raises(InvalidInput) as info:
            offices.create_office(code, name, province)
        assert info.value.code == error
        assert count(PostOffice) == 0 and count(AuditEvent) == 0


def test_duplicate_office_code(app):
    with app.app_context():
        offices.create_office("HN-BOHO", "Bưu điện Bờ Hồ", "01")
        with pytest.raises(Conflict) as info:
            offices.create_office("hn-boho", "Khác", "79")
        assert info.value.code == "office.duplicate_code" and count(PostOffice) == 1


# --- staff ---------------------------------------------------------------------------------

def test_create_staff(app):
    with app.app_context():
        office = post_office()
        issued = staff_service.create_staff(details(), PASSWORD)
        member = issued.staff
        assert member.username == "lan.nguyen" and member.national_id == "001190012345"
        assert member.full_name == "Nguyễn Thị Lan" and member.office_id == office.id
        assert member.role is StaffRole.CLERK and member.status is StaffStatus.ACTIVE
        assert member.totp_confirmed_at is None and signin.secret_of(member) is None
        assert enrolment.matches(member, issued.enrolment_code)  # no TOTP key before it
        assert not enrolment.matches(member, PASSWORD)
        assert member.password_hash.startswith("$argon2id$")
        assert passwords.verify_password(member.password_hash, PASSWORD)
        [event] = events("staff.create")
        assert (event.staff_id, event.office_id, event.channel) == (member.id, office.id, "cli")
        assert event.data == {"role": "clerk"}


@pytest.mark.parametrize("field, value, error", [
    ("username", "ab", "staff.username"),
    ("username", "a" * 65, "staff.username"),
    ("username", "lan nguyen", "staff.username"),
    ("username", "lan@post", "staff.username"),
    ("username", "\u212aelvin", "staff.username"),  # Kelvin sign lower-cases to ASCII k
    ("username", "lân", "staff.username"),
    ("national_id", "00119001234", "national_id.format"),
    ("national_id", "123456789", "national_id.legacy_cmnd"),
    ("national_id", "003190012345", "national_id.unknown_prefix"),
    ("national_id", "001790012345", "national_id.century"),
    ("national_id", "001325012345", "staff.national_id_age"),  # born 2025
    ("national_id", "001005012345", "staff.national_id_age"),  # born 1905
    ("full_name", "", "name.empty"),
    ("full_name", "Lan 2", "name.characters"),
    ("office_code", "HCM-SG", "office.unknown"),
    ("office_code", "!!", "office.unknown"),
    ("role", "admin", "staff.role"),
])
def test_create_staff_refuses(app, field, value, error):
    with app.app_context():
        post_office()
        with pytest.raises(InvalidInput) as info:
            staff_service.create_staff(details(**{field: value}), PASSWORD)
        assert info.value.code == error
        assert count(StaffMember) == 0 and count(AuditEvent) == 0


@pytest.mark.parametrize("password, error", [
    ("short", "password.too_short"),
    ("password123", "password.common"),
    ("nguyen thi lan rocks", "password.name"),
    ("my id 001190012345", "password.personal"),
    ("postid counter staff", "password.service_name"),
])
def test_create_staff_checks_the_password(app, password, error):
    with app.app_context():
        post_office()
        with pytest.raises(InvalidInput) as info:
            staff_service.create_staff(details(), password)
        assert (info.value.code, info.value.field) == (error, "password")
        assert count(StaffMember) == 0


def test_age_check_uses_only_the_birth_year():
    today = datetime.date(2026, 1, 1)
    assert staff_service.check_staff_national_id("001208012345", today=today)  # born 2008: 18
    with pytest.raises(InvalidInput):
        staff_service.check_staff_national_id("001209012345", today=today)  # 2009: 17


def test_duplicates_among_staff(app):
    with app.app_context():
        post_office()
        staff_service.create_staff(details(), PASSWORD)
        with pytest.raises(Conflict) as info:
            staff_service.create_staff(details(national_id="001190099999"), PASSWORD)
        assert info.value.code == "staff.duplicate_username"
        with pytest.raises(Conflict) as info:
            staff_service.create_staff(details(username="other"), PASSWORD)
        assert info.value.code == "staff.duplicate_national_id"
        assert count(StaffMember) == 1


def test_disable_ends_every_session_at_once(app):
    with app.app_context():
        member = enrolled_clerk(post_office())
        for channel in ("web", "api", "web"):
            staff_sessions.open_staff_session(member, channel=channel, mfa_verified=True)
        db.session.commit()
        disabled = staff_service.disable_staff("CLERK-HN-BOHO")
        assert disabled.status is StaffStatus.DISABLED and disabled.disabled_at is not None
        assert db.session.scalar(select(func.count()).select_from(StaffSession)
                                 .where(StaffSession.ended_at.is_(None))) == 0
        [event] = events("staff.disable")
        assert event.data == {"sessions_ended": 3} and event.staff_id == member.id
        with pytest.raises(InvalidInput) as info:
            staff_service.disable_staff("clerk-hn-boho")
        assert info.value.code == "staff.already_disabled"
        with pytest.raises(IdpError) as info:
            staff_service.disable_staff("nobody-here")
        assert info.value.code == "staff.unknown"
        assert len(events("staff.disable")) == 1


def test_list_staff(app):
    with app.app_context():
        enrolled_clerk(post_office())
        other = post_office(code="HCM-SG", name="Bưu điện Sài Gòn", province_code="79")
        enrolled_clerk(other, username="an.tran", national_id="079090000011")
        assert [s.username for s in staff_service.list_staff()] == ["an.tran", "clerk-hn-boho"]
        assert [s.username for s in staff_service.list_staff("hcm-sg")] == ["an.tran"]
        with pytest.raises(InvalidInput):
            staff_service.list_staff("NOWHERE")


# --- sign-in and TOTP ----------------------------------------------------------------------

def code_at(steps: int = 0) -> str:
    return pyotp.TOTP(STAFF_TOTP_SECRET).at(time.time() + 30 * steps)


def test_totp_codes_are_single_use_and_stored_as_the_step(app):
    with app.app_context():
        member = enrolled_clerk(post_office())
        code = code_at()
        first = signin.sign_in_password("clerk-hn-boho", STAFF_PASSWORD)
        verified = signin.verify_code(first.session, code)
        assert verified.session.mfa_verified_at is not None
        assert db.session.get(StaffSession, first.session.id).ended_at is not None
        step = db.session.get(StaffMember, member.id).totp_last_used_step
        assert step is not None and abs(step - int(time.time() // 30)) <= 1
        second = signin.sign_in_password("clerk-hn-boho", STAFF_PASSWORD)
        with pytest.raises(Refusal) as refused:
            signin.verify_code(second.session, code)
        assert refused.value.code == "staff.mfa_code_used"
        with pytest.raises(Refusal) as refused:
            signin.api_sign_in("clerk-hn-boho", STAFF_PASSWORD, code)
        assert refused.value.code == "staff.login_failed"
        assert signin.api_sign_in("clerk-hn-boho", STAFF_PASSWORD, code_at(1)).session.channel == "api"


def test_a_verified_session_cannot_be_verified_again(app):
    with app.app_context():
        enrolled_clerk(post_office())
        pending = signin.sign_in_password("clerk-hn-boho", STAFF_PASSWORD).session
        signin.verify_code(pending, code_at())
        with pytest.raises(Refusal) as refused:  # the pending session has ended
            signin.verify_code(pending, code_at(1))
        assert refused.value.code == "staff.mfa_not_pending"


def test_password_rehash_on_sign_in(app, settings, make_app):
    from dataclasses import replace

    with app.app_context():
        enrolled_clerk(post_office())
    stronger = make_app(replace(settings, argon2_time_cost=2))
    with stronger.app_context():
        signin.sign_in_password("clerk-hn-boho", STAFF_PASSWORD)
        assert "t=2," in db.session.scalar(select(StaffMember.password_hash))

"""Post offices and counter staff, named after their states. Call inside an app context."""

from __future__ import annotations

from typing import Any

import pyotp

from idp.extensions import db
from idp.models import PostOffice, StaffMember, StaffRole, StaffStatus
from idp.models.base import utcnow
from idp.services.platform import crypto, passwords
from idp.services.staff import enrolment as staff_enrolment

STAFF_PASSWORD = "quầy giao dịch 2026"
# Fixed TOTP secret of enrolled staff in tests: pyotp.TOTP(STAFF_TOTP_SECRET).now() signs in.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# The set-up code a supervisor handed to a new staff member (typed before TOTP is set up).
STAFF_SETUP_CODE = "QUAYM-23456"


def post_office(code: str = "HN-BOHO", name: str = "Bưu điện Bờ Hồ", province_code: str = "01"
                ) -> PostOffice:
    office = PostOffice(code=code, name=name, province_code=province_code)
    db.session.add(office)
    db.session.commit()
    return office


def _staff(office: PostOffice, role: StaffRole, *, enrolled: bool, **overrides: Any) -> StaffMember:
    values: dict[str, Any] = {
        "username": f"{role.value}-{office.code.lower()}",
        "national_id": "001085000001" if role is StaffRole.CLERK else "001075000002",
        "full_name": "Lê Thị Quầy" if role is StaffRole.CLERK else "Phạm Văn Giám",
    }
    values.update(overrides)
    staff = StaffMember(office_id=office.id, role=role, status=StaffStatus.ACTIVE,
                        password_hash=passwords.hash_password(STAFF_PASSWORD), **values)
    db.session.add(staff)
    db.session.flush()
    if enrolled:
        staff.totp_secret_encrypted = crypto.seal(STAFF_TOTP_SECRET.encode(),
                                                  aad=f"staff-totp:{staff.id}".encode())
        staff.totp_confirmed_at = utcnow()
    else:
        staff_enrolment.issue(staff, STAFF_SETUP_CODE)
    db.session.commit()
    return staff


def enrolled_clerk(office: PostOffice, **overrides: Any) -> StaffMember:
    """A clerk who has set up TOTP (the usual state after the first sign-in)."""
    return _staff(office, StaffRole.CLERK, enrolled=True, **overrides)


def enrolled_supervisor(office: PostOffice, **overrides: Any) -> StaffMember:
    return _staff(office, StaffRole.SUPERVISOR, enrolled=True, **overrides)


def new_clerk(office: PostOffice, **overrides: Any) -> StaffMember:
    """Created by `idp staff create`, never signed in: TOTP enrolment still to do, with the
    set-up code STAFF_SETUP_CODE (handed over by the supervisor)."""
    return _staff(office, StaffRole.CLERK, enrolled=False, **overrides)


def current_totp() -> str:
    return pyotp.TOTP(STAFF_TOTP_SECRET).now()

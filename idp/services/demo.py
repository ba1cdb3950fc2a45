"""Demo data for `make run`: a partner portal, a citizen and a colleague of theirs (to try
business accounts: one registers a company, invites the other), and a post office with a clerk
and a supervisor, created once (idempotent).

The credentials are public on purpose (they are printed and in the README); `idp demo seed`
refuses to run in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyotp
from sqlalchemy import select

from idp.domain.document_check import DocumentCheck
from idp.domain.procedures import Procedure
from idp.extensions import db
from idp.models import (
    Account,
    ClaimsProfile,
    ClientAuthMethod,
    DocumentType,
    OAuthClient,
    StaffMember,
    TotpCredential,
)
from idp.services.counter import checks as counter_checks
from idp.services.counter import decisions
from idp.services.identity import enrolment, mfa
from idp.services.identity.accounts import CitizenDetails, add_citizen, validate_citizen
from idp.services.portals.clients import ClientRegistration, add_client
from idp.services.staff import admin as staff_service
from idp.services.staff import enrolment as staff_enrolment
from idp.services.staff import offices, signin
from idp.services.staff.admin import StaffDetails

DEMO_CITIZEN = CitizenDetails(
    national_id="001099012345",
    full_name="Nguyễn Văn An",
    birthdate=date(1999, 5, 17),
    gender="male",
    phone="0912345678",
    email="an@example.vn",
)
# A colleague to invite to the demo citizen's company (same demo password).
DEMO_COLLEAGUE = CitizenDetails(
    national_id="001301012346",
    full_name="Trần Thị Bình",
    birthdate=date(2001, 3, 8),
    gender="female",
    phone="0987654321",
    email="binh@example.vn",
)
DEMO_PASSWORD = "Hoa-sen-demo-2026"
DEMO_CLIENT_ID = "demo-portal"
DEMO_CLIENT_SECRET = "demo-portal-secret-not-for-production"
# The demo portal is served by this application under /demo-portal.
DEMO_REDIRECT_URI = "http://127.0.0.1:5000/demo-portal/callback"
DEMO_POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:5000/demo-portal/"
# The same on http://localhost:5000, where passkeys work (a WebAuthn RP ID cannot be an IP
# address): IDP_ISSUER=http://localhost:5000 (docs/architecture.md §7).
LOCALHOST = ("http://127.0.0.1:5000/", "http://localhost:5000/")
DEMO_PORTAL = ClientRegistration(
    name="Cổng dịch vụ công mẫu (demo portal)",
    redirect_uris=(DEMO_REDIRECT_URI, DEMO_REDIRECT_URI.replace(*LOCALHOST)),
    post_logout_redirect_uris=(DEMO_POST_LOGOUT_REDIRECT_URI,
                               DEMO_POST_LOGOUT_REDIRECT_URI.replace(*LOCALHOST)),
    scope="openid profile email phone address national_id organization offline_access",
    auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
    # Shows both sets of claim names: the standard ones and the national portal's.
    claims_profile=ClaimsProfile.DVCQG,
)
# A post-office agent may sign in to the demo portal for a citizen who gave a mandate for it.
DEMO_PROCEDURES = [Procedure.SOCIAL_INSURANCE.value]


@dataclass(frozen=True)
class DemoSeed:
    citizen_created: bool
    client_created: bool


def seed_demo() -> DemoSeed:
    """Create the demo citizens and demo portal if they do not exist yet. One transaction.
    A demo portal seeded by an earlier version gets today's scope, claims profile and
    delegation setting (it accepts delegated sign-in for DEMO_PROCEDURES)."""
    citizen_created = client_created = False
    for details in (DEMO_CITIZEN, DEMO_COLLEAGUE):
        if db.session.scalar(select(Account.id).where(
                Account.national_id == details.national_id)) is None:
            add_citizen(validate_citizen(details, DEMO_PASSWORD), DEMO_PASSWORD, channel="cli")
            citizen_created = True
    portal = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == DEMO_CLIENT_ID))
    if portal is None:
        # add_client is register_client without the commit: the same checks, this transaction.
        portal = add_client(DEMO_PORTAL, client_id=DEMO_CLIENT_ID,
                            client_secret=DEMO_CLIENT_SECRET).client
        client_created = True
    else:
        portal.scope = DEMO_PORTAL.scope
        portal.claims_profile = ClaimsProfile.DVCQG
    portal.accepts_delegation = True
    portal.procedures = list(DEMO_PROCEDURES)
    db.session.commit()
    return DemoSeed(citizen_created=citizen_created, client_created=client_created)


def current_totp_code(who: str) -> str | None:
    """The current TOTP code of a staff username or a citizen ID number (demo helper only)."""
    staff = staff_service.find_staff(who)
    secret = signin.secret_of(staff) if staff is not None else None
    if secret is None:
        credential = db.session.scalar(
            select(TotpCredential).join(Account, Account.id == TotpCredential.account_id)
            .where(Account.national_id == who)
        )
        if credential is None:
            return None
        secret = mfa.secret_of(credential)
    return pyotp.TOTP(secret).now()


DEMO_OFFICE = ("HN-HOANKIEM", "Bưu điện Hoàn Kiếm", "01")
DEMO_STAFF_PASSWORD = "Hoa-mai-quay-2026"
# The set-up code a supervisor would hand over in person (public here, like the password).
DEMO_SETUP_CODE = "QUAY-2026"
DEMO_CLERK = StaffDetails(username="giaodichvien", national_id="001088012345",
                          full_name="Trần Minh Đức", office_code=DEMO_OFFICE[0], role="clerk")
DEMO_SUPERVISOR = StaffDetails(username="kiemsoatvien", national_id="001180054321",
                               full_name="Phạm Thị Lan", office_code=DEMO_OFFICE[0],
                               role="supervisor")


def seed_demo_counter() -> bool:
    """A demo post office with a clerk and a supervisor (TOTP set up at first sign-in with
    DEMO_SETUP_CODE), and the demo colleague verified there. True if anything was created.
    Each creation is its own transaction (the services')."""
    created = False
    if offices.find_office(DEMO_OFFICE[0]) is None:
        offices.create_office(*DEMO_OFFICE)
        created = True
    for details in (DEMO_CLERK, DEMO_SUPERVISOR):
        member = staff_service.find_staff(details.username)
        if member is None:
            staff_service.create_staff(details, DEMO_STAFF_PASSWORD, enrolment_code=DEMO_SETUP_CODE)
            created = True
        elif _needs_setup_code(member):
            # Not set up yet and no live code (seeded earlier, or the code expired).
            staff_enrolment.issue(member, DEMO_SETUP_CODE)
            db.session.commit()
    return _verify_demo_colleague() or created


def _needs_setup_code(member: StaffMember) -> bool:
    if member.totp_confirmed_at is not None:
        return False
    record = staff_enrolment.record_of(member)
    return record is None or not record.is_live()


def _verify_demo_colleague() -> bool:
    """Members act for an organisation only with an identity verified at a counter: the demo
    colleague arrives verified, through the real workflow (code, the clerk's check, the
    supervisor's approval, all audited), so the walk-through needs one counter visit, not two."""
    colleague = db.session.scalar(select(Account).where(
        Account.national_id == DEMO_COLLEAGUE.national_id))
    clerk = staff_service.find_staff(DEMO_CLERK.username)
    supervisor = staff_service.find_staff(DEMO_SUPERVISOR.username)
    if colleague is None or colleague.identity_loa >= 2 or clerk is None or supervisor is None:
        return False
    verification = enrolment.request_code(colleague)
    card = DocumentCheck(document_type=DocumentType.CAN_CUOC.value,
                         document_number=colleague.national_id, issued_on=date(2024, 7, 15),
                         expires_on=date(2041, 3, 8), name_match=True, birthdate_match=True,
                         sex_match=True, photo_match=True)
    counter_checks.submit(clerk, verification.public_id, card, channel="cli")
    decisions.approve(supervisor, verification.public_id, channel="cli")
    return True

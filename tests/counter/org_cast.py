"""Organisation checks for the counter tests: an organisation whose representative is a second
citizen (Trần Thị Bích Ngọc, 079303001234), made by a factory of tests/organisation_factories,
and ways to read its rows back. `OrgCheck` holds ids only, so it outlives its app context."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask import Flask

from idp.domain.business_check import BusinessCheck
from idp.extensions import db
from idp.models import (
    Account,
    Organisation,
    OrganisationStatus,
    OrganisationVerification,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from tests.factories import active_citizen, second_citizen
from tests.organisation_factories import registered_organisation, submitted_organisation_check
from tests.verification_factories import good_check

REPRESENTATIVE_ID = "079303001234"
# The API body of a check with no problem for that representative.
CHECK = {"certificate_number": "0100233488", "certificate_issued_on": "2015-03-02",
         "certificate_match": True, "document_type": "can_cuoc", "document_number": REPRESENTATIVE_ID,
         "document_issued_on": "2024-07-15", "document_expires_on": "2043-02-01",
         "name_match": True, "birthdate_match": True, "sex_match": True, "photo_match": True,
         "authority": "legal_representative"}
POA = {"authority": "power_of_attorney", "power_of_attorney_ref": "15/2025/UQ",
       "power_of_attorney_date": "2025-01-10"}
# The console form of the same check.
CHECK_FORM = {"certificate_number": "0100 233 488", "certificate_issued_on": "02/03/2015",
              "certificate_match": "y", "document_type": "can_cuoc",
              "document_number": "0793 0300 1234", "issued_on": "15/07/2024",
              "expires_on": "01/02/2043", "name_match": "y", "birthdate_match": "y",
              "sex_match": "y", "photo_match": "y", "authority": "legal_representative",
              "power_of_attorney_ref": "", "power_of_attorney_date": ""}


@dataclass(frozen=True)
class OrgCheck:
    public_id: str
    code: str
    id: int
    organisation: int
    representative: int


def approved_organisation_check(organisation: Organisation, clerk: StaffMember,
                                supervisor: StaffMember) -> OrganisationVerification:
    """Approved by `supervisor`; the organisation is verified."""
    organisation.status, organisation.verified_at = OrganisationStatus.VERIFIED, utcnow()
    return submitted_organisation_check(organisation, clerk, status=VerificationStatus.APPROVED,
                                        live_organisation_id=None, decided_by=supervisor.id,
                                        decided_at=utcnow())


def clerk_as_citizen() -> Account:
    """The clerk of the cast (001085000001, a man born in 1985) with a citizen account."""
    return active_citizen(national_id="001085000001", birthdate=date(1985, 1, 1), gender="male",
                          phone="0912000001", email=None)


def good_business_check(account: Account, **overrides: Any) -> BusinessCheck:
    """A check with no problem for `account` as the legal representative."""
    values: dict[str, Any] = {
        "certificate_number": "0100233488", "certificate_issued_on": date(2015, 3, 2),
        "certificate_match": True, "document": good_check(account, address=None),
        "authority": "legal_representative"}
    values.update(overrides)
    return BusinessCheck(**values)


def with_card(check: BusinessCheck, **changes: Any) -> BusinessCheck:
    return replace(check, document=replace(check.document, **changes))


def make_org_check(app: Flask, factory, *staff_ids: int,  # type: ignore[no-untyped-def]
                   representative: int | None = None, organisation: dict[str, Any] | None = None,
                   **overrides: Any) -> OrgCheck:
    """An organisation registered by `representative` (else a second citizen) and a check made
    by `factory(organisation, *staff, **overrides)`, in its own application context."""
    with app.app_context():
        account = db.session.get(Account, representative) if representative else second_citizen()
        assert account is not None
        org = registered_organisation(account, **(organisation or {}))
        staff = [db.session.get(StaffMember, i) for i in staff_ids]
        v = factory(org, *staff, **overrides)
        return OrgCheck(v.public_id, v.code, v.id, org.id, account.id)


def org_snapshot(verification_id: int) -> dict[str, Any]:
    """Every column of the check and of its organisation, to show a refusal changed nothing."""
    db.session.expire_all()
    v = db.session.get(OrganisationVerification, verification_id)
    assert v is not None
    org = db.session.get(Organisation, v.organisation_id)
    return {**{c.key: getattr(v, c.key) for c in OrganisationVerification.__table__.columns},
            **{f"organisation.{c.key}": getattr(org, c.key) for c in Organisation.__table__.columns}}


def org_row(app: Flask, verification_id: int) -> dict[str, Any]:
    with app.app_context():
        return org_snapshot(verification_id)

"""Organisations, their counter checks and their members, named after their states and written
directly as rows (the services are tested on their own). Call inside an application context."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from idp.domain.enrolment_code import new_code
from idp.domain.tax_code import TaxCodeKind
from idp.extensions import db
from idp.models import (
    Account,
    DocumentType,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    OrganisationVerification,
    RepresentativeAuthority,
    RepresentativeTitle,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow

TAX_CODE = "0100233488"  # valid check digit (docs/architecture.md §13)
OTHER_TAX_CODE = "0314409058"
HEAD_OFFICE = {"street": "35 Ngô Quyền", "ward": "Phường Hoàn Kiếm", "province_code": "01"}


def registered_organisation(representative: Account, **overrides: Any) -> Organisation:
    """Registered online, not verified; its representative is an active member."""
    values: dict[str, Any] = {
        "public_id": secrets.token_urlsafe(16), "tax_code": TAX_CODE,
        "tax_code_kind": TaxCodeKind.ENTERPRISE, "name": "Công ty TNHH Sen Vàng",
        "head_office": dict(HEAD_OFFICE), "representative_account_id": representative.id,
        "representative_title": RepresentativeTitle.DIRECTOR,
        "status": OrganisationStatus.UNVERIFIED,
    }
    values.update(overrides)
    organisation = Organisation(**values)
    db.session.add(organisation)
    db.session.flush()
    db.session.add(OrganisationMember(
        public_id=secrets.token_urlsafe(16), organisation_id=organisation.id,
        national_id=representative.national_id, live_national_id=representative.national_id,
        account_id=representative.id, role=MemberRole.REPRESENTATIVE,
        status=MembershipStatus.ACTIVE, accepted_at=utcnow(), invited_by=representative.id))
    db.session.commit()
    return organisation


def verified_organisation(representative: Account, **overrides: Any) -> Organisation:
    return registered_organisation(representative, status=OrganisationStatus.VERIFIED,
                                   verified_at=utcnow(), **overrides)


def representative_membership(organisation: Organisation) -> OrganisationMember:
    return next(m for m in _memberships(organisation) if m.role is MemberRole.REPRESENTATIVE)


def _memberships(organisation: Organisation) -> list[OrganisationMember]:
    return list(db.session.scalars(db.select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id)))


def invited_member(organisation: Organisation, national_id: str, *,
                   role: MemberRole = MemberRole.MEMBER, **overrides: Any) -> OrganisationMember:
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": secrets.token_urlsafe(16), "organisation_id": organisation.id,
        "national_id": national_id, "live_national_id": national_id, "role": role,
        "status": MembershipStatus.INVITED, "invited_by": organisation.representative_account_id,
        "invited_at": now, "invitation_expires_at": now + timedelta(days=14),
    }
    values.update(overrides)
    membership = OrganisationMember(**values)
    db.session.add(membership)
    db.session.commit()
    return membership


def active_member(organisation: Organisation, account: Account, *,
                  role: MemberRole = MemberRole.MEMBER, **overrides: Any) -> OrganisationMember:
    values: dict[str, Any] = {"account_id": account.id, "status": MembershipStatus.ACTIVE,
                              "accepted_at": utcnow()}
    values.update(overrides)
    return invited_member(organisation, account.national_id, role=role, **values)


def suspended_member(organisation: Organisation, account: Account, **overrides: Any
                     ) -> OrganisationMember:
    return active_member(organisation, account, status=MembershipStatus.SUSPENDED, **overrides)


def lapsed_member(organisation: Organisation, account: Account) -> OrganisationMember:
    """Active, but its valid-until date has passed."""
    return active_member(organisation, account, valid_from=date(2020, 1, 1),
                         valid_until=date(2021, 12, 31))


def pending_organisation_check(organisation: Organisation, **overrides: Any
                               ) -> OrganisationVerification:
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": secrets.token_urlsafe(16), "organisation_id": organisation.id,
        "live_organisation_id": organisation.id, "code": new_code(),
        "status": VerificationStatus.PENDING, "requested_by": organisation.representative_account_id,
        "created_at": now, "expires_at": now + timedelta(days=30),
    }
    values.update(overrides)
    verification = OrganisationVerification(**values)
    db.session.add(verification)
    db.session.commit()
    return verification


def submitted_organisation_check(organisation: Organisation, clerk: StaffMember,
                                 **overrides: Any) -> OrganisationVerification:
    representative = db.session.get(Account, organisation.representative_account_id)
    assert representative is not None
    values: dict[str, Any] = {
        "status": VerificationStatus.SUBMITTED, "office_id": clerk.office_id,
        "clerk_id": clerk.id, "submitted_at": utcnow(), "certificate_number": organisation.tax_code,
        "certificate_issued_on": date(2015, 3, 2), "certificate_match": True,
        "document_type": DocumentType.CAN_CUOC, "document_number": representative.national_id,
        "document_issued_on": date(2024, 7, 15), "document_expires_on": date(2039, 5, 17),
        "person_match": True, "authority": RepresentativeAuthority.LEGAL_REPRESENTATIVE,
    }
    values.update(overrides)
    return pending_organisation_check(organisation, **values)

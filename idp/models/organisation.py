"""Organisations (businesses, dependent units, household businesses), their verification at a
post-office counter, and their members (docs/architecture.md §10).

An organisation is registered online by a citizen, its representative, and identified by its
tax code (one organisation per tax code). It can be acted for (signing in to a portal on its
behalf) only once a counter has verified it, and only by its active members. Statuses change
only in idp/services/organisation*.py, with conditional UPDATEs on the expected status.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.domain.tax_code import TaxCodeKind
from idp.models.account import Account
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum
from idp.models.verification import CounterCheck


class OrganisationStatus(enum.Enum):
    UNVERIFIED = "unverified"  # registered online; no approved counter check (yet)
    VERIFIED = "verified"  # a supervisor approved a counter check
    REVOKED = "revoked"  # the verification was withdrawn (fraud, error); can be verified again


class RepresentativeTitle(enum.Enum):
    """The registering person's position (chức danh), as the certificate or the power of
    attorney names it."""

    DIRECTOR = "director"  # Giám đốc
    GENERAL_DIRECTOR = "general_director"  # Tổng giám đốc
    CHAIR_BOARD = "chair_board"  # Chủ tịch Hội đồng quản trị
    CHAIR_MEMBERS = "chair_members"  # Chủ tịch Hội đồng thành viên
    OWNER = "owner"  # Chủ doanh nghiệp tư nhân
    UNIT_HEAD = "unit_head"  # Người đứng đầu đơn vị phụ thuộc (branch, representative office)
    HOUSEHOLD_HEAD = "household_head"  # Chủ hộ kinh doanh
    AUTHORISED = "authorised"  # Người được ủy quyền (holds a power of attorney)


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(22), unique=True)  # in URLs, never the row id
    # Canonical tax code (idp.domain.tax_code): 10 digits, 10 + "-" + 3, or the 12-digit
    # personal ID number of a household business. Unique: one organisation per tax code.
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    tax_code_kind: Mapped[TaxCodeKind] = mapped_column(str_enum(TaxCodeKind, "tax_code_kind"))
    name: Mapped[str] = mapped_column(String(200))  # NFC, as on the registration certificate
    # Head office, two-tier structure after 1 Jul 2025 (idp.domain.document_check.PostalAddress).
    head_office: Mapped[dict[str, Any]] = mapped_column(JSON)
    representative_account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    representative_title: Mapped[RepresentativeTitle] = mapped_column(
        str_enum(RepresentativeTitle, "representative_title")
    )
    status: Mapped[OrganisationStatus] = mapped_column(
        str_enum(OrganisationStatus, "organisation_status"), default=OrganisationStatus.UNVERIFIED
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    representative: Mapped[Account] = relationship()

    @property
    def is_verified(self) -> bool:
        return self.status is OrganisationStatus.VERIFIED


class RepresentativeAuthority(enum.Enum):
    """Why the person at the counter may register the organisation."""

    LEGAL_REPRESENTATIVE = "legal_representative"  # named on the registration certificate
    POWER_OF_ATTORNEY = "power_of_attorney"  # authorised in writing by the legal representative


class OrganisationVerification(CounterCheck, Base):
    """One counter check of an organisation: pending (the representative holds an enrolment
    code) -> submitted -> approved | rejected; also expired, cancelled, revoked. The statuses
    and the four-eyes rules are those of IdentityVerification."""

    __tablename__ = "organisation_verification"
    enum_prefix: ClassVar[str] = "org_"
    # idp.services.standing.verification_state.transition keeps this column equal to the owner's id
    # while the record is live (pending or submitted), NULL otherwise.
    live_key: ClassVar[tuple[str, str]] = ("live_organisation_id", "organisation_id")

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    live_organisation_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    requested_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="SET NULL")
    )

    # The rest of the clerk's check. The business registration certificate (Giấy chứng nhận
    # đăng ký doanh nghiệp / hộ kinh doanh / hoạt động chi nhánh): its number, issue date, and
    # whether the tax code, name and head office on it are those registered online.
    certificate_number: Mapped[str | None] = mapped_column(String(32))
    certificate_issued_on: Mapped[date | None] = mapped_column(Date)
    certificate_match: Mapped[bool | None] = mapped_column(Boolean)
    # The ID document (CounterCheck) is the representative's: the person at the counter is always
    # the representative who registered online; their card number must be their account's
    # personal ID number.
    person_match: Mapped[bool | None] = mapped_column(Boolean)  # name, birth date, sex, photo
    authority: Mapped[RepresentativeAuthority | None] = mapped_column(
        str_enum(RepresentativeAuthority, "representative_authority")
    )
    power_of_attorney_ref: Mapped[str | None] = mapped_column(String(64))
    power_of_attorney_date: Mapped[date | None] = mapped_column(Date)

    organisation: Mapped[Organisation] = relationship()


class MemberRole(enum.Enum):
    REPRESENTATIVE = "representative"  # the person who registered it; one per organisation
    ADMIN = "admin"  # manages members, like the representative, except the representative
    MEMBER = "member"  # acts for the organisation; manages nothing


class MembershipStatus(enum.Enum):
    INVITED = "invited"  # waiting for the invitee to accept from their own account
    ACTIVE = "active"
    SUSPENDED = "suspended"  # cannot act; can be reinstated
    REMOVED = "removed"  # ended for good (a new invitation makes a new row)
    DECLINED = "declined"  # the invitee said no
    CANCELLED = "cancelled"  # the invitation was withdrawn before it was accepted
    EXPIRED = "expired"  # the invitation was not accepted in time


LIVE_MEMBERSHIP = (MembershipStatus.INVITED, MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED)


class OrganisationMember(Base):
    """A person's membership of an organisation, from invitation to removal."""

    __tablename__ = "organisation_member"
    __table_args__ = (
        # At most one live membership (invited, active or suspended) per person and organisation.
        UniqueConstraint("organisation_id", "live_national_id",
                         name="uq_organisation_member_live"),
        Index("ix_organisation_member_national_id_status", "national_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(22), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    # The invited personal ID number (12 digits); the account is bound when they accept.
    national_id: Mapped[str] = mapped_column(String(12))
    live_national_id: Mapped[str | None] = mapped_column(String(12))
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, "member_role"))
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.INVITED
    )
    # Calendar dates in Vietnam, both inclusive; None: no limit on that side.
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    invited_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="SET NULL")
    )
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # removed/declined/cancelled
    changed_by: Mapped[int | None] = mapped_column(BigInteger)  # account id of the last change
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[Organisation] = relationship()
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])

    def is_current(self, today: date) -> bool:
        """Active and within its validity dates on `today` (a Vietnamese calendar date)."""
        return (self.status is MembershipStatus.ACTIVE
                and (self.valid_from is None or self.valid_from <= today)
                and (self.valid_until is None or today <= self.valid_until))

"""SQLAlchemy 2.0 typed models. Importing this package registers every table on the metadata."""

from idp.models.account import Account, AccountStatus
from idp.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent, AuditLeaf, AuditTag
from idp.models.base import Base
from idp.models.client import ClaimsProfile, ClientAuthMethod, OAuthClient, SubjectType
from idp.models.consent import Consent
from idp.models.credentials import PasswordCredential
from idp.models.logout import LogoutDelivery
from idp.models.mandate import (
    Guardianship,
    Mandate,
    MandateConfirmation,
    MandateEnder,
    MandateUse,
)
from idp.models.mfa import MfaChallenge, RecoveryCode, TotpCredential
from idp.models.notification import Channel, OutboxMessage
from idp.models.oauth import AuthorizationCode, OAuthToken
from idp.models.office import PostOffice
from idp.models.organisation import (
    LIVE_MEMBERSHIP,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    OrganisationVerification,
    RepresentativeAuthority,
    RepresentativeTitle,
)
from idp.models.passkey import CeremonyPurpose, Passkey, WebauthnChallenge
from idp.models.registration import OtpChallenge, OtpPurpose, PendingRegistration
from idp.models.session import UserSession
from idp.models.signing_key import KeyState, SigningKey
from idp.models.staff import StaffMember, StaffRole, StaffSession, StaffStatus
from idp.models.verification import (
    DocumentType,
    IdentityVerification,
    RejectReason,
    VerificationStatus,
)

__all__ = [
    "CeremonyPurpose",
    "Passkey",
    "WebauthnChallenge",
    "Guardianship",
    "Mandate",
    "MandateConfirmation",
    "MandateEnder",
    "MandateUse",
    "ClaimsProfile",
    "LIVE_MEMBERSHIP",
    "MemberRole",
    "MembershipStatus",
    "Organisation",
    "OrganisationMember",
    "OrganisationStatus",
    "OrganisationVerification",
    "RepresentativeAuthority",
    "RepresentativeTitle",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditLeaf",
    "DocumentType",
    "IdentityVerification",
    "PostOffice",
    "RejectReason",
    "StaffMember",
    "StaffRole",
    "StaffSession",
    "StaffStatus",
    "VerificationStatus",
    "Account",
    "AccountStatus",
    "AuthorizationCode",
    "Consent",
    "KeyState",
    "MfaChallenge",
    "OtpChallenge",
    "OtpPurpose",
    "PendingRegistration",
    "RecoveryCode",
    "TotpCredential",
    "LogoutDelivery",
    "OAuthToken",
    "SigningKey",
    "SubjectType",
    "AuditEvent",
    "AuditTag",
    "Base",
    "Channel",
    "ClientAuthMethod",
    "OAuthClient",
    "OutboxMessage",
    "PasswordCredential",
    "UserSession",
]

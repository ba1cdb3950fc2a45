"""Plain words for the organisation pages: statuses are shown with words, never codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp.domain.organisation_rules import mask_national_id
from idp.domain.tax_code import TaxCodeKind
from idp.models import MemberRole, MembershipStatus, OrganisationMember, RejectReason, RepresentativeTitle

TITLE_LABELS = {
    RepresentativeTitle.DIRECTOR: _l("Director"),
    RepresentativeTitle.GENERAL_DIRECTOR: _l("General director"),
    RepresentativeTitle.CHAIR_BOARD: _l("Chair of the board of directors"),
    RepresentativeTitle.CHAIR_MEMBERS: _l("Chair of the members' council"),
    RepresentativeTitle.OWNER: _l("Owner of a private enterprise"),
    RepresentativeTitle.UNIT_HEAD: _l("Head of a branch or representative office"),
    RepresentativeTitle.HOUSEHOLD_HEAD: _l("Head of a household business"),
    RepresentativeTitle.AUTHORISED: _l("Authorised person (with a power of attorney)"),
}

KIND_LABELS = {
    TaxCodeKind.ENTERPRISE: _l("Enterprise"),
    TaxCodeKind.DEPENDENT_UNIT: _l("Branch or representative office"),
    TaxCodeKind.HOUSEHOLD: _l("Household business"),
}

ROLE_LABELS = {
    MemberRole.REPRESENTATIVE: _l("Representative"),
    MemberRole.ADMIN: _l("Administrator"),
    MemberRole.MEMBER: _l("Member"),
}

MEMBERSHIP_LABELS = {
    MembershipStatus.INVITED: _l("Invited, not yet accepted"),
    MembershipStatus.ACTIVE: _l("Active"),
    MembershipStatus.SUSPENDED: _l("Suspended"),
    MembershipStatus.REMOVED: _l("Removed"),
    MembershipStatus.DECLINED: _l("Declined the invitation"),
    MembershipStatus.CANCELLED: _l("Invitation withdrawn"),
    MembershipStatus.EXPIRED: _l("Invitation expired"),
}

# organisation_access.access_problem codes: why a member cannot act for the organisation now.
ACCESS_PROBLEMS = {
    "organisation_unverified": _l("The organisation has not been verified at a post office yet."),
    "organisation_revoked": _l("The organisation's verification was withdrawn."),
    "suspended": _l("Your membership is suspended."),
    "not_yet_valid": _l("Your membership is not valid yet."),
    "no_longer_valid": _l("Your membership is no longer valid."),
    "account_inactive": _l("Your account is not active."),
    "identity_not_verified": _l("Your identity is not verified at a post office yet."),
}

# Said to the representative: what went wrong and what to bring next time.
REJECT_REASONS = {
    RejectReason.DOCUMENT_EXPIRED: _l("The ID card you brought had expired. Renew it first, then "
                                      "come back with the new card."),
    RejectReason.NUMBER_MISMATCH: _l("The number on the ID card you brought is not the personal "
                                     "ID number of your account."),
    RejectReason.DATA_MISMATCH: _l("The details on the registration certificate or on your ID "
                                   "card do not match what was registered online."),
    RejectReason.PHOTO_MISMATCH: _l("The photo on your ID card could not be matched to the person "
                                    "at the counter."),
    RejectReason.DOCUMENT_DAMAGED: _l("A document was damaged or could not be read."),
    RejectReason.SUSPECTED_FRAUD: _l("The documents could not be accepted."),
    RejectReason.OTHER: _l("The post office could not complete the check."),
}


def member_number(member: OrganisationMember) -> str:
    """The ID number of a membership nobody has accepted yet: in full while the invitation is
    open (the number the organisation typed: a typo must be visible to be withdrawn), masked
    once it is over (declined, withdrawn, expired)."""
    if member.status is MembershipStatus.INVITED:
        return member.national_id
    return mask_national_id(member.national_id)

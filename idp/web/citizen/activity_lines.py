"""The wording of the activity history: one plain line per shown event (vi/en via gettext).

Which events are shown is decided in idp.services.identity.activity; names (organisation, office,
portal) come from the entry, resolved when the page is shown."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from idp.models import AuditTag as T
from idp.services.identity.activity import Entry

ORGANISATION_VISIT = _l("The enrolment code of %(organisation)s was looked up at %(office)s")
PERSON_VISIT = _l("Your enrolment code was looked up at %(office)s")

LINES: dict[T, LazyString] = {
    T.ACCOUNT_CREATE: _l("Account created"),
    T.ACCOUNT_ACTIVATE: _l("Account activated"),
    T.ACCOUNT_DELETE: _l("Account deleted"),
    T.ACCOUNT_LOGIN_SUCCESS: _l("Signed in"),
    T.ACCOUNT_LOGIN_FAILURE: _l("Failed sign-in attempt"),
    T.ACCOUNT_LOGIN_THROTTLED: _l("Sign-in attempts paused after too many failures"),
    T.ACCOUNT_LOGOUT: _l("Signed out"),
    T.ACCOUNT_SESSION_REVOKE: _l("Another session signed out"),
    T.ACCOUNT_PASSWORD_CHANGE: _l("Password changed"),
    T.ACCOUNT_PASSWORD_RECOVER: _l("Password reset"),
    T.ACCOUNT_PHONE_CONFIRM: _l("Phone number confirmed"),
    T.ACCOUNT_EMAIL_CONFIRM: _l("E-mail address confirmed"),
    T.ACCOUNT_CONTACT_CHANGE: _l("Contact details changed"),
    T.ACCOUNT_MFA_ENROL: _l("Two-step verification turned on"),
    T.ACCOUNT_MFA_REMOVE: _l("Two-step verification turned off"),
    T.ACCOUNT_MFA_FAILURE: _l("Wrong two-step verification code"),
    T.ACCOUNT_MFA_SUCCESS: _l("Two-step verification passed"),
    T.ACCOUNT_RECOVERY_CODE_USE: _l("Recovery code used"),
    T.ACCOUNT_DATA_EXPORT: _l("Downloaded your data"),
    T.CONSENT_GRANT: _l("Allowed %(portal)s to receive your details"),
    T.CONSENT_REVOKE: _l("Withdrew the access of %(portal)s to your details"),
    T.OIDC_ORGANISATION_CHOSEN: _l("Signed in to %(portal)s on behalf of %(organisation)s"),
    T.OIDC_CODE_REPLAY: _l("Blocked a reused sign-in code for %(portal)s"),
    T.OIDC_REFRESH_REUSE: _l("Blocked a reused service token"),
    T.REGISTRATION_DUPLICATE: _l("Somebody tried to register again with your ID number or phone "
                                 "number; no new account was created"),
    T.VERIFICATION_REQUEST: _l("Asked for an enrolment code"),
    T.VERIFICATION_CANCEL: _l("Cancelled an enrolment code"),
    T.VERIFICATION_EXPIRE: _l("Enrolment code expired"),
    T.COUNTER_VERIFICATION_VIEW: PERSON_VISIT,
    T.COUNTER_VERIFICATION_SUBMIT: PERSON_VISIT,
    T.MANDATE_LOOKUP: PERSON_VISIT,
    T.COUNTER_VERIFICATION_APPROVE: _l("Identity verified at %(office)s"),
    T.COUNTER_VERIFICATION_REJECT: _l("Identity verification at %(office)s was not approved"),
    T.COUNTER_VERIFICATION_REVOKE: _l("Identity verification withdrawn by %(office)s"),
    T.ORGANISATION_REGISTER: _l("Registered %(organisation)s"),
    T.ORGANISATION_VERIFICATION_REQUEST: _l("Asked for an enrolment code for %(organisation)s"),
    T.ORGANISATION_VERIFICATION_CANCEL: _l("Cancelled the enrolment code for %(organisation)s"),
    T.ORGANISATION_VERIFICATION_EXPIRE: _l("The enrolment code for %(organisation)s expired"),
    T.COUNTER_ORGANISATION_VIEW: ORGANISATION_VISIT,
    T.COUNTER_ORGANISATION_SUBMIT: ORGANISATION_VISIT,
    T.COUNTER_ORGANISATION_APPROVE: _l("%(organisation)s was verified at %(office)s"),
    T.COUNTER_ORGANISATION_REJECT: _l("The check of %(organisation)s at %(office)s was not "
                                      "approved"),
    T.COUNTER_ORGANISATION_REVOKE: _l("The verification of %(organisation)s was withdrawn by "
                                      "%(office)s"),
    T.ORGANISATION_MEMBER_INVITE: _l("Invited a person to %(organisation)s"),
    T.ORGANISATION_MEMBER_ACCEPT: _l("Joined %(organisation)s"),
    T.ORGANISATION_MEMBER_DECLINE: _l("Declined an invitation from %(organisation)s"),
    T.ORGANISATION_MEMBER_CANCEL: _l("Withdrew an invitation to %(organisation)s"),
    T.ORGANISATION_MEMBER_SUSPEND: _l("Suspended a member of %(organisation)s"),
    T.ORGANISATION_MEMBER_REINSTATE: _l("Reinstated a member of %(organisation)s"),
    T.ORGANISATION_MEMBER_REMOVE: _l("Removed a member from %(organisation)s"),
    T.ORGANISATION_MEMBER_UPDATE: _l("Changed the role or dates of a member of %(organisation)s"),
    T.MANDATE_CREATE: _l("A mandate to %(office)s was made at the counter"),
    T.MANDATE_CONFIRM: _l("Approved a mandate to %(office)s"),
    T.MANDATE_REVOKE: _l("The mandate to %(office)s was ended"),
    T.MANDATE_USE: _l("%(office)s signed in to %(portal)s for you"),
    T.DELEGATED_ACCOUNT_CHANGE_REFUSED: _l("Somebody signed in for you tried to open your "
                                           "account pages and was refused"),
    T.GUARDIAN_LINK: _l("A second guardian was linked to your account at %(office)s"),
    T.GUARDIAN_SIGN_IN: _l("A guardian signed in for you to %(portal)s"),
    T.GUARDIAN_LINK_END: _l("A guardian's link to your account ended (14th birthday)"),
}
# The same tag, told apart by what its event records (keys of the event's data).
VARIANTS: dict[tuple[T, str, str], LazyString] = {
    (T.ACCOUNT_PASSWORD_RECOVER, "step", "start"): _l("Password reset requested"),
    (T.ACCOUNT_MFA_ENROL, "method", "passkey"): _l("Passkey added"),
    (T.ACCOUNT_MFA_REMOVE, "method", "passkey"): _l("Passkey removed"),
    (T.ACCOUNT_MFA_SUCCESS, "method", "passkey"): _l("Passkey used"),
    (T.ACCOUNT_MFA_FAILURE, "method", "passkey"): _l("A passkey could not be checked"),
    (T.ACCOUNT_LOGIN_SUCCESS, "method", "passkey"): _l("Signed in with a passkey"),
    (T.ACCOUNT_LOGIN_FAILURE, "method", "passkey"): _l("Failed sign-in attempt with a passkey"),
    (T.ACCOUNT_CONTACT_CHANGE, "phone", "requested"): _l("Phone number change requested"),
    (T.ACCOUNT_CONTACT_CHANGE, "phone", "confirmed"): _l("Phone number changed"),
    (T.ACCOUNT_CONTACT_CHANGE, "email", "requested"): _l("E-mail address change requested"),
    (T.ACCOUNT_CONTACT_CHANGE, "email", "confirmed"): _l("E-mail address changed"),
    (T.ACCOUNT_CONTACT_CHANGE, "email", "removed"): _l("E-mail address removed"),
    (T.ACCOUNT_CONTACT_CHANGE, "email", "cancelled"): _l("E-mail address change cancelled"),
    (T.ACCOUNT_EMAIL_CONFIRM, "step", "requested"): _l("Asked to confirm the e-mail address"),
}
CREATED_AT_OFFICE = _l("Account created at %(office)s")
STEP_UP_FOR_PORTAL = _l("Two-step verification passed for %(portal)s")
_BY_VALUE = {tag.value: tag for tag in LINES}


def _variant(tag: T, entry: Entry) -> LazyString | None:
    if tag is T.ACCOUNT_CREATE and entry.office:
        return CREATED_AT_OFFICE
    if tag is T.ACCOUNT_MFA_SUCCESS and entry.datum("client"):
        return STEP_UP_FOR_PORTAL
    if tag is T.ACCOUNT_CONTACT_CHANGE:
        return VARIANTS.get((tag, str(entry.datum("field")), str(entry.datum("step"))))
    if entry.datum("method") == "passkey":  # the second-factor tags, told apart by their method
        return VARIANTS.get((tag, "method", "passkey"))
    return VARIANTS.get((tag, "step", str(entry.datum("step"))))


def activity_line(entry: Entry) -> str:
    """The line for one entry, with the names it points to (or a neutral word if gone)."""
    tag = _BY_VALUE.get(entry.tag)
    if tag is None:  # stored by an older version: never the case for today's tags (tested)
        return str(_l("Other account event"))
    label = _variant(tag, entry) or LINES[tag]
    return str(label) % {
        "organisation": entry.organisation or str(_l("an organisation")),
        "office": entry.office or str(_l("a post office")),
        "portal": entry.portal or str(_l("a portal")),
    }

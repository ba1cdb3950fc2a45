"""Plain-language wording for the account pages (vi/en through gettext)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp.models import AuditTag

# Same wording as the consent page (templates/oidc/consent.html).
SCOPE_DESCRIPTIONS = {
    "openid": _l("An identifier for your account, and the level of assurance of this sign-in"),
    "profile": _l("Your full name, date of birth and sex"),
    "email": _l("Your e-mail address"),
    "phone": _l("Your phone number"),
    "address": _l("Your postal address"),
    "national_id": _l("Your personal ID number"),
    "organization": _l("The organisation you choose to act for: its tax code, its name and your "
                       "role in it"),
    "offline_access": _l("Keep you signed in to this service when you are away"),
}

EVENT_LABELS = {
    AuditTag.ACCOUNT_CREATE: _l("Account created"),
    AuditTag.ACCOUNT_LOGIN_SUCCESS: _l("Signed in"),
    AuditTag.ACCOUNT_LOGIN_FAILURE: _l("Failed sign-in attempt"),
    AuditTag.ACCOUNT_LOGIN_THROTTLED: _l("Sign-in attempts paused after too many failures"),
    AuditTag.ACCOUNT_LOGOUT: _l("Signed out"),
    AuditTag.ACCOUNT_PASSWORD_REHASH: _l("Password storage upgraded"),
    AuditTag.CONSENT_GRANT: _l("Allowed a service to receive your details"),
    AuditTag.OIDC_CODE_REPLAY: _l("Blocked a reused sign-in code"),
    AuditTag.OIDC_REFRESH_REUSE: _l("Blocked a reused service token"),
    AuditTag.ACCOUNT_PHONE_CONFIRM: _l("Phone number confirmed"),
    AuditTag.ACCOUNT_EMAIL_CONFIRM: _l("E-mail address confirmed"),
    AuditTag.ACCOUNT_CONTACT_CHANGE: _l("Contact details changed"),
    AuditTag.ACCOUNT_PASSWORD_CHANGE: _l("Password changed"),
    AuditTag.ACCOUNT_PASSWORD_RECOVER: _l("Password reset"),
    AuditTag.ACCOUNT_MFA_ENROL: _l("Two-step verification turned on"),
    AuditTag.ACCOUNT_MFA_REMOVE: _l("Two-step verification turned off"),
    AuditTag.ACCOUNT_MFA_SUCCESS: _l("Two-step verification passed"),
    AuditTag.ACCOUNT_MFA_FAILURE: _l("Wrong two-step verification code"),
    AuditTag.ACCOUNT_RECOVERY_CODE_USE: _l("Recovery code used"),
    AuditTag.ACCOUNT_SESSION_REVOKE: _l("Another session signed out"),
    AuditTag.CONSENT_REVOKE: _l("Withdrew a service's access to your details"),
    AuditTag.ACCOUNT_DATA_EXPORT: _l("Downloaded your data"),
    AuditTag.ACCOUNT_DELETE: _l("Account deleted"),
    AuditTag.ACCOUNT_ACTIVATE: _l("Account activated"),
    AuditTag.COUNTER_ASSISTED_REGISTRATION: _l("Registered at a post office"),
    AuditTag.VERIFICATION_REQUEST: _l("Asked for an enrolment code"),
    AuditTag.VERIFICATION_CANCEL: _l("Cancelled an enrolment code"),
    AuditTag.VERIFICATION_EXPIRE: _l("Enrolment code expired"),
    AuditTag.COUNTER_VERIFICATION_VIEW: _l("Enrolment code looked up at a post office"),
    AuditTag.COUNTER_VERIFICATION_SUBMIT: _l("ID card checked at a post office"),
    AuditTag.COUNTER_VERIFICATION_REJECT: _l("Identity verification rejected"),
    AuditTag.COUNTER_VERIFICATION_APPROVE: _l("Identity verified at a post office"),
    AuditTag.COUNTER_VERIFICATION_REVOKE: _l("Identity verification revoked"),
    AuditTag.ORGANISATION_REGISTER: _l("Registered an organisation"),
    AuditTag.ORGANISATION_REFUSED: _l("An organisation request was refused"),
    AuditTag.ORGANISATION_VERIFICATION_REQUEST: _l("Asked for an organisation enrolment code"),
    AuditTag.ORGANISATION_VERIFICATION_CANCEL: _l("Cancelled an organisation enrolment code"),
    AuditTag.ORGANISATION_MEMBER_INVITE: _l("Invited a member to an organisation"),
    AuditTag.ORGANISATION_MEMBER_ACCEPT: _l("Joined an organisation"),
    AuditTag.ORGANISATION_MEMBER_DECLINE: _l("Declined an invitation to an organisation"),
    AuditTag.ORGANISATION_MEMBER_CANCEL: _l("Withdrew an invitation to an organisation"),
    AuditTag.ORGANISATION_MEMBER_SUSPEND: _l("Suspended a member of an organisation"),
    AuditTag.ORGANISATION_MEMBER_REINSTATE: _l("Reinstated a member of an organisation"),
    AuditTag.ORGANISATION_MEMBER_REMOVE: _l("Removed a member from an organisation"),
    AuditTag.ORGANISATION_MEMBER_UPDATE: _l("Changed a member of an organisation"),
    AuditTag.OIDC_ORGANISATION_CHOSEN: _l("Signed in to a service on behalf of an organisation"),
}
_BY_VALUE = {tag.value: label for tag, label in EVENT_LABELS.items()}


def event_label(tag: str) -> str:
    label = _BY_VALUE.get(tag)
    return str(label) if label is not None else str(_l("Other account event"))


def short_user_agent(user_agent: str | None) -> str:
    """"Chrome on Android" style summary; the raw string is never needed on the page."""
    if not user_agent:
        return str(_l("Unknown device"))
    ua = user_agent
    browser = next((name for key, name in (("Edg/", "Edge"), ("OPR/", "Opera"),
                                           ("CocCoc", "Cốc Cốc"), ("Firefox/", "Firefox"),
                                           ("Chrome/", "Chrome"), ("Safari/", "Safari"))
                    if key in ua), None)
    system = next((name for key, name in (("Android", "Android"), ("iPhone", "iPhone"),
                                          ("iPad", "iPad"), ("Windows", "Windows"),
                                          ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if key in ua), None)
    if browser and system:
        return str(_l("%(browser)s on %(system)s", browser=browser, system=system))
    return browser or system or ua[:40]

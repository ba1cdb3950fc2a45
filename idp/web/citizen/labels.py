"""Plain-language wording for the account pages (vi/en through gettext)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from idp.domain.procedures import Procedure

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
    "offline_access": _l("Keep you signed in to this portal when you are away"),
}

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


# The kinds of procedure a mandate covers (idp.domain.procedures), in plain words.
PROCEDURE_LABELS = {
    Procedure.SOCIAL_INSURANCE: _l("Social insurance"),
    Procedure.LAND_HOUSING: _l("Land and housing"),
    Procedure.BUSINESS_REGISTRATION: _l("Business registration"),
    Procedure.JUSTICE_RECORDS: _l("Criminal record certificates"),
    Procedure.CIVIL_STATUS: _l("Civil status (birth, marriage, death)"),
    Procedure.HEALTH_INSURANCE: _l("Health insurance"),
    Procedure.ANY_DELEGATING_PORTAL: _l("Any portal that accepts sign-in by a post office"),
}

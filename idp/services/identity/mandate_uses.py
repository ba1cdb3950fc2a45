"""A delegated sign-in reaching a portal (docs/architecture.md §14): recorded, audited and, under a
mandate, told to the citizen, in the transaction that issues the authorization code (so a use
is on record exactly when a portal can get tokens from it).

Under a mandate: a MandateUse row, MANDATE_USE (who acted, from which office, at which portal)
and a notice to the citizen's phone and confirmed e-mail, in their language, with where to
revoke it. Under a guardianship: GUARDIAN_USE only (the child has no phone of their own).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_datetime, gettext

from idp.extensions import db
from idp.models import AuditTag, Guardianship, Mandate, MandateUse, OAuthClient, UserSession
from idp.models.base import utcnow
from idp.services.identity import sessions
from idp.services.identity.acting import USED_UP
from idp.services.platform import audit, notify
from idp.settings import current_settings

NOTICE_TEMPLATE = "mandate.use"
MANDATES_PATH = "/account/mandates"


def record_use_in_transaction(session: UserSession, client: OAuthClient) -> None:
    """Record that ``session`` (a delegated one) signs in to ``client`` now; the caller commits
    with the code. A person's own session records nothing.

    A delegated session is used up by its code (revoked, reason `delegated_used`; the tokens
    of the code live on): left in the counter's browser it would let whoever sits there next
    sign in as the citizen again, in the agent's name, with no staff sign-in. Another sign-in
    is another pick at /counter/act (or /login/for-child)."""
    if session.is_delegated:
        sessions.revoke(session, reason=USED_UP)
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        assert mandate is not None
        _record_mandate_use(mandate, session, client)
    elif session.guardianship_id is not None:
        audit.record(AuditTag.GUARDIAN_USE, account_id=session.account_id, session_id=session.id,
                     client=client.client_id, guardianship=_guardianship_public_id(session))


def _record_mandate_use(mandate: Mandate, session: UserSession, client: OAuthClient) -> None:
    assert session.acting_staff_id is not None
    now = utcnow()
    db.session.add(MandateUse(mandate_id=mandate.id, client_pk=client.id,
                              staff_id=session.acting_staff_id, session_id=session.id,
                              used_at=now))
    audit.record(AuditTag.MANDATE_USE, account_id=mandate.account_id, session_id=session.id,
                 staff_id=session.acting_staff_id, office_id=mandate.office_id,
                 client=client.client_id, mandate=mandate.public_id)
    _tell_citizen(mandate, client, now)


def _tell_citizen(mandate: Mandate, client: OAuthClient, when: datetime) -> None:
    account = mandate.account
    url = current_settings().issuer.rstrip("/") + MANDATES_PATH
    with force_locale(account.locale or "vi"):
        pattern = "HH:mm, dd/MM/yyyy" if (account.locale or "vi") == "vi" else "HH:mm, d MMMM yyyy"
        values = {"office": mandate.office.name, "portal": client.name,
                  "time": format_datetime(when, pattern), "url": url}
        sms = gettext("PostID: %(office)s signed in to %(portal)s for you at %(time)s under your "
                      "mandate. Not you? Revoke it at %(url)s", **values)
        subject = gettext("PostID: a post office signed in for you")
        body = gettext("Hello %(name)s,\n\n%(office)s signed in to %(portal)s for you at %(time)s "
                       "under the mandate you gave them.\n\nIf you did not ask for this, revoke "
                       "the mandate at once at %(url)s", name=account.full_name, **values)
    notify.tell_account(account, template=NOTICE_TEMPLATE, sms=sms, subject=subject, body=body,
                        data={"mandate": mandate.public_id, "client": client.client_id})


def _guardianship_public_id(session: UserSession) -> str | None:
    link = db.session.get(Guardianship, session.guardianship_id)
    return link.public_id if link is not None else None

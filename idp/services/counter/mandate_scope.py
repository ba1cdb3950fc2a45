"""What a mandate made at the counter may cover and for how long, as staff choose it and as
the citizen reads it (docs/architecture.md §14): the kinds of procedure in words, the portals
that accept delegated sign-in, the choice read into stored values, and the scope and duration
in words for the confirmation SMS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import select

from idp.domain.errors import N_, DomainError
from idp.domain.mandates import Duration, vietnam_date
from idp.domain.procedures import Procedure, parse_procedures
from idp.extensions import db
from idp.models import Mandate, OAuthClient

# How each kind of procedure reads, to staff and to the citizen (idp.domain.procedures).
PROCEDURE_LABELS = {
    Procedure.SOCIAL_INSURANCE: N_("Social insurance"),
    Procedure.LAND_HOUSING: N_("Land and housing"),
    Procedure.BUSINESS_REGISTRATION: N_("Business registration"),
    Procedure.JUSTICE_RECORDS: N_("Justice records"),
    Procedure.CIVIL_STATUS: N_("Civil status (birth, marriage, death)"),
    Procedure.HEALTH_INSURANCE: N_("Health insurance"),
    Procedure.ANY_DELEGATING_PORTAL: N_("Any portal that accepts delegation"),
}
MSG_SCOPE_REQUIRED = N_("Choose at least one kind of procedure or one portal.")
MSG_INVALID_SCOPE = N_("A kind of procedure or a portal chosen is not available for mandates. "
                       "Reload the page and choose again.")
# More would not be a choice from the form; a longer list is refused before any look-up.
MAX_CHOICES = 50


def delegating_portals() -> list[OAuthClient]:
    """The active portals that accept delegated sign-in, by name: what a mandate may name."""
    return list(db.session.scalars(
        select(OAuthClient).where(OAuthClient.accepts_delegation.is_(True),
                                  OAuthClient.disabled_at.is_(None))
        .order_by(OAuthClient.name, OAuthClient.id)))


def read_scope(kinds: Iterable[str], client_ids: Iterable[str]) -> tuple[list[str], list[str]]:
    """The chosen kinds (Procedure values) and portals (client ids of delegating portals),
    duplicates removed, order kept. Raises DomainError `mandate.scope_required` (nothing
    chosen) or `mandate.invalid_scope` (an unknown kind, or a portal that is unknown,
    disabled or does not accept delegation)."""
    kinds, client_ids = list(kinds), list(dict.fromkeys(client_ids))
    if len(kinds) > MAX_CHOICES or len(client_ids) > MAX_CHOICES:
        raise DomainError("mandate.invalid_scope", MSG_INVALID_SCOPE)
    if not all(isinstance(c, str) and c.isprintable() for c in [*kinds, *client_ids]):
        raise DomainError("mandate.invalid_scope", MSG_INVALID_SCOPE)  # a NUL never reaches SQL
    try:
        procedures = [p.value for p in parse_procedures(kinds)]
    except DomainError:
        raise DomainError("mandate.invalid_scope", MSG_INVALID_SCOPE) from None
    if not procedures and not client_ids:
        raise DomainError("mandate.scope_required", MSG_SCOPE_REQUIRED)
    if client_ids:
        known = set(db.session.scalars(select(OAuthClient.client_id).where(
            OAuthClient.client_id.in_(client_ids), OAuthClient.accepts_delegation.is_(True),
            OAuthClient.disabled_at.is_(None))))
        if known != set(client_ids):
            raise DomainError("mandate.invalid_scope", MSG_INVALID_SCOPE)
    return procedures, client_ids


def read_duration(months: object) -> Duration:
    """0: this visit only; 1-12 months. Raises DomainError `mandate.duration`."""
    if months == 0 and not isinstance(months, bool):
        return Duration.this_visit()
    return Duration.of_months(months)  # type: ignore[arg-type]  # checked there


def scope_words(mandate: Mandate) -> str:
    """The scope in the current language: kinds of procedure, then portals by name."""
    known = {p.value for p in Procedure}  # a kind retired from the list is not named
    labels = [gettext(PROCEDURE_LABELS[Procedure(k)]) for k in mandate.kinds if k in known]
    if mandate.client_ids:
        names = {client_id: name for client_id, name in db.session.execute(
            select(OAuthClient.client_id, OAuthClient.name).where(
                OAuthClient.client_id.in_(mandate.client_ids))).all()}
        labels += [names[c] for c in mandate.client_ids if c in names]
    return ", ".join(labels)


def last_day(mandate: Mandate) -> date:
    """The last Vietnamese calendar day on which the mandate grants (it ends at the local
    midnight after it): what people read as "valid until"."""
    return vietnam_date(mandate.expires_at - timedelta(microseconds=1))


def duration_words(months: int) -> str:
    """"this visit only (today)" or "N months", in the current language."""
    if months == 0:
        return str(gettext("this visit only (today)"))
    return str(ngettext("%(num)d month", "%(num)d months", months))


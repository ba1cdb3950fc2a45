"""A person's consent to a portal (docs/architecture.md §6, §12): whether it covers a request,
recording it when the person allows on the consent page, the portals they are connected to,
and withdrawing it.

A portal's latest consent row is the one in force; a withdrawn one keeps its row, marked
revoked_at, for the account's export and the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import AuditTag, AuthorizationCode, Consent, OAuthClient, OAuthToken, UserSession
from idp.models.base import utcnow
from idp.services.platform import audit
from idp.services.portals.subjects import SCOPE_CLAIMS
from idp.settings import current_settings


def has_consented(account_id: int, client_pk: int, scopes: list[str]) -> bool:
    """The portal's latest consent is not withdrawn and covers every scope in `scopes`."""
    latest = db.session.scalar(
        select(Consent)
        .where(Consent.account_id == account_id, Consent.client_pk == client_pk)
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
        .limit(1)
    )
    if latest is None or latest.revoked_at is not None:
        return False
    return set(scopes) <= set(latest.scope.split())


def grant_in_transaction(session: UserSession, client: OAuthClient, scopes: list[str], *,
                         locale: str | None) -> None:
    """Record the consent the person just gave on the consent page, shown in `locale`, in the
    caller's transaction: it commits with the authorization code, or neither is stored."""
    settings = current_settings()
    db.session.add(Consent(
        account_id=session.account_id, client_pk=client.id, scope=" ".join(scopes),
        text_version=settings.consent_text_version, locale=locale or settings.default_locale,
    ))
    audit.record(AuditTag.CONSENT_GRANT, account_id=session.account_id, session_id=session.id,
                 client=client.client_id, scope=" ".join(scopes))


@dataclass(frozen=True)
class ConnectedPortal:
    consent: Consent
    client: OAuthClient

    @property
    def scopes(self) -> list[str]:
        return self.consent.scope.split()

    @property
    def claims(self) -> list[str]:
        """Claim names the granted scopes release (besides `sub` and the level of assurance)."""
        return [c for s in self.scopes for c in SCOPE_CLAIMS.get(s, ())]


def connected_portals(account_id: int) -> list[ConnectedPortal]:
    """For each portal, its latest consent, if that consent is not withdrawn; newest first."""
    latest = (
        select(func.max(Consent.id))
        .where(Consent.account_id == account_id)
        .group_by(Consent.client_pk)
        .scalar_subquery()
    )
    rows = db.session.scalars(
        select(Consent)
        .where(Consent.id.in_(latest), Consent.revoked_at.is_(None))
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
    ).all()
    return [ConnectedPortal(consent=row, client=row.client) for row in rows]


def revoke(account_id: int, consent_id: int, *, session_id: int | None) -> bool:
    """Withdraw the consent and revoke every token the portal holds for this account.

    False when the consent is not this account's live, latest consent (nothing changes)."""
    portal = next((p for p in connected_portals(account_id) if p.consent.id == consent_id), None)
    if portal is None:
        return False
    now = utcnow()
    portal.consent.revoked_at = now
    client_tokens = (OAuthToken.account_id == account_id) & (
        OAuthToken.client_pk == portal.client.id
    )
    families = select(OAuthToken.family_id).where(client_tokens)
    db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id.in_(families.scalar_subquery()), OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason="consent_revoked")
        .execution_options(synchronize_session=False)
    )
    # A code issued but not yet redeemed must not turn into tokens afterwards.
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account_id,
               AuthorizationCode.client_pk == portal.client.id,
               AuthorizationCode.redeemed_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(AuditTag.CONSENT_REVOKE, account_id=account_id, session_id=session_id,
                 consent_id=consent_id, client_id=portal.client.client_id)
    db.session.commit()
    return True


def history(account_id: int) -> list[Consent]:
    """Every consent the person gave, withdrawn ones included, oldest first (the data export)."""
    return list(db.session.scalars(
        select(Consent).where(Consent.account_id == account_id).order_by(Consent.id)))


def withdraw_all_in_transaction(account_id: int, *, now: datetime) -> None:
    """Withdraw every live consent of the account (its deletion), in the caller's transaction;
    the caller revokes the tokens and codes with it."""
    db.session.execute(
        update(Consent)
        .where(Consent.account_id == account_id, Consent.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )

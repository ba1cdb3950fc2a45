"""Issued tokens: opaque 256-bit random values, stored only as SHA-256 (docs/architecture.md §5).

Functions here add to the caller's transaction unless their docstring says otherwise.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from idp.extensions import db, rowcount
from idp.models import AuthorizationCode, OAuthToken, OrganisationMember
from idp.models.base import utcnow
from idp.services.platform.secrets import token_hash
from idp.services.standing import organisation_access

MAX_TOKEN_LENGTH = 512


# Built once: every caller reads the account and the client with the token, in one query
# (hot path: every userinfo, introspection and refresh). Built per call, the statement and its
# loader options cost more than the compiled-statement cache saves (bench/README.md, issue 14).
_WITH_OWNER = select(OAuthToken).options(joinedload(OAuthToken.account), joinedload(OAuthToken.client))
# An access token also brings its session (one join, no statement of its own): userinfo tells
# a delegated sign-in's tokens by it (`act`, docs/architecture.md §14).
BY_ACCESS_HASH = (_WITH_OWNER.options(joinedload(OAuthToken.session))
                  .where(OAuthToken.access_token_hash == bindparam("token_hash")))
BY_REFRESH_HASH = _WITH_OWNER.where(OAuthToken.refresh_token_hash == bindparam("token_hash"))


def find_by_access_token(value: str | None) -> OAuthToken | None:
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(BY_ACCESS_HASH, {"token_hash": token_hash(value)})


def find_by_refresh_token(value: str | None) -> OAuthToken | None:
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(BY_REFRESH_HASH, {"token_hash": token_hash(value)})


def acts_legitimately(organisation_member_id: int | None, account_id: int) -> bool:
    """A code or token issued on behalf of an organisation is good only while its membership
    is current (active, within its dates, organisation verified): checked at every use, so a
    suspension, removal or withdrawn verification takes effect at once. Personal ones: True."""
    if organisation_member_id is None:
        return True
    return organisation_access.current_membership(organisation_member_id, account_id) is not None


def is_access_active(row: OAuthToken, now: datetime | None = None) -> bool:
    """Not revoked, not expired, its client enabled and, for a person's token, the person's
    account active and the membership acted through current. A client's own token
    (client_credentials, no account) depends on its client alone."""
    if row.revoked_at is not None or (now or utcnow()) >= row.access_expires_at:
        return False
    if not row.client.is_active:
        return False
    account = row.account
    return account is None or (account.may_be_signed_in_for
                               and acts_legitimately(row.organisation_member_id, account.id))


def is_refresh_active(row: OAuthToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    account = row.account  # None: a client's own token, which never has a refresh token
    return (
        row.refresh_token_hash is not None
        and row.revoked_at is None
        and row.refresh_rotated_at is None
        and row.refresh_expires_at is not None
        and now < row.refresh_expires_at
        and account is not None
        and account.may_be_signed_in_for
        and row.client.is_active
        and acts_legitimately(row.organisation_member_id, account.id)
    )


def _revoke_where(condition: ColumnElement[bool], reason: str) -> int:
    result = db.session.execute(
        update(OAuthToken)
        .where(condition, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def revoke_family(family_id: str, *, reason: str) -> int:
    """Every generation of a refresh-token family (RFC 9700 §4.14.2 reuse detection)."""
    return _revoke_where(OAuthToken.family_id == family_id, reason)


def revoke_from_code(code_id: int, *, reason: str) -> int:
    """Every token issued from one authorization code, and their refresh families
    (RFC 6749 §4.1.2: a replayed code SHOULD revoke what it produced)."""
    families = select(OAuthToken.family_id).where(OAuthToken.authorization_code_id == code_id)
    return _revoke_where(OAuthToken.family_id.in_(families.scalar_subquery()), reason)


def revoke_for_session(session_id: int, *, reason: str) -> int:
    families = select(OAuthToken.family_id).where(OAuthToken.session_id == session_id)
    return _revoke_where(OAuthToken.family_id.in_(families.scalar_subquery()), reason)


def revoke_for_account(account_id: int, *, reason: str) -> int:
    """Every token of the account, and every code not yet redeemed (a code issued before a
    password reset or a verification revocation must not turn into tokens afterwards).
    Caller commits."""
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account_id, AuthorizationCode.redeemed_at.is_(None),
               AuthorizationCode.expires_at > utcnow())
        .values(expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _revoke_where(OAuthToken.account_id == account_id, reason)


def revoke_on_behalf(membership_ids: Select[int] | list[int], *, reason: str) -> int:
    """Every code and token issued on behalf of an organisation through these memberships
    (a member suspended or removed, an organisation's verification withdrawn): they must not
    come back to life if the membership or the verification is restored later. Caller commits."""
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.organisation_member_id.in_(membership_ids),
               AuthorizationCode.redeemed_at.is_(None), AuthorizationCode.expires_at > utcnow())
        .values(expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _revoke_where(OAuthToken.organisation_member_id.in_(membership_ids), reason)


def revoke_for_organisation(organisation_id: int, *, reason: str) -> int:
    """revoke_on_behalf for every membership of one organisation. Caller commits."""
    members = select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation_id)
    return revoke_on_behalf(members, reason=reason)


def revoke_client_tokens_outside(client_pk: int, scopes: list[str], *, reason: str) -> int:
    """Every unexpired token a client holds for itself (client_credentials, no account) whose
    scope is not within `scopes`: its service scope was narrowed or cleared. Caller commits."""
    allowed = set(scopes)
    outstanding = db.session.execute(
        select(OAuthToken.id, OAuthToken.scope).where(
            OAuthToken.client_pk == client_pk, OAuthToken.account_id.is_(None),
            OAuthToken.revoked_at.is_(None), OAuthToken.access_expires_at > utcnow()))
    ids = [token_id for token_id, scope in outstanding if not set(scope.split()) <= allowed]
    return _revoke_where(OAuthToken.id.in_(ids), reason) if ids else 0


def revoke_refresh_token(row: OAuthToken, *, reason: str) -> None:
    """RFC 7009 §2.1: revoking a refresh token also revokes the access tokens of its grant."""
    revoke_family(row.family_id, reason=reason)


def revoke_access_token(row: OAuthToken) -> None:
    """Only the access token ends (it is expired now); its refresh token, if any, stays."""
    now = utcnow()
    if row.access_expires_at > now:
        row.access_expires_at = now

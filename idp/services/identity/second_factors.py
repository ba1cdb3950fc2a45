"""Which second factors an account has (docs/architecture.md §7): TOTP (identity.mfa) and passkeys
(identity.passkeys). One place, read by the password sign-in (a second step or not), the
authorization checks (a step-up possible or not) and the security page."""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from idp.extensions import db
from idp.models.mfa import TotpCredential
from idp.models.passkey import Passkey


def has_passkey(account_id: int) -> bool:
    return db.session.scalar(select(Passkey.id).where(Passkey.account_id == account_id)
                             .limit(1)) is not None


def has_second_factor(account_id: int) -> bool:
    """TOTP (confirmed) or a passkey: a sign-in with the password asks for a second step. One
    statement: every password sign-in asks (tests/ops/test_sign_in_statements.py)."""
    totp = select(TotpCredential.id).where(TotpCredential.account_id == account_id,
                                           TotpCredential.confirmed_at.is_not(None))
    passkey = select(Passkey.id).where(Passkey.account_id == account_id)
    return bool(db.session.scalar(select(or_(exists(totp), exists(passkey)))))

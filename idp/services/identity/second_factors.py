"""Which second factors an account has (docs/architecture.md §7): TOTP (identity.mfa) and passkeys
(identity.passkeys). One place, read by the password sign-in (a second step or not), the
authorization checks (a step-up possible or not) and the security page."""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models.passkey import Passkey
from idp.services.identity import mfa


def has_passkey(account_id: int) -> bool:
    return db.session.scalar(select(Passkey.id).where(Passkey.account_id == account_id)
                             .limit(1)) is not None


def has_second_factor(account_id: int) -> bool:
    """TOTP or a passkey: a sign-in with the password asks for a second step."""
    return mfa.is_enrolled(account_id) or has_passkey(account_id)

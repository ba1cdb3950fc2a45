"""Who a portal is told a person is, and which of their details each scope releases.

OIDC Core §8.1 gives the subject types; docs/architecture.md §5 the scope -> claims table. Protocol-free:
the claim values themselves are built in idp.oidc.claims.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from idp.models import Account, OAuthClient, SubjectType
from idp.settings import current_settings

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "family_name", "given_name", "middle_name", "birthdate", "gender",
                "locale", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address", "address_verified"),
    "national_id": ("national_id",),
}


def subject_for(account: Account, client: OAuthClient) -> str:
    """Public: the account's opaque `sub`. Pairwise: HMAC over the client's sector, so two
    sectors cannot correlate a person and nobody can reverse it without the salt."""
    return subject_of_value(account.sub, client)


def subject_of_value(value: str, client: OAuthClient) -> str:
    """A stable public identifier (an account's `sub`, a staff member's `actor_id`) as
    ``client`` sees it: as it is for a public client, through the client's sector for a
    pairwise one (the same HMAC as a citizen's `sub`; the two kinds of value never collide,
    being random 256-bit strings)."""
    if client.subject_type is not SubjectType.PAIRWISE:
        return value
    salt = current_settings().pairwise_salt.encode()
    digest = hmac.new(salt, f"{client.sector_identifier}|{value}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

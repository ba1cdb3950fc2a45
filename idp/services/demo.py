"""Demo data for `make run`: one partner portal and one citizen, created once (idempotent).

The credentials are public on purpose (they are printed and in the README); `idp demo seed`
refuses to run in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, ClientAuthMethod, OAuthClient
from idp.services.accounts import CitizenDetails, add_citizen, validate_citizen

DEMO_CITIZEN = CitizenDetails(
    national_id="001099012345",
    full_name="Nguyễn Văn An",
    birthdate=date(1999, 5, 17),
    gender="male",
    phone="0912345678",
    email="an@example.vn",
)
DEMO_PASSWORD = "PostID-demo-2026"
DEMO_CLIENT_ID = "demo-portal"
DEMO_CLIENT_SECRET = "demo-portal-secret-not-for-production"
DEMO_REDIRECT_URI = "http://127.0.0.1:5001/callback"


@dataclass(frozen=True)
class DemoSeed:
    citizen_created: bool
    client_created: bool


def seed_demo() -> DemoSeed:
    """Create the demo citizen and demo portal if they do not exist yet. One transaction."""
    citizen_created = client_created = False
    demo_id = DEMO_CITIZEN.national_id
    if db.session.scalar(select(Account.id).where(Account.national_id == demo_id)) is None:
        add_citizen(validate_citizen(DEMO_CITIZEN, DEMO_PASSWORD), DEMO_PASSWORD, channel="cli")
        citizen_created = True
    if db.session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == DEMO_CLIENT_ID)) is None:
        db.session.add(
            OAuthClient(
                client_id=DEMO_CLIENT_ID,
                client_secret_hash=hashlib.sha256(DEMO_CLIENT_SECRET.encode()).hexdigest(),
                name="Cổng dịch vụ công mẫu (demo portal)",
                redirect_uris=[DEMO_REDIRECT_URI],
                post_logout_redirect_uris=["http://127.0.0.1:5001/"],
                scope="openid profile email phone",
                grant_types=["authorization_code", "refresh_token"],
                token_endpoint_auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC,
            )
        )
        client_created = True
    db.session.commit()
    return DemoSeed(citizen_created=citizen_created, client_created=client_created)

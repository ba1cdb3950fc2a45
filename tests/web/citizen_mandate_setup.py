"""A citizen's mandate and a delegated session, for the citizen's pages and their wall
(tests/web/test_citizen_mandates.py, tests/web/test_delegated_forbidden.py). Rows are written
directly: the counter's creation flow is tested on its own (tests/counter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from idp.domain import mandates as rules
from idp.extensions import db
from idp.models import (
    Account,
    Mandate,
    MandateConfirmation,
    MandateUse,
    OAuthClient,
    OAuthToken,
    StaffMember,
)
from idp.models.base import utcnow
from idp.models.verification import DocumentType
from idp.services.identity import acting
from idp.services.platform import secrets
from tests.factories import active_citizen
from tests.oidc.flow import registered_portal
from tests.staff_factories import enrolled_clerk, post_office

OFFICE_NAME = "Bưu điện Bờ Hồ"
PORTAL_NAME = "Cổng dịch vụ công thử"


@dataclass
class Scene:
    account_id: int
    mandate_public_id: str
    mandate_id: int
    client_pk: int
    client_id: str
    staff_id: int


def verified_citizen() -> Account:
    account = active_citizen()
    account.identity_loa = 2
    db.session.commit()
    return account


def mandate_row(account: Account, office_id: int, staff_id: int, *, confirmed: bool = True,
                months: int = 3, made_at: datetime | None = None,
                client_ids: list[str] | None = None) -> Mandate:
    made_at = made_at or utcnow()
    # A passport: migration 0012's CHECK on document_type names ID-card values the model lacks.
    mandate = Mandate(
        public_id=secrets.new_public_id(), account_id=account.id, office_id=office_id,
        created_by_id=staff_id, kinds=["social_insurance", "land_housing"],
        client_ids=client_ids or [], months=months, loa=2,
        document_type=DocumentType.PASSPORT, document_number=account.national_id,
        document_issued_on=(made_at - timedelta(days=400)).date(), document_expires_on=None,
        created_at=made_at, expires_at=rules.expires_at(rules.Duration(months), made_at),
        confirmed_at=made_at if confirmed else None,
        confirmed_by=MandateConfirmation.SMS_CODE if confirmed else None)
    db.session.add(mandate)
    db.session.commit()
    return mandate


def scene(app: Flask, *, confirmed: bool = True, months: int = 3,
          made_at: datetime | None = None) -> Scene:
    """A verified citizen with a mandate to the Bờ Hồ office, whose portal accepts delegation."""
    portal = registered_portal(app)
    with app.app_context():
        client = db.session.scalars(db.select(OAuthClient).filter_by(client_id=portal.client_id)).one()
        client.accepts_delegation = True
        client.procedures = ["social_insurance"]
        account = verified_citizen()
        office = post_office()
        clerk = enrolled_clerk(office)
        mandate = mandate_row(account, office.id, clerk.id, confirmed=confirmed, months=months,
                              made_at=made_at, client_ids=[portal.client_id])
        return Scene(account.id, mandate.public_id, mandate.id, client.id, client.client_id, clerk.id)


def delegated_session(app: Flask, s: Scene) -> tuple[int, str]:
    """The citizen's session an agent opened under the mandate: (session id, cookie token)."""
    with app.app_context():
        mandate = db.session.get(Mandate, s.mandate_id)
        staff = db.session.get(StaffMember, s.staff_id)
        client = db.session.get(OAuthClient, s.client_pk)
        assert mandate and staff and client
        new = acting.open_mandate_session_in_transaction(mandate, staff=staff, client=client,
                                                         amr="pwd otp mfa", user_agent="counter")
        db.session.commit()
        return new.session.id, new.token


def use_cookie(app: Flask, client: FlaskClient, token: str) -> None:
    """Put a session token in the browser's cookie, as a sign-in does."""
    client.set_cookie(app.config["IDP_SESSION_COOKIE"], token)


def access_token(app: Flask, s: Scene, session_id: int) -> str:
    """An access token issued to the portal in that session, as the token endpoint stores it."""
    value = secrets.new_token()
    with app.app_context():
        db.session.add(OAuthToken(
            client_pk=s.client_pk, account_id=s.account_id, session_id=session_id,
            family_id=secrets.new_token()[:43], access_token_hash=secrets.token_hash(value),
            access_expires_at=utcnow() + timedelta(minutes=10), scope="openid profile",
            auth_time=utcnow(), acr="urn:vn:postid:loa:2", amr="pwd otp mfa"))
        db.session.commit()
    return value


def record_use(app: Flask, s: Scene, session_id: int | None = None) -> None:
    with app.app_context():
        db.session.add(MandateUse(mandate_id=s.mandate_id, client_pk=s.client_pk,
                                  staff_id=s.staff_id, session_id=session_id))
        db.session.commit()

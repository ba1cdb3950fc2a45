"""Delegated sign-ins for the OIDC tests: a post office, its agent, a verified citizen with a
confirmed mandate, a portal that accepts delegation, and the delegated session's cookie set in
the browser as if the agent had picked the mandate at the counter
(identity.acting.open_mandate_session_in_transaction; the counter pages are tested apart)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.domain.mandates import vietnam_date
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    Guardianship,
    Mandate,
    MandateConfirmation,
    OAuthClient,
    PostOffice,
    StaffMember,
    SubjectType,
)
from idp.models.base import utcnow
from idp.models.verification import DocumentType
from idp.services.identity import acting
from tests.factories import active_citizen, second_citizen
from tests.oidc.flow import Portal, registered_portal
from tests.staff_factories import enrolled_clerk, post_office

STAFF_AMR = "pwd otp mfa"  # a counter agent's session: password and TOTP


@dataclass
class Setting:
    """What a delegated sign-in needs, by primary key (rows are re-read in each context)."""

    office_id: int
    staff_id: int
    citizen_id: int
    mandate_id: int
    portal: Portal


def delegating_portal(app: Flask, *, accepts: bool = True, procedures: tuple[str, ...] = ("social_insurance",),
                      **kwargs: Any) -> Portal:
    """A portal registered as `idp clients create --accepts-delegation --procedure ...` does."""
    return registered_portal(app, accepts_delegation=accepts, procedures=procedures, **kwargs)


def client_row(portal: Portal) -> OAuthClient:
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == portal.client_id))
    assert row is not None
    return row


def verified_citizen(**overrides: Any) -> Account:
    account = active_citizen(**overrides)
    account.identity_loa = 2
    account.email_verified_at = utcnow()
    db.session.commit()
    return account


def confirmed_mandate(account: Account, office: PostOffice, staff: StaffMember, *, loa: int = 2,
                      kinds: tuple[str, ...] = ("social_insurance",), client_ids: tuple[str, ...] = (),
                      months: int = 3, **overrides: Any) -> Mandate:
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": secrets.token_urlsafe(16), "account_id": account.id, "office_id": office.id,
        "created_by_id": staff.id, "kinds": list(kinds), "client_ids": list(client_ids),
        "months": months, "loa": loa, "document_type": DocumentType.PASSPORT,  # see the report: 0012 lists other values
        "document_number": account.national_id, "document_issued_on": date(2022, 1, 10),
        "created_at": now - timedelta(minutes=5), "expires_at": now + timedelta(days=90),
        "confirmed_at": now - timedelta(minutes=4), "confirmed_by": MandateConfirmation.SMS_CODE,
    }
    values.update(overrides)
    mandate = Mandate(**values)
    db.session.add(mandate)
    db.session.commit()
    return mandate


def mandate_setting(app: Flask, *, portal: Portal | None = None, loa: int = 2,
                    agent_national_id: str = "001085000001", **mandate: Any) -> Setting:
    portal = portal or delegating_portal(app)
    with app.app_context():
        office = post_office()
        staff = enrolled_clerk(office, national_id=agent_national_id)
        citizen = verified_citizen()
        row = confirmed_mandate(citizen, office, staff, loa=loa, **mandate)
        return Setting(office.id, staff.id, citizen.id, row.id, portal)


def open_mandate_session(app: Flask, browser: FlaskClient, setting: Setting, *,
                         portal: Portal | None = None, staff_id: int | None = None) -> None:
    """The citizen's session opened by the agent for ``portal`` (default: the setting's), its
    cookie set in ``browser``."""
    with app.app_context():
        mandate = db.session.get(Mandate, setting.mandate_id)
        staff = db.session.get(StaffMember, staff_id or setting.staff_id)
        client = client_row(portal or setting.portal)
        assert mandate is not None and staff is not None
        new = acting.open_mandate_session_in_transaction(mandate, staff=staff, client=client,
                                                         amr=STAFF_AMR)
        db.session.commit()
        browser.set_cookie(app.config["IDP_SESSION_COOKIE"], new.token)


def open_guardian_session(app: Flask, browser: FlaskClient, portal: Portal, *,
                          child_age_years: int = 8) -> tuple[int, int]:
    """A verified guardian's session for their child (a MINOR account, ``child_age_years``
    old today) at ``portal``; returns (child id, guardian id)."""
    with app.app_context():
        office = post_office()
        staff = enrolled_clerk(office)
        guardian = verified_citizen()
        child = second_citizen()
        today = vietnam_date(utcnow())
        child.birthdate = today.replace(year=today.year - child_age_years)
        child.status = AccountStatus.MINOR
        child.phone = None
        child.identity_loa = 2
        link = Guardianship(public_id=secrets.token_urlsafe(16), child_account_id=child.id,
                            guardian_account_id=guardian.id, office_id=office.id,
                            created_by_id=staff.id, birth_certificate_number="123/2018",
                            birth_certificate_issued_on=date(2018, 3, 1),
                            birth_certificate_matches=True, confirmed_at=utcnow(),
                            confirmed_by=MandateConfirmation.SMS_CODE)
        db.session.add(link)
        db.session.commit()
        new = acting.open_guardian_session_in_transaction(
            link, client=client_row(portal), amr="pwd", guardian_loa=2,
            until=utcnow() + timedelta(hours=1))
        db.session.commit()
        browser.set_cookie(app.config["IDP_SESSION_COOKIE"], new.token)
        return child.id, guardian.id


__all__ = ["STAFF_AMR", "Setting", "SubjectType", "client_row", "confirmed_mandate",
           "delegating_portal", "mandate_setting", "open_guardian_session", "open_mandate_session",
           "verified_citizen"]

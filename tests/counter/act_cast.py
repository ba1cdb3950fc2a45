"""The scene at the counter for the delegated sign-in tests: two offices with a clerk each, a
verified citizen, portals that accept delegated sign-in or not, and mandates in each state.
Rows are built directly (the counter's mandate pages are tested elsewhere); ids only, so the
cast outlives the application context that made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask

from idp.domain import mandates as rules
from idp.extensions import db
from idp.models import Account, Mandate, MandateConfirmation, MandateEnder, OAuthClient, StaffMember
from idp.models.base import utcnow
from idp.models.verification import DocumentType
from idp.services.platform.secrets import new_public_id
from tests.factories import active_citizen, second_citizen
from tests.oidc.flow import Portal, registered_portal
from tests.staff_factories import enrolled_clerk, post_office


@dataclass(frozen=True)
class Scene:
    office: int
    clerk: int
    other_clerk: int
    citizen: int
    second: int
    portal: Portal  # accepts delegation, serves social insurance
    closed: Portal  # does not accept delegated sign-in
    land: Portal  # accepts delegation, serves land and housing only


def portal(app: Flask, *, accepts: bool, kinds: list[str]) -> Portal:
    registered = registered_portal(app, scope="openid profile")
    with app.app_context():
        client = db.session.query(OAuthClient).filter_by(client_id=registered.client_id).one()
        client.accepts_delegation, client.procedures = accepts, kinds
        db.session.commit()
    return registered


def make_scene(app: Flask) -> Scene:
    with app.app_context():
        office = post_office()
        other = post_office(code="HCM-SG", name="Bưu điện Trung tâm Sài Gòn", province_code="79")
        clerk = enrolled_clerk(office)
        other_clerk = enrolled_clerk(other, national_id="079090000011")
        citizen, second = active_citizen(), second_citizen()
        citizen.identity_loa = second.identity_loa = 2
        db.session.commit()
        ids = office.id, clerk.id, other_clerk.id, citizen.id, second.id
    return Scene(*ids, portal=portal(app, accepts=True, kinds=["social_insurance"]),
                 closed=portal(app, accepts=False, kinds=["social_insurance"]),
                 land=portal(app, accepts=True, kinds=["land_housing"]))


def mandate(app: Flask, account_id: int, staff_id: int, *, kinds: tuple[str, ...] = ("social_insurance",),
            months: int = 3, confirmed: bool = True, **overrides: Any) -> str:
    """A mandate made by `staff_id` at their office for the citizen (its public id): by default
    confirmed, for social insurance, 3 months."""
    with app.app_context():
        account, staff = db.session.get(Account, account_id), db.session.get(StaffMember, staff_id)
        assert account is not None and staff is not None
        now = utcnow()
        duration = rules.Duration.of_months(months) if months else rules.Duration.this_visit()
        row = Mandate(public_id=new_public_id(), account_id=account.id, office_id=staff.office_id,
                      created_by_id=staff.id, kinds=list(kinds), client_ids=[], months=months,
                      # PASSPORT: migration 0012 checks other values for the two ID cards.
                      loa=account.identity_loa, document_type=DocumentType.PASSPORT,
                      document_number=account.national_id, document_issued_on=date(2024, 7, 1),
                      document_expires_on=None, created_at=now,
                      expires_at=rules.expires_at(duration, now),
                      confirmed_at=now if confirmed else None,
                      confirmed_by=MandateConfirmation.SMS_CODE if confirmed else None)
        for name, value in overrides.items():
            setattr(row, name, value)
        db.session.add(row)
        db.session.commit()
        return row.public_id


def expired(app: Flask, account_id: int, staff_id: int) -> str:
    past = utcnow() - timedelta(days=40)
    return mandate(app, account_id, staff_id, created_at=past - timedelta(days=1), confirmed_at=past,
                   expires_at=past + timedelta(days=1))


def revoked(app: Flask, account_id: int, staff_id: int) -> str:
    return mandate(app, account_id, staff_id, revoked_at=utcnow() - timedelta(minutes=1),
                   revoked_by=MandateEnder.CITIZEN)

"""Signed-in browsers and database probes for the organisation pages' tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.i18n import LOCALE_COOKIE
from idp.models import Account, AuditEvent, MemberRole, MembershipStatus, Organisation, OrganisationMember
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.organisation_factories import (
    active_member,
    invited_member,
    registered_organisation,
    suspended_member,
    verified_organisation,
)

HOME = "/business/"
# Three people: the representative (the default citizen), a woman born in 2003, a man born 1988.
REPRESENTATIVE = {"national_id": "001099012345"}
SECOND = {"national_id": "079303001234", "full_name": "Trần Thị Bích Ngọc",
          "birthdate": date(2003, 2, 1), "gender": "female", "phone": "+84983456789", "email": None}
STRANGER = {"national_id": "001088009999", "full_name": "Phạm Văn Cường", "birthdate": date(1988, 1, 1),
            "gender": "male", "phone": "0987111222", "email": None}
THIRD = {"national_id": "001088004321", "full_name": "Lê Văn Bình", "birthdate": date(1988, 3, 9),
         "gender": "male", "phone": "0987000111", "email": None}


def person(app: Flask, who: dict[str, Any], *, verified: bool = True) -> int:
    """The account of `who` (created on first use): by default with an identity verified at a
    counter (LoA2), as acting for an organisation requires; `verified=False` for an account
    registered online only (LoA1)."""
    with app.app_context():
        existing = db.session.scalar(select(Account).where(Account.national_id == who["national_id"]))
        if existing is not None:
            return existing.id
        account = active_citizen(**who)
        if verified:
            counter_verified(account)
        return account.id


def counter_verified(account: Account) -> Account:
    """The account's identity checked at a post office (LoA2). Inside an application context."""
    account.identity_loa = 2
    db.session.commit()
    return account


def browser(app: Flask, who: dict[str, Any] = REPRESENTATIVE, *, verified: bool = True) -> FlaskClient:
    """A browser signed in as `who`, reading English pages."""
    person(app, who, verified=verified)
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": csrf_token(client),
                                           "identifier": who["national_id"], "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    client.set_cookie(LOCALE_COOKIE, "en")
    return client


def post(client: FlaskClient, path: str, form_page: str = HOME, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **data})


def events(app: Flask, tag: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [dict(e.data) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id))]


def refusals(app: Flask) -> list[tuple[str, str]]:
    """(reason, action) of every ORGANISATION_REFUSED event, in order."""
    return [(e["reason"], e["action"]) for e in events(app, "organisation.refused")]


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def organisations(app: Flask) -> list[Organisation]:
    with app.app_context():
        rows = list(db.session.scalars(select(Organisation).order_by(Organisation.id)))
        db.session.expunge_all()
        return rows


def memberships(app: Flask) -> list[OrganisationMember]:
    with app.app_context():
        rows = list(db.session.scalars(select(OrganisationMember).order_by(OrganisationMember.id)))
        db.session.expunge_all()
        return rows


def snapshot(app: Flask) -> list[tuple[Any, ...]]:
    """Every organisation, membership and their versions: equal before and after a refusal."""
    with app.app_context():
        orgs = [(o.id, o.status, o.version) for o in db.session.scalars(select(Organisation))]
        members = [(m.id, m.status, m.role, m.valid_from, m.valid_until, m.account_id, m.version)
                   for m in db.session.scalars(select(OrganisationMember))]
        return sorted(orgs) + sorted(members)


def organisation_with(app: Flask, *, verified: bool = True, **members: str) -> str:
    """An organisation represented by the default citizen, its public id. `members` gives the
    membership of `second` / `third` / `stranger` by state: admin, member, suspended_admin,
    lapsed_admin, suspended, lapsed, invited, removed."""
    representative = person(app, REPRESENTATIVE)
    people = {"second": SECOND, "third": THIRD, "stranger": STRANGER}
    ids = {name: person(app, people[name]) for name in members}
    with app.app_context():
        make = verified_organisation if verified else registered_organisation
        organisation = make(db.session.get(Account, representative))
        for name, state in members.items():
            account = db.session.get(Account, ids[name])
            role = MemberRole.ADMIN if "admin" in state else MemberRole.MEMBER
            if state in ("admin", "member"):
                active_member(organisation, account, role=role)
            elif state.startswith("suspended"):
                suspended_member(organisation, account, role=role)
            elif state.startswith("lapsed"):
                active_member(organisation, account, role=role, valid_from=date(2020, 1, 1),
                              valid_until=date(2021, 12, 31))
            elif state == "invited":
                invited_member(organisation, account.national_id)
            elif state == "removed":
                active_member(organisation, account, status=MembershipStatus.REMOVED,
                              live_national_id=None)
            else:
                raise AssertionError(state)
        return organisation.public_id


def organisation_row(public_id: str) -> Organisation:
    """The organisation by public id (inside an application context)."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.public_id == public_id))
    assert organisation is not None
    return organisation


def membership_of(app: Flask, who: dict[str, Any]) -> OrganisationMember:
    """The latest membership row for `who`'s ID number."""
    with app.app_context():
        row = db.session.scalars(select(OrganisationMember).where(
            OrganisationMember.national_id == who["national_id"]).order_by(OrganisationMember.id.desc())).first()
        assert row is not None
        db.session.expunge(row)
        return row

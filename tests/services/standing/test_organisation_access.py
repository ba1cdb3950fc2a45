"""Who may act for which organisation today (idp.services.standing.organisation_access): only an
active member with a verified identity, of a verified organisation, inside the membership's
dates (Vietnamese calendar days), and each refusal named."""

from __future__ import annotations

from datetime import date

import pytest

from idp.extensions import db
from idp.models import OrganisationStatus
from idp.services.standing.organisation_access import access_problem, acting_choices, is_current
from tests.factories import active_citizen, second_citizen
from tests.organisation_factories import (
    active_member,
    lapsed_member,
    registered_organisation,
    suspended_member,
    verified_organisation,
)

TODAY = date(2026, 12, 7)


def _verified(account):
    account.identity_loa = 2
    db.session.commit()
    return account


def test_an_active_verified_member_of_a_verified_organisation_may_act(app):
    with app.app_context():
        organisation = verified_organisation(_verified(active_citizen()))
        member = active_member(organisation, _verified(second_citizen()))
        assert access_problem(member, today=TODAY) is None and is_current(member, today=TODAY)
        assert member in acting_choices(member.account)


@pytest.mark.parametrize("situation, problem", [
    ("unverified organisation", "organisation_unverified"),
    ("revoked organisation", "organisation_revoked"),
    ("suspended", "suspended"),
    ("not yet valid", "not_yet_valid"),
    ("lapsed", "no_longer_valid"),
    ("identity declared only", "identity_not_verified"),
])
def test_each_refusal_is_named(app, situation, problem):
    with app.app_context():
        representative = _verified(active_citizen())
        organisation = (registered_organisation(representative) if situation == "unverified organisation"
                        else verified_organisation(representative))
        colleague = second_citizen() if situation == "identity declared only" else _verified(second_citizen())
        if situation == "suspended":
            member = suspended_member(organisation, colleague)
        elif situation == "lapsed":
            member = lapsed_member(organisation, colleague)
        elif situation == "not yet valid":
            member = active_member(organisation, colleague, valid_from=date(2027, 1, 1))
        else:
            member = active_member(organisation, colleague)
        if situation == "revoked organisation":
            organisation.status = OrganisationStatus.REVOKED
            db.session.commit()
        assert access_problem(member, today=TODAY) == problem
        assert not is_current(member, today=TODAY)
        assert member not in acting_choices(colleague)


def test_the_dates_are_inclusive_calendar_days(app):
    with app.app_context():
        organisation = verified_organisation(_verified(active_citizen()))
        member = active_member(organisation, _verified(second_citizen()),
                               valid_from=TODAY, valid_until=TODAY)
        assert is_current(member, today=TODAY)
        assert access_problem(member, today=date(2026, 12, 8)) == "no_longer_valid"
        assert access_problem(member, today=date(2026, 12, 6)) == "not_yet_valid"

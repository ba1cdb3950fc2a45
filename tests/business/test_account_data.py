"""A person's organisations in their data export, and deleting an account that represents an
organisation or is a member of one."""

from __future__ import annotations

import json

from flask import Flask

from idp.extensions import db
from idp.models import Account, AccountStatus, MembershipStatus, OrganisationVerification, VerificationStatus
from idp.services.account_data import placeholder_national_id
from tests.business.helpers import (
    SECOND,
    THIRD,
    browser,
    events,
    membership_of,
    memberships,
    organisation_row,
    organisation_with,
    person,
    post,
)
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.organisation_factories import pending_organisation_check


def test_export_lists_memberships_and_invitations(app: Flask) -> None:
    organisation_with(app, second="admin")
    with app.app_context():
        from tests.organisation_factories import invited_member, verified_organisation

        other = verified_organisation(db.session.get(Account, person(app, THIRD)), tax_code="0314409058",
                                      name="Hộ kinh doanh Bình An")
        invited_member(other, SECOND["national_id"])
    client = browser(app, SECOND)
    response = client.post("/account/data", data={"csrf_token": csrf_token(client, "/account/data")})
    assert response.status_code == 200
    rows = json.loads(response.get_data(as_text=True))["organisations"]
    assert [(r["organisation"]["tax_code"], r["role"], r["status"], r["organisation"]["represented_by_you"])
            for r in rows] == [("0100233488", "admin", "active", False),
                               ("0314409058", "member", "invited", False)]


def test_deleting_a_representative_ends_memberships_and_undecided_checks(app: Flask) -> None:
    public_id = organisation_with(app, verified=False)
    with app.app_context():
        pending_organisation_check(organisation_row(public_id))
    client = browser(app)
    response = post(client, "/account/delete", "/account/delete", password=PASSWORD, confirm="y")
    assert response.status_code == 302
    [membership] = memberships(app)
    assert (membership.status, membership.live_national_id) == (MembershipStatus.REMOVED, None)
    assert membership.national_id.startswith("D")
    with app.app_context():
        [check] = db.session.scalars(db.select(OrganisationVerification)).all()
        assert check.status is VerificationStatus.CANCELLED and check.live_organisation_id is None
        assert db.session.get(Account, membership.account_id).status is AccountStatus.DISABLED
    assert [e["reason"] for e in events(app, "organisation.member.remove")] == ["account_deleted"]
    assert [e["reason"] for e in events(app, "organisation.verification.cancel")] == ["account_deleted"]


def test_a_deleted_member_can_be_invited_again_after_registering_anew(app: Flask) -> None:
    public_id = organisation_with(app, second="member")
    old_account = person(app, SECOND)
    client = browser(app, SECOND)
    assert post(client, "/account/delete", "/account/delete", password=PASSWORD, confirm="y").status_code == 302
    assert membership_of(app, {"national_id": placeholder_national_id(old_account)}).status \
        is MembershipStatus.REMOVED
    assert person(app, SECOND) != old_account  # the same person registers again
    response = post(browser(app), f"/business/{public_id}/members/invite", f"/business/{public_id}",
                    national_id=SECOND["national_id"], role="member", valid_from="", valid_until="")
    assert response.status_code == 303

"""What only the database knows about a mandate's use (idp.services.standing.delegation): a
colleague's account, a disabled agent, a citizen no longer verified. Each refuses the agent at
the portal, in the order the domain's reasons come first."""

from __future__ import annotations

from flask import Flask

from idp.domain.mandates import Reason
from idp.extensions import db
from idp.models import Account, Mandate, StaffMember, StaffStatus
from idp.services.standing import delegation
from tests.oidc.delegation import client_row, mandate_setting
from tests.staff_factories import enrolled_clerk


def _refusal(app: Flask, setting) -> Reason | None:  # type: ignore[no-untyped-def]
    with app.app_context():
        mandate = db.session.get(Mandate, setting.mandate_id)
        staff = db.session.get(StaffMember, setting.staff_id)
        return delegation.mandate_refusal(mandate, staff=staff, client=client_row(setting.portal))


def test_a_valid_mandate_is_not_refused(app: Flask) -> None:
    assert _refusal(app, mandate_setting(app)) is None


def test_the_citizen_working_at_the_agents_office_is_refused(app: Flask) -> None:
    setting = mandate_setting(app)
    with app.app_context():
        citizen = db.session.get(Account, setting.citizen_id)
        office = db.session.get(StaffMember, setting.staff_id).office
        enrolled_clerk(office, national_id=citizen.national_id, username="dongnghiep")
    assert _refusal(app, setting) is Reason.AGENT_IS_COLLEAGUE


def test_a_disabled_agent_is_refused(app: Flask) -> None:
    setting = mandate_setting(app)
    with app.app_context():
        db.session.get(StaffMember, setting.staff_id).status = StaffStatus.DISABLED
        db.session.commit()
    assert _refusal(app, setting) is Reason.AGENT_INACTIVE


def test_a_citizen_whose_verification_was_revoked_is_refused(app: Flask) -> None:
    setting = mandate_setting(app)
    with app.app_context():
        db.session.get(Account, setting.citizen_id).identity_loa = 1
        db.session.commit()
    assert _refusal(app, setting) is Reason.SUBJECT_NOT_VERIFIED

"""A delegated session the portal may not have goes back to the portal as error=access_denied
(with prompt=none too), audited with the reason; no code, no use, nothing told the portal
about who acts for whom (docs/architecture.md §6, §14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, AuthorizationCode, Mandate, MandateUse
from idp.models.base import utcnow
from tests.oidc.delegation import (
    delegating_portal,
    mandate_setting,
    open_guardian_session,
    open_mandate_session,
)
from tests.oidc.flow import auth_request, exchange, obtain_code, redirect_params
from tests.staff_factories import enrolled_clerk, post_office


def refused(app, client, portal, tag: str, **request):  # type: ignore[no-untyped-def]
    """The request is refused with access_denied, audited under `tag`; returns the event."""
    params = redirect_params(client.get(auth_request(portal, **request).url))
    assert params["error"] == "access_denied", params
    assert params["error_description"] == "Delegated sign-in is not allowed for this request."
    assert "state" in params and "code" not in params
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthorizationCode)) == 0
        assert db.session.scalar(select(func.count()).select_from(MandateUse)) == 0
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)
                                   .order_by(AuditEvent.id.desc())).first()
        assert event is not None
        db.session.expunge(event)
        return event


def _change_mandate(app, setting, **values) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        mandate = db.session.get(Mandate, setting.mandate_id)
        for name, value in values.items():
            setattr(mandate, name, value)
        db.session.commit()


@pytest.mark.parametrize("prompt", [None, "none"])
def test_a_mandate_revoked_after_the_session_opened_is_refused(app, client, prompt):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    _change_mandate(app, setting, revoked_at=utcnow())
    event = refused(app, client, setting.portal, "mandate.sign_in.refused", prompt=prompt)
    assert event.data["reason"] == "revoked"
    assert (event.account_id, event.staff_id, event.office_id) == (
        setting.citizen_id, setting.staff_id, setting.office_id)
    assert event.data["client"] == setting.portal.client_id and event.data["mandate"]


def test_an_expired_mandate_is_refused(app, client):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    _change_mandate(app, setting, expires_at=utcnow() - timedelta(seconds=1))
    assert refused(app, client, setting.portal, "mandate.sign_in.refused").data["reason"] == "expired"


def test_a_portal_the_mandate_does_not_cover_is_refused(app, client):
    setting = mandate_setting(app, kinds=("land_housing",))
    open_mandate_session(app, client, setting)
    event = refused(app, client, setting.portal, "mandate.sign_in.refused")
    assert event.data["reason"] == "portal_not_covered"


def test_a_portal_that_does_not_accept_delegation_is_refused(app, client):
    setting = mandate_setting(app, portal=delegating_portal(app, accepts=False))
    open_mandate_session(app, client, setting)
    event = refused(app, client, setting.portal, "mandate.sign_in.refused")
    assert event.data["reason"] == "portal_not_delegating"


def test_an_agent_of_another_office_is_refused(app, client):
    setting = mandate_setting(app)
    with app.app_context():
        elsewhere = enrolled_clerk(post_office(code="HCM-BENTHANH", name="Bưu điện Bến Thành"),
                                   national_id="079085000009", username="clerk-hcm")
        stranger_id, their_office_id = elsewhere.id, elsewhere.office_id
    open_mandate_session(app, client, setting, staff_id=stranger_id)
    event = refused(app, client, setting.portal, "mandate.sign_in.refused")
    assert event.data["reason"] == "agent_other_office"
    assert (event.staff_id, event.office_id) == (stranger_id, their_office_id)


def test_an_agent_acting_on_their_own_account_is_refused(app, client):
    # The agent's own ID number is the citizen's (tests.factories): the clerk is the citizen.
    setting = mandate_setting(app, agent_national_id="001099012345")
    open_mandate_session(app, client, setting)
    event = refused(app, client, setting.portal, "mandate.sign_in.refused")
    assert event.data["reason"] == "agent_is_subject"


def test_a_delegated_session_is_good_for_its_one_portal_only(app, client):
    setting = mandate_setting(app)
    second = delegating_portal(app)
    open_mandate_session(app, client, setting)
    event = refused(app, client, second, "mandate.sign_in.refused")
    assert event.data["reason"] == "another_portal" and event.data["client"] == second.client_id


def test_the_organization_scope_is_refused_under_a_mandate(app, client):
    portal = delegating_portal(app, scope="openid profile organization")
    setting = mandate_setting(app, portal=portal)
    open_mandate_session(app, client, setting)
    event = refused(app, client, portal, "mandate.sign_in.refused", scope="openid organization")
    assert event.data["reason"] == "organization_scope"


def test_a_guardian_may_no_longer_sign_in_for_a_child_who_turned_14_today(app, client):
    portal = delegating_portal(app)
    child_id, _ = open_guardian_session(app, client, portal, child_age_years=14)
    event = refused(app, client, portal, "guardian.sign_in.refused")
    assert event.data["reason"] == "child_turned_14" and event.account_id == child_id


def test_a_code_issued_before_the_mandate_was_revoked_buys_no_token(app, client):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    code, request = obtain_code(client, setting.portal)
    _change_mandate(app, setting, revoked_at=utcnow())
    answer = exchange(client, setting.portal, code, request.verifier)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"


@pytest.mark.parametrize("prompt", [None, "none"])
def test_a_portal_requiring_phishing_resistance_gets_unmet_requirements_not_a_step_up(
        app, client, prompt):
    """Nobody can prove the citizen's passkey for them, and the pages that would add one are
    closed to a delegated session: the portal is told at once, nothing is asked or used."""
    import json

    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    claims = json.dumps({"id_token": {"acr": {"essential": True,
                                              "values": ["urn:vn:postid:phishing_resistant"]}}})
    params = redirect_params(client.get(auth_request(setting.portal, claims=claims,
                                                     prompt=prompt).url))
    assert params["error"] == "unmet_authentication_requirements"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MandateUse)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "delegated.account_change.refused")) == 0

"""A citizen's mandates in their data export, and at account deletion (docs/architecture.md §12)."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, Mandate, MandateEnder, UserSession
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import sign_in
from tests.web.citizen_mandate_setup import access_token, delegated_session, record_use, scene


def test_export_lists_mandates_with_uses_and_no_staff(app: Flask, client: FlaskClient) -> None:
    s = scene(app)
    record_use(app, s)
    sign_in(client)
    response = client.post("/account/data", data={"csrf_token": csrf_token(client, "/account/data")})
    assert response.status_code == 200
    [row] = json.loads(response.get_data(as_text=True))["mandates"]
    assert row["id"] == s.mandate_public_id and row["office"] == "HN-BOHO"
    assert row["kinds"] == ["social_insurance", "land_housing"] and row["portals"] == [s.client_id]
    assert row["confirmed_by"] == "sms_code" and row["ended_at"] is None
    assert row["document_number"] == "001099012345"
    assert [use["portal"] for use in row["uses"]] == [s.client_id]
    assert "staff" not in json.dumps(row)


def test_deletion_ends_mandates_and_erases_the_card_number(app: Flask, client: FlaskClient) -> None:
    s = scene(app)
    session_id, _ = delegated_session(app, s)
    bearer = {"Authorization": f"Bearer {access_token(app, s, session_id)}"}
    sign_in(client)
    response = client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account/delete"), "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        mandate = db.session.get(Mandate, s.mandate_id)
        assert mandate is not None
        assert mandate.revoked_by is MandateEnder.SYSTEM and mandate.revoked_at is not None
        assert mandate.document_number != "001099012345" and not mandate.document_number.isdigit()
        delegated = db.session.get(UserSession, session_id)
        assert delegated is not None and delegated.revoked_at is not None
        [event] = db.session.scalars(select(AuditEvent).filter_by(
            tag=AuditTag.MANDATE_REVOKE.value)).all()
        assert event.data["by"] == "system" and event.data["mandate"] == s.mandate_public_id
    assert app.test_client().get("/userinfo", headers=bearer).status_code == 401

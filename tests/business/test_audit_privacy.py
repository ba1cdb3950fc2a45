"""Organisation events carry public ids and codes only: no tax code, organisation name, ID
number, phone or typed value, on success or refusal (docs/architecture.md §11)."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, Organisation, OrganisationStatus
from idp.services.platform import audit_seal
from idp.services.platform.audit_verify import verify_log
from tests.business.helpers import SECOND, THIRD, browser, membership_of, organisations, person, post

FORM = {"tax_code": "0100 233 488", "name": "Công ty TNHH Sen Vàng", "province_code": "01",
        "ward": "Phường Hoàn Kiếm", "street": "35 Ngô Quyền", "title": "director"}


def test_no_organisation_event_holds_personal_data(app: Flask) -> None:
    representative = browser(app)
    page = "/business/register"
    assert post(representative, page, page, **{**FORM, "tax_code": "0100233480"}).status_code == 400
    assert post(representative, page, page, **{**FORM, "name": "Sen\x00Vàng"}).status_code == 400
    assert post(representative, page, page, **FORM).status_code == 303
    assert post(browser(app, SECOND), page, page, **FORM).status_code == 409
    [organisation] = organisations(app)
    org_page = f"/business/{organisation.public_id}"
    assert post(representative, f"{org_page}/verification/request", org_page).status_code == 303
    with app.app_context():
        db.session.execute(db.update(Organisation).values(status=OrganisationStatus.VERIFIED))
        db.session.commit()
    person(app, THIRD)
    invite = {"national_id": THIRD["national_id"], "role": "admin", "valid_from": "", "valid_until": ""}
    assert post(representative, f"{org_page}/members/invite", org_page, **invite).status_code == 303
    assert post(representative, f"{org_page}/members/invite", org_page, **invite).status_code == 409
    assert post(representative, f"{org_page}/members/invite", org_page,
                **{**invite, "national_id": "079303009999"}).status_code == 303
    invitation = membership_of(app, THIRD)
    assert post(browser(app, SECOND), f"/business/invitations/{invitation.public_id}/accept").status_code == 403
    third = browser(app, THIRD)
    assert post(third, f"/business/invitations/{invitation.public_id}/accept").status_code == 303
    assert post(representative, f"{org_page}/members/{invitation.public_id}/suspend", org_page).status_code == 303

    forbidden = ["0100233488", "0100233480", "Sen Vàng", "Hoàn Kiếm", "Ngô Quyền", "001099012345",
                 "079303001234", THIRD["national_id"], "079303009999", "Lê Văn Bình", "Nguyễn Văn An",
                 "+84983456789", "0987000111"]
    with app.app_context():
        found = []
        tags = set()
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            tags.add(event.tag)
            stored = json.dumps(event.data, ensure_ascii=False)
            found += [(event.tag, value) for value in forbidden if value in stored]
        assert found == []
        assert {"organisation.register", "organisation.refused", "organisation.verification.request",
                "organisation.member.invite", "organisation.member.accept",
                "organisation.member.suspend"} <= tags
        assert audit_seal.seal_all() > 0
        assert verify_log().ok

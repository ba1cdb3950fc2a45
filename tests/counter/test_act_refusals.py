"""Every refusal of the delegated sign-in at the counter: a portal that does not accept it, a
mandate of another office, expired, revoked, not confirmed, for another portal, garbage input
and hostile `next` values. Each answers a clear page with an exact status, audits the refusal
when a mandate was picked, and opens no session."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, OAuthClient, StaffMember, UserSession
from idp.models.base import utcnow
from tests.conftest import csrf_token
from tests.counter.act_cast import Scene, expired, make_scene, mandate, revoked
from tests.counter.helpers import console_client
from tests.oidc.flow import auth_request


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene(app)


def act_url(authorize_url: str) -> str:
    return "/counter/act?" + urlencode({"next": authorize_url})


def post(browser: FlaskClient, url: str, public_id: str):  # type: ignore[no-untyped-def]
    token = csrf_token(browser, "/counter/")
    return browser.post(url, data={"csrf_token": token, "mandate": public_id})


def sessions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession)) or 0


def refusals(app: Flask) -> list[tuple[int | None, int | None, int | None, dict]]:
    with app.app_context():
        rows = db.session.execute(select(
            AuditEvent.account_id, AuditEvent.staff_id, AuditEvent.office_id, AuditEvent.data)
            .where(AuditEvent.tag == AuditTag.MANDATE_SIGN_IN_REFUSED.value)
            .order_by(AuditEvent.id)).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_portal_not_accepting_delegation_gets_a_clear_403_and_nothing_listed(
        app: Flask, scene: Scene) -> None:
    public_id = mandate(app, scene.citizen, scene.clerk, kinds=("any_delegating_portal",))
    browser = console_client(app, scene.clerk)
    url = act_url(auth_request(scene.closed).url)
    response = browser.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This portal does not accept sign-in by post-office staff." in page or \
        "không chấp nhận nhân viên bưu cục" in page
    assert "Nguyễn Văn An" not in page and public_id not in page
    response = post(browser, url, public_id)
    assert response.status_code == 403 and "Nguyễn Văn An" not in response.get_data(as_text=True)
    assert sessions(app) == 0


def test_only_the_offices_mandates_for_this_portal_are_listed(app: Flask, scene: Scene) -> None:
    usable = mandate(app, scene.citizen, scene.clerk)
    others = [mandate(app, scene.second, scene.other_clerk),  # another office
              mandate(app, scene.second, scene.clerk, kinds=("land_housing",)),  # another portal
              expired(app, scene.second, scene.clerk), revoked(app, scene.second, scene.clerk),
              mandate(app, scene.second, scene.clerk, confirmed=False)]
    page = console_client(app, scene.clerk).get(act_url(auth_request(scene.portal).url))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and usable in body
    assert not [p for p in others if p in body]
    assert "Trần Thị Bích Ngọc" not in body


@pytest.mark.parametrize(("kind", "status", "reason"), [
    ("other_office", 404, "agent_other_office"),
    ("expired", 409, "expired"),
    ("revoked", 409, "revoked"),
    ("pending", 409, "not_confirmed"),
    ("other_portal", 403, "portal_not_covered"),
])
def test_a_mandate_that_does_not_allow_it_is_refused_when_posted_and_audited(
        app: Flask, scene: Scene, kind: str, status: int, reason: str) -> None:
    made = {"other_office": lambda: mandate(app, scene.citizen, scene.other_clerk),
            "expired": lambda: expired(app, scene.citizen, scene.clerk),
            "revoked": lambda: revoked(app, scene.citizen, scene.clerk),
            "pending": lambda: mandate(app, scene.citizen, scene.clerk, confirmed=False),
            "other_portal": lambda: mandate(app, scene.citizen, scene.clerk,
                                            kinds=("land_housing",))}[kind]()
    browser = console_client(app, scene.clerk)
    response = post(browser, act_url(auth_request(scene.portal).url), made)
    assert response.status_code == status
    assert "Nguyễn Văn An" not in response.get_data(as_text=True)
    assert sessions(app) == 0 and browser.get_cookie("postid_session") is None
    [(account_id, staff_id, office_id, data)] = refusals(app)
    assert (account_id, staff_id, office_id) == (scene.citizen, scene.clerk, scene.office)
    assert data["reason"] == reason and data["mandate"] == made


def test_the_agent_cannot_sign_in_for_themselves(app: Flask, scene: Scene) -> None:
    with app.app_context():
        clerk = db.session.get(StaffMember, scene.clerk)
        assert clerk is not None
        clerk.national_id = "001099012345"  # the citizen's own number
        db.session.commit()
    public_id = mandate(app, scene.citizen, scene.clerk)
    browser = console_client(app, scene.clerk)
    url = act_url(auth_request(scene.portal).url)
    assert public_id not in browser.get(url).get_data(as_text=True)
    assert post(browser, url, public_id).status_code == 403
    assert refusals(app)[0][3]["reason"] == "agent_is_subject" and sessions(app) == 0


@pytest.mark.parametrize("public_id", ["", "x", "A" * 22, "A" * 23, "x" * 5000, "../../etc",
                                       "ủy-quyền", "\x00", "'; drop table mandate;--"])
def test_garbage_mandate_ids_are_refused_without_a_session(
        app: Flask, scene: Scene, public_id: str) -> None:
    mandate(app, scene.citizen, scene.clerk)
    response = post(console_client(app, scene.clerk), act_url(auth_request(scene.portal).url),
                    public_id)
    assert response.status_code in (400, 404)
    assert sessions(app) == 0


@pytest.mark.parametrize("next_url", [
    None, "", "https://evil.example/authorize?client_id=x", "//evil.example/authorize",
    "/\\evil.example", "/authorize", "/authorize?client_id=unknown", "/account",
    "javascript:alert(1)", "/authorize?client_id=" + "a" * 9000,
])
def test_a_next_that_is_not_a_waiting_portal_is_a_page_not_a_redirect(
        app: Flask, scene: Scene, next_url: str | None) -> None:
    public_id = mandate(app, scene.citizen, scene.clerk)
    browser = console_client(app, scene.clerk)
    url = "/counter/act" if next_url is None else "/counter/act?" + urlencode({"next": next_url})
    # 414: a request line over the server's limit is refused before any view runs.
    expected = 414 if len(url) > 8000 else 400
    assert browser.get(url).status_code == expected
    response = post(browser, url, public_id)
    assert response.status_code == expected and "Location" not in response.headers
    assert sessions(app) == 0


def test_without_a_csrf_token_nothing_happens(app: Flask, scene: Scene) -> None:
    public_id = mandate(app, scene.citizen, scene.clerk)
    browser = console_client(app, scene.clerk)
    response = browser.post(act_url(auth_request(scene.portal).url), data={"mandate": public_id})
    assert response.status_code == 400 and sessions(app) == 0


def test_a_disabled_portal_has_nothing_to_sign_in_to(app: Flask, scene: Scene) -> None:
    public_id = mandate(app, scene.citizen, scene.clerk)
    url = act_url(auth_request(scene.portal).url)
    browser = console_client(app, scene.clerk)
    csrf = csrf_token(browser, "/counter/")
    with app.app_context():
        client = db.session.scalars(select(OAuthClient).filter_by(
            client_id=scene.portal.client_id)).one()
        client.disabled_at = utcnow()
        db.session.commit()
    response = browser.post(url, data={"csrf_token": csrf, "mandate": public_id})
    assert response.status_code == 400 and sessions(app) == 0

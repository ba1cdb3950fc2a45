"""Signing in to a portal on behalf of an organisation (scope `organization`, docs/architecture.md §10)."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import (
    Account,
    AuditEvent,
    AuthorizationCode,
    Consent,
    MemberRole,
    MembershipStatus,
    OAuthClient,
    OrganisationMember,
    OrganisationStatus,
)
from idp.models import Organisation as OrganisationRow
from tests.conftest import csrf_token
from tests.factories import second_citizen
from tests.oidc.flow import (
    ISSUER,
    Portal,
    auth_request,
    authorize,
    citizen,
    consent_action,
    exchange,
    redirect_params,
    refresh,
    registered_portal,
    sign_in,
    verify_id_token,
)
from tests.organisation_factories import (
    TAX_CODE,
    active_member,
    lapsed_member,
    registered_organisation,
    suspended_member,
    verified_organisation,
)

SCOPE = "openid profile organization offline_access"


def counter_verified(account: Account) -> Account:
    """The account's identity was verified at a counter (LoA2): members must be, to act."""
    account.identity_loa = 2
    db.session.commit()
    return account
COLLEAGUE_ID = "079303001234"


@pytest.fixture
def portal(app: Flask) -> Portal:
    return registered_portal(app, scope=SCOPE)


@pytest.fixture
def colleague(app: Flask) -> dict[str, Any]:
    """A representative's verified company, and a colleague who is an active member of it."""
    with app.app_context():
        representative = db.session.get(Account, citizen(app))
        mate = counter_verified(second_citizen())
        organisation = verified_organisation(representative)
        membership = active_member(organisation, mate)
        return {"membership": membership.public_id, "membership_id": membership.id,
                "organisation_id": organisation.id, "sub": mate.sub, "account_id": mate.id}


def _choice_action(page: str) -> str:
    match = re.search(r'action="([^"]*/authorize/organisation[^"]*)"', page)
    assert match, "no choice form"
    return html.unescape(match.group(1))


def choose(client: FlaskClient, page_response, value: str):  # type: ignore[no-untyped-def]
    """Answer "who are you acting as?" and follow the way back to /authorize."""
    page = page_response.get_data(as_text=True)
    token = csrf_token(client, "/login")
    answered = client.post(_choice_action(page), data={"csrf_token": token, "organisation": value})
    assert answered.status_code == 303, answered.status_code
    return answered


def _allow(client: FlaskClient, response):  # type: ignore[no-untyped-def]
    if response.status_code == 200 and 'name="decision"' in response.get_data(as_text=True):
        token = csrf_token(client, "/login")
        return client.post(consent_action(response.get_data(as_text=True)),
                           data={"csrf_token": token, "decision": "allow"})
    return response


def sign_in_for(client: FlaskClient, portal: Portal, value: str, **params: str):  # type: ignore[no-untyped-def]
    request = auth_request(portal, scope=SCOPE, **params)
    page = client.get(request.url)
    assert page.status_code == 200 and "/authorize/organisation" in page.get_data(as_text=True)
    answered = choose(client, page, value)
    final = _allow(client, client.get(answered.headers["Location"]))
    return redirect_params(final), request


def tokens_for(client: FlaskClient, portal: Portal, value: str) -> dict[str, Any]:
    params, request = sign_in_for(client, portal, value)
    response = exchange(client, portal, params["code"], request.verifier)
    assert response.status_code == 200, response.json
    return response.json


def test_a_member_acts_for_the_organisation_and_both_id_token_and_userinfo_say_so(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    _, claims = verify_id_token(client, body["id_token"])
    expected = {"tax_code": TAX_CODE, "name": "Công ty TNHH Sen Vàng", "role": "member"}
    assert claims["organization"] == expected
    assert claims["sub"] == colleague["sub"]  # sub stays the person's
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json["organization"] == expected and info.json["sub"] == colleague["sub"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == "oidc.organisation.chosen")).all()
        assert [e.account_id for e in events] == [colleague["account_id"]]


def test_acting_as_oneself_releases_no_organization(
        client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, "self")
    _, claims = verify_id_token(client, body["id_token"])
    assert "organization" not in claims
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert "organization" not in info.json


def test_the_choice_page_lists_only_organisations_the_person_may_act_for(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    with app.app_context():
        mate = db.session.get(Account, colleague["account_id"])
        other = citizen(app, national_id="001199000777", phone="0987654321",
                        email="x@example.vn", birthdate=date(1999, 1, 2), gender="female",
                        full_name="Lê Thị Hồng")
        rep = db.session.get(Account, other)
        unverified = registered_organisation(rep, tax_code="0314409058", name="Hộ Chưa Xác Minh")
        active_member(unverified, mate)
    sign_in(client, COLLEAGUE_ID)
    page = client.get(auth_request(portal, scope=SCOPE).url).get_data(as_text=True)
    assert "Sen Vàng" in page and "Hộ Chưa Xác Minh" not in page


@pytest.mark.parametrize("make", ["suspended", "lapsed", "unverified", "identity_not_verified"])
def test_a_member_who_cannot_act_gets_the_no_organisation_page_and_access_denied(
        app: Flask, client: FlaskClient, portal: Portal, make: str) -> None:
    with app.app_context():
        representative = db.session.get(Account, citizen(app))
        mate = second_citizen()
        if make != "identity_not_verified":
            counter_verified(mate)
        if make == "unverified":
            active_member(registered_organisation(representative), mate)
        elif make == "identity_not_verified":  # an online-only account: its ID is declared
            active_member(verified_organisation(representative), mate)
        else:
            organisation = verified_organisation(representative)
            (suspended_member if make == "suspended" else lapsed_member)(organisation, mate)
    sign_in(client, COLLEAGUE_ID)
    request = auth_request(portal, scope=SCOPE)
    page = client.get(request.url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/authorize/no-organisation" in text and "/authorize/organisation" not in text
    action = html.unescape(re.search(r'action="([^"]*/authorize/no-organisation[^"]*)"',
                                     text).group(1))
    back = client.post(action, data={"csrf_token": csrf_token(client, "/login")})
    params = redirect_params(back)
    assert params["error"] == "access_denied"
    assert params["state"] == request.params["state"] and params["iss"] == ISSUER


def standing_consent(app: Flask, account_id: int, portal: Portal) -> None:
    with app.app_context():
        client_row = db.session.scalar(select(OAuthClient).where(
            OAuthClient.client_id == portal.client_id))
        db.session.add(Consent(account_id=account_id, client_pk=client_row.id, scope=SCOPE,
                               text_version="test", locale="vi"))
        db.session.commit()


def test_prompt_none_without_organisation_is_access_denied(
        app: Flask, client: FlaskClient, portal: Portal) -> None:
    standing_consent(app, citizen(app), portal)
    sign_in(client)
    params = redirect_params(client.get(auth_request(portal, scope=SCOPE, prompt="none").url))
    assert params["error"] == "access_denied"


def test_prompt_none_with_organisations_and_no_earlier_answer_needs_a_selection(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    standing_consent(app, colleague["account_id"], portal)
    sign_in(client, COLLEAGUE_ID)
    params = redirect_params(client.get(auth_request(portal, scope=SCOPE, prompt="none").url))
    assert params["error"] == "account_selection_required"


def test_select_account_asks_again_rather_than_signing_in_again(
        client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    sign_in_for(client, portal, colleague["membership"])
    asked = client.get(auth_request(portal, scope=SCOPE, prompt="select_account").url)
    assert asked.status_code == 200  # the choice again, not the sign-in page
    assert "/authorize/organisation" in asked.get_data(as_text=True)


def test_a_silent_reauthentication_keeps_acting_for_the_same_organisation(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    sign_in_for(client, portal, colleague["membership"])
    request = auth_request(portal, scope=SCOPE, prompt="none")
    params = redirect_params(client.get(request.url))
    body = exchange(client, portal, params["code"], request.verifier).json
    _, claims = verify_id_token(client, body["id_token"])
    assert claims["organization"]["tax_code"] == TAX_CODE


def _set_status(app: Flask, membership_id: int, status: MembershipStatus) -> None:
    with app.app_context():
        db.session.get(OrganisationMember, membership_id).status = status
        db.session.commit()


def test_suspension_stops_codes_access_and_refresh_tokens_at_once(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    params, request = sign_in_for(client, portal, colleague["membership"], prompt="select_account")
    _set_status(app, colleague["membership_id"], MembershipStatus.SUSPENDED)
    assert exchange(client, portal, params["code"], request.verifier).json["error"] == "invalid_grant"
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 401
    assert refresh(client, portal, body["refresh_token"]).json["error"] == "invalid_grant"
    _set_status(app, colleague["membership_id"], MembershipStatus.ACTIVE)  # reinstated
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200


def test_a_withdrawn_organisation_verification_stops_its_tokens(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    with app.app_context():
        db.session.get(OrganisationRow, colleague["organisation_id"]).status = \
            OrganisationStatus.REVOKED
        db.session.commit()
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 401
    introspected = client.post("/token/introspect", data={"token": body["access_token"]},
                               headers=portal.auth()["headers"])
    assert introspected.json == {"active": False}


def test_a_choice_of_someone_elses_membership_is_refused(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    with app.app_context():
        rep_membership = db.session.scalar(select(OrganisationMember).where(
            OrganisationMember.role == MemberRole.REPRESENTATIVE)).public_id
    sign_in(client, COLLEAGUE_ID)
    page = client.get(auth_request(portal, scope=SCOPE).url)
    token = csrf_token(client, "/login")
    for value in (rep_membership, "", "x" * 5000, "ủy quyền"):
        answered = client.post(_choice_action(page.get_data(as_text=True)),
                               data={"csrf_token": token, "organisation": value})
        assert answered.status_code == 400
        assert "/authorize/organisation" in answered.get_data(as_text=True)


def test_a_forged_or_foreign_choice_marker_is_ignored(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    request = auth_request(portal, scope=SCOPE)
    answered = choose(client, client.get(request.url), colleague["membership"])
    marker = parse_qs(urlsplit(answered.headers["Location"]).query)["_postid_org"][0]
    other = app.test_client()
    sign_in(other, COLLEAGUE_ID)  # another session of the same person
    for client_, value in ((other, marker), (client, marker[:-2] + "xx")):
        page = client_.get(auth_request(portal, scope=SCOPE, _postid_org=value).url)
        assert page.status_code == 200
        assert "/authorize/organisation" in page.get_data(as_text=True)  # asked again


def test_the_choice_form_needs_csrf(client: FlaskClient, portal: Portal,
                                    colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    page = client.get(auth_request(portal, scope=SCOPE).url)
    answered = client.post(_choice_action(page.get_data(as_text=True)),
                           data={"organisation": colleague["membership"]})
    assert answered.status_code == 400


def test_without_the_scope_nothing_changes(client: FlaskClient, portal: Portal,
                                           colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    params = redirect_params(authorize(client, auth_request(portal, scope="openid profile")))
    assert "code" in params


def test_the_code_records_the_membership(app: Flask, client: FlaskClient, portal: Portal,
                                         colleague: dict[str, Any]) -> None:
    sign_in(client, COLLEAGUE_ID)
    sign_in_for(client, portal, colleague["membership"])
    with app.app_context():
        code = db.session.scalar(select(AuthorizationCode))
        assert code.organisation_member_id == colleague["membership_id"]


def test_a_dvcqg_portal_gets_the_national_portal_names_for_the_organisation(
        app: Flask, client: FlaskClient, colleague: dict[str, Any]) -> None:
    portal = registered_portal(app, scope=SCOPE, claims_profile="dvcqg")
    sign_in(client, COLLEAGUE_ID)
    body = tokens_for(client, portal, colleague["membership"])
    _, claims = verify_id_token(client, body["id_token"])
    assert claims["LoaiTaiKhoan"] == "2"
    assert claims["MaSoThue"] == TAX_CODE and claims["TenDoanhNghiep"] == "Công ty TNHH Sen Vàng"
    # The person's own data is in the ID token only when asked for by name (it travels in
    # URLs as id_token_hint); userinfo has it.
    assert "HoVaTen" not in claims and "SoDinhDanh" not in claims
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json["LoaiTaiKhoan"] == "2" and info.json["MaSoDoanhNghiep"] == TAX_CODE
    assert info.json["HoVaTen"] == "Trần Thị Bích Ngọc" and "SoDinhDanh" not in info.json
    asked = '{"id_token": {"HoVaTen": null}}'
    params, request = sign_in_for(client, portal, "self", prompt="select_account", claims=asked)
    as_self = exchange(client, portal, params["code"], request.verifier).json
    _, claims = verify_id_token(client, as_self["id_token"])
    assert claims["LoaiTaiKhoan"] == "1" and "MaSoThue" not in claims
    assert claims["HoVaTen"] == "Trần Thị Bích Ngọc"  # asked for by name


def test_prompt_none_without_consent_reveals_nothing_about_organisations(
        app: Flask, client: FlaskClient, portal: Portal, colleague: dict[str, Any]) -> None:
    citizen(app, national_id="001199000777", phone="0987654321", email="x@example.vn",
            birthdate=date(1999, 1, 2), gender="female", full_name="Lê Thị Hồng")
    for identifier in (COLLEAGUE_ID, "001199000777"):  # a member, and a person with none
        browser = app.test_client()
        sign_in(browser, identifier)
        params = redirect_params(browser.get(auth_request(portal, scope=SCOPE, prompt="none").url))
        assert params["error"] == "consent_required"

"""Registering an organisation (/business/register): the kinds of tax code, every refusal
(audited, nothing stored), the daily cap, and a stale registration of someone else's code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from idp.domain.tax_code import check_digit
from idp.extensions import db
from idp.models import (
    Account,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    OrganisationVerification,
    RejectReason,
    VerificationStatus,
)
from idp.models.base import utcnow
from tests.business.helpers import (
    SECOND,
    browser,
    count,
    events,
    memberships,
    organisations,
    person,
    post,
    refusals,
)
from tests.conftest import csrf_token
from tests.organisation_factories import (
    pending_organisation_check,
    registered_organisation,
    submitted_organisation_check,
)
from tests.staff_factories import enrolled_clerk, post_office

PAGE = "/business/register"
FORM = {"tax_code": "0100233488", "name": "Công ty TNHH Sen Vàng", "province_code": "01",
        "ward": "Phường Hoàn Kiếm", "street": "35 Ngô Quyền", "title": "director"}


def register(client, **changes: str):  # type: ignore[no-untyped-def]
    return post(client, PAGE, PAGE, **{**FORM, **changes})


def valid_tax_codes(n: int) -> list[str]:
    codes = []
    sequence = 1
    while len(codes) < n:
        first_nine = f"01{sequence:07d}"
        digit = check_digit(first_nine)
        if digit is not None and digit < 10:
            codes.append(first_nine + str(digit))
        sequence += 1
    return codes


def test_requires_sign_in(client) -> None:
    for path in ("/business/", PAGE):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_register_an_enterprise(app: Flask) -> None:
    client = browser(app)
    assert client.get(PAGE).status_code == 200
    response = register(client, name="  Công ty   TNHH\u00a0Sen Vàng ")
    assert response.status_code == 303
    [organisation] = organisations(app)
    assert response.headers["Location"].startswith(f"/business/{organisation.public_id}")
    assert (organisation.tax_code, organisation.tax_code_kind.value, organisation.status) == (
        "0100233488", "enterprise", OrganisationStatus.UNVERIFIED)
    assert organisation.name == "Công ty TNHH Sen Vàng" and len(organisation.public_id) == 22
    assert organisation.head_office == {"street": "35 Ngô Quyền", "ward": "Phường Hoàn Kiếm",
                                        "province_code": "01"}
    [member] = memberships(app)
    assert (member.role, member.status, member.account_id, member.live_national_id) == (
        MemberRole.REPRESENTATIVE, MembershipStatus.ACTIVE, organisation.representative_account_id,
        "001099012345")
    assert events(app, "organisation.register") == [
        {"organisation": organisation.public_id, "kind": "enterprise"}]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The organisation is registered" in page and "Get verified at a post office" in page


@pytest.mark.parametrize("typed", ["0314409058-002", "0314409058002", "0314 409 058 - 002"])
def test_register_a_dependent_unit(app: Flask, typed: str) -> None:
    client = browser(app)
    assert register(client, tax_code=typed, title="unit_head").status_code == 303
    [organisation] = organisations(app)
    assert (organisation.tax_code, organisation.tax_code_kind.value) == ("0314409058-002", "dependent_unit")


def test_household_head_registers_with_own_id(app: Flask) -> None:
    client = browser(app)
    assert register(client, tax_code="001 099 012 345", title="household_head").status_code == 303
    [organisation] = organisations(app)
    assert (organisation.tax_code, organisation.tax_code_kind.value) == ("001099012345", "household")


@pytest.mark.parametrize(("changes", "status", "reason"), [
    ({"tax_code": "0100233480"}, 400, "tax_code.checksum"),
    ({"tax_code": "01002334"}, 400, "tax_code.format"),
    ({"tax_code": "0100233488-000"}, 400, "tax_code.suffix"),
    ({"tax_code": "ĐĐĐ"}, 400, "tax_code.format"),
    ({"tax_code": ""}, 400, "tax_code.format"),
    ({"tax_code": "9" * 5000}, 400, "tax_code.format"),
    ({"tax_code": "079303001234", "title": "household_head"}, 400, "organisation.household_not_own"),
    ({"title": "household_head"}, 400, "organisation.household_head_kind"),
    ({"title": "unit_head"}, 400, "organisation.unit_head_kind"),
    ({"tax_code": "001099012345"}, 400, "organisation.household_title"),
    ({"title": "chief"}, 400, "organisation.title"),
    ({"title": ""}, 400, "organisation.title"),
    ({"name": ""}, 400, "organisation.name"),
    ({"name": "A"}, 400, "organisation.name"),
    ({"name": "x" * 201}, 400, "organisation.name"),
    ({"name": "Sen Vàng" * 5000}, 400, "organisation.name"),
    ({"name": "Sen\x00Vàng"}, 400, "organisation.name"),
    ({"name": "Sen\u202eVàng"}, 400, "organisation.name"),
    ({"province_code": "99"}, 400, "address.province"),
    ({"ward": ""}, 400, "address.ward"),
    ({"street": "x" * 20000}, 400, "address.street"),
    ({"street": "35\x07Ngô Quyền"}, 400, "address.street"),
])
def test_refusals_store_nothing_but_their_event(app: Flask, changes: dict[str, str], status: int,
                                                reason: str) -> None:
    client = browser(app)
    response = register(client, **changes)
    assert response.status_code == status
    assert 'class="error-message"' in response.get_data(as_text=True)
    assert organisations(app) == [] and memberships(app) == []
    assert refusals(app) == [(reason, "register")]


def test_missing_and_repeated_fields(app: Flask) -> None:
    client = browser(app)
    response = client.post(PAGE, data={"csrf_token": _token(client)})
    assert response.status_code == 400 and organisations(app) == []
    repeated = client.post(PAGE, data=MultiDict([("csrf_token", _token(client)), *FORM.items(),
                                                 ("tax_code", "0100233480")]))
    assert repeated.status_code == 303  # the first value counts
    assert [o.tax_code for o in organisations(app)] == ["0100233488"]


def _token(client) -> str:  # type: ignore[no-untyped-def]
    return csrf_token(client, PAGE)


def test_without_csrf_token_nothing_happens(app: Flask) -> None:
    client = browser(app)
    assert client.post(PAGE, data=FORM).status_code == 400
    assert organisations(app) == [] and refusals(app) == []


@pytest.mark.parametrize("typed", ["0100233488", "0100 233 488", "01-00233488", "０１００２３３４８８"])
def test_one_organisation_per_tax_code(app: Flask, typed: str) -> None:
    assert register(browser(app)).status_code == 303
    for client in (browser(app), browser(app, SECOND)):
        response = register(client, tax_code=typed, name="Another name")
        assert response.status_code == 409
    assert [o.name for o in organisations(app)] == ["Công ty TNHH Sen Vàng"]
    assert refusals(app) == [("organisation.duplicate", "register")] * 2


def test_a_race_on_the_tax_code_is_a_duplicate(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another registration commits after our look-up of the tax code and before our insert:
    the unique index refuses ours with the same answer as a sequential duplicate."""
    client = browser(app)
    other = person(app, SECOND)
    from idp.services.business import organisations as service

    calls = []

    def clock():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # the insert's timestamp: the look-up is done
            with db.engine.begin() as connection:
                connection.execute(db.insert(Organisation).values(
                    public_id="x" * 22, tax_code="0100233488", tax_code_kind="enterprise",
                    name="Concurrent", head_office={}, representative_account_id=other,
                    representative_title="director"))
        return utcnow()

    monkeypatch.setattr(service, "utcnow", clock)
    response = register(client)
    assert len(calls) == 2 and response.status_code == 409
    assert [o.name for o in organisations(app)] == ["Concurrent"]
    assert memberships(app) == []
    assert refusals(app) == [("organisation.duplicate", "register")]


def test_at_most_five_registrations_a_day(app: Flask) -> None:
    client = browser(app)
    codes = valid_tax_codes(6)
    for code in codes[:5]:
        assert register(client, tax_code=code).status_code == 303
    assert register(client, tax_code=codes[5]).status_code == 429
    assert count(app, Organisation) == 5
    assert refusals(app) == [("organisation.too_many", "register")]
    with app.app_context():  # a day later the cap is free again
        for organisation in db.session.scalars(db.select(Organisation)):
            organisation.created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    assert register(client, tax_code=codes[5]).status_code == 303


# --- squatting: a stale unverified registration of someone else's tax code ----------------


def _squatted(app: Flask, *, days: int, check: str | None = None) -> str:
    squatter = person(app, SECOND)
    with app.app_context():
        organisation = registered_organisation(db.session.get(Account, squatter),
                                               created_at=utcnow() - timedelta(days=days))
        if check == "pending":
            pending_organisation_check(organisation)
        elif check == "submitted":
            submitted_organisation_check(organisation, enrolled_clerk(post_office()))
        elif check == "rejected_as_fraud":
            submitted_organisation_check(
                organisation, enrolled_clerk(post_office()), status=VerificationStatus.REJECTED,
                live_organisation_id=None, reject_reason=RejectReason.SUSPECTED_FRAUD,
                decided_at=utcnow())
        return organisation.public_id


def test_a_stale_registration_by_someone_else_is_replaced(app: Flask) -> None:
    stale = _squatted(app, days=31, check="pending")
    client = browser(app)
    assert register(client).status_code == 303
    [organisation] = organisations(app)
    assert organisation.public_id != stale
    assert organisation.representative_account_id == person(app, {"national_id": "001099012345"})
    assert count(app, OrganisationVerification) == 0 and count(app, OrganisationMember) == 1
    assert events(app, "organisation.register") == [
        {"organisation": organisation.public_id, "kind": "enterprise", "replaced": stale}]


@pytest.mark.parametrize(("days", "check"), [(29, None), (40, "submitted")])
def test_a_recent_or_checked_registration_holds_its_tax_code(app: Flask, days: int,
                                                             check: str | None) -> None:
    held = _squatted(app, days=days, check=check)
    assert register(browser(app)).status_code == 409
    assert [o.public_id for o in organisations(app)] == [held]
    with app.app_context():
        statuses = list(db.session.scalars(db.select(OrganisationVerification.status)))
    assert statuses == ([VerificationStatus.SUBMITTED] if check else [])
    assert refusals(app) == [("organisation.duplicate", "register")]


def test_a_rejected_check_does_not_make_a_squat_permanent(app: Flask) -> None:
    """Only an approval holds a registration for good (reviewer's H2)."""
    stale = _squatted(app, days=31, check="rejected_as_fraud")
    assert register(browser(app)).status_code == 303
    [organisation] = organisations(app)
    assert organisation.public_id != stale
    assert organisation.representative_account_id == person(app, {"national_id": "001099012345"})
    assert events(app, "organisation.register")[-1]["replaced"] == stale


def test_a_rejected_check_does_not_shorten_the_hold(app: Flask) -> None:
    held = _squatted(app, days=29, check="rejected_as_fraud")
    assert register(browser(app)).status_code == 409
    assert [o.public_id for o in organisations(app)] == [held]


def test_own_stale_registration_is_not_replaced(app: Flask) -> None:
    client = browser(app)
    assert register(client).status_code == 303
    with app.app_context():
        db.session.execute(db.update(Organisation).values(created_at=utcnow() - timedelta(days=60)))
        db.session.commit()
    assert register(client).status_code == 409
    assert count(app, Organisation) == 1


def test_an_identity_not_verified_at_a_counter_cannot_register(app: Flask) -> None:
    client = browser(app, verified=False)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="identity-not-verified"' in page and 'name="tax_code"' not in page
    response = register(client)
    assert response.status_code == 403
    assert organisations(app) == [] and memberships(app) == []
    assert refusals(app) == [("organisation.identity_not_verified", "register")]


def test_an_empty_form_shows_every_problem_in_one_round(app: Flask) -> None:
    client = browser(app)
    response = register(client, tax_code="", name="", province_code="", ward="", street="",
                        title="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[page.index('id="error-summary"'):page.index("</ul>")]
    targets = re.findall(r'href="#([a-z_]+)"', summary)
    assert targets == ["tax_code", "name", "province_code", "ward", "street", "title"]
    assert page.count('class="error-message"') == 6
    assert organisations(app) == [] and memberships(app) == []
    [event] = events(app, "organisation.refused")
    assert (event["reason"], event["also"]) == ("tax_code.format", [
        "organisation.name", "address.province", "address.ward", "address.street",
        "organisation.title"])


def test_the_tax_code_message_tells_a_household_business_to_use_its_heads_id(app: Flask) -> None:
    page = register(browser(app), tax_code="12345").get_data(as_text=True)
    assert "12-digit personal ID number of its head" in page


def test_the_title_is_checked_against_a_valid_tax_code_in_the_same_round(app: Flask) -> None:
    page = register(browser(app), name="", title="unit_head").get_data(as_text=True)
    assert 'href="#name"' in page and 'href="#title"' in page
    assert refusals(app) == [("organisation.name", "register")]

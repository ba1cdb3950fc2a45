"""Managing members (/business/<id>/members/...): invitations, suspend, reinstate, remove, role
and dates, with every refusal audited and changing nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import MemberRole, MembershipStatus, OutboxMessage
from idp.models.base import utcnow
from idp.services.platform.clock import today_in_vietnam
from tests.business.helpers import (
    SECOND,
    STRANGER,
    THIRD,
    browser,
    events,
    membership_of,
    memberships,
    organisation_with,
    person,
    post,
    refusals,
    snapshot,
)

INVITE = {"national_id": "001 088 004 321", "role": "member", "valid_from": "", "valid_until": ""}


def invite(client, public_id: str, **changes: str):  # type: ignore[no-untyped-def]
    return post(client, f"/business/{public_id}/members/invite", f"/business/{public_id}",
                **{**INVITE, **changes})


def act(client, public_id: str, member_public_id: str, action: str):  # type: ignore[no-untyped-def]
    return post(client, f"/business/{public_id}/members/{member_public_id}/{action}",
                f"/business/{public_id}")


def edit(client, public_id: str, member_public_id: str, **data: str):  # type: ignore[no-untyped-def]
    path = f"/business/{public_id}/members/{member_public_id}"
    return post(client, path, f"/business/{public_id}", **data)


def sms_to(app: Flask, who: dict) -> list[str]:  # type: ignore[type-arg]
    account_id = person(app, who)
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.account_id == account_id, OutboxMessage.template == "organisation.invitation")))


NOTICE_RE = re.compile(r'<div class="alert alert-info" role="status" id="notice">.*?</div>', re.S)


def test_a_mistyped_number_is_shown_as_typed_and_can_be_withdrawn(app: Flask) -> None:
    public_id = organisation_with(app)
    client = browser(app)
    typo = invite(client, public_id, national_id="001088004312")  # meant 001088004321
    assert typo.status_code == 303
    [_, row] = memberships(app)
    assert typo.headers["Location"] == f"/business/{public_id}?done=invited&member={row.public_id}#notice"
    page = client.get(typo.headers["Location"]).get_data(as_text=True)
    assert "ID number invited: <strong class=\"mono invited-number\">001088004312</strong>" in page
    withdraw = f"/business/{public_id}/members/{row.public_id}/cancel"
    assert f'action="{withdraw}"' in page
    assert post(client, withdraw, f"/business/{public_id}").status_code == 303
    assert memberships(app)[-1].status is MembershipStatus.CANCELLED
    # Over: the number is masked again, and a stale link names no number.
    page = client.get(typo.headers["Location"]).get_data(as_text=True)
    assert "001088004312" not in page and "•••••••••312" in page and "invited-number" not in page


def day(offset: int) -> str:
    return (today_in_vietnam() + timedelta(days=offset)).strftime("%d/%m/%Y")


# --- invitations ---------------------------------------------------------------------------


def test_invite_a_person_with_an_account(app: Flask) -> None:
    public_id = organisation_with(app)
    person(app, THIRD)
    client = browser(app)
    response = invite(client, public_id, valid_from=day(0), valid_until=day(365), role="admin")
    assert response.status_code == 303
    row = membership_of(app, THIRD)
    assert (row.status, row.role, row.account_id, row.live_national_id) == (
        MembershipStatus.INVITED, MemberRole.ADMIN, None, "001088004321")
    assert (row.valid_from, row.valid_until) == (today_in_vietnam(), today_in_vietnam() + timedelta(days=365))
    assert timedelta(days=13, hours=23) < row.invitation_expires_at - utcnow() <= timedelta(days=14)
    assert events(app, "organisation.member.invite") == [
        {"organisation": public_id, "membership": row.public_id, "role": "admin", "status": "invited"}]
    [sms] = sms_to(app, THIRD)
    assert "Công ty TNHH Sen Vàng" in sms  # in the invitee's locale (Vietnamese by default)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # The number as typed, in the notice and the open invitation's row: a typo can be seen.
    assert '<strong class="mono invited-number">001088004321</strong>' in page
    assert '<span class="mono">001088004321</span>' in page and "•••" not in page
    assert "The invitation is recorded." in page and "was sent" not in page


def test_the_answer_does_not_tell_whether_an_account_exists(app: Flask) -> None:
    public_id = organisation_with(app)
    client = browser(app)
    person(app, THIRD)  # THIRD has an account; 001077001122 has none
    with_account = invite(client, public_id)
    without = invite(client, public_id, national_id="001077001122")
    with_row, without_row = membership_of(app, THIRD), memberships(app)[-1]
    assert (with_account.status_code, with_account.headers["Location"].replace(with_row.public_id, "X")) == (
        without.status_code, without.headers["Location"].replace(without_row.public_id, "X"))
    notices = [NOTICE_RE.search(client.get(r.headers["Location"]).get_data(as_text=True)).group(0)
               for r in (with_account, without)]
    assert notices[0].replace("001088004321", "N") == notices[1].replace("001077001122", "N")
    assert len(memberships(app)) == 3 and len(sms_to(app, THIRD)) == 1  # told by SMS only


@pytest.mark.parametrize(("changes", "reason", "field"), [
    ({"national_id": "12345"}, "national_id.format", "national_id"),
    ({"national_id": "123456789"}, "national_id.legacy_cmnd", "national_id"),
    ({"national_id": "999088004321"}, "national_id.unknown_prefix", "national_id"),
    ({"national_id": "001215000000"}, "member.national_id_age", "national_id"),  # born 2015
    ({"national_id": "０" * 4000}, "national_id.format", "national_id"),
    ({"national_id": "001099012345"}, "organisation.self_invite", "national_id"),
    ({"role": "representative"}, "member.role", "role"),
    ({"role": "ädmin"}, "member.role", "role"),
    ({"valid_from": "31/02/2026"}, "member.date", "valid_from"),
    ({"valid_until": "tomorrow"}, "member.date", "valid_until"),
    ({"valid_until": "1" * 5000}, "member.date", "valid_until"),
    ({"valid_from": "", "valid_until": "01/01/2020"}, "member.until_past", "valid_until"),
    ({"valid_from": "+10", "valid_until": "+5"}, "member.until_before_from", "valid_until"),
    ({"valid_until": "+4000"}, "member.too_far", "valid_until"),
])
def test_invalid_invitations_are_refused(app: Flask, changes: dict[str, str], reason: str,
                                         field: str) -> None:
    public_id = organisation_with(app)
    changes = {k: day(int(v[1:])) if v.startswith("+") else v for k, v in changes.items()}
    client = browser(app)
    before = snapshot(app)
    response = invite(client, public_id, **changes)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert snapshot(app) == before and refusals(app) == [(reason, "invite")]


def test_duplicate_invitation_is_refused(app: Flask) -> None:
    public_id = organisation_with(app, second="member")
    client = browser(app)
    assert invite(client, public_id).status_code == 303
    before = snapshot(app)
    assert invite(client, public_id, role="admin").status_code == 409
    assert invite(client, public_id, national_id=SECOND["national_id"]).status_code == 409
    assert snapshot(app) == before
    assert refusals(app) == [("organisation.already_member", "invite")] * 2


def test_an_expired_invitation_frees_the_number(app: Flask) -> None:
    public_id = organisation_with(app, third="invited")
    with app.app_context():
        db.session.execute(db.update(db.metadata.tables["organisation_member"])
                           .where(db.metadata.tables["organisation_member"].c.status == "invited")
                           .values(invitation_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert invite(browser(app), public_id).status_code == 303
    statuses = [m.status for m in memberships(app) if m.national_id == THIRD["national_id"]]
    assert statuses == [MembershipStatus.EXPIRED, MembershipStatus.INVITED]
    assert len(events(app, "organisation.member.expire")) == 1


@pytest.mark.parametrize(("members", "who", "status", "reason"), [
    ({}, None, 409, "organisation.not_verified"),  # the representative of an unverified one
    ({"second": "member"}, SECOND, 403, "organisation.forbidden"),
    ({"second": "suspended_admin"}, SECOND, 403, "organisation.forbidden"),
    ({"second": "lapsed_admin"}, SECOND, 403, "organisation.forbidden"),
    ({"second": "lapsed"}, SECOND, 403, "organisation.forbidden"),
    ({}, STRANGER, 404, "organisation.not_found"),
])
def test_who_may_not_invite(app: Flask, members: dict[str, str], who: dict | None,  # type: ignore[type-arg]
                            status: int, reason: str) -> None:
    public_id = organisation_with(app, verified=who is not None, **members)
    client = browser(app, who) if who else browser(app)
    before = snapshot(app)
    response = client.post(f"/business/{public_id}/members/invite",
                           data={"csrf_token": _token(client), **INVITE})
    assert response.status_code == status
    assert snapshot(app) == before and refusals(app) == [(reason, "invite")]


def _token(client) -> str:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token
    return csrf_token(client, "/business/")


def test_non_managers_see_no_management_forms(app: Flask) -> None:
    public_id = organisation_with(app, second="member", third="admin")
    member_page = browser(app, SECOND).get(f"/business/{public_id}").get_data(as_text=True)
    assert "/members/" not in member_page
    admin_page = browser(app, THIRD).get(f"/business/{public_id}").get_data(as_text=True)
    assert f"/business/{public_id}/members/invite" in admin_page
    second = membership_of(app, SECOND)
    assert f"/members/{second.public_id}/suspend" in admin_page


def test_an_admin_invites(app: Flask) -> None:
    public_id = organisation_with(app, second="admin")
    assert invite(browser(app, SECOND), public_id).status_code == 303
    assert membership_of(app, THIRD).invited_by == person(app, SECOND)


def test_without_csrf_token_nothing_happens(app: Flask) -> None:
    public_id = organisation_with(app, second="member")
    client = browser(app)
    second = membership_of(app, SECOND)
    before = snapshot(app)
    assert client.post(f"/business/{public_id}/members/invite", data=INVITE).status_code == 400
    assert client.post(f"/business/{public_id}/members/{second.public_id}/remove").status_code == 400
    assert client.post(f"/business/{public_id}/members/{second.public_id}",
                       data={"role": "admin"}).status_code == 400
    assert snapshot(app) == before and refusals(app) == []


# --- status changes -----------------------------------------------------------------------


def test_suspend_reinstate_remove(app: Flask) -> None:
    public_id = organisation_with(app, second="admin", third="member")
    admin = browser(app, SECOND)
    third = membership_of(app, THIRD)
    for action, status in (("suspend", MembershipStatus.SUSPENDED), ("reinstate", MembershipStatus.ACTIVE),
                           ("remove", MembershipStatus.REMOVED)):
        response = act(admin, public_id, third.public_id, action)
        assert response.status_code == 303, action
        row = membership_of(app, THIRD)
        assert row.status is status and row.changed_by == person(app, SECOND)
        assert act(admin, public_id, third.public_id, action).status_code == 303  # a retry: no-op
        assert [e["status"] for e in events(app, f"organisation.member.{action}")] == [status.value]
    row = membership_of(app, THIRD)
    assert row.live_national_id is None and row.ended_at is not None
    assert browser(app, THIRD).get(f"/business/{public_id}").status_code == 404
    assert refusals(app) == []


def test_cancel_an_invitation(app: Flask) -> None:
    public_id = organisation_with(app, third="invited")
    client = browser(app)
    third = membership_of(app, THIRD)
    assert act(client, public_id, third.public_id, "cancel").status_code == 303
    row = membership_of(app, THIRD)
    assert (row.status, row.live_national_id) == (MembershipStatus.CANCELLED, None)
    assert act(client, public_id, third.public_id, "cancel").status_code == 303
    assert len(events(app, "organisation.member.cancel")) == 1
    assert invite(client, public_id).status_code == 303  # can be invited again


@pytest.mark.parametrize(("state", "action"), [
    ("invited", "suspend"), ("invited", "remove"), ("member", "cancel"), ("removed", "reinstate"),
    ("suspended", "cancel"),
])
def test_changes_that_do_not_apply_to_the_status(app: Flask, state: str, action: str) -> None:
    public_id = organisation_with(app, third=state)
    before = snapshot(app)
    response = act(browser(app), public_id, membership_of(app, THIRD).public_id, action)
    assert response.status_code == 409
    assert snapshot(app) == before and refusals(app) == [("organisation.member_state", action)]


@pytest.mark.parametrize("action", ["suspend", "remove"])
def test_nobody_touches_the_representative(app: Flask, action: str) -> None:
    public_id = organisation_with(app, second="admin")
    representative = membership_of(app, {"national_id": "001099012345"})
    before = snapshot(app)
    assert act(browser(app, SECOND), public_id, representative.public_id, action).status_code == 403
    assert act(browser(app), public_id, representative.public_id, action).status_code == 403
    assert edit(browser(app, SECOND), public_id, representative.public_id, role="member").status_code == 403
    assert snapshot(app) == before
    assert refusals(app) == [("organisation.representative_protected", action)] * 2 + [
        ("organisation.representative_protected", "update")]


def test_an_admin_does_not_act_on_their_own_membership(app: Flask) -> None:
    public_id = organisation_with(app, second="admin")
    own = membership_of(app, SECOND)
    before = snapshot(app)
    client = browser(app, SECOND)
    assert act(client, public_id, own.public_id, "remove").status_code == 403
    assert edit(client, public_id, own.public_id, role="member").status_code == 403
    assert snapshot(app) == before
    assert refusals(app) == [("organisation.own_membership", "remove"),
                             ("organisation.own_membership", "update")]


@pytest.mark.parametrize(("state", "reason", "status"), [
    ("suspended_admin", "organisation.forbidden", 403),
    ("lapsed_admin", "organisation.forbidden", 403),
    ("member", "organisation.forbidden", 403),
])
def test_managers_must_be_current(app: Flask, state: str, reason: str, status: int) -> None:
    public_id = organisation_with(app, second=state, third="member")
    before = snapshot(app)
    response = act(browser(app, SECOND), public_id, membership_of(app, THIRD).public_id, "suspend")
    assert response.status_code == status
    assert snapshot(app) == before and refusals(app) == [(reason, "suspend")]


@pytest.mark.parametrize("state", ["suspended_admin", "lapsed_admin", "revoked_admin",
                                   "unverified_admin"])
def test_only_current_managers_see_the_members(app: Flask, state: str) -> None:
    """The member list and the edit page follow the rule of the POSTs (reviewer's L2)."""
    public_id = organisation_with(app, verified=state != "unverified_admin",
                                  second="admin" if state in ("revoked_admin", "unverified_admin")
                                  else state, third="member")
    if state == "revoked_admin":
        with app.app_context():
            from idp.models import Organisation, OrganisationStatus
            organisation = db.session.scalar(select(Organisation).where(
                Organisation.public_id == public_id))
            organisation.status = OrganisationStatus.REVOKED
            db.session.commit()
    third = membership_of(app, THIRD)
    client = browser(app, SECOND)
    page = client.get(f"/business/{public_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert THIRD["full_name"] not in text and f"member-{third.public_id}" not in text
    assert "/members/" not in text
    assert client.get(f"/business/{public_id}/members/{third.public_id}").status_code == 404
    before = snapshot(app)
    response = edit(client, public_id, third.public_id, role="admin")
    assert response.status_code in (403, 409)
    assert THIRD["full_name"] not in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert refusals(app)[-1][1] == "update"


def test_members_of_another_organisation_are_not_found(app: Flask) -> None:
    public_id = organisation_with(app, second="member")
    with app.app_context():
        from idp.models import Account
        from tests.organisation_factories import verified_organisation
        verified_organisation(db.session.get(Account, person(app, THIRD)), tax_code="0314409058")
    others = [m for m in memberships(app) if m.national_id == THIRD["national_id"]]
    response = act(browser(app), public_id, others[0].public_id, "suspend")
    assert response.status_code == 404
    assert act(browser(app), public_id, "x" * 22, "suspend").status_code == 404
    assert act(browser(app), public_id, membership_of(app, SECOND).public_id, "promote").status_code == 404
    assert refusals(app) == [("organisation.member_not_found", "suspend")] * 2


# --- role and dates -----------------------------------------------------------------------


def test_change_role_and_dates(app: Flask) -> None:
    public_id = organisation_with(app, second="admin", third="member")
    client = browser(app, SECOND)
    third = membership_of(app, THIRD)
    form = client.get(f"/business/{public_id}/members/{third.public_id}")
    assert form.status_code == 200 and 'name="valid_until"' in form.get_data(as_text=True)
    response = edit(client, public_id, third.public_id, role="admin", valid_from="", valid_until=day(30))
    assert response.status_code == 303
    row = membership_of(app, THIRD)
    assert (row.role, row.valid_from, row.valid_until) == (MemberRole.ADMIN, None, today_in_vietnam() + timedelta(days=30))
    assert row.version == third.version + 1
    assert events(app, "organisation.member.update") == [
        {"organisation": public_id, "membership": third.public_id, "role": "admin", "status": "active"}]
    # The same change again: a success that changes nothing.
    assert edit(client, public_id, third.public_id, role="admin", valid_until=day(30)).status_code == 303
    assert membership_of(app, THIRD).version == row.version
    # Demoting an admin back to member is allowed; an invalid date is refused.
    assert edit(client, public_id, third.public_id, role="member", valid_until=day(30)).status_code == 303
    before = snapshot(app)
    assert edit(client, public_id, third.public_id, role="member", valid_until="01/01/2001").status_code == 400
    assert edit(client, public_id, third.public_id, role="representative").status_code == 400
    assert snapshot(app) == before
    assert refusals(app) == [("member.until_past", "update"), ("member.role", "update")]


def test_a_lapsed_member_keeps_past_dates_when_only_the_role_changes(app: Flask) -> None:
    public_id = organisation_with(app, third="lapsed")
    third = membership_of(app, THIRD)
    response = edit(browser(app), public_id, third.public_id, role="admin",
                    valid_from="01/01/2020", valid_until="31/12/2021")
    assert response.status_code == 303
    row = membership_of(app, THIRD)
    assert (row.role, row.valid_until) == (MemberRole.ADMIN, date(2021, 12, 31))


def test_the_edit_form_is_for_managers_only(app: Flask) -> None:
    public_id = organisation_with(app, second="member", third="member")
    third = membership_of(app, THIRD)
    assert browser(app, SECOND).get(f"/business/{public_id}/members/{third.public_id}").status_code == 404
    assert browser(app).get(f"/business/{public_id}/members/{'y' * 22}").status_code == 404

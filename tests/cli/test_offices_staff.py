"""`idp offices ...` and `idp staff ...` through Click's runner: exit codes (0 done, 1 refused
with one line and nothing written, 2 usage), the password from stdin only, JSON output."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import AuditEvent, PostOffice, StaffMember, StaffSession, StaffStatus
from idp.services.platform import passwords
from idp.services.staff import sessions as staff_sessions
from idp.services.staff import signin
from tests.conftest import csrf_token

OFFICE = ["offices", "create", "--code", "hn-boho", "--name", "Bưu điện Bờ Hồ", "--province", "01"]
STAFF = ["staff", "create", "--username", "lan.nguyen", "--national-id", "001190012345",
         "--full-name", "Nguyễn Thị Lan", "--office", "HN-BOHO", "--role", "clerk",
         "--password-stdin"]
PASSWORD = "counter desk opens at seven\n"


def replace(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


def count(app, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def assert_refused(result, code: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and f"[{code}]" in lines[0], result.stderr


@pytest.fixture
def office(runner) -> dict:
    result = runner.invoke(cli, [*OFFICE, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_office_json_and_list(app, runner, office):
    assert office["code"] == "HN-BOHO" and office["name"] == "Bưu điện Bờ Hồ"
    assert office["province_code"] == "01" and office["province"] == "Hà Nội"
    plain = runner.invoke(cli, replace(replace(OFFICE, "--code", "HCM-SG"), "--province", "79"))
    assert plain.exit_code == 0 and plain.stdout == "Created post office HCM-SG (Bưu điện Bờ Hồ).\n"
    listed = runner.invoke(cli, ["offices", "list", "--json"])
    assert [o["code"] for o in json.loads(listed.stdout)] == ["HCM-SG", "HN-BOHO"]
    text = runner.invoke(cli, ["offices", "list"]).stdout.splitlines()
    assert text[0].startswith("HCM-SG") and "79" in text[0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.tag == "office.create")) == 2


def test_empty_lists(runner):
    assert runner.invoke(cli, ["offices", "list"]).stdout == "No post offices.\n"
    assert runner.invoke(cli, ["staff", "list"]).stdout == "No staff.\n"
    assert json.loads(runner.invoke(cli, ["staff", "list", "--json"]).stdout) == []


@pytest.mark.parametrize("option, value, code", [
    ("--code", "H", "office.code"),
    ("--code", "HÀ-NỘI", "office.code"),
    ("--name", "  ", "office.name"),
    ("--province", "002", "office.province"),
    ("--province", "99", "office.province"),
])
def test_create_office_refused(app, runner, option, value, code):
    assert_refused(runner.invoke(cli, replace(OFFICE, option, value)), code)
    assert count(app, PostOffice) == 0 and count(app, AuditEvent) == 0


def test_duplicate_office_refused(app, runner, office):
    assert_refused(runner.invoke(cli, OFFICE), "office.duplicate_code")
    assert count(app, PostOffice) == 1


def test_office_usage_errors(runner):
    assert runner.invoke(cli, ["offices", "create", "--code", "X1"]).exit_code == 2
    assert runner.invoke(cli, ["offices", "nope"]).exit_code == 2


def test_create_staff_json(app, runner, office):
    result = runner.invoke(cli, [*STAFF, "--json"], input=PASSWORD)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("username", "full_name", "office", "role", "status", "totp_enrolled")} \
        == {"username": "lan.nguyen", "full_name": "Nguyễn Thị Lan", "office": "HN-BOHO",
            "role": "clerk", "status": "active", "totp_enrolled": False}
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", data["enrolment_code"])
    assert "national_id" not in data and "001190012345" not in result.stdout
    with app.app_context():
        member = db.session.get(StaffMember, data["id"])
        assert passwords.verify_password(member.password_hash, PASSWORD.strip())


def test_create_staff_plain(runner, office):
    result = runner.invoke(cli, replace(STAFF, "--role", "supervisor"), input=PASSWORD)
    assert result.exit_code == 0
    assert result.stdout.startswith("Created supervisor lan.nguyen at HN-BOHO")
    assert re.search(r"Set-up code \(enrolment code\) for lan.nguyen: [A-Z2-9]{5}-[A-Z2-9]{5} ",
                     result.stdout)


def test_a_created_staff_member_needs_the_printed_set_up_code_not_only_the_password(
        app, runner, office, client):
    data = json.loads(runner.invoke(cli, [*STAFF, "--json"], input=PASSWORD).stdout)
    signed_in = client.post("/counter/login", data={
        "csrf_token": csrf_token(client, "/counter/login"), "username": "lan.nguyen",
        "password": PASSWORD.strip()})
    assert signed_in.headers["Location"] == "/counter/mfa/enrol"
    guessed = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": PASSWORD.strip()})
    assert guessed.status_code == 401
    typed = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": data["enrolment_code"]})
    assert typed.status_code == 302
    assert 'class="qr"' in client.get("/counter/mfa/enrol").get_data(as_text=True)


@pytest.mark.parametrize("option, value, code", [
    ("--username", "x", "staff.username"),
    ("--national-id", "003190012345", "national_id.unknown_prefix"),
    ("--national-id", "001325012345", "staff.national_id_age"),
    ("--full-name", "Lan 2", "name.characters"),
    ("--office", "NOWHERE", "office.unknown"),
])
def test_create_staff_refused(app, runner, office, option, value, code):
    assert_refused(runner.invoke(cli, replace(STAFF, option, value), input=PASSWORD), code)
    assert count(app, StaffMember) == 0


@pytest.mark.parametrize("password, code", [("password123\n", "password.common"),
                                            ("short\n", "password.too_short")])
def test_create_staff_weak_password_refused(app, runner, office, password, code):
    assert_refused(runner.invoke(cli, STAFF, input=password), code)
    assert count(app, StaffMember) == 0


def test_create_staff_duplicates_refused(app, runner, office):
    assert runner.invoke(cli, STAFF, input=PASSWORD).exit_code == 0
    assert_refused(runner.invoke(cli, STAFF, input=PASSWORD), "staff.duplicate_username")
    other = replace(STAFF, "--username", "other.person")
    assert_refused(runner.invoke(cli, other, input=PASSWORD), "staff.duplicate_national_id")
    assert count(app, StaffMember) == 1


def test_staff_usage_errors_write_nothing(app, runner, office):
    no_stdin_flag = [a for a in STAFF if a != "--password-stdin"]
    assert runner.invoke(cli, no_stdin_flag, input=PASSWORD).exit_code == 2
    assert runner.invoke(cli, STAFF, input="").exit_code == 2  # nothing on stdin
    assert runner.invoke(cli, replace(STAFF, "--role", "admin"), input=PASSWORD).exit_code == 2
    assert runner.invoke(cli, [*STAFF, "--password", "x"], input=PASSWORD).exit_code == 2
    assert runner.invoke(cli, ["staff", "disable"]).exit_code == 2
    assert count(app, StaffMember) == 0


def test_disable_and_list(app, runner, office):
    runner.invoke(cli, STAFF, input=PASSWORD)
    runner.invoke(cli, replace(replace(STAFF, "--username", "an.tran"), "--national-id",
                               "079090000011"), input=PASSWORD)
    with app.app_context():
        member = db.session.scalar(select(StaffMember).where(StaffMember.username == "lan.nguyen"))
        staff_sessions.open_staff_session(member, channel="web", mfa_verified=True)
        db.session.commit()
    result = runner.invoke(cli, ["staff", "disable", "LAN.NGUYEN"])
    assert result.exit_code == 0 and result.stdout == "Disabled lan.nguyen; their sessions have ended.\n"
    with app.app_context():
        member = db.session.scalar(select(StaffMember).where(StaffMember.username == "lan.nguyen"))
        assert member.status is StaffStatus.DISABLED
        assert db.session.scalar(select(func.count()).select_from(StaffSession)
                                 .where(StaffSession.ended_at.is_(None))) == 0
    assert_refused(runner.invoke(cli, ["staff", "disable", "lan.nguyen"]), "staff.already_disabled")
    assert_refused(runner.invoke(cli, ["staff", "disable", "nobody"]), "staff.unknown")
    listed = json.loads(runner.invoke(cli, ["staff", "list", "--office", "hn-boho", "--json"]).stdout)
    assert [(s["username"], s["status"]) for s in listed] == [("an.tran", "active"),
                                                             ("lan.nguyen", "disabled")]
    text = runner.invoke(cli, ["staff", "list"]).stdout.splitlines()
    assert text[1].startswith("lan.nguyen") and "disabled" in text[1]
    assert_refused(runner.invoke(cli, ["staff", "list", "--office", "NOWHERE"]), "office.unknown")


def test_reset_totp_forgets_the_authenticator_and_ends_sessions(app, runner, office, client):
    from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk

    with app.app_context():
        member = enrolled_clerk(db.session.scalar(select(PostOffice)))
        staff_sessions.open_staff_session(member, channel="web", mfa_verified=True)
        db.session.commit()
        username = member.username
    result = runner.invoke(cli, ["staff", "reset-totp", username.upper()])
    assert result.exit_code == 0, result.output
    with app.app_context():
        member = db.session.scalar(select(StaffMember).where(StaffMember.username == username))
        assert member.totp_confirmed_at is None and signin.secret_of(member) is None
        assert db.session.scalar(select(func.count()).select_from(StaffSession)
                                 .where(StaffSession.ended_at.is_(None))) == 0
        assert db.session.scalar(select(AuditEvent.tag).order_by(AuditEvent.id.desc())
                                 .limit(1)) == "staff.mfa.reset"
    # The next sign-in must set up a new authenticator, with the new set-up code, first.
    page = client.post("/counter/login", data={"csrf_token": csrf_token(client, "/counter/login"),
                                               "username": username, "password": STAFF_PASSWORD})
    assert page.status_code in (302, 303) and "/counter/mfa/enrol" in page.headers["Location"]
    new_code = re.search(r": ([A-Z2-9]{5}-[A-Z2-9]{5}) ", result.stdout).group(1)
    typed = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": new_code})
    assert typed.status_code == 302 and typed.headers["Location"] == "/counter/mfa/enrol"
    assert_refused(runner.invoke(cli, ["staff", "reset-totp", "nobody"]), "staff.unknown")

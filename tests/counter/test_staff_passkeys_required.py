"""An office that requires passkeys (docs/architecture.md §8): its staff finish the console's
second step only with a passkey, one without a passkey adds one before anything else, the last
one stays, the terminal API is closed to them; `idp offices set-passkeys-required`."""

from __future__ import annotations

import json

from sqlalchemy import select

from idp.cli import cli
from idp.extensions import db
from idp.models import PostOffice
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.counter.staff_passkeys import (
    add_passkey,
    audited,
    passkey_step,
    password_step,
    require_passkeys,
    stored,
    verified_sessions,
    with_passkey,
)
from tests.counter.staff_signin import CLERK, code_at
from tests.counter.staff_signin import make_staff as make
from tests.passkey_authenticator import SoftAuthenticator
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk


def code_step(client, code: str):
    return client.post("/counter/mfa", data={"csrf_token": csrf_token(client, "/counter/mfa"),
                                             "code": code})


def test_a_totp_code_does_not_complete_the_step_when_a_passkey_is_required(app, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    require_passkeys(app, office)
    client = app.test_client()
    password_step(client)
    page = client.get("/counter/mfa").get_data(as_text=True)
    assert "data-passkey-second-factor" in page and 'name="code"' not in page
    refused = code_step(client, code_at())
    assert refused.status_code == 403
    assert "Bưu cục của bạn yêu cầu khóa truy cập để đăng nhập." in refused.get_data(as_text=True)
    assert client.get("/counter/").headers["Location"] == "/counter/mfa"
    assert audited(app, "staff.mfa.failure")[-1]["reason"] == "passkey_required"
    done, _, _ = passkey_step(client, device)
    assert done.status_code == 200 and client.get("/counter/").status_code == 200


def test_without_a_passkey_the_console_shows_only_the_security_page(app, office):
    staff_id = make(app, enrolled_clerk, office)
    require_passkeys(app, office)
    client = app.test_client()
    password_step(client)
    page = client.get("/counter/mfa").get_data(as_text=True)
    assert "Sau mã này, bạn sẽ thêm một khóa" in page
    assert code_step(client, code_at()).headers["Location"] == "/counter/"
    assert client.get("/counter/").headers["Location"] == "/counter/security"
    assert client.get("/counter/queue").headers["Location"] == "/counter/security"
    security = client.get("/counter/security")
    assert security.status_code == 200 and "data-passkey-register" in security.get_data(as_text=True)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    assert client.get("/counter/").status_code == 200
    assert [p.staff_id for p in stored(app)] == [staff_id]


def test_the_last_passkey_stays_while_the_office_requires_one(app, office):
    staff_id = make(app, enrolled_clerk, office)
    with_passkey(app, staff_id)
    with_passkey(app, staff_id)
    require_passkeys(app, office)
    first, second = stored(app)
    client = console_client(app, staff_id)
    token = csrf_token(client, "/counter/security")
    assert client.post(f"/counter/security/passkeys/{first.id}/remove",
                       data={"csrf_token": token}).status_code == 302
    last = client.post(f"/counter/security/passkeys/{second.id}/remove",
                       data={"csrf_token": token})
    assert last.status_code == 409
    assert "hãy thêm một khóa khác trước khi xóa khóa này" in last.get_data(as_text=True)
    assert [p.id for p in stored(app)] == [second.id]


def test_the_terminal_api_refuses_an_office_that_requires_passkeys(app, office):
    make(app, enrolled_clerk, office)
    require_passkeys(app, office)
    body = {"username": CLERK, "password": STAFF_PASSWORD, "totp": code_at()}
    refused = app.test_client().post("/counter/api/sessions", json=body)
    assert refused.status_code == 403 and refused.json["error"] == "passkey_required"
    assert verified_sessions(app) == []
    require_passkeys(app, office, False)
    assert app.test_client().post("/counter/api/sessions", json=body).status_code == 201


# --- idp offices set-passkeys-required ----------------------------------------------------------

def required(app, office_id: int) -> bool:
    with app.app_context():
        return db.session.scalar(select(PostOffice.passkeys_required)
                                 .where(PostOffice.id == office_id))


def test_the_cli_turns_the_setting_on_and_off(app, runner, office):
    assert required(app, office) is False
    on = runner.invoke(cli, ["offices", "set-passkeys-required", "hn-boho", "on"])
    assert on.exit_code == 0 and "HN-BOHO" in on.stdout and required(app, office) is True
    again = runner.invoke(cli, ["offices", "set-passkeys-required", "HN-BOHO", "on"])
    assert again.exit_code == 0
    assert audited(app, "office.update") == [{"passkeys_required": True}]
    listed = runner.invoke(cli, ["offices", "list"])
    assert "[passkeys required]" in listed.stdout
    as_json = json.loads(runner.invoke(cli, ["offices", "list", "--json"]).stdout)
    assert as_json[0]["passkeys_required"] is True
    off = runner.invoke(cli, ["offices", "set-passkeys-required", "HN-BOHO", "off"])
    assert off.exit_code == 0 and required(app, office) is False
    assert len(audited(app, "office.update")) == 2


def test_the_cli_refuses_an_unknown_office_or_value(app, runner, office):
    unknown = runner.invoke(cli, ["offices", "set-passkeys-required", "HN-NONE", "on"])
    assert unknown.exit_code == 1 and "[office.unknown]" in unknown.stderr
    bad = runner.invoke(cli, ["offices", "set-passkeys-required", "HN-BOHO", "yes"])
    assert bad.exit_code == 2
    assert required(app, office) is False and audited(app, "office.update") == []


def test_a_lost_passkey_is_removed_by_the_operator(app, runner, office):
    staff_id = make(app, enrolled_clerk, office)
    with_passkey(app, staff_id)
    with_passkey(app, staff_id)
    require_passkeys(app, office)
    browser = console_client(app, staff_id)
    result = runner.invoke(cli, ["staff", "remove-passkeys", CLERK])
    assert result.exit_code == 0 and result.stdout.startswith("2 passkey(s) of clerk-hn-boho")
    assert stored(app) == [] and browser.get("/counter/").status_code == 302  # sessions ended
    [event] = audited(app, "staff.mfa.remove")
    assert event == {"method": "passkey", "passkeys_removed": 2, "sessions_ended": 3}
    client = app.test_client()  # the code again, then a new passkey before anything else
    password_step(client)
    assert code_step(client, code_at()).headers["Location"] == "/counter/"
    assert client.get("/counter/").headers["Location"] == "/counter/security"
    unknown = runner.invoke(cli, ["staff", "remove-passkeys", "nobody"])
    assert unknown.exit_code == 1 and "[staff.unknown]" in unknown.stderr

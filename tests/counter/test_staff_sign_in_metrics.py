"""Staff sign-ins in the metrics: counted under audience "staff", by the same results as the
audit event's failure reason, on the terminal API and the console alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.settings import Settings
from tests.conftest import csrf_token, make_settings
from tests.counter.staff_signin import CLERK, code_at
from tests.counter.staff_signin import make_staff as make
from tests.metrics_scrape import TOKEN, moved, scrape
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk

URL = "/counter/api/sessions"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "instance", metrics_token=TOKEN)


def staff_results(before, after) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {dict(labels)["result"]: change
            for labels, change in moved(before, after, "postid_sign_ins_total").items()
            if dict(labels)["audience"] == "staff"}


def test_terminal_sign_ins_are_counted_by_result(app, client, office):
    make(app, enrolled_clerk, office)
    before = scrape(client)
    assert client.post(URL, json={"username": CLERK, "password": "wrong-one",
                                  "totp": code_at()}).status_code == 401
    assert client.post(URL, json={"username": "nobody-here", "password": STAFF_PASSWORD,
                                  "totp": code_at()}).status_code == 401
    assert client.post(URL, json={"username": CLERK, "password": STAFF_PASSWORD,
                                  "totp": code_at()}).status_code == 201
    after = scrape(client)
    assert staff_results(before, after) == {"wrong_password": 1, "unknown_account": 1, "success": 1}
    assert moved(before, after, "postid_mfa_failures_total") == {}


def test_console_password_then_a_wrong_code(app, client, office):
    make(app, enrolled_clerk, office)
    before = scrape(client)
    token = csrf_token(client, "/counter/login")
    assert client.post("/counter/login", data={"csrf_token": token, "username": CLERK,
                                               "password": STAFF_PASSWORD}).status_code == 302
    right = code_at()
    token = csrf_token(client, "/counter/mfa")
    assert client.post("/counter/mfa", data={
        "csrf_token": token, "code": f"{(int(right) + 500000) % 1000000:06d}"}).status_code == 401
    after = scrape(client)
    assert staff_results(before, after) == {"second_factor_required": 1, "second_factor_failed": 1}
    assert moved(before, after, "postid_mfa_failures_total") == {
        frozenset({("audience", "staff"), ("step", "sign_in"), ("method", "totp")}): 1}

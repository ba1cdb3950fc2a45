"""The token endpoint's metrics: each token response counted once under its grant type, each
refusal under its error code, and nothing counted as issued for a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.settings import Settings
from tests.conftest import make_settings
from tests.metrics_scrape import TOKEN, moved, scrape
from tests.oidc.flow import citizen, exchange, obtain_code, refresh, registered_portal, sign_in
from tests.oidc.test_client_credentials import ask, service_portal

ISSUED = "postid_tokens_issued_total"
ERRORS = "postid_token_errors_total"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "instance", metrics_token=TOKEN)


def by(label: str, changes) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {dict(labels)[label]: change for labels, change in changes.items()}


def test_code_and_refresh_grants_are_counted_once_each(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile offline_access")
    before = scrape(client)
    body = exchange(client, portal, code, request.verifier).json
    middle = scrape(client)
    assert by("grant_type", moved(before, middle, ISSUED)) == {"authorization_code": 1}
    assert refresh(client, portal, body["refresh_token"]).status_code == 200
    after = scrape(client)
    assert by("grant_type", moved(middle, after, ISSUED)) == {"refresh_token": 1}
    assert moved(before, after, ERRORS) == {}


def test_client_credentials_is_counted(app, client):
    backend = service_portal(app)
    before = scrape(client)
    assert ask(client, backend).status_code == 200
    assert by("grant_type", moved(before, scrape(client), ISSUED)) == {"client_credentials": 1}


def test_refusals_are_counted_by_error_code_and_issue_nothing(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    before = scrape(client)
    assert exchange(client, portal, code, request.verifier).status_code == 200
    assert exchange(client, portal, code, request.verifier).status_code == 400  # replayed
    assert client.post("/token", data={"grant_type": "password"}).status_code == 400
    assert client.post("/token?code=x", data={"grant_type": "authorization_code"}).status_code == 400
    assert client.post("/token", data={"grant_type": "authorization_code", "code": "x"},
                       headers={"Authorization": "Basic bm90Omtub3du"}).status_code == 401
    after = scrape(client)
    assert by("error", moved(before, after, ERRORS)) == {
        "invalid_grant": 1, "unsupported_grant_type": 1, "invalid_request": 1, "invalid_client": 1}
    assert by("grant_type", moved(before, after, ISSUED)) == {"authorization_code": 1}

"""Text the counter API cannot store or render is refused with 400, never a 500: JSON may carry
a lone UTF-16 surrogate, and an address may carry control characters."""

from __future__ import annotations

import json

import pytest

from idp.models import VerificationStatus
from tests.counter.cast import make_verification, row
from tests.counter.helpers import api_headers
from tests.counter.test_checks_api import API, CHECK
from tests.verification_factories import pending_verification


def raw_json(body: str) -> dict[str, str]:
    return {"data": body, "content_type": "application/json"}


@pytest.mark.parametrize("field", ["username", "password", "totp"])
def test_a_lone_surrogate_in_the_sign_in_body_is_a_400(client, field):
    body = {"username": "clerk-hn-boho", "password": "x" * 10, "totp": "123456"}
    text = json.dumps(body).replace(json.dumps(body[field]), '"a\\ud800"')
    response = client.post(f"{API}/sessions", **raw_json(text))
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("street", ["12 \\ud800 Hàng Bài", "12 Hàng Bài\\u0000", "12\\u0007 Hàng Bài"])
def test_an_unusable_address_is_refused_and_nothing_is_stored(app, client, cast, street):
    public_id, _, vid = make_verification(app, pending_verification)
    body = json.dumps({**CHECK, "address": {"province_code": "01", "ward": "Phường Hoàn Kiếm",
                                            "street": "STREET"}}).replace('"STREET"', f'"{street}"')
    response = client.post(f"{API}/verifications/{public_id}/submit", headers=api_headers(app, cast.clerk),
                           **raw_json(body))
    assert response.status_code == 400
    assert response.json["error"] in ("invalid_request", "address.street")
    assert row(app, vid)["status"] is VerificationStatus.PENDING

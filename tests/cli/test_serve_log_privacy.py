"""The log of a real `idp serve` holds no personal data and no secret after a whole journey.

A citizen registers (SMS code, e-mail link), sets up two-step verification, signs in with a
password and a TOTP code, signs in at a portal (authorization code flow, token, refresh,
userinfo), asks for a verification code, and counter staff check the documents (clerk) and
approve (supervisor). Everything goes over HTTP to the server process, at the production log
level (INFO), so the lines scanned are exactly what the server writes: gunicorn's, waitress's,
the access log and the application's. The database work that is not the citizen's (the portal's
registration, the staff, reading the outbox as the phone would) is done in this process on the
same database.

Every line, as written and decoded from JSON, is scanned for the ID number, phone, name (and
each part of 4 letters or more), e-mail, password, the SMS and TOTP codes, recovery codes, the
e-mail link, the verification code, the authorization code, the access, refresh and ID tokens,
the portal's secret and every cookie value. It fails if the access log went back to paths (the
e-mail link's path holds its token).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from typing import Any

import pyotp
import requests
from flask import Flask

from idp.extensions import db
from idp.services.staff.sessions import COOKIE_NAME, COOKIE_PATH, open_staff_session
from tests.cli.served import serving_idp
from tests.conftest import csrf_token
from tests.factories import last_sent
from tests.oidc.flow import exchange, obtain_code, refresh, registered_portal
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office

NATIONAL_ID = "079303001234"
FULL_NAME = "Trần Thị Bích Ngọc"
PHONE, PHONE_E164 = "0983456789", "+84983456789"
EMAIL = "ngoc.tran@example.vn"
PASSWORD = "violet harbour copper kettle"
TOTP_KEY_RE = re.compile(r'class="mono totp-key"><strong>([A-Z2-7 ]+)</strong>')
RECOVERY_CODE_RE = re.compile(r"<strong>([23456789a-z]{4}-[23456789a-z]{4})</strong>")
ENROLMENT_CODE_RE = re.compile(r'class="enrolment-code[^"]*"><strong>([A-Z0-9]{4}-[A-Z0-9]{4})<')
CHECK_FORM = {"document_type": "can_cuoc", "document_number": NATIONAL_ID,
              "issued_on": "15/07/2024", "expires_on": "01/02/2043", "name_match": "y",
              "birthdate_match": "y", "sex_match": "y", "photo_match": "y",
              "province_code": "79", "ward": "Phường Sài Gòn", "street": "2 Công xã Paris"}


class Answer:
    """A `requests` response read the way the suite's helpers read a Flask test response."""

    def __init__(self, response: requests.Response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.json = response.json() if "json" in response.headers.get("Content-Type", "") else None
        self.text = response.text

    def get_data(self, as_text: bool = False) -> str:
        return self.text


class Browser:
    """A real HTTP client of the served process, with the FlaskClient methods the helpers of
    tests/oidc/flow.py and tests/conftest.py call."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return Answer(self.session.get(self.base + path, headers=headers, allow_redirects=False,
                                       timeout=30))

    def post(self, path: str, data: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Answer:
        return Answer(self.session.post(self.base + path, data=data, headers=headers,
                                        allow_redirects=False, timeout=30))

    def form(self, path: str, form_path: str | None = None, **data: str) -> Answer:
        return self.post(path, {"csrf_token": csrf_token(self, form_path or path), **data})  # type: ignore[arg-type]

    def cookie_values(self) -> list[str]:
        return [cookie.value for cookie in self.session.cookies if cookie.value]


def totp_code(key: str, used: set[str]) -> str:
    """A code of the current or next time step that has not been used yet."""
    for offset in (0, 30, -30, 60):
        code = pyotp.TOTP(key).at(time.time() + offset)
        if code not in used:
            used.add(code)
            return code
    raise AssertionError("no unused TOTP code")


def staff_browser(app: Flask, port: int, factory: Any, office_id: int, **kwargs: Any) -> Browser:
    """A counter console signed in (password and TOTP done) as a new staff member."""
    browser = Browser(port)
    with app.app_context():
        from idp.models import PostOffice

        member = factory(db.session.get(PostOffice, office_id), **kwargs)
        token = open_staff_session(member, channel="web", mfa_verified=True).token
        db.session.commit()
    browser.session.cookies.set(COOKIE_NAME, token, domain="127.0.0.1", path=COOKIE_PATH)
    return browser


def journey(app: Flask, port: int) -> list[str]:
    """The whole journey; returns every secret value it saw."""
    secrets: list[str] = []
    citizen = Browser(port)
    form = {"national_id": NATIONAL_ID, "full_name": FULL_NAME, "birthdate": "2003-02-01",
            "gender": "female", "phone": PHONE, "email": EMAIL, "password": PASSWORD,
            "password_confirm": PASSWORD, "accept_terms": "y"}
    assert citizen.form("/register", **form).status_code == 303
    sms_code = last_sent(app, "register.code", r"\b(\d{6})\b")
    assert citizen.form("/register/confirm", code=sms_code).status_code == 303
    link = "/register/email/" + last_sent(app, "register.email_link", r"/register/email/(\S+)")
    assert citizen.form(link).status_code == 200
    secrets += [sms_code, link.rsplit("/", 1)[1]]

    # Two-step verification: enrol, then sign out and in again with a password and a code.
    assert citizen.form("/account/security/totp/setup", "/account/security").status_code == 302
    enrol_page = citizen.get("/account/security/totp/enrol").text
    key = TOTP_KEY_RE.search(enrol_page).group(1).replace(" ", "")  # type: ignore[union-attr]
    used: set[str] = set()
    enrolled = citizen.form("/account/security/totp/enrol", code=totp_code(key, used))
    assert enrolled.status_code == 200
    recovery_codes = RECOVERY_CODE_RE.findall(enrolled.text)
    assert len(recovery_codes) == 10
    secrets += [key, *recovery_codes]
    secrets += citizen.cookie_values()
    assert citizen.form("/logout", "/account").status_code in (302, 303)
    assert citizen.form("/login", identifier=NATIONAL_ID, password=PASSWORD).status_code == 302
    assert citizen.form("/login/verify", code=totp_code(key, used)).status_code == 302
    secrets += list(used)

    # A portal: code flow with consent, token, refresh, userinfo.
    portal = registered_portal(app, scope="openid profile email phone offline_access")
    code, request = obtain_code(citizen, portal, scope="openid profile email phone offline_access",  # type: ignore[arg-type]
                                prompt="consent")
    tokens = exchange(citizen, portal, code, request.verifier)  # type: ignore[arg-type]
    assert tokens.status_code == 200, tokens.text
    refreshed = refresh(citizen, portal, tokens.json["refresh_token"])  # type: ignore[arg-type]
    assert refreshed.status_code == 200, refreshed.text
    info = citizen.get("/userinfo",
                       headers={"Authorization": f"Bearer {refreshed.json['access_token']}"})
    assert info.status_code == 200 and info.json["phone_number"] == PHONE_E164
    secrets += [code, request.verifier, request.params["state"], request.params["nonce"],
                portal.client_secret or ""]
    secrets += [answer.json.get(name, "") for answer in (tokens, refreshed)
                for name in ("access_token", "refresh_token", "id_token")]
    assert tokens.json["id_token"]

    # Verified at the counter: the citizen's code, the clerk's check, the supervisor's approval.
    asked = citizen.form("/account/verification/request", "/account/verification")
    assert asked.status_code == 303
    enrolment_code = ENROLMENT_CODE_RE.search(citizen.get("/account/verification").text).group(1)  # type: ignore[union-attr]
    secrets += [enrolment_code, *citizen.cookie_values()]
    with app.app_context():
        office = post_office().id
    clerk = staff_browser(app, port, enrolled_clerk, office)
    supervisor = staff_browser(app, port, enrolled_supervisor, office)
    found = clerk.form("/counter/lookup", "/counter/", code=enrolment_code)
    assert found.status_code == 302
    record = found.headers["Location"]
    public_id = record.rsplit("/", 1)[1]
    submitted = clerk.form(f"/counter/checks/{public_id}/submit", "/counter/", **CHECK_FORM)
    assert submitted.status_code == 302, submitted.text[-600:]
    approved = supervisor.form(f"/counter/checks/{public_id}/approve", "/counter/")
    assert approved.status_code == 302
    secrets += clerk.cookie_values() + supervisor.cookie_values()
    return [value for value in secrets if value]


def personal_data() -> list[str]:
    parts = [part for part in FULL_NAME.split() if len(part) >= 4]
    folded = [unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
              for part in parts]
    return [NATIONAL_ID, PHONE, PHONE[1:], PHONE_E164, EMAIL, EMAIL.split("@")[0], PASSWORD,
            FULL_NAME, unicodedata.normalize("NFD", FULL_NAME), *parts, *folded]


def found_in(log: str, values: list[str]) -> list[str]:
    """The values that occur in the log as written or as its JSON lines decode; a value of
    digits only must stand alone (a 6-digit code inside a longer number is not it)."""
    decoded = "\n".join(json.dumps(json.loads(line), ensure_ascii=False)
                        for line in log.splitlines())
    found = []
    for value in values:
        pattern = re.escape(value)
        if value.isdigit():
            pattern = rf"(?<!\d){pattern}(?!\d)"
        elif value.isalpha() and value.isascii():  # a folded name part: a word of its own
            pattern = rf"\b{pattern}\b"
        if re.search(pattern, log, re.IGNORECASE) or re.search(pattern, decoded, re.IGNORECASE):
            found.append(value)
    return found


def test_a_whole_journey_leaves_no_personal_data_or_secret_in_the_server_log(app, database_url,
                                                                              tmp_path):
    with serving_idp(database_url, tmp_path, env={"IDP_LOG_LEVEL": "INFO"}) as served:
        secrets = journey(app, served.port)
        time.sleep(0.5)
        log = served.log_text()
    assert len(secrets) > 30
    assert found_in(log, personal_data()) == []
    assert found_in(log, secrets) == []
    # The log saw the journey (a log that said nothing would pass the scan too).
    routes = {json.loads(line).get("route") for line in log.splitlines()}
    assert {"/register", "/register/confirm", "/register/email/<token>",
            "/account/security/totp/enrol", "/login", "/login/verify", "/authorize",
            "/token", "/userinfo", "/account/verification/request", "/counter/lookup",
            "/counter/checks/<public_id>/submit", "/counter/checks/<public_id>/approve"} <= routes

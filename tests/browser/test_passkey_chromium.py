"""Passkeys in a real browser: Debian's chromium, driven by the Python playwright package (never
`playwright install`), with Chromium's virtual authenticator (CDP `WebAuthn.enable`,
`WebAuthn.addVirtualAuthenticator`: CTAP2, internal, resident keys, user verification). A
citizen registers a passkey at /account/security of a LIVE `idp serve`, signs out, and signs in
to the demo portal with the passkey alone; the portal shows what it received.

The issuer is http://localhost:<port>: an RP ID cannot be an IP address, and localhost is a
secure context over http. Without chromium (or playwright) the test is skipped, except in CI
(CI=true), where it must run: .ci/run installs both.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from idp.demo_portal import create_demo_portal
from idp.extensions import db
from idp.models import ClientAuthMethod
from idp.services.portals.clients import register_client
from tests.demo_portal.live_server import free_port, live_idp
from tests.factories import PASSWORD, active_citizen

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")


def _browser_or_skip() -> None:
    missing = [what for what, ok in (("chromium", shutil.which(CHROMIUM) is not None),
                                     ("playwright", _has_playwright())) if not ok]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test; missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def serve_portal(portal: Flask, port: int) -> Iterator[None]:
    """The demo portal at http://127.0.0.1:<port>/demo-portal, as `idp serve` mounts it."""
    wsgi = DispatcherMiddleware(NotFound(), {"/demo-portal": portal})
    server = make_server("127.0.0.1", port, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_register_a_passkey_and_sign_in_to_the_demo_portal(app, database_url, tmp_path: Path):
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/demo-portal"
    with app.app_context():
        registered = register_client(
            name="Cổng mẫu", redirect_uris=[base_url + "/callback"],
            post_logout_redirect_uris=[base_url + "/"], scope="openid profile",
            auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC)
        client_id, client_secret = registered.client.client_id, registered.client_secret
        account = active_citizen()
        account.identity_loa = 2  # verified at a post office: a passkey makes the sign-in LoA3
        db.session.commit()

    with live_idp(database_url, tmp_path, host="localhost") as server, sync_playwright() as pw:
        portal = create_demo_portal(server.issuer, client_id=client_id,
                                    client_secret=client_secret, secret_key="browser-portal-key",
                                    base_url=base_url)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True}})["authenticatorId"]

            # 1. Password sign-in, then a passkey at /account/security.
            page.goto(server.issuer + "/login")
            page.fill("#identifier", "001099012345")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit].button-primary")
            page.wait_for_url(server.issuer + "/account")
            page.goto(server.issuer + "/account/security")
            page.fill("#passkey-name", "Virtual phone")
            page.click("[data-passkey-register]")
            page.wait_for_url("**/account/security?passkey=added")
            expect(page.locator("#passkeys-title")).to_be_visible()
            assert "Virtual phone" in page.content()
            credentials = cdp.send("WebAuthn.getCredentials",
                                   {"authenticatorId": authenticator})["credentials"]
            assert len(credentials) == 1 and credentials[0]["isResidentCredential"]

            # 2. Signed out, the sign-in page asks for a passkey in the identifier's autofill
            # (conditional mediation); the virtual authenticator answers at once, as a person
            # picking the passkey from the list would.
            page.goto(server.issuer + "/account")
            page.locator("form[action='/logout'] button").click()
            page.wait_for_url(server.issuer + "/account")

            # 3. Without autofill, the button: the portal sends the browser to PostID, the
            # passkey alone signs in, and the portal receives LoA3 with hwk user mfa.
            page.add_init_script("delete PublicKeyCredential.isConditionalMediationAvailable;")
            page.locator("form[action='/logout'] button").click()
            page.wait_for_url("**/login?signed_out=1")
            with serve_portal(portal, port):
                page.goto(base_url + "/login?acr=3&lang=en")
                page.wait_for_url(server.issuer + "/login?**")
                button = page.locator("[data-passkey-sign-in]")
                expect(button).to_be_visible()
                button.click()
                page.wait_for_url(server.issuer + "/authorize?**")
                page.click("button[name=decision][value=allow]")
                page.wait_for_url(base_url + "/")
                text = page.content()
                assert "Hello, Nguyễn Văn An" in text, text[:2000]
                assert "urn:vn:postid:loa:3" in text
                assert "passkey kept on one device" in text and "more than one factor" in text
                assert "fingerprint, face or screen lock" in text
        finally:
            browser.close()
        assert server.stop() == 0, server.output()

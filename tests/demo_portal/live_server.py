"""A live `idp serve` (gunicorn) in a subprocess, and a citizen's browser (requests) driving
its sign-in and consent pages, for tests that talk HTTP to the provider."""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.factories import PASSWORD

# Fixed secrets: every process of one server (and a restart) must agree on them; the test
# environment would otherwise draw fresh random ones per process.
SECRETS = {
    "IDP_SECRET_KEY": "live-test-secret-key-not-for-production-0123456789",
    "IDP_KEY_ENCRYPTION_KEY": "bGl2ZS10ZXN0LWtleS1lbmNyeXB0aW9uLWtleS0zMmI",
    "IDP_PAIRWISE_SALT": "live-test-pairwise-salt-not-for-production",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    issuer: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """Graceful stop (what an orchestrator sends); the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@contextmanager
def live_idp(database_url: str, workdir: Path, *, timeout: float = 60,
             host: str = "127.0.0.1") -> Iterator[LiveServer]:
    """`host` names the issuer (bound on 127.0.0.1): "localhost" for passkeys, whose RP ID
    cannot be an IP address."""
    port = free_port()
    issuer = f"http://{host}:{port}"
    env = {**os.environ, **SECRETS, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
           "IDP_ISSUER": issuer, "IDP_INSTANCE_PATH": str(workdir / "instance")}
    log = workdir / "server.log"
    # A file, not a pipe: an unread pipe fills up and blocks the server's access log.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "idp", "serve", "--port", str(port), "--workers", "1"],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    server = LiveServer(issuer, process, log)
    try:
        _wait_until_ready(server, timeout)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_ready(server: LiveServer, timeout: float) -> None:
    # Generous: a cold start imports the whole app and may wait for a busy CI machine.
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(server.issuer + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert server.process.poll() is None, server.output()
        assert time.monotonic() < deadline, "server did not come up:\n" + server.output()
        time.sleep(0.2)


HIDDEN_RE = r'<input[^>]*name="{name}"[^>]*value="([^"]*)"|<input[^>]*value="([^"]*)"[^>]*name="{name}"'


def hidden(page: str, name: str, form: str) -> str:
    """A hidden field of the form whose opening tag contains `form` (the page header has
    its own language form with `next` and `csrf_token`)."""
    start = page.index(form)
    match = re.search(HIDDEN_RE.format(name=name), page[start:])
    assert match, f"no {name} on the page"
    return html.unescape(match.group(1) or match.group(2))


def consent_action(page: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)" class="button-row">', page)
    assert match, "no consent form"
    return html.unescape(match.group(1))


def sign_in_and_consent(browser: requests.Session, issuer: str, authorization_url: str) -> str:
    """What the citizen's browser does; returns the redirect back to the RP (not followed)."""
    response = browser.get(authorization_url, allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    login_url = urljoin(issuer, response.headers["Location"])
    assert urlsplit(login_url).path == "/login"
    page = browser.get(login_url).text
    response = browser.post(issuer + "/login", allow_redirects=False, data={
        "csrf_token": hidden(page, "csrf_token", 'action="/login'),
        "next": hidden(page, "next", 'action="/login'),
        "identifier": "001099012345", "password": PASSWORD,
    })
    assert response.status_code == 302, response.text[:300]
    response = browser.get(urljoin(issuer, response.headers["Location"]), allow_redirects=False)
    assert response.status_code == 200 and 'name="decision"' in response.text, response.text[:300]
    page = response.text
    response = browser.post(urljoin(issuer, consent_action(page)), allow_redirects=False,
                            data={"csrf_token": hidden(page, "csrf_token", 'class="button-row"'),
                                  "decision": "allow"})
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]

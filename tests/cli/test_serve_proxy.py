"""deploy/haproxy.cfg in front of `idp serve`, both real processes on loopback.

Skipped where `haproxy` is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli.served import (
    PROXY_PROBE,
    held_connections,
    raw_exchange,
    running_idp,
    running_proxy,
    serving_idp,
    status_of,
)

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
# Generous: an unloaded node answers in milliseconds; a blocked one never does.
ANSWER_WITHIN = 5.0


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def assert_answers(port: int) -> None:
    started = time.monotonic()
    assert status_of(raw_exchange(port, get(PROXY_PROBE), timeout=ANSWER_WITHIN)) == 200
    assert time.monotonic() - started < ANSWER_WITHIN


@pytest.fixture()
def proxy(database_url, tmp_path):
    with running_idp(database_url, tmp_path, "--threads", "2") as backend:
        with running_proxy(tmp_path, backend) as proxy:
            yield proxy


def test_stalled_clients_through_the_proxy_do_not_stop_it(proxy):
    with held_connections(proxy.port, stalled_bodies=64, stalled_headers=32, idle=32):
        assert_answers(proxy.port)
        assert_answers(proxy.port)


def test_stalled_bodies_larger_than_a_default_buffer_are_held_by_the_proxy(proxy):
    # 20 kB of 60 kB bodies: with HAProxy's default 16 KiB buffer these were forwarded early,
    # filled the node's maxconn (16) and the next request waited in the queue until a 503.
    with held_connections(proxy.port, stalled_bodies=0, stalled_headers=0, idle=0,
                          large_bodies=20):
        assert_answers(proxy.port)
        assert_answers(proxy.port)


@pytest.mark.parametrize("framing", ["Content-Length: 200000", "Transfer-Encoding: chunked"])
def test_body_larger_than_the_buffer_is_refused_by_the_proxy(proxy, framing):
    # 100 kB sent, the rest never: refused at once by HAProxy itself, not passed on early.
    body = b"x" * 100_000
    if framing.startswith("Transfer"):
        body = b"%x\r\n" % len(body) + body
    head = ("POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n")
    answer = raw_exchange(proxy.port, head.encode() + body, timeout=ANSWER_WITHIN)
    assert status_of(answer) == 413
    assert b"<h1>413 Payload Too Large</h1>" in answer  # HAProxy's page, not the node's


@pytest.mark.parametrize("path", ["/healthz", "//healthz", "///healthz", "/%68ealthz",
                                  "/%2Fhealthz", "/%2f%68ealthz/", "/healthz?x=1", "/readyz",
                                  "//readyz/", "/%72eadyz", "/%2Freadyz?x=1"])
def test_the_probes_are_not_served_to_clients(proxy, path):
    # The node merges slashes and percent-decodes once: each of these is its /healthz or /readyz.
    assert status_of(raw_exchange(proxy.port, get(path))) == 403


@pytest.mark.parametrize("path", ["/metrics", "//metrics", "/%6detrics", "/%2Fmetrics",
                                  "/%2f%6Detrics/", "/metrics?x=1"])
def test_metrics_is_not_served_to_clients(proxy, path):
    # The node behind answers /metrics 404 (no token set): 403 is the proxy's own refusal.
    assert status_of(raw_exchange(proxy.port, get(path))) == 403


def test_proxy_log_holds_no_token_and_no_query(proxy):
    token = "Tk" + "q" * 40
    for path in (f"/recover/link/{token}", f"/login?login_hint=0912345678&state={token}"):
        assert status_of(raw_exchange(proxy.port, get(path))) in (200, 404)
    time.sleep(0.5)  # the log line is written once the connection is closed
    log = proxy.log.read_text()
    assert 'GET "/recover/link/-"' in log
    assert 'GET "/login"' in log
    assert token not in log
    assert "0912345678" not in log


def test_a_quote_or_backslash_in_the_path_does_not_end_the_logged_field(proxy):
    raw_exchange(proxy.port, get('/a"b'))
    raw_exchange(proxy.port, get('/c\\'))
    time.sleep(0.5)
    lines = [line for line in proxy.log.read_text().splitlines() if " GET \"/a" in line
             or " GET \"/c" in line]
    assert [line.split(" GET ", 1)[1] for line in lines] == ['"/a%22b"', '"/c%5C"']


def test_ipv6_clients_reach_the_proxy_with_their_own_address(proxy):
    assert status_of(raw_exchange(proxy.port, get(PROXY_PROBE), host="::1")) == 200
    time.sleep(0.5)
    assert any(line.startswith("::1:") and line.endswith(' GET "/.well-known/-"')
               for line in proxy.log.read_text().splitlines())


def header(answer: bytes, name: str) -> str:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    [value] = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith(name.lower() + ":")]
    return value


def test_the_proxy_and_the_node_log_the_same_request_id(database_url, tmp_path):
    with serving_idp(database_url, tmp_path, "--threads", "2") as node, \
            running_proxy(tmp_path, node.port) as proxy:
        fresh = raw_exchange(proxy.port, get("/login"))
        kept = raw_exchange(proxy.port, get("/login") .replace(
            b"\r\n\r\n", b"\r\nX-Request-ID: portal-42.a\r\n\r\n"))
        replaced = raw_exchange(proxy.port, get("/login").replace(
            b"\r\n\r\n", b"\r\nX-Request-ID: 0912345678 x\r\n\r\n"))
        time.sleep(0.5)
        proxy_log, node_log = proxy.log.read_text(), node.log_text()
    ids = [header(answer, "X-Request-ID") for answer in (fresh, kept, replaced)]
    assert ids[1] == "portal-42.a"
    assert all(UUID.fullmatch(ids[index]) for index in (0, 2)), ids
    proxied = [line.split('"')[1] for line in proxy_log.splitlines() if ' GET "/login"' in line]
    served = [entry["request_id"] for entry in map(json.loads, node_log.splitlines())
              if entry.get("route") == "/login"]
    assert proxied == served == ids
    assert "0912345678" not in proxy_log + node_log


def stamped_database(path: Path, revision: str) -> str:
    """A copy of the test database (SQLite) whose schema claims another release's revision."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def test_a_node_that_is_not_ready_is_taken_out_by_the_proxy(tmp_path):
    # Alive (/healthz 200) but on an older release's schema (/readyz 503): HAProxy's check
    # takes it out, and clients get the proxy's 503 rather than the node's answers.
    database_url = stamped_database(tmp_path / "old.sqlite3", "0010")
    with serving_idp(database_url, tmp_path, probe="/healthz") as node:
        assert status_of(raw_exchange(node.port, get("/readyz"))) == 503
        with running_proxy(tmp_path, node.port, ready=False) as proxy:
            deadline = time.monotonic() + 15
            while (answer := raw_exchange(proxy.port, get(PROXY_PROBE))) and \
                    b"No server is available" not in answer:
                assert time.monotonic() < deadline, answer[:200]
                time.sleep(0.5)
            assert status_of(answer) == 503
            time.sleep(0.5)
            assert " idp/<NOSRV> " in proxy.log.read_text()

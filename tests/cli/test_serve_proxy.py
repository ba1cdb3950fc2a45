"""deploy/haproxy.cfg in front of `idp serve`, both real processes on loopback.

Skipped where `haproxy` is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
import time

import pytest

from tests.cli.served import (
    PROXY_PROBE,
    held_connections,
    raw_exchange,
    running_idp,
    running_proxy,
    status_of,
)

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")

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
                                  "/%2Fhealthz", "/%2f%68ealthz/", "/healthz?x=1"])
def test_healthz_is_not_served_to_clients(proxy, path):
    # The node merges slashes and percent-decodes once: each of these is its /healthz.
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

"""Slow or stalled clients cannot stop a node (issue 11), bare and behind deploy/haproxy.cfg.

Not a benchmark: far more held connections than the worker has threads, then one ordinary
request, which must be answered while they are still held. With gunicorn's gthread worker the
same request went unanswered for minutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.served import (
    free_port,
    held_connections,
    raw_exchange,
    running_idp,
    start,
    status_of,
    stop,
    wait_for_health,
)

HAPROXY_CFG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
# Generous: an unloaded node answers in milliseconds; a blocked one never does.
ANSWER_WITHIN = 5.0


def assert_healthz_answers(port: int) -> None:
    started = time.monotonic()
    answer = raw_exchange(port, HEALTHZ, timeout=ANSWER_WITHIN)
    assert status_of(answer) == 200
    assert time.monotonic() - started < ANSWER_WITHIN


def test_stalled_clients_do_not_stop_healthz(app, database_url, tmp_path):
    with running_idp(database_url, tmp_path, "--threads", "2") as port:
        with held_connections(port, stalled_bodies=64, stalled_headers=32, idle=32):
            assert_healthz_answers(port)
            assert_healthz_answers(port)


def proxy_config(tmp_path: Path, listen: int, backend: int) -> Path:
    """deploy/haproxy.cfg as it is, but on loopback plain HTTP (no certificate in tests)."""
    text = HAPROXY_CFG.read_text()
    text, binds = re.subn(r"(?m)^(\s*)bind .*$", rf"\g<1>bind 127.0.0.1:{listen}", text)
    text, servers = re.subn(r"(?m)^(\s*server \S+) \S+", rf"\g<1> 127.0.0.1:{backend}", text)
    assert (binds, servers) == (1, 1)
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    return path


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_stalled_clients_through_the_proxy_do_not_stop_healthz(app, database_url, tmp_path):
    with running_idp(database_url, tmp_path, "--threads", "2") as backend:
        listen = free_port()
        config = proxy_config(tmp_path, listen, backend)
        subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True, timeout=30)
        proxy = start(["haproxy", "-db", "-f", str(config)])
        try:
            wait_for_health(proxy, listen)
            with held_connections(listen, stalled_bodies=64, stalled_headers=32, idle=32):
                assert_healthz_answers(listen)
                assert_healthz_answers(listen)
        finally:
            stop(proxy)

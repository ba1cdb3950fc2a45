"""Slow or stalled clients cannot stop a node (issue 11); behind the proxy: test_serve_proxy.py.

Not a benchmark: far more held connections than the worker has threads, then one ordinary
request, which must be answered while they are still held. With gunicorn's gthread worker the
same request went unanswered for minutes.
"""

from __future__ import annotations

import time

from tests.cli.served import held_connections, raw_exchange, running_idp, status_of

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

"""Which connection makes room at the connection limit, and how many one address may hold
(idp.cli.waitress_server): connections that never sent a byte go before a client's
partial request, and without a proxy in front one address cannot take every slot."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack, suppress

from tests.cli.served import partial_body, serving_idp, status_of
from tests.cli.test_serve_slow_clients import LOW_LIMIT, connections

# /token with a made-up grant: a complete request is answered 400, a dropped one not at all.
LENGTH = 100
REST = b"x" * (LENGTH - 11)
# `ulimit -n 256`: 192 connections per worker, 192 // 8 = 24 per address without a proxy.
PEER_LIMIT = 24


def finish(sock: socket.socket) -> bytes:
    sock.sendall(REST)
    answer = b""
    with suppress(OSError):
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    return answer


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_empty_connections_at_the_limit_do_not_evict_a_partial_request(database_url, tmp_path):
    # Behind the proxy (no per-address cap): 300 connections that send nothing arrive while a
    # POST is on its way. They used to evict it, the oldest waiting connection, after 1.5 s.
    env = {"IDP_TRUSTED_PROXIES": "1"}
    with serving_idp(database_url, tmp_path, preexec_fn=LOW_LIMIT, env=env) as served:
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as real:
            real.sendall(partial_body(LENGTH, 11))
            time.sleep(1.5)
            with connections(served.port, 300, b""):
                time.sleep(1)
                answer = finish(real)
    assert status_of(answer) == 400


def test_one_address_cannot_take_the_slots_of_another_without_a_proxy(database_url, tmp_path):
    partial_headers = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    with serving_idp(database_url, tmp_path, preexec_fn=LOW_LIMIT) as served, \
            ExitStack() as stack:
        real = stack.enter_context(socket.create_connection(
            ("127.0.0.1", served.port), timeout=5, source_address=("127.0.0.3", 0)))
        real.sendall(partial_body(LENGTH, 11))
        time.sleep(0.5)
        attack = []
        for _ in range(300):
            sock = stack.enter_context(socket.create_connection(
                ("127.0.0.1", served.port), timeout=5, source_address=("127.0.0.2", 0)))
            sock.sendall(partial_headers)
            attack.append(sock)
        time.sleep(1)
        answer = finish(real)
        held = sum(still_open(sock) for sock in attack)
    assert status_of(answer) == 400
    assert held <= PEER_LIMIT

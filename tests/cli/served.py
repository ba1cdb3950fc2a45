"""`idp serve` (and HAProxy in front of it) as real subprocesses on loopback, for the tests that
need real sockets: slow clients, raw malformed bodies, SIGTERM."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# The process and proxy helpers are shared with the local cluster (deploy/cluster, `make cluster`).
from deploy.cluster.processes import free_port, start, stop, wait_for_health
from deploy.cluster.proxy import PROXY_PROBE as PROXY_PROBE
from deploy.cluster.proxy import Proxy as Served  # a process on a port, with its log
from deploy.cluster.proxy import running_proxy as running_proxy


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
            "IDP_INSTANCE_PATH": str(instance)}


@contextmanager
def serving_idp(database_url: str, instance: Path, *options: str,
                env: dict[str, str] | None = None,
                preexec_fn: Callable[[], None] | None = None,
                probe: str = "/readyz") -> Iterator[Served]:
    """`python -m idp serve` with one worker on a free port, its output in a file of
    `instance`; stopped (SIGTERM) on exit once `probe` answered 200. `env`: IDP_* variables
    added to the test ones."""
    port = free_port()
    log = instance / "serve.log"
    server = start([sys.executable, "-m", "idp", "serve", "--port", str(port), "--workers", "1",
                    *options], {**server_env(database_url, instance), **(env or {})},
                   log=log, preexec_fn=preexec_fn)
    try:
        wait_for_health(server, port, path=probe)
        yield Served(port, server, log)
    finally:
        stop(server)


@contextmanager
def running_idp(database_url: str, instance: Path, *options: str) -> Iterator[int]:
    with serving_idp(database_url, instance, *options) as served:
        yield served.port


def partial_body(length: int, sent: int) -> bytes:
    """Headers of a `length`-byte form body, and its first `sent` bytes."""
    head = (f"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
    return head + (b"grant_type=" + b"x" * sent)[:sent]


@contextmanager
def held_connections(port: int, *, stalled_bodies: int, stalled_headers: int, idle: int,
                     large_bodies: int = 0) -> Iterator[None]:
    """Clients that never finish: headers and part of a body, part of the headers, nothing;
    `large_bodies`: 20 kB of a 60 kB body (more than one 16 KiB proxy buffer)."""
    partial_headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    with ExitStack() as stack:
        for count, first_bytes in ((stalled_bodies, partial_body(100, 11)),
                                   (large_bodies, partial_body(60_000, 20_000)),
                                   (stalled_headers, partial_headers), (idle, b"")):
            for _ in range(count):
                sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
                if first_bytes:
                    sock.sendall(first_bytes)
        time.sleep(0.5)  # let the server take every one of them before the real request
        yield


def raw_exchange(port: int, request: bytes, timeout: float = 10,
                 host: str = "127.0.0.1") -> bytes:
    """Send bytes as they are and read the answer until the server closes or it is complete."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0]):
                break
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])

"""`idp serve` (and HAProxy in front of it) as real subprocesses on loopback, for the tests that
need real sockets: slow clients, raw malformed bodies, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
            "IDP_INSTANCE_PATH": str(instance)}


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def wait_for_health(server: subprocess.Popen[str], port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.2)


def stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if server.stdout:
        server.stdout.close()


@contextmanager
def running_idp(database_url: str, instance: Path, *options: str) -> Iterator[int]:
    """`python -m idp serve` with one worker on a free port; stopped (SIGTERM) on exit."""
    port = free_port()
    server = start([sys.executable, "-m", "idp", "serve", "--port", str(port), "--workers", "1",
                    *options], server_env(database_url, instance))
    try:
        wait_for_health(server, port)
        yield port
    finally:
        stop(server)


@contextmanager
def held_connections(port: int, *, stalled_bodies: int, stalled_headers: int,
                     idle: int) -> Iterator[None]:
    """Clients that never finish: headers and part of a body, part of the headers, nothing."""
    partial_body = (b"POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                    b"grant_type=")
    partial_headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    with ExitStack() as stack:
        for count, first_bytes in ((stalled_bodies, partial_body),
                                   (stalled_headers, partial_headers), (idle, b"")):
            for _ in range(count):
                sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
                if first_bytes:
                    sock.sendall(first_bytes)
        time.sleep(0.5)  # let the server take every one of them before the real request
        yield


def raw_exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read the answer until the server closes or it is complete."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
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

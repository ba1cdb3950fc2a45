"""`idp serve` (and HAProxy in front of it) as real subprocesses on loopback, for the tests that
need real sockets: slow clients, raw malformed bodies, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


HAPROXY_CFG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
# The proxy's own health checks go to the nodes; clients reach a cheap page instead.
PROXY_PROBE = "/.well-known/openid-configuration"


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    return {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
            "IDP_INSTANCE_PATH": str(instance)}


def start(command: list[str], env: dict[str, str] | None = None, *, log: Path | None = None,
          preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen[str]:
    """Output to a pipe, or to `log` (read it while the process runs, a pipe could fill up)."""
    if log is None:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn)
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                text=True, preexec_fn=preexec_fn)


def wait_for_health(server: subprocess.Popen[str], port: int, seconds: float = 30,
                    path: str = "/readyz") -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else server.args
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.2)


def wait_for_port(server: subprocess.Popen[str], port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            pass
        assert server.poll() is None, server.args
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


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


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


def proxy_config(directory: Path, listen: int, backend: int) -> Path:
    """deploy/haproxy.cfg as it is, but on loopback plain HTTP (no certificate in tests), IPv4
    and IPv6 as the dual-stack production bind."""
    text = HAPROXY_CFG.read_text()
    text, binds = re.subn(r"(?m)^(\s*)bind :::443 v4v6 .*$",
                          rf"\g<1>bind 127.0.0.1:{listen}\n\g<1>bind ::1:{listen}", text)
    text, servers = re.subn(r"(?m)^(\s*server \S+) \S+", rf"\g<1> 127.0.0.1:{backend}", text)
    assert (binds, servers) == (1, 1)
    path = directory / "haproxy.cfg"
    path.write_text(text)
    return path


@contextmanager
def running_proxy(directory: Path, backend: int, *, ready: bool = True) -> Iterator[Served]:
    """HAProxy with deploy/haproxy.cfg in front of `backend`; its log in `directory`. Yields
    once a client request answers 200 (`ready`), or once the proxy listens."""
    listen = free_port()
    config = proxy_config(directory, listen, backend)
    subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], check=True, timeout=30)
    log = directory / "haproxy.log"
    proxy = start(["haproxy", "-db", "-f", str(config)], log=log)
    try:
        if ready:
            wait_for_health(proxy, listen, path=PROXY_PROBE)
        else:
            wait_for_port(proxy, listen)
        yield Served(listen, proxy, log)
    finally:
        stop(proxy)

"""Child processes on loopback for the local cluster and the tests that need real sockets:
free ports, start with the output in a file, wait for an answer, stop (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Nothing listens on it (connections of a former user in TIME_WAIT do not count: the
    servers bind with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start(command: list[str], env: dict[str, str] | None = None, *, log: Path | None = None,
          preexec_fn: Callable[[], None] | None = None,
          new_session: bool = False) -> subprocess.Popen[str]:
    """Output to a pipe, or to `log` (read it while the process runs, a pipe could fill up).
    `new_session`: the process and its children in a group of their own, which `kill_group`
    ends at once (a node's gunicorn master and workers) and a terminal's Ctrl-C does not reach."""
    if log is None:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn,
                                start_new_session=new_session)
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                text=True, preexec_fn=preexec_fn, start_new_session=new_session)


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


def kill_group(server: subprocess.Popen[str]) -> None:
    """SIGKILL to a process started with `new_session` and to all its children at once, as a
    machine that dies: nothing is finished, every socket is closed by the kernel."""
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()


def stop_group(server: subprocess.Popen[str]) -> None:
    """`stop`, then SIGKILL to whatever of its group outlived it (a worker left behind)."""
    stop(server)
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

"""Slow or stalled clients cannot stop a node; behind the proxy: test_serve_proxy.py.

Not a benchmark: far more held connections than the worker has threads, then one ordinary
request, which must be answered while they are still held. With gunicorn's gthread worker the
same request went unanswered for minutes.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from tests.cli.served import held_connections, raw_exchange, running_idp, serving_idp, status_of

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


def low_descriptor_limit(soft: int, hard: int) -> Callable[[], None]:
    def limit() -> None:  # runs in the child, before `idp serve` starts
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return limit


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def open_files_limit(pid: int) -> str:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max open files"))
    return " ".join(line.split()[3:5])


@contextmanager
def connections(port: int, count: int, first_bytes: bytes) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        held = []
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if first_bytes:
                sock.sendall(first_bytes)
            held.append(sock)
        yield held


def trickle(held: list[socket.socket], seconds: float, every: float) -> None:
    """One more header byte on every connection the server has not closed, every `every` s."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(every)
        for sock in held:
            with suppress(OSError):  # closed by the server to make room: as it should be
                sock.send(b"x")


# A worker under `ulimit -n 256` keeps its connections to 192 (256 less 64 for itself).
LOW_LIMIT = low_descriptor_limit(256, 256)


def test_trickling_headers_at_the_connection_limit_do_not_stop_healthz(database_url, tmp_path):
    # More connections than the worker may hold, each sending a header byte every 2 s: stock
    # waitress kept them all (its timeout restarts with every byte) and, at its connection
    # limit, stopped accepting, so /healthz waited in the backlog.
    with serving_idp(database_url, tmp_path, preexec_fn=LOW_LIMIT) as served:
        with connections(served.port, 300, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") as held:
            trickle(held, seconds=4, every=2)
            assert_healthz_answers(served.port)
            trickle(held, seconds=2, every=2)
            assert_healthz_answers(served.port)


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def test_a_request_trickling_past_the_deadline_is_closed_below_the_limit(database_url, tmp_path):
    # One connection, far below the limit, so no eviction: a header byte every second keeps
    # stock waitress's 20 s idle timeout from ever firing. The request must be complete 10 s
    # after its first byte (checked every 5 s), so the server closes it after 10 to 15 s.
    with running_idp(database_url, tmp_path) as port, \
            socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        started = time.monotonic()
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while not closed_by_server(slow) and time.monotonic() - started < 18:
            time.sleep(1)
            with suppress(OSError):
                slow.send(b"x")
            assert_healthz_answers(port)
        closed_after = time.monotonic() - started
    assert 9 < closed_after < 17


def test_more_connections_than_descriptors_neither_spin_nor_stop_the_worker(database_url,
                                                                            tmp_path):
    # With a fixed limit of 2000 connections under `ulimit -n 256`, accept() failed (EMFILE)
    # on every loop turn: a traceback each time, 40 % CPU, and no new client served.
    with serving_idp(database_url, tmp_path, preexec_fn=LOW_LIMIT) as served:
        with connections(served.port, 400, b""):
            time.sleep(2)
            assert_healthz_answers(served.port)
        time.sleep(1)
        assert_healthz_answers(served.port)
        log = served.log_text()
    assert "Traceback" not in log
    assert len(log.splitlines()) < 50


def test_worker_raises_its_descriptor_limit_to_the_hard_limit(database_url, tmp_path):
    with serving_idp(database_url, tmp_path, preexec_fn=low_descriptor_limit(256, 4096)) as served:
        [worker] = worker_pids(served.process.pid)
        assert open_files_limit(worker) == "4096 4096"
        assert open_files_limit(served.process.pid) == "256 4096"  # the master is left as is

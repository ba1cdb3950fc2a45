"""waitress's own log lines hold no request path: paths carry tokens.

The server of `idp serve` (idp.cli.waitress_server) on a loopback socket, in this process, with
an application that streams its answer, so that a client leaving mid-response is seen by
waitress ("Client disconnected while serving <path>" in stock waitress).
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

from waitress import wasyncore

from idp.cli.waitress_server import create_guarded_server

TOKEN = "Tk" + "q" * 40
CHUNK = b"x" * 32_768


def streaming_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    for _ in range(200):  # ~6 MB over ~2 s: the client is long gone before the end
        time.sleep(0.01)
        yield CHUNK


def test_client_leaving_mid_response_on_a_token_url_leaves_no_token_in_the_log(caplog):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    socket_map: dict[int, Any] = {}
    [server] = create_guarded_server(streaming_app, socket_map, [listener], threads=1,
                                     asyncore_use_poll=True)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    with caplog.at_level(logging.INFO, logger="waitress"):
        thread.start()
        try:
            client = socket.create_connection(listener.getsockname(), timeout=5)
            client.sendall(f"GET /recover/link/{TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert client.recv(100).startswith(b"HTTP/1.1 200")
            # Reset rather than a polite close: the server's next send fails at once.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            deadline = time.monotonic() + 10
            while "while serving" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            stop.set()
            thread.join(5)
            wasyncore.close_all(socket_map)
    assert "Client disconnected while serving a request" in caplog.text
    assert TOKEN not in caplog.text


def test_a_saturated_worker_says_so_once_per_interval_not_once_per_request(caplog, monkeypatch):
    from idp.cli import waitress_server

    clock = [100.0]
    monkeypatch.setattr(waitress_server.time, "monotonic", lambda: clock[0])
    log = waitress_server.QueueDepthLog(logging.getLogger("waitress.queue"))
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for depth in (1, 3, 2, 5, 4):  # what waitress reports as requests queue up
            log.warning("Task queue depth is %d", depth)
        clock[0] += waitress_server.QueueDepthLog.INTERVAL
        log.warning("Task queue depth is %d", 2)
    lines = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
    assert lines == ["Task queue depth reached 1 (requests that waited for a thread: 1)",
                     "Task queue depth reached 5 (requests that waited for a thread: 5)"]


def test_the_served_dispatcher_uses_the_throttled_queue_log():
    from idp.cli.waitress_server import QueueDepthLog

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        socket_map: dict[int, Any] = {}
        servers = create_guarded_server(streaming_app, socket_map, [listener], threads=1)
        try:
            assert isinstance(servers[0].task_dispatcher.queue_logger, QueueDepthLog)
        finally:
            servers[0].task_dispatcher.shutdown()
            wasyncore.close_all(socket_map)

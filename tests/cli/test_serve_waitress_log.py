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

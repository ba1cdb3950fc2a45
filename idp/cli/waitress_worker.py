"""A gunicorn worker that serves with waitress: no thread is given to a client still sending.

gunicorn's gthread worker hands a connection to a thread as soon as a byte arrives and that
thread then blocks reading the rest: a few clients that send headers and part of a body and
stall hold every thread, and /healthz goes unanswered (issue 11). waitress reads each request,
headers and body, in one event loop and queues it for a thread only once it is complete;
connections idle or stalled for `channel_timeout` are closed. gunicorn stays the process
manager: `--workers`, the worker heartbeat and the graceful SIGTERM are unchanged.

The buffering proxy in front (deploy/haproxy.cfg) bounds the time a client may take to send a
request at all; this worker is the second line, so that a node never depends on it alone.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

# Seconds a connection may stay without receiving a byte (idle keep-alive, or a stalled
# request) before it is closed; checked every CLEANUP_INTERVAL seconds.
CHANNEL_TIMEOUT = 20
CLEANUP_INTERVAL = 5
# Open connections per worker: held ones cost a socket and a small buffer, not a thread.
CONNECTION_LIMIT = 2000
# Same bound as the app's MAX_CONTENT_LENGTH: a larger body is refused (413) before buffering.
MAX_REQUEST_BODY = 64 * 1024
MAX_REQUEST_HEADER = 32 * 1024

access_log = logging.getLogger("gunicorn.access")


class WaitressWorker(Worker):  # type: ignore[misc]
    def run(self) -> None:
        socket_map: dict[int, Any] = {}
        server = create_server(
            self._logged(self.wsgi),
            map=socket_map,
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=CLEANUP_INTERVAL,
            connection_limit=CONNECTION_LIMIT,
            max_request_body_size=MAX_REQUEST_BODY,
            max_request_header_size=MAX_REQUEST_HEADER,
            # poll(), not select(): select() cannot watch descriptors above 1023.
            asyncore_use_poll=True,
            ident="PostID",
        )
        listeners = [d for d in socket_map.values() if isinstance(d, BaseWSGIServer)]
        while self.alive and self.ppid == os.getppid():
            self.notify()
            wasyncore.loop(timeout=1.0, map=socket_map, use_poll=True, count=1)
        self._drain(socket_map, listeners)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        wasyncore.close_all(socket_map)

    def _drain(self, socket_map: dict[int, Any], listeners: list[BaseWSGIServer]) -> None:
        """Graceful stop: accept nothing new, finish the requests already received."""
        for listener in listeners:
            listener.accepting = False
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline and _busy(listeners):
            self.notify()
            wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)

    def _logged(self, app: Any) -> Any:
        """One access-log line per request (gunicorn's own access log is not used by waitress)."""
        if not self.cfg.accesslog:
            return app

        def logged_app(environ: dict[str, Any], start_response: Any) -> Any:
            started = time.monotonic()
            status: list[str] = []

            def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
                status[:] = [code.split(" ", 1)[0]]
                return start_response(code, headers, exc_info)

            try:
                return app(environ, recording_start_response)
            finally:
                access_log.info('%s "%s %s" %s %.3fs', environ.get("REMOTE_ADDR", "-"),
                                environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                                status[0] if status else "-", time.monotonic() - started)

        return logged_app


def _busy(listeners: list[BaseWSGIServer]) -> bool:
    """A request received but not yet answered, or an answer not yet sent, on any connection."""
    return any(channel.requests or channel.total_outbufs_len
               for listener in listeners for channel in listener.active_channels.values())

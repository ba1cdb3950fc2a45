"""A gunicorn worker that serves with waitress: no thread is given to a client still sending.

gunicorn's gthread worker hands a connection to a thread as soon as a byte arrives and that
thread then blocks reading the rest: a few clients that send headers and part of a body and
stall hold every thread, and /healthz goes unanswered. waitress reads each request,
headers and body, in one event loop and queues it for a thread only once it is complete;
idp.cli.waitress_server bounds how long a connection may take to send it and keeps accepting
at the connection limit. gunicorn stays the process manager: `--workers`, the worker heartbeat
and the graceful SIGTERM are unchanged.

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

from idp.cli.waitress_lanes import form_submission_predicate, form_threads_for
from idp.cli.waitress_server import (
    GuardedServer,
    connection_limit,
    create_guarded_server,
    peer_connection_limit,
)
from idp.logs import FIELDS, REQUEST_ID
from idp.web.request_body import MAX_BODY_BYTES
from idp.web.request_id import REQUEST_ID_ENVIRON_KEY
from idp.web.route_log import CLIENT_ID_ENVIRON_KEY, ROUTE_ENVIRON_KEY

# Seconds a connection may stay without receiving a byte (idle keep-alive, or a stalled
# request) before it is closed; checked every CLEANUP_INTERVAL seconds.
CHANNEL_TIMEOUT = 20
CLEANUP_INTERVAL = 5
MAX_REQUEST_HEADER = 32 * 1024
# On SIGTERM, how long a connection just taken from the backlog may take to send its first
# byte: the proxy sends a request together with its connection, so 1 s is plenty.
FIRST_BYTE_WAIT = 1.0
# On SIGTERM, how long a kept-alive connection stays open for a request sent just before the
# client (or the proxy) could know the node is stopping; its answer then closes it.
STOP_GRACE = 2.0

access_log = logging.getLogger("gunicorn.access")


class WaitressWorker(Worker):
    def run(self) -> None:
        socket_map: dict[int, Any] = {}
        limit = connection_limit()
        listeners = create_guarded_server(
            self._logged(self.wsgi),
            socket_map,
            [listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=CLEANUP_INTERVAL,
            connection_limit=limit,
            # Behind the proxy every connection comes from the proxy's address.
            peer_limit=peer_connection_limit(limit, self.app.settings.trusted_proxies > 0),
            # Password hashing runs on half the threads at most: the protocol endpoints keep
            # the rest while sign-ins flood in.
            form_lane=(form_submission_predicate(self.wsgi), form_threads_for(self.cfg.threads)),
            # waitress refuses a body of max_request_body_size bytes or more; the app accepts
            # up to MAX_BODY_BYTES inclusive: the two agree.
            max_request_body_size=MAX_BODY_BYTES + 1,
            max_request_header_size=MAX_REQUEST_HEADER,
            # The X-Forwarded-* headers are passed to the app untouched: ProxyFix (idp
            # create_app, IDP_TRUSTED_PROXIES) is the one place that believes them or not.
            # waitress would otherwise drop them all, and every client behind the proxy would
            # share one rate-limit bucket.
            clear_untrusted_proxy_headers=False,
            # poll(), not select(): select() cannot watch descriptors above 1023.
            asyncore_use_poll=True,
            ident="PostID",
        )
        while self.alive and self.ppid == os.getppid():
            self.notify()
            wasyncore.loop(timeout=1.0, map=socket_map, use_poll=True, count=1)
        self._drain(socket_map, listeners)
        listeners[0].task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        wasyncore.close_all(socket_map)

    def _drain(self, socket_map: dict[int, Any], listeners: list[GuardedServer]) -> None:
        """Graceful stop: serve what is already waiting, then finish the requests received.

        Connections still in the listen backlog were accepted by the kernel, often with a whole
        request sent: closing the listener without taking them resets them, and the proxy cannot
        retry a request that was sent (a 502 for each, on every restart). So they are accepted
        first, and only then does the worker stop accepting. A request sent on a kept-alive
        connection during the first STOP_GRACE seconds is answered too (with `Connection:
        close`); idle connections are closed only after that.
        """
        taken = _take_backlog(socket_map, listeners)
        for listener in listeners:
            listener.accepting = False
            listener.stopping = True
        started = time.monotonic()
        deadline = started + self.cfg.graceful_timeout
        while (now := time.monotonic()) < deadline and (
                _busy(listeners) or _awaited(taken)
                or (now < started + STOP_GRACE and _open(listeners))):
            self.notify()
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)

    def _logged(self, app: Any) -> Any:
        """One access-log line per request (gunicorn's own access log is not used by waitress).

        The route pattern is logged, not the path: paths carry tokens (idp.web.route_log). In
        JSON (idp.logs) every field is a JSON value; in text every field is escaped: either way
        no request can write a line break or a quote into the log.
        """
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
                log_access(environ, status[0] if status else None, time.monotonic() - started)

        return logged_app


def log_access(environ: dict[str, Any], status: str | None, seconds: float) -> None:
    """The access-log line, with the request's id (idp.web.request_id) and its fields."""
    access_log.info("request", extra={REQUEST_ID: environ.get(REQUEST_ID_ENVIRON_KEY), FIELDS: {
        "remote_addr": environ.get("REMOTE_ADDR") or None,
        "method": environ.get("REQUEST_METHOD") or None,
        "route": environ.get(ROUTE_ENVIRON_KEY) or "-",
        "status": int(status) if status and status.isdigit() else None,
        "duration_ms": round(seconds * 1000, 1),
        "client_id": environ.get(CLIENT_ID_ENVIRON_KEY),
    }})


def _take_backlog(socket_map: dict[int, Any], listeners: list[GuardedServer]) -> list[Any]:
    """Accept every connection waiting in the listen backlog, within the connection limit."""
    taken: list[Any] = []
    for listener in listeners:
        while len(socket_map) < listener.adj.connection_limit:
            try:
                pair = listener.accept()
            except OSError:  # out of descriptors after all: serve what was taken
                break
            if pair is None:  # the backlog is empty
                break
            conn, addr = pair
            listener.set_socket_options(conn)
            taken.append(listener.channel_class(listener, conn, listener.fix_addr(addr),
                                                listener.adj, map=socket_map))
    return taken


def _awaited(taken: list[Any]) -> bool:
    """A connection taken from the backlog whose first bytes have not been read yet."""
    now = time.time()
    return any(channel.connected and not channel.request_started
               and now - channel.creation_time < FIRST_BYTE_WAIT for channel in taken)


def _open(listeners: list[GuardedServer]) -> bool:
    """A client connection not already on its way to being closed."""
    return any(not (channel.will_close or channel.close_when_flushed)
               for listener in listeners for channel in listener.active_channels.values())


def _busy(listeners: list[GuardedServer]) -> bool:
    """A request being received, run or answered on any connection."""
    return any(channel.requests or channel.total_outbufs_len or channel.request is not None
               for listener in listeners for channel in listener.active_channels.values())

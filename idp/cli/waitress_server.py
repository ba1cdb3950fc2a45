"""waitress's server, bounded so that no number of slow or stalled clients stops it (issue 11).

Stock waitress (3.0) has two gaps this closes:

- Its `channel_timeout` counts from the last byte received, so a client that trickles one byte
  every few seconds keeps a connection forever. Here a request must also be complete within
  REQUEST_DEADLINE of its first byte, however fast it trickles.
- At `connection_limit` it stops accepting, so enough held connections leave every new client,
  the proxy's health check included, in the kernel's backlog. Here a new connection is always
  accepted; the connection that has waited longest for its own request to arrive (a partial
  request or an idle keep-alive, never one whose request is running or being answered) is
  closed to make room. A complete request arrives within milliseconds, so it is not the one
  that goes.

waitress writes the request path into two of its own log lines (a client gone mid-response, an
exception while serving); paths carry tokens, so those lines lose it here (WithheldPaths).

The connection limit follows the descriptor limit (`ulimit -n`), so accept() never fails for
want of a descriptor (with a fixed limit above it, accept() failed in a loop at 40 % CPU).
"""

from __future__ import annotations

import logging
import resource
import socket
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

# Seconds from a request's first byte to its last: a slower client is closed.
REQUEST_DEADLINE = 10
# At most this many connections per worker; fewer if the descriptor limit is low.
MAX_CONNECTIONS = 2000
# Descriptors kept for everything but client connections: listeners, the wake-up pipe,
# database and Redis connections, log files, imported modules' files.
RESERVED_DESCRIPTORS = 64


class WithheldPaths(logging.Filter):
    """Cuts the request path from waitress's "... while serving <path>" lines: the access log
    line of the same request names its route pattern instead (idp.web.route_log)."""

    MARKER = " while serving "

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.MARKER in message:
            record.msg = message.split(self.MARKER, 1)[0] + self.MARKER + "a request"
            record.args = ()
        return True


def withhold_paths_from_waitress_log() -> None:
    waitress_log = logging.getLogger("waitress")
    if not any(isinstance(f, WithheldPaths) for f in waitress_log.filters):
        waitress_log.addFilter(WithheldPaths())


def connection_limit() -> int:
    """Raise the soft descriptor limit to the hard one, and keep connections below it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):  # e.g. above the kernel's nr_open: keep the soft limit
            pass
    return max(1, min(MAX_CONNECTIONS, max(soft // 2, soft - RESERVED_DESCRIPTORS)))


class DeadlineChannel(HTTPChannel):  # type: ignore[misc]
    """An HTTP connection that knows when the request it is receiving began."""

    request_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        return bool(super().received(data))

    def waiting_since(self) -> float:
        """Since when this connection has held a slot without a request to run."""
        return self.request_started if self.request is not None else self.last_activity

    def evictable(self) -> bool:
        """Nothing of ours is running or being sent on it: closing it loses only its wait."""
        return not (self.requests or self.total_outbufs_len or self.will_close
                    or self.close_when_flushed)


class GuardedServer(TcpWSGIServer):  # type: ignore[misc]
    channel_class = DeadlineChannel

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle for channel_timeout
        cutoff = now - REQUEST_DEADLINE
        for channel in list(self.active_channels.values()):
            if channel.request is not None and channel.evictable() \
                    and channel.request_started < cutoff:
                channel.will_close = True

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        return len(self._map) < self.adj.connection_limit or self._make_room()

    def _make_room(self) -> bool:
        """Close the connection waiting longest for its request; False if all are busy."""
        channels = list(self.active_channels.values())
        closing = sum(1 for channel in channels if channel.will_close)
        if len(self._map) - closing < self.adj.connection_limit:
            return True  # a slot is being freed already
        waiting = [channel for channel in channels if channel.evictable()]
        if not waiting:
            return False  # every connection has a request running: the backlog waits
        min(waiting, key=DeadlineChannel.waiting_since).will_close = True
        return True


def create_guarded_server(application: Any, socket_map: dict[int, Any],
                          sockets: list[socket.socket], **adjustments: Any) -> list[GuardedServer]:
    """One GuardedServer per listening socket (TCP only, as `idp serve` binds), one thread pool."""
    withhold_paths_from_waitress_log()
    adj = Adjustments(sockets=sockets, **adjustments)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = []
    for sock in sockets:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError("idp serve listens on TCP only")
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        servers.append(GuardedServer(application, socket_map, True, sock, dispatcher=dispatcher,
                                     adj=adj, bind_socket=False, sockinfo=sockinfo))
    return servers

"""waitress's server, bounded so that no number of slow or stalled clients stops it.

Stock waitress (3.0) has two gaps this closes:

- Its `channel_timeout` counts from the last byte received, so a client that trickles one byte
  every few seconds keeps a connection forever. Here a request must also be complete within
  REQUEST_DEADLINE of its first byte, however fast it trickles.
- At `connection_limit` it stops accepting, so enough held connections leave every new client,
  the proxy's health check included, in the kernel's backlog. Here a new connection is always
  accepted and another one is closed to make room, never one whose request is running or being
  answered: first a connection that never sent a byte (oldest first; opening them costs an
  attacker nothing), then an idle keep-alive, and a partial request only last (oldest first):
  it is a client's work in progress, and the deadline below bounds it anyway.
- Without a proxy in front, nothing stops one address from taking every slot. Here one peer
  address holds at most a share of the limit (PEER_SHARE); beyond it, its own connections make
  room, in the same order. Behind the proxy (IDP_TRUSTED_PROXIES > 0) every connection comes
  from the proxy, so there is no per-peer cap: the worker port must then be reachable from the
  proxy only (docs/deployment.md).

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
from collections.abc import Callable
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from idp.cli.waitress_lanes import LanedTaskDispatcher

# Seconds from a request's first byte to its last: a slower client is closed.
REQUEST_DEADLINE = 10
# At most this many connections per worker; fewer if the descriptor limit is low.
MAX_CONNECTIONS = 2000
# Descriptors kept for everything but client connections: listeners, the wake-up pipe,
# database and Redis connections, log files, imported modules' files.
RESERVED_DESCRIPTORS = 64
# Without a trusted proxy in front, one peer address holds at most 1/PEER_SHARE of the slots.
PEER_SHARE = 8


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


class QueueDepthLog:
    """waitress warns "Task queue depth is N" for every request queued while all threads are
    busy: under load, a log line per request (6,247 in a 14 s benchmark cell), costing CPU when
    CPU is what is short. This keeps the warning, at most once per INTERVAL seconds, with the
    deepest queue and the number of queued requests since the last line."""

    INTERVAL = 10.0

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.next_at = 0.0
        self.deepest = 0
        self.queued = 0

    def warning(self, _message: str, depth: int) -> None:
        self.deepest = max(self.deepest, depth)
        self.queued += 1
        now = time.monotonic()
        if now >= self.next_at:
            self.logger.warning("Task queue depth reached %d (requests that waited for a thread: %d)",
                                self.deepest, self.queued)
            self.next_at, self.deepest, self.queued = now + self.INTERVAL, 0, 0


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


class LastOnStopTask(WSGITask):
    """A request answered while the worker stops is its connection's last (`Connection: close`):
    the client, or the proxy, sends the next one on a new connection, to a running node."""

    def build_response_header(self) -> bytes:
        if self.channel.server.stopping:
            self.request.headers["CONNECTION"] = "close"  # waitress then closes after the answer
        return bytes(super().build_response_header())


def peer_connection_limit(limit: int, behind_proxy: bool) -> int | None:
    """Connections one peer address may hold; None behind the proxy (it is the only peer)."""
    return None if behind_proxy else max(1, limit // PEER_SHARE)


class DeadlineChannel(HTTPChannel):
    """An HTTP connection that knows when the request it is receiving began."""

    task_class = LastOnStopTask
    request_started = 0.0
    sent_anything = False

    def __init__(self, server: GuardedServer, *args: Any, **kwargs: Any):
        super().__init__(server, *args, **kwargs)
        server.cap_peer(self)

    def received(self, data: bytes) -> bool:
        if data:
            self.sent_anything = True
            if self.request is None:
                self.request_started = time.time()
        return bool(super().received(data))

    def eviction_order(self) -> tuple[int, float]:
        """Sorts first the connection to close first: never sent a byte, then idle between
        requests, then a partial request; the longest waiting first within each."""
        if not self.sent_anything:
            return (0, self.creation_time)
        if self.request is None:
            return (1, self.last_activity)
        return (2, self.request_started)

    def evictable(self) -> bool:
        """Nothing of ours is running or being sent on it: closing it loses only its wait."""
        return not (self.requests or self.total_outbufs_len or self.will_close
                    or self.close_when_flushed)


class GuardedServer(TcpWSGIServer):
    channel_class = DeadlineChannel
    # Set by create_guarded_server: None, or how many connections one peer address may hold.
    peer_limit: int | None = None
    # Set by the worker on SIGTERM: every answer from then on closes its connection.
    stopping = False
    next_channel_cleanup: float  # waitress's own (BaseWSGIServer); declared for the checker

    def cap_peer(self, new: DeadlineChannel) -> None:
        """Over its share, a peer's own older connections make room for its new one, which has
        not sent its request yet only because it was accepted a moment ago."""
        if self.peer_limit is None:
            return
        peer = [channel for channel in self.active_channels.values()
                if channel.addr[0] == new.addr[0] and not channel.will_close]
        if len(peer) <= self.peer_limit:
            return
        waiting = sorted((channel for channel in peer if channel is not new
                          and channel.evictable()),
                         key=DeadlineChannel.eviction_order)
        for channel in waiting[:len(peer) - self.peer_limit]:
            channel.will_close = True

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
        min(waiting, key=DeadlineChannel.eviction_order).will_close = True
        return True


def create_guarded_server(application: Any, socket_map: dict[int, Any],
                          sockets: list[socket.socket], peer_limit: int | None = None,
                          form_lane: tuple[Callable[[str, str], bool], int] | None = None,
                          **adjustments: Any) -> list[GuardedServer]:
    """One GuardedServer per listening socket (TCP only, as `idp serve` binds), one thread pool;
    with `form_lane` (predicate, threads), form submissions run on at most that many threads
    (idp.cli.waitress_lanes)."""
    withhold_paths_from_waitress_log()
    adj = Adjustments(sockets=sockets, **adjustments)
    dispatcher = (ThreadedTaskDispatcher() if form_lane is None
                  else LanedTaskDispatcher(*form_lane))
    dispatcher.queue_logger = QueueDepthLog(dispatcher.queue_logger)
    dispatcher.set_thread_count(adj.threads)
    servers = []
    for sock in sockets:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError("idp serve listens on TCP only")
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        server = GuardedServer(application, socket_map, True, sock, dispatcher=dispatcher,
                               adj=adj, bind_socket=False, sockinfo=sockinfo)
        server.peer_limit = peer_limit
        servers.append(server)
    return servers

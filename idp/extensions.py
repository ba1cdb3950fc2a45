"""Flask extensions, created unbound and attached in `create_app` (Flask's init_app pattern)."""

import ipaddress
import logging
import time
from typing import Any, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CursorResult, Engine, Result, event
from sqlalchemy.exc import DisconnectionError

from idp.models.base import Base
from idp.settings import ROOT, current_settings

log = logging.getLogger(__name__)


class PostIdSQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """End the request's session without ever failing the request: the response is built
        (and may report a committed change), so a ROLLBACK that fails on a dead connection must
        not escape Flask and replace it with the server's bare 500 page."""
        try:
            self.session.remove()
        except Exception as error:  # anything raised here would reach the WSGI server
            log.warning("closing the database session failed at teardown: %s",
                        type(error).__name__)
            try:
                self.session().invalidate()  # drop the connection instead of returning it
            except Exception:  # the connection is dead already
                pass
            self.session.registry.clear()


db = PostIdSQLAlchemy(model_class=Base)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: how a conditional write learns whether it won."""
    # Session.execute is typed to return a Result for any statement; for a DML statement without
    # RETURNING it is a CursorResult, the class that carries the count.
    return cast(CursorResult[Any], result).rowcount


# A pooled connection unused for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0


def ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use only when it has been idle a while.

    pool_pre_ping pings at every checkout, that is one more round trip in every request (the
    client side of a statement is ~0.2 ms of CPU here: bench/README.md, issue 14). A connection
    checked in less than IDLE_PING_SECONDS ago has just served a query; should the server go away
    in between, the request fails as one in flight would, SQLAlchemy invalidates the whole pool
    on that disconnect, and the next request gets a new connection. A failed ping raises
    DisconnectionError, on which the pool replaces the connection and tries again.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("a pooled connection failed its ping") from error


# render_as_batch: SQLite can only ALTER a table by copying it; PostgreSQL ignores the flag.
migrate = Migrate(directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
babel = Babel()


def client_network() -> str:
    """The per-address rate-limit key: the IPv4 address, or the IPv6 /64 (RFC 6177: one
    site's subnet; anyone holding a /64 can use 2^64 addresses, so per address is no limit)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


# Storage and default limits are set from the settings in create_app.
limiter = Limiter(key_func=client_network, default_limits=[])


def login_ip_limit() -> str:
    """The per-address limit of the POSTs that guess at a secret (passwords, codes, links):
    the one setting every sign-in, registration, activation and recovery form is held to."""
    return current_settings().login_ip_limit

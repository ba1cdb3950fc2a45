"""Operators' metrics (docs/deployment.md, "Metrics"): the one module that holds PostID's
Prometheus metrics. Services record an event with one call here; nothing else in `idp/services`
imports prometheus_client (tests/services/platform/test_metrics_module.py).

Labels are closed sets, typed as Literals or mapped onto a fixed list here, so that no value a
client sends becomes a label: the route pattern (never the path), the Flask endpoint, a method
from a fixed list, a wire error code from a fixed list. No label names a person.

Built on first use, not at import: prometheus_client chooses between its in-process values and
the files of multi-process mode (PROMETHEUS_MULTIPROC_DIR, set by `idp serve`'s master before
its workers fork, idp.cli.serve_metrics) when a metric is created, and the command line imports
the services before `idp serve` has set the directory.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from flask import has_request_context, request

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
    from sqlalchemy import Engine

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# 1 ms to 10 s: a cached document answers in about a millisecond, a sign-in hashes for a few
# hundred, and beyond 10 s the proxy has long given up.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
# RFC 6749 §5.2, and RFC 6749 §4.1.2.1's server_error / temporarily_unavailable, which the
# error pages answer for a backing service that is down.
TOKEN_ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant",
                          "unauthorized_client", "unsupported_grant_type", "invalid_scope",
                          "server_error", "temporarily_unavailable"})
# Backlog counts stop at this many rows: a scrape costs at most this much of an index.
BACKLOG_CAP = 10_000

Audience = Literal["citizen", "staff"]
SignInResult = Literal["success", "wrong_password", "unknown_account", "not_active", "throttled",
                       "second_factor_required", "second_factor_failed", "passkey_failed"]
Limiter = Literal["login_throttle", "rate_limit", "sms_limit"]
MfaStep = Literal["sign_in", "step_up", "enrol", "remove", "enrolment_code"]
MfaMethod = Literal["totp", "recovery_code", "enrolment_code", "malformed"]


@dataclass(frozen=True)
class Backlog:
    """Rows waiting for a worker (at most BACKLOG_CAP), and the age of the oldest of them."""

    count: int
    oldest_age_seconds: float

    @classmethod
    def of(cls, count: int, oldest: datetime | None, now: datetime) -> Backlog:
        if not count or oldest is None:
            return cls(0, 0.0)
        if oldest.tzinfo is None:  # SQLite hands back naive UTC
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return cls(count, max(0.0, (now - oldest).total_seconds()))


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests: Counter = Counter(
            "postid_http_requests", "HTTP requests answered, by route pattern, method and status.",
            ["route", "method", "status"], registry=registry)
        self.latency: Histogram = Histogram(
            "postid_http_request_duration_seconds",
            "Time to answer an HTTP request (the application's part), by route pattern and method.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=registry)
        self.sign_ins: Counter = Counter(
            "postid_sign_ins", "Sign-in attempts by who signs in and how each ended.",
            ["audience", "result"], registry=registry)
        self.tokens: Counter = Counter(
            "postid_tokens_issued", "Token responses issued by the token endpoint, by grant type.",
            ["grant_type"], registry=registry)
        self.token_errors: Counter = Counter(
            "postid_token_errors", "Token endpoint refusals, by their OAuth error code.",
            ["error"], registry=registry)
        self.throttled: Counter = Counter(
            "postid_throttled", "Attempts refused by a limit: the login throttle, the per-address "
            "rate limits, the SMS limits; by the Flask endpoint that hit it.",
            ["limiter", "endpoint"], registry=registry)
        self.mfa_failures: Counter = Counter(
            "postid_mfa_failures", "Second-factor codes refused (wrong or already used).",
            ["audience", "step", "method"], registry=registry)
        # Per process; a dead worker's values leave with it (serve_metrics.child_exit).
        self.pool_size: Gauge = Gauge(
            "postid_db_pool_size_connections", "Connections the pool keeps (its size).",
            registry=registry, multiprocess_mode="liveall")
        self.pool_checked_out: Gauge = Gauge(
            "postid_db_pool_checked_out_connections", "Pooled connections in use now.",
            registry=registry, multiprocess_mode="liveall")
        self.pool_overflow: Gauge = Gauge(
            "postid_db_pool_overflow_connections",
            "Connections open beyond the pool's size (negative: fewer than its size are open).",
            registry=registry, multiprocess_mode="liveall")


_lock = threading.Lock()
_built: _Metrics | None = None
_registry: CollectorRegistry | None = None


def _metrics() -> _Metrics:
    global _built, _registry
    built = _built
    if built is not None:
        return built
    with _lock:
        if _built is None:
            from prometheus_client import CollectorRegistry, disable_created_metrics, values

            # No `_created` series: multi-process mode has none, and they double the series.
            disable_created_metrics()  # type: ignore[no-untyped-call]

            if is_multiprocess() and not getattr(values.ValueClass, "_multiprocess", False):
                # prometheus_client was imported before the directory was set: choose again.
                values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
            _registry = CollectorRegistry(auto_describe=True)
            _built = _Metrics(_registry)
        return _built


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def registry() -> CollectorRegistry:
    """This process's registry (what a scrape reads in single-process mode)."""
    _metrics()
    assert _registry is not None
    return _registry


# The labelled children of each (route, method, status), looked up once: labels() checks
# and locks at every call, a third of a request's recording (bench/metrics_overhead.py).
_request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def request_answered(route: str, method: str, status: str, seconds: float) -> None:
    """One HTTP request; `route` is a route pattern or "-", never a path."""
    children = _request_children.get((route, method, status))
    if children is None:
        metrics = _metrics()
        known = method if method in METHODS else "other"
        children = (metrics.requests.labels(route, known, status),
                    metrics.latency.labels(route, known))
        if known == method:  # an unknown method is not kept: it is any string
            _request_children[(route, method, status)] = children
    children[0].inc()
    children[1].observe(seconds)


def sign_in(audience: Audience, result: SignInResult) -> None:
    _metrics().sign_ins.labels(audience, result).inc()


def token_issued(grant_type: str) -> None:
    _metrics().tokens.labels(grant_type if grant_type in GRANT_TYPES else "other").inc()


def token_error(error: str) -> None:
    _metrics().token_errors.labels(error if error in TOKEN_ERRORS else "other").inc()


def throttled(limiter: Limiter) -> None:
    """An attempt refused by `limiter`, labelled with the endpoint of the current request."""
    endpoint = (request.endpoint or "-") if has_request_context() else "-"
    _metrics().throttled.labels(limiter, endpoint).inc()


def mfa_failure(audience: Audience, step: MfaStep, method: MfaMethod) -> None:
    _metrics().mfa_failures.labels(audience, step, method).inc()


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges of `engine` current: set at every checkout and checkin (a scrape
    reaches one worker; the others' values must already be in their files). In multi-process
    mode each write is a write to a file, so a value is written only when it changed: the
    size and overflow move only when connections are opened or closed."""
    from sqlalchemy import event

    if not all(hasattr(engine.pool, name) for name in ("size", "checkedout", "overflow")):
        return  # SQLite's in-memory pools have no size
    metrics = _metrics()
    gauges = (metrics.pool_size, metrics.pool_checked_out, metrics.pool_overflow)
    written: list[float | None] = [None, None, None]

    def update(*_args: Any) -> None:
        pool: Any = engine.pool  # dispose() replaces it
        for index, now in enumerate((pool.size(), pool.checkedout(), pool.overflow())):
            if now != written[index]:
                written[index] = now
                gauges[index].set(now)

    event.listen(engine, "checkout", update)
    event.listen(engine, "checkin", update)
    update()

"""`/metrics` for Prometheus, and the per-request metrics (docs/deployment.md, "Metrics").

`/metrics` is for the operators' scraper, never for clients: HAProxy refuses it to them
(deploy/haproxy.cfg), and the node answers it only with the bearer token of IDP_METRICS_TOKEN,
compared in constant time (401 with `WWW-Authenticate: Bearer` without it or with another).
Without a token it does not exist (404), except in development, where `idp serve` listens on
loopback and the metrics are open to try.

Under `idp serve` every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR
(idp.cli.serve_metrics) and the worker that answers a scrape adds up every process's files;
elsewhere (tests, a single process) the process's own registry is read. The backlogs are
database counts taken at scrape time, never per request, each bounded (metrics.BACKLOG_CAP).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, Response, abort, request

from idp.services.platform import audit_seal, metrics, notify
from idp.services.portals import backchannel
from idp.settings import current_settings
from idp.web.route_log import ROUTE_ENVIRON_KEY

log = logging.getLogger(__name__)
PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BACKLOGS: tuple[tuple[str, str, str, Callable[[], metrics.Backlog]], ...] = (
    ("outbox", "messages", "SMS and e-mail waiting for the gateway", notify.backlog),
    ("backchannel_logout", "notices", "back-channel logout notices to deliver or retry",
     backchannel.backlog),
    ("audit_unsealed", "events", "audit events committed but not sealed yet", audit_seal.backlog),
)


class RequestMetrics:
    """WSGI middleware: every request's route pattern, method, status and time, the public
    documents' fast path included. The route is what idp.web.route_log put in the environ
    ("-" for a path that matches no page): never the path, which carries tokens."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status = "500"  # what the server answers when the application raises

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            nonlocal status
            status = code[:3]
            return start_response(code, headers, exc_info)

        try:
            return self.wsgi_app(environ, recording_start_response)
        finally:
            metrics.request_answered(environ.get(ROUTE_ENVIRON_KEY, "-"),
                                     environ.get("REQUEST_METHOD", ""), status,
                                     time.perf_counter() - started)


class BacklogCollector:
    """The backlogs as gauges, counted when scraped (in the scrape's application context)."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("postid_backlog_query_up",
                               "1 if the backlog counts below were read from the database.")
        try:
            read = [(name, unit, what, count()) for name, unit, what, count in BACKLOGS]
        except Exception as error:  # a scrape during an outage still answers the rest
            log.warning("metrics: backlog counts unavailable (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for name, unit, what, backlog in read:
            yield GaugeMetricFamily(f"postid_{name}_backlog_{unit}",
                                    f"{what.capitalize()} (counted up to {metrics.BACKLOG_CAP}).",
                                    value=backlog.count)
            yield GaugeMetricFamily(f"postid_{name}_oldest_age_seconds",
                                    f"Age of the oldest of the {what} (0 when none).",
                                    value=backlog.oldest_age_seconds)


def scrape() -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    backlogs = CollectorRegistry(auto_describe=False)
    backlogs.register(BacklogCollector())
    if metrics.is_multiprocess():
        from prometheus_client import multiprocess

        merged = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(merged)
        own = generate_latest(merged)
    else:
        own = generate_latest(metrics.registry())
    return own + generate_latest(backlogs)


def metrics_view() -> Response:
    expected = current_settings().metrics_token
    if not expected:
        if current_settings().env != "development":
            abort(404)
    else:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return _unauthorized('Bearer realm="postid-metrics"')
        if not hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"),
                                   expected.encode()):
            return _unauthorized('Bearer realm="postid-metrics", error="invalid_token"')
    return Response(scrape(), mimetype=None, content_type=CONTENT_TYPE)


def _unauthorized(challenge: str) -> Response:
    response = Response("401 Unauthorized: a bearer token is required\n", status=401,
                        content_type="text/plain; charset=utf-8")
    response.headers["WWW-Authenticate"] = challenge
    return response


def count_rate_limit_breach(_limit: object) -> None:
    """Flask-Limiter's on_breach callback: count, and leave its answer (429) unchanged."""
    metrics.throttled("rate_limit")


def configure(app: Flask) -> None:
    """Before the limiter is initialised: it reads its breach callback from the config."""
    app.config["RATELIMIT_ON_BREACH_CALLBACK"] = count_rate_limit_breach


def init_app(app: Flask) -> None:
    from idp.extensions import db

    with app.app_context():
        metrics.watch_pool(db.engine)
    app.add_url_rule(PATH, "metrics", metrics_view, methods=["GET"])

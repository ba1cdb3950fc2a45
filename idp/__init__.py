"""PostID: a national OpenID Connect identity provider."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask

from idp.settings import ROOT, Settings, load_settings
from idp.web.request_body import MAX_BODY_BYTES

__all__ = ["create_app"]

# Seconds libpq waits to open a connection to PostgreSQL.
POSTGRES_CONNECT_TIMEOUT = 5


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application from validated settings (loaded from the environment if omitted)."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        instance_path=settings.instance_path,
        template_folder=str(ROOT / "templates"),
    )
    from idp.web.request_body import IdpRequest, refuse_overlong_request_line
    from idp.web.route_log import record_client_id, record_route

    app.request_class = IdpRequest
    app.before_request(record_route)  # first: even a refused request is logged by its route
    app.before_request(refuse_overlong_request_line)  # before any limit or view runs
    app.teardown_request(record_client_id)
    _configure(app, settings)
    from idp.web import metrics

    metrics.configure(app)  # before the limiter reads its configuration
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    _init_extensions(app)
    _register_blueprints(app)
    from idp.web.oidc.documents import PublicDocuments

    app.wsgi_app = PublicDocuments(app, app.wsgi_app)  # type: ignore[method-assign]
    if settings.is_production and not settings.trusted_proxies:
        logging.getLogger(__name__).warning(
            "IDP_TRUSTED_PROXIES is 0: behind a load balancer every client shares one "
            "rate-limit bucket; set it to the number of proxies in front of PostID")
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client address feeds rate limits: trust exactly as many hops as are ours.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.wsgi_app = metrics.RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
    from idp.web.request_id import RequestId

    app.wsgi_app = RequestId(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _configure(app: Flask, settings: Settings) -> None:
    from idp.logs import install_root_handler

    install_root_handler(settings.log_format, settings.log_level)
    cookie_prefix = "__Host-" if settings.cookie_secure else ""
    app.config.update(
        IDP_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        # Flask's signed cookie only carries the CSRF token and flashes; the sign-in session
        # lives in the database (idp.web.session_cookie).
        SESSION_COOKIE_NAME=f"{cookie_prefix}postid_form",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_absolute_hours),
        IDP_SESSION_COOKIE=f"{cookie_prefix}postid_session",
        IDP_DEVICE_COOKIE=f"{cookie_prefix}postid_device",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the form cookie instead of a clock
        # The strict Referer check cannot work with Referrer-Policy: no-referrer (docs/architecture.md §7);
        # the token is bound to the SameSite=Lax form cookie instead.
        WTF_CSRF_SSL_STRICT=False,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_STORAGE_OPTIONS=_storage_options(settings),
        RATELIMIT_STRATEGY="moving-window",
        RATELIMIT_ENABLED=True,
        # Off: Flask-Limiter would put its own window's Retry-After on every response of a
        # limited route (401s too) and raise ours to it; web/error_pages.py sets it on its own 429s.
        RATELIMIT_HEADERS_ENABLED=False,
        JSON_SORT_KEYS=False,
    )
    if settings.env == "test":
        app.config["TESTING"] = True


def _storage_options(settings: Settings) -> dict[str, object]:
    """Options of the rate-limit store's client (redis-py's socket timeouts, in seconds)."""
    if not settings.redis_url:
        return {}
    seconds = settings.redis_timeout_ms / 1000
    return {"socket_connect_timeout": seconds, "socket_timeout": seconds}


def _engine_options(url: str) -> dict[str, object]:
    # Bound parameters carry ID numbers, phones and hashes: keep them out of logs and errors.
    options: dict[str, object] = {"hide_parameters": True}
    if url.startswith("postgresql"):
        # libpq waits for an unreachable server as long as the OS does (minutes): a request
        # thread would hang that long. 5 s is far above a healthy connect on a private network.
        options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
    return options


def _init_extensions(app: Flask) -> None:
    from idp import i18n
    from idp.extensions import csrf, db, limiter, migrate
    from idp.services.platform import audit, passwords
    from idp.web import error_pages, error_summary, security_headers, session_cookie

    db.init_app(app)
    audit.install(db.session.session_factory)
    migrate.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    passwords.init_app(app)
    error_pages.init_app(app)
    security_headers.init_app(app)
    error_summary.init_app(app)
    session_cookie.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _enable_sqlite_foreign_keys(app)
    else:
        from idp.extensions import ping_idle_connections

        with app.app_context():
            ping_idle_connections(db.engine)
    if app.config["IDP_SETTINGS"].audit_seal_in_process:
        _seal_in_process(app)


def _seal_in_process(app: Flask) -> None:
    """Seal the audit events a request or command stored before its session is removed
    (registered after db.init_app, so this teardown runs before Flask-SQLAlchemy's)."""
    from idp.extensions import db
    from idp.services.platform import audit, audit_seal

    @app.teardown_appcontext
    def seal(_exc: BaseException | None) -> None:
        if not db.session.registry.has():
            return  # no session was opened: nothing was written (and none is created here)
        session = db.session()
        if not session.info.pop(audit.WROTE, False):
            return
        try:
            session.rollback()
            audit_seal.seal_all()
        except Exception:  # sealing later (next request) is fine; never fail the response
            app.logger.exception("in-process audit sealing failed")


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    from sqlalchemy import event

    from idp.extensions import db

    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _fk_on(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL lets readers run during a write, and NORMAL syncs at checkpoints instead of
            # every commit: the embedded database stays durable across crashes of the process.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()


def _register_blueprints(app: Flask) -> None:
    from flask import request

    from idp import oidc
    from idp.extensions import limiter
    from idp.web import health, metrics
    from idp.web.auth import bp as auth_bp
    from idp.web.business import bp as business_bp
    from idp.web.citizen import bp as citizen_bp
    from idp.web.counter import api_bp as counter_api_bp
    from idp.web.counter import bp as counter_bp
    from idp.web.mfa import bp as mfa_bp
    from idp.web.oidc.logout import bp as oidc_logout_bp
    from idp.web.oidc.views import bp as oidc_bp
    from idp.web.recovery import bp as recovery_bp
    from idp.web.register import bp as register_bp

    oidc.init_app(app)
    # The protocol endpoints declare no Flask-Limiter limit (tests/oidc/test_discovery.py pins
    # it): a request filter skips the limiter's per-request bookkeeping, which exempt() does
    # not (profiled at ~20 % of a cached discovery request, bench/README.md).
    limiter.request_filter(lambda: request.blueprint == oidc_bp.name)
    app.register_blueprint(auth_bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(business_bp)
    app.register_blueprint(oidc_bp)
    app.register_blueprint(oidc_logout_bp)
    app.register_blueprint(register_bp)
    app.register_blueprint(recovery_bp)
    app.register_blueprint(mfa_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(counter_api_bp)
    health.init_app(app)
    metrics.init_app(app)

"""/healthz for the container HEALTHCHECK and load balancers: 200 only when every backing
service a sign-in needs answers (the database and, when configured, Redis); otherwise 503
naming the ones that failed, never how they are reached (no URL, host or error text)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from idp.extensions import db, limiter
from idp.settings import current_settings

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "30"


def _database_answers() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as error:  # any failure means "not usable", whatever the driver says
        log.warning("health check: database unavailable (%s)", type(error).__name__)
        return False


def _redis_answers() -> bool:
    # The rate-limit storage is the Redis every sign-in goes through (login throttle, limits).
    answers = bool(limiter.storage.check())
    if not answers:
        log.warning("health check: Redis unavailable")
    return answers


def healthz() -> Response:
    checks = {"database": _database_answers()}
    if current_settings().redis_url:
        checks["redis"] = _redis_answers()
    failed = [name for name, answers in checks.items() if not answers]
    states = {name: "ok" if answers else "unavailable" for name, answers in checks.items()}
    if not failed:
        return jsonify(status="ok", checks=states)
    response = jsonify(status="unavailable", error="temporarily_unavailable", failed=failed,
                       checks=states)
    response.status_code = 503
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])

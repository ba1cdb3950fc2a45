"""The probes: `/healthz` (liveness) and `/readyz` (readiness), both for the machines that run
PostID, never for clients (deploy/haproxy.cfg refuses both to them).

- `/healthz`: the process answers requests. Nothing else is checked, so a database outage does
  not make a supervisor restart every node at once (a restart cannot bring the database back).
  The container HEALTHCHECK uses it.
- `/readyz`: this node can serve a sign-in: the database and, when configured, Redis answer, and
  the database's schema is at the head of this release's migrations (a node of an older or newer
  release, or one started before `idp db upgrade`, would fail on the first query that differs).
  The proxy's health check uses it to take a node out of rotation, and put it back.

A failure answers 503 naming the checks that failed, never how a service is reached (no URL,
host or error text).
"""

from __future__ import annotations

import functools
import logging

from alembic.script import ScriptDirectory
from flask import Flask, jsonify
from sqlalchemy import text
from werkzeug.wrappers import Response

from idp.extensions import db, limiter
from idp.settings import ROOT, current_settings

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "30"
MIGRATIONS_DIR = ROOT / "migrations"


@functools.cache
def schema_heads() -> frozenset[str]:
    """The head revision(s) of this release's migrations, read once per process."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def _database_state() -> tuple[str, str]:
    """(database, schema): each "ok", or why not. One query when all is well."""
    try:
        revisions = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # the database is down, or up without a migrated schema: which one?
        db.session.rollback()
        try:
            db.session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not usable", whatever the driver says
            log.warning("readiness check: database unavailable (%s)", type(error).__name__)
            return "unavailable", "unavailable"
        revisions = frozenset()
    if revisions != schema_heads():
        log.warning("readiness check: database schema is not at this release's head")
        return "ok", "mismatch"
    return "ok", "ok"


def _redis_answers() -> bool:
    # The rate-limit storage is the Redis every sign-in goes through (login throttle, limits).
    answers = bool(limiter.storage.check())
    if not answers:
        log.warning("readiness check: Redis unavailable")
    return answers


def healthz() -> Response:
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


def readyz() -> Response:
    database, schema = _database_state()
    states = {"database": database, "schema": schema}
    if current_settings().redis_url:
        states["redis"] = "ok" if _redis_answers() else "unavailable"
    # A schema left unchecked because the database is down is not a failure of its own.
    failed = [name for name, state in states.items()
              if state != "ok" and not (name == "schema" and database != "ok")]
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
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])

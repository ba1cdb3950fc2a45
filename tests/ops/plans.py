"""The statements of the hot paths, recorded while the application runs them against a seeded
database, and their PostgreSQL plans: what bench/explain_hot_queries.py prints and
tests/ops/test_hot_query_plans.py checks (no sequential scan of a big table)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask

from tests.ops import scenarios
from tests.ops.seeding import CLIENT_ID, identity

# Tables that grow with the people and their sign-ins; a sequential scan of any of them on a
# request path is a latency that grows with the service.
BIG_TABLES = frozenset({"account", "password_credential", "totp_credential", "user_session",
                        "authorization_code", "oauth_token", "consent", "audit_event",
                        "organisation_member", "mfa_challenge", "recovery_code"})


@dataclass
class Hot:
    operation: str
    sql: str
    parameters: dict[str, Any]


def hot_statements(app: Flask, secret: str, count: int) -> list[Hot]:
    """Every distinct SELECT, UPDATE and DELETE the hot paths send, with the operation that sent
    it first: sign-in by ID number and by phone, /authorize signed in (session, client,
    consent), code exchange, refresh rotation, userinfo, introspection. Uses seeded rows
    (tests/ops/seeding.py) spread over the table; their consents are standing."""
    portal = scenarios.Portal(CLIENT_ID, secret)
    recorder = scenarios.recorder_for(app)
    found: dict[str, Hot] = {}

    def keep(operation: str, recording: scenarios.Recording) -> None:
        for statement in recording.statements:
            verb = statement.sql.lstrip().split(None, 1)[0].upper()
            if verb in ("SELECT", "WITH", "UPDATE", "DELETE") and statement.sql not in found:
                found[statement.sql] = Hot(operation, statement.sql, dict(statement.parameters or {}))

    for label, index, row in (("sign-in by ID number", 0, count // 3),
                              ("sign-in by phone", 1, (2 * count) // 3)):
        steps = scenarios.Steps(app.test_client(), portal, identity(row)[index])
        for name, step in steps.all():
            with recorder.recording() as recording:
                step()
            keep(f"{label}: {name}", recording)
    client = app.test_client()
    row = random.randrange(count - 2)  # a refresh token is good once: another row each run
    for name, call in (
            ("POST /token (refresh)", lambda: scenarios.refresh(client, portal, f"seed-refresh-{row}")),
            ("GET /userinfo", lambda: scenarios.userinfo(client, f"seed-access-{row + 1}")),
            ("POST /token/introspect", lambda: scenarios.introspect(client, portal, f"seed-access-{row + 2}"))):
        with recorder.recording() as recording:
            call()
        keep(name, recording)
    return list(found.values())


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def scanned(cursor: Any, hot: Hot) -> list[tuple[str, str]]:
    """(node type, table) of every scan in the statement's plan (EXPLAIN, not run)."""
    cursor.execute("EXPLAIN (FORMAT JSON) " + hot.sql, hot.parameters)
    raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return [(node["Node Type"], node["Relation Name"]) for node in _nodes(plan)
            if "Relation Name" in node]


def explain_analyze(conn: Any, hot: Hot) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) text; the statement runs in a transaction rolled back."""
    try:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + hot.sql, hot.parameters).fetchall()
        return "\n".join(row[0] for row in rows)
    finally:
        conn.rollback()

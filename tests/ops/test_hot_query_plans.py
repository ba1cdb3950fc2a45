"""Every statement of the hot paths is served by an index (docs/operations.md, "Latency flat with
scale"; docs/architecture.md §4: request paths look up by unique indexes only). PostgreSQL only.

The statements are recorded while the application signs in (by ID number and by phone),
issues and exchanges a code, refreshes, answers userinfo and introspection, against 3,000
seeded citizens with their sessions, codes, tokens and consents, after ANALYZE. Two checks:
the planner's own choice never scans a big table sequentially, and, with sequential scans
priced out, every table is reached through an index condition (so a small table, where a
sequential scan is the right choice today, still has the index it will need tomorrow).
"""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import OAuthClient
from idp.services.portals import keys
from idp.services.portals.clients import register_client
from tests.conftest import TEST_DATABASE_URL
from tests.ops.plans import BIG_TABLES, Hot, hot_statements, scanned
from tests.ops.seeding import CLIENT_ID, PASSWORD, REDIRECT_URI, SCOPE, SECRET, seed_rows

pytestmark = pytest.mark.skipif(not (TEST_DATABASE_URL or "").startswith("postgresql"),
                                reason="query plans are PostgreSQL's (IDP_TEST_DATABASE_URL)")

ROWS = 3000
# Read whole on purpose: the signing-key rings (a handful of rows, cached per process for 60 s).
WHOLE_TABLES = frozenset({"signing_key"})
# What the hot paths must look up (docs/operations.md lists the statements).
EXPECTED_TABLES = {"account", "password_credential", "user_session", "consent", "oauth_client",
                   "authorization_code", "oauth_token"}


def _seeded(app: Flask) -> list[Hot]:
    with app.app_context():
        register_client(name="Cổng dịch vụ công thử", redirect_uris=[REDIRECT_URI], scope=SCOPE,
                        client_id=CLIENT_ID, client_secret=SECRET)
        keys.ensure_keys()
        client_pk = db.session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == CLIENT_ID))
        raw = db.engine.raw_connection()
        try:
            seed_rows(raw.driver_connection, ROWS, client_pk=client_pk,
                      consent_version=app.config["IDP_SETTINGS"].consent_text_version,
                      password_hash=PasswordHasher(time_cost=1, memory_cost=1024,
                                                   parallelism=1).hash(PASSWORD))
            raw.driver_connection.execute("ANALYZE")
            raw.driver_connection.commit()
        finally:
            raw.close()
    return hot_statements(app, SECRET, ROWS)


def _row_counts(cursor: Any) -> dict[str, float]:
    cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
    return {name: tuples for name, tuples in cursor.fetchall()}


def _problems(cursor: Any, statements: list[Hot]) -> list[str]:
    """What the plans get wrong: a big table scanned sequentially by the planner's choice, or
    a table with no index for the statement's condition."""
    rows = _row_counts(cursor)
    found = []
    for hot in statements:
        for node, table in scanned(cursor, hot):
            if node == "Seq Scan" and table in BIG_TABLES and rows.get(table, 0) >= ROWS / 2:
                found.append(f"{hot.operation}: sequential scan of {table}")
    cursor.execute("SET LOCAL enable_seqscan = off")
    for hot in statements:
        cursor.execute("EXPLAIN (FORMAT JSON) " + hot.sql, hot.parameters)
        raw = cursor.fetchone()[0]
        for node, joined in _walk(raw[0]["Plan"]):
            table = node.get("Relation Name")
            if table is None or table in WHOLE_TABLES or node["Node Type"] == "ModifyTable":
                continue
            if joined and node["Node Type"] != "Seq Scan":
                continue  # the inner side of a join: reached by its (primary) key
            if node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" in node:
                continue
            if node["Node Type"] == "Bitmap Heap Scan":
                continue  # its Bitmap Index Scan child carries the index condition
            found.append(f"{hot.operation}: no index condition on {table} ({node['Node Type']})")
    return found


JOINS = ("Nested Loop", "Hash Join", "Merge Join")


def _walk(node: dict[str, Any], joined: bool = False) -> list[tuple[dict[str, Any], bool]]:
    """Every node, and whether it is on the inner side of a join (reached by the join key, a
    primary key here, while the outer side drives the statement)."""
    children = node.get("Plans", [])
    inner = [node["Node Type"] in JOINS and i > 0 for i in range(len(children))]
    return [(node, joined)] + [n for child, side in zip(children, inner, strict=True)
                               for n in _walk(child, joined or side)]


def test_hot_statements_use_indexes(app: Flask) -> None:
    statements = _seeded(app)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            tables = {table for hot in statements for _node, table in scanned(cursor, hot)}
            assert EXPECTED_TABLES <= tables, EXPECTED_TABLES - tables
            assert _problems(cursor, statements) == []
        finally:
            raw.rollback()
            raw.close()


def test_a_missing_index_is_caught(app: Flask) -> None:
    """The check bites: without the unique index on the phone, sign-in by phone is reported."""
    statements = _seeded(app)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("ALTER TABLE account DROP CONSTRAINT uq_account_phone")  # rolled back
            problems = _problems(cursor, statements)
        finally:
            raw.rollback()
            raw.close()
    assert "sign-in by phone: POST /login: sequential scan of account" in problems

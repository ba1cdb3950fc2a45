"""EXPLAIN (ANALYZE, BUFFERS) of every statement the hot paths send, on a seeded database.

Usage:
    .venv/bin/python bench/explain_hot_queries.py \
        --database-url postgresql://postgres@127.0.0.1:5432/postid_1m [--redis-url ...]

Runs a sign-in by ID number and one by phone through the browser flow, a code exchange, a
refresh, userinfo and introspection against a database seeded by bench/seed_accounts.py,
records each distinct SELECT, UPDATE and DELETE (tests/ops/plans.py), and prints its plan,
executed (an UPDATE inside a transaction that is rolled back), then one line per statement
with the scans it uses. tests/ops/test_hot_query_plans.py checks the same plans on every
PostgreSQL test run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
from latency import build_app  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from idp.extensions import db  # noqa: E402
from idp.models import Account  # noqa: E402
from tests.ops.plans import explain_analyze, hot_statements, scanned  # noqa: E402
from tests.ops.seeding import SECRET  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        app = build_app(args.database_url, args.redis_url, instance, "test")
        with app.app_context():
            count = db.session.scalar(select(func.count()).select_from(Account)) or 0
            db.session.remove()
        statements = hot_statements(app, SECRET, count)
    summary = []
    with psycopg.connect(args.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for hot in statements:
            flat = " ".join(hot.sql.split())
            table_part = flat[flat.upper().find(" FROM "):] if flat.startswith("SELECT") else flat
            print(f"### {hot.operation}\n\n    {table_part[:300]}\n")
            print("\n".join("    " + line for line in explain_analyze(conn, hot).splitlines()))
            print()
            with conn.cursor() as cursor:
                scans = scanned(cursor, hot)
            conn.rollback()
            summary.append((hot.operation, flat[:70], ", ".join(f"{t} on {r}" for t, r in scans)))
    print(f"{count:,} accounts; {len(statements)} distinct statements\n")
    print("| first sent by | statement | scans |")
    print("|---|---|---|")
    for operation, flat, scans in summary:
        print(f"| {operation} | `{flat}…` | {scans} |")


if __name__ == "__main__":
    main()

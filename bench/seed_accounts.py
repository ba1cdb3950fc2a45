"""Bulk-seed citizen accounts, each with a session, a redeemed code, a token pair and a consent,
into a PostgreSQL database: a million in a few minutes (docs/operations.md).

Usage:
    createdb -h 127.0.0.1 -U postgres postid_1m
    .venv/bin/python bench/seed_accounts.py --count 1000000 \
        --database-url postgresql://postgres@127.0.0.1:5432/postid_1m [--argon2 test|production]

Migrates the database if needed, registers the portal `seed-portal` (redirect URI
https://portal.example.vn/callback, secret printed) and its signing keys under the benchmarks'
own key-encryption key, then writes the rows with tests/ops/seeding.py (INSERT ... SELECT over
generate_series, 100,000 rows a statement), checks 2,000 random rows with the validators of
idp/domain, and runs ANALYZE. Every account shares one password hash
(`correct horse battery staple`, argon2id with the test parameters t=1, 1 MiB by default, or
the production ones). Row i's ID number and phone: `tests.ops.seeding.identity(i)`; its tokens:
`seed-access-<i>`, `seed-refresh-<i>`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from tests.ops.seeding import (  # noqa: E402
    CLIENT_ID,
    PASSWORD,
    REDIRECT_URI,
    SCOPE,
    SECRET,
    SEED_KEK,
    check_sample,
    identity,
    seed_rows,
)


def prepare(database_url: str) -> tuple[int, str]:
    """Migrate, register the portal and make its keys; the portal's primary key and the
    consent text version."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from idp import create_app
    from idp.extensions import db
    from idp.models import OAuthClient
    from idp.services.portals import keys
    from idp.services.portals.clients import register_client
    from idp.settings import load_settings

    with tempfile.TemporaryDirectory() as instance:
        app = create_app(load_settings("test", environ={}, database_url=database_url,
                                       instance_path=instance, key_encryption_key=SEED_KEK))
        with app.app_context():
            upgrade()
            found = select(OAuthClient).where(OAuthClient.client_id == CLIENT_ID)
            if db.session.scalar(found) is None:
                register_client(name="Cổng dịch vụ công thử", redirect_uris=[REDIRECT_URI],
                                scope=SCOPE, client_id=CLIENT_ID, client_secret=SECRET)
            keys.ensure_keys()
            client = db.session.scalar(found)
            assert client is not None
            pk, version = client.id, app.config["IDP_SETTINGS"].consent_text_version
            db.session.remove()
            db.engine.dispose()
    return pk, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--argon2", choices=("test", "production"), default="test",
                        help="parameters of the one shared password hash")
    args = parser.parse_args()
    if not 0 < args.count <= 20_000_000:
        sys.exit("--count must be between 1 and 20,000,000")
    started = time.perf_counter()
    client_pk, consent_version = prepare(args.database_url)
    hasher = (PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)
              if args.argon2 == "production"
              else PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT 1 FROM account WHERE national_id = %s", (identity(0)[0],)).fetchone():
            sys.exit("this database is seeded already: seed an empty one")
        base = seed_rows(conn, args.count, client_pk=client_pk, consent_version=consent_version,
                         password_hash=hasher.hash(PASSWORD), progress=True)
        checked = check_sample(conn, base, args.count)
        print(f"checked {checked:,} random rows with idp.domain's validators: all valid")
        conn.autocommit = True
        analyze = time.perf_counter()
        conn.execute("ANALYZE")
        print(f"ANALYZE in {time.perf_counter() - analyze:.1f} s")
    print(f"seeded {args.count:,} accounts in {time.perf_counter() - started:.1f} s "
          f"(portal {CLIENT_ID}, secret {SECRET})")


if __name__ == "__main__":
    main()

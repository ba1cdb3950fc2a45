"""Audit hash chain cost: commits per second with and without an audit event, one and several
threads, on SQLite and (with --database-url) PostgreSQL.

Usage:  .venv/bin/python bench/audit_chain.py [--seconds 5] [--threads 8]
                                              [--database-url postgresql+psycopg://...]

Every audited commit takes the chain-head row lock for its final inserts (idp/services/platform/audit.py),
so audited transactions serialise at commit. This prints the commits/s of a small write
transaction (one row of the thread's own) alone and with one chained audit event, and their ratio,
then checks the chain with `verify_chain`. Target: chained/plain >= 0.5 at 8 threads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from idp import create_app  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.models import AuditTag  # noqa: E402
from idp.services.platform import audit
from idp.services.platform.audit_verify import verify_chain  # noqa: E402
from idp.settings import load_settings  # noqa: E402


def run(app, seconds: float, threads: int, audited: bool) -> float:  # type: ignore[no-untyped-def]
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def worker(i: int) -> None:
        with app.app_context():
            while time.monotonic() < stop:
                # Each thread writes its own row: only the audit chain is shared.
                db.session.execute(text("UPDATE bench_row SET n = n + 1 WHERE id = :i"), {"i": i})
                if audited:
                    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=1, session_id=i)
                db.session.commit()
                counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(load_settings("test", environ={}, database_url=url, instance_path=tmp))
        with app.app_context():
            upgrade()
            from tests.factories import active_citizen

            active_citizen()
            db.session.execute(text("CREATE TABLE bench_row (id INTEGER PRIMARY KEY, n INTEGER)"))
            for i in range(max(args.threads, 1)):
                db.session.execute(text("INSERT INTO bench_row VALUES (:i, 0)"), {"i": i})
            db.session.commit()
        print(f"database: {url.split(':')[0]}")
        for threads in (1, args.threads):
            plain = run(app, args.seconds, threads, audited=False)
            chained = run(app, args.seconds, threads, audited=True)
            print(f"threads={threads}: plain {plain:.0f} commits/s, with a chained audit event "
                  f"{chained:.0f} commits/s, ratio {chained / plain:.2f}")
        with app.app_context():
            result = verify_chain()
            print(f"chain verified: ok={result.ok} events={result.events_checked}")


if __name__ == "__main__":
    main()

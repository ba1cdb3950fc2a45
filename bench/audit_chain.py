"""The audit log's cost: commits per second with and without an audit event (1 and N threads),
how fast the sealer seals, and how old the oldest unsealed event gets while writers run.

Usage:  .venv/bin/python bench/audit_chain.py [--seconds 5] [--threads 8] [--events 50000]
                                              [--batch 256] [--database-url postgresql://...]

Appending is a plain insert at commit (idp/services/platform/audit.py): the events of concurrent
transactions do not wait for each other. A sealer (idp/services/platform/audit_seal.py) later
orders them and seals them in batches into the Merkle tree with a signed checkpoint per batch.
Prints, on one database and in one run:
  1. plain vs audited commits/s of a small write transaction, and their ratio
     (target: audited/plain >= 0.9 at 8 threads on PostgreSQL), beside the same transaction
     with one more statement that is not an audit event (SELECT 1): the floor of any append;
  2. sealing throughput over a backlog of --events events (target >= 20,000 events/s);
  3. while N writers append for --seconds, one sealer loop (as `idp audit seal --loop`) and the
     age of the oldest unsealed event sampled every 50 ms: p50/p99/max (target p99 <= 2 s);
then verifies the whole log.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from idp import create_app  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.models import AuditEvent, AuditLeaf, AuditTag  # noqa: E402
from idp.models.base import utcnow  # noqa: E402
from idp.services.platform import audit, audit_key, audit_seal  # noqa: E402
from idp.services.platform.audit_verify import verify_log  # noqa: E402
from idp.settings import load_settings  # noqa: E402


def commits_per_second(app, seconds: float, threads: int, audited: bool,  # type: ignore[no-untyped-def]
                       extra_statement: bool = False) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def worker(i: int) -> None:
        with app.app_context():
            while time.monotonic() < stop:
                # Each thread writes its own row: only the audit log is shared.
                db.session.execute(text("UPDATE bench_row SET n = n + 1 WHERE id = :i"), {"i": i})
                if audited:
                    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=1, session_id=i)
                if extra_statement:  # the floor of any append: one more statement per commit
                    db.session.execute(text("SELECT 1"))
                db.session.commit()
                counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def seal_backlog(app, events: int, batch: int) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Seal what is there, add `events` events in bulk, time sealing them all."""
    with app.app_context():
        audit_seal.seal_all(batch)
        rows = [{"tag": AuditTag.ACCOUNT_LOGIN_SUCCESS.value, "occurred_at": utcnow(),
                 "account_id": 1, "session_id": n, "channel": "web", "data": {}}
                for n in range(events)]
        # As audit.record writes them: on PostgreSQL with the writing transaction's id.
        statement = audit.INSERT_EVENTS_PG if db.engine.dialect.name == "postgresql" \
            else insert(AuditEvent)
        for start in range(0, events, 5000):
            db.session.execute(statement, rows[start:start + 5000])
            db.session.commit()
        began = time.perf_counter()
        sealed = audit_seal.seal_all(batch)
        return sealed, time.perf_counter() - began


def unsealed_window(app, seconds: float, threads: int, batch: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    """Writers append while one sealer loops; sample the age of the oldest unsealed event."""
    done = threading.Event()
    ages: list[float] = []

    def sealer() -> None:
        with app.app_context():
            while not done.is_set():
                if audit_seal.seal_once(batch) == 0:
                    time.sleep(0.05)
            audit_seal.seal_all(batch)

    def sampler() -> None:
        with app.app_context():
            oldest_unsealed = (select(func.min(AuditEvent.occurred_at))
                               .outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
                               .where(AuditLeaf.event_id.is_(None), AuditEvent.seq.is_(None)))
            while not done.is_set():
                oldest = db.session.scalar(oldest_unsealed)
                db.session.rollback()
                if oldest is not None:
                    if oldest.tzinfo is None:
                        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
                    ages.append((utcnow() - oldest).total_seconds())
                else:
                    ages.append(0.0)
                time.sleep(0.05)

    helpers = [threading.Thread(target=sealer), threading.Thread(target=sampler)]
    for t in helpers:
        t.start()
    rate = commits_per_second(app, seconds, threads, audited=True)
    done.set()
    for t in helpers:
        t.join()
    return ages, rate


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=audit_seal.BATCH_SIZE)
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
            audit_key.ensure_key()
        print(f"database: {url.split(':')[0]}, batch {args.batch}")
        for threads in (1, args.threads):
            plain = commits_per_second(app, args.seconds, threads, audited=False)
            audited = commits_per_second(app, args.seconds, threads, audited=True)
            extra = commits_per_second(app, args.seconds, threads, audited=False,
                                       extra_statement=True)
            print(f"threads={threads}: plain {plain:.0f} commits/s, with an audit event "
                  f"{audited:.0f} commits/s, ratio {audited / plain:.2f}; with one more "
                  f"statement instead (SELECT 1) {extra:.0f} commits/s, ratio {extra / plain:.2f}")
        sealed, took = seal_backlog(app, args.events, args.batch)
        print(f"sealing: {sealed} events in {took:.2f} s = {sealed / took:.0f} events/s")
        ages, rate = unsealed_window(app, args.seconds, args.threads, args.batch)
        print(f"under load ({args.threads} writers, {rate:.0f} audited commits/s, one sealer): "
              f"oldest unsealed event p50 {statistics.median(ages or [0]):.2f} s, "
              f"p99 {percentile(ages, 0.99):.2f} s, max {max(ages or [0]):.2f} s "
              f"({len(ages)} samples)")
        with app.app_context():
            report = verify_log()
            print(f"log verified: ok={report.ok} events={report.events_checked} "
                  f"unsealed={report.unsealed}")


if __name__ == "__main__":
    main()

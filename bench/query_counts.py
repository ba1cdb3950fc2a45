"""Database statements per operation, and the CPU each costs the PostgreSQL server and the app.

Usage (an empty PostgreSQL database; the script migrates it, Redis only for the limits):

    createdb -h 127.0.0.1 -U postgres postid_qc
    .venv/bin/python bench/query_counts.py \
        --database-url postgresql://postgres@127.0.0.1:5432/postid_qc \
        --redis-url redis://127.0.0.1:6379/14 [--rounds 1000] [--signins 100] [--show-sql]

Drives the application in process (Flask test client, one thread) and counts, with a
SQLAlchemy event listener, every statement it sends (reads = SELECT, writes = INSERT, UPDATE,
DELETE), COMMIT and ROLLBACK, per step of a sign-in through the browser and per protocol call.
Then repeats each operation `--rounds` times (sign-ins: `--signins`) and reads the CPU time the
pool's PostgreSQL backends spent (utime + stime of their processes in /proc, so the server must
run on this machine) and the CPU time of this process (the app, test client included): per
operation, in microseconds. argon2id runs with the test parameters (t=1, 1 MiB), so hashing does
not hide the rest; add the hash's own cost for production sizing (bench/signin.py measures it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from idp import create_app  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.settings import load_settings  # noqa: E402
from tests.ops import scenarios  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def build_app(database_url: str, redis_url: str, instance: str) -> Flask:
    settings = load_settings("test", environ={}, database_url=database_url, instance_path=instance,
                             redis_url=redis_url, login_ip_limit="1000000 per minute",
                             audit_seal_in_process=False)
    return create_app(settings)


class BackendClock:
    """CPU seconds the PostgreSQL backends of the app's pool have used (from /proc)."""

    def __init__(self, app: Flask) -> None:
        self.pids: set[int] = set()
        with app.app_context():
            event.listen(db.engine, "connect", self._connected)
            db.engine.dispose()  # so that every connection from now on is seen

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.pids.add(cursor.fetchone()[0])
        cursor.close()
        dbapi_connection.commit()

    def seconds(self) -> float:
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / TICK


def seed(app: Flask, count: int) -> list[str]:
    """`count` citizens with valid, distinct ID numbers and phones (the real create path)."""
    from tests.factories import active_citizen

    identifiers = []
    with app.app_context():
        for i in range(count):
            national_id = f"0010990{i:05d}"
            active_citizen(national_id=national_id, phone=f"091{i:07d}", email=None)
            identifiers.append(national_id)
    return identifiers


SHOW_SQL = False


def print_counts(title: str, recording: scenarios.Recording, *, sql: bool = True) -> None:
    print(f"| {title} | {len(recording.statements)} | {recording.count('read')} | "
          f"{recording.count('write')} | {recording.commits} | {recording.rollbacks} |")
    if SHOW_SQL and sql:
        for statement in recording.statements:
            print("    " + " ".join(statement.sql.split())[:160])


def counts(app: Flask, portal: scenarios.Portal, recorder: scenarios.Recorder,
           identifiers: list[str]) -> None:
    scenarios.signed_in_tokens(app, portal, identifiers[4])  # warm the per-process caches (keys)
    print("| operation | statements | reads | writes | commits | rollbacks |")
    print("|---|---|---|---|---|---|")
    for label, identifier in (("first sign-in at this portal, by ID number", identifiers[0]),
                              ("returning sign-in (consent standing), by ID number", identifiers[0]),
                              ("first sign-in at this portal, by phone", "091" + "0000001")):
        steps = scenarios.Steps(app.test_client(), portal, identifier)
        total = scenarios.Recording()
        for name, step in steps.all():
            with recorder.recording() as recording:
                step()
            print_counts(f"{label}: {name}", recording)
            total.statements += recording.statements
            total.commits += recording.commits
            total.rollbacks += recording.rollbacks
        print_counts(f"**{label}: whole flow**", total, sql=False)
    tokens = scenarios.signed_in_tokens(app, portal, identifiers[2])
    client = app.test_client()
    for name, call in (("POST /token (refresh)",
                        lambda: tokens.update(scenarios.refresh(client, portal, tokens["refresh_token"]))),
                       ("GET /userinfo", lambda: scenarios.userinfo(client, tokens["access_token"])),
                       ("POST /token/introspect (access token)",
                        lambda: scenarios.introspect(client, portal, tokens["access_token"]))):
        with recorder.recording() as recording:
            call()
        print_counts(name, recording)


def cpu_per_operation(clock: BackendClock, operation: Callable[[], None], rounds: int,
                      ) -> tuple[float, float, float]:
    """Median of 3 batches: PostgreSQL backend CPU, app CPU and wall time, µs per operation."""
    batches = []
    for _ in range(3):
        server, app_cpu, wall = clock.seconds(), time.process_time(), time.perf_counter()
        for _ in range(rounds):
            operation()
        batches.append(((clock.seconds() - server) / rounds * 1e6,
                        (time.process_time() - app_cpu) / rounds * 1e6,
                        (time.perf_counter() - wall) / rounds * 1e6))
    return tuple(statistics.median(b[i] for b in batches) for i in range(3))  # type: ignore[return-value]


def costs(app: Flask, portal: scenarios.Portal, identifiers: list[str], rounds: int,
          signins: int) -> None:
    clock = BackendClock(app)
    tokens = scenarios.signed_in_tokens(app, portal, identifiers[3])
    client = app.test_client()
    signin_ids = iter(identifiers[10:] * 100)

    def whole_sign_in() -> None:
        steps = scenarios.Steps(app.test_client(), portal, next(signin_ids))
        for _name, step in steps.all():
            step()

    def login_post_only() -> None:
        steps = scenarios.Steps(app.test_client(), portal, next(signin_ids))
        steps.authorize()
        steps.login_page()
        before = clock.seconds(), time.process_time(), time.perf_counter()
        steps.login_post()
        after = clock.seconds(), time.process_time(), time.perf_counter()
        login_samples.append(tuple(b - a for a, b in zip(before, after, strict=True)))

    def one_refresh() -> None:
        tokens.update(scenarios.refresh(client, portal, tokens["refresh_token"]))

    login_samples: list[tuple[float, ...]] = []
    print()
    print("| operation | PostgreSQL backend CPU µs/op | app CPU µs/op | wall µs/op | rounds |")
    print("|---|---|---|---|---|")
    for name, operation, n in (
            ("sign-in, whole browser flow (returning: consent standing)", whole_sign_in, signins),
            ("POST /token (refresh)", one_refresh, rounds),
            ("GET /userinfo", lambda: scenarios.userinfo(client, tokens["access_token"]), rounds),
            ("POST /token/introspect", lambda: scenarios.introspect(client, portal, tokens["access_token"]),
             rounds)):
        server, app_cpu, wall = cpu_per_operation(clock, operation, n)
        print(f"| {name} | {server:.0f} | {app_cpu:.0f} | {wall:.0f} | 3 × {n} |")
    for _ in range(signins * 3):
        login_post_only()
    medians = [statistics.mean(s[i] for s in login_samples) * 1e6 for i in range(3)]
    print(f"| POST /login alone (mean) | {medians[0]:.0f} | {medians[1]:.0f} | {medians[2]:.0f} | "
          f"{len(login_samples)} |")
    exchanges: list[tuple[float, ...]] = []
    for _ in range(signins * 3):
        steps = scenarios.Steps(app.test_client(), portal, next(signin_ids))
        for _name, step in steps.all()[:-1]:
            step()
        before = clock.seconds(), time.process_time(), time.perf_counter()
        steps.token()
        after = clock.seconds(), time.process_time(), time.perf_counter()
        exchanges.append(tuple(b - a for a, b in zip(before, after, strict=True)))
    means = [statistics.mean(s[i] for s in exchanges) * 1e6 for i in range(3)]
    print(f"| POST /token (code exchange, mean) | {means[0]:.0f} | {means[1]:.0f} | {means[2]:.0f} | "
          f"{len(exchanges)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--signins", type=int, default=100)
    parser.add_argument("--show-sql", action="store_true", help="print each recorded statement")
    args = parser.parse_args()
    global SHOW_SQL
    SHOW_SQL = args.show_sql
    with tempfile.TemporaryDirectory() as instance:
        app = build_app(args.database_url, args.redis_url, instance)
        with app.app_context():
            if db.engine.dialect.name != "postgresql":
                sys.exit("query_counts.py measures PostgreSQL: give a postgresql:// URL")
            upgrade()
        identifiers = seed(app, 60)
        portal = scenarios.register_portal(app)
        recorder = scenarios.recorder_for(app)
        counts(app, portal, recorder, identifiers)
        costs(app, portal, identifiers, args.rounds, args.signins)


if __name__ == "__main__":
    main()

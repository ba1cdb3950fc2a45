"""Latency of sign-in, code exchange, refresh, userinfo and introspection on a database seeded by
bench/seed_accounts.py, each call on a random seeded account: run it on 10^4 and on 10^6
accounts and compare (docs/operations.md, "Latency flat with scale").

Usage (the databases are compared in one run, their calls interleaved):
    .venv/bin/python bench/latency.py --database-url postgresql://postgres@127.0.0.1:5432/postid_10k \
        --database-url postgresql://postgres@127.0.0.1:5432/postid_1m \
        [--redis-url redis://127.0.0.1:6379/14] [--samples 500] [--argon2 test|production]

In process (Flask test client, one thread, so the figures are the application plus its
database round trips, without HTTP), round robin (one call of each kind per round, so that
noise from other processes falls on every kind and database alike), after 50 unmeasured rounds. The sign-in is
POST /login with the ID number or the phone (the form page fetched first, not timed); the code
exchange is POST /token after a whole sign-in of that account (consent standing: the seeded
consent); refresh, userinfo and introspection use the seeded tokens `seed-*-<i>` (each refresh
token once). `--argon2 production` times the sign-in with the production parameters (the seed
must use them too, or every sign-in rehashes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from idp import create_app  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.models import Account  # noqa: E402
from idp.settings import load_settings  # noqa: E402
from tests.ops import scenarios  # noqa: E402
from tests.ops.seeding import CLIENT_ID, SECRET, SEED_KEK, identity  # noqa: E402


def build_app(database_url: str, redis_url: str, instance: str, argon2: str) -> Flask:
    cost = ({"argon2_time_cost": 3, "argon2_memory_cost": 65536, "argon2_parallelism": 4}
            if argon2 == "production" else {})
    settings = load_settings("test", environ={}, database_url=database_url, instance_path=instance,
                             redis_url=redis_url, login_ip_limit="1000000 per minute",
                             audit_seal_in_process=False, key_encryption_key=SEED_KEK, **cost)
    return create_app(settings)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (f"{at(0.5):.2f} | {at(0.9):.2f} | {at(0.99):.2f} | "
            f"{statistics.mean(ordered) * 1000:.2f}")


def operations(app: Flask, samples: int) -> tuple[int, list[tuple[str, Callable[[], Callable[[], None]]]]]:
    """The seeded database's size, and for each kind of call a function that prepares one call
    (untimed) and returns it."""
    with app.app_context():
        accounts = db.session.scalar(select(func.count()).select_from(Account)) or 0
        # Seeded refresh tokens not used by an earlier run (row i is token id first + i).
        unused = [row for (row,) in db.session.execute(text(
            "SELECT id - (SELECT min(id) FROM oauth_token) FROM oauth_token WHERE "
            "refresh_rotated_at IS NULL AND revoked_at IS NULL AND refresh_token_hash IS NOT NULL "
            "AND id < (SELECT min(id) FROM oauth_token) + :accounts"), {"accounts": accounts})]
        db.session.remove()
    portal = scenarios.Portal(CLIENT_ID, SECRET)
    rng = random.Random()
    rng.shuffle(unused)
    # Refresh tokens are spent (and their access tokens end) by this run: the other calls use
    # other rows.
    picks, live = iter(unused[:samples]), unused[samples:]
    client = app.test_client()

    def sign_in_by(index: int) -> Callable[[], Callable[[], None]]:
        def prepare() -> Callable[[], None]:
            national_id, phone, _born, _sex = identity(rng.randrange(accounts))
            steps = scenarios.Steps(app.test_client(), portal, (national_id, phone)[index])
            steps.authorize()
            steps.login_page()
            return steps.login_post
        return prepare

    def code_exchange() -> Callable[[], None]:
        steps = scenarios.Steps(app.test_client(), portal, identity(rng.randrange(accounts))[0])
        for _name, step in steps.all()[:-1]:
            step()
        return steps.token

    def refresh() -> Callable[[], None]:
        token = f"seed-refresh-{next(picks)}"
        return lambda: scenarios.refresh(client, portal, token) and None

    def userinfo() -> Callable[[], None]:
        token = f"seed-access-{rng.choice(live)}"
        return lambda: scenarios.userinfo(client, token)

    def introspect() -> Callable[[], None]:
        token = f"seed-access-{rng.choice(live)}"
        return lambda: scenarios.introspect(client, portal, token)

    return accounts, [("POST /login (ID number)", sign_in_by(0)),
                      ("POST /login (phone)", sign_in_by(1)),
                      ("POST /token (code exchange)", code_exchange),
                      ("POST /token (refresh)", refresh),
                      ("GET /userinfo", userinfo),
                      ("POST /token/introspect", introspect)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, action="append",
                        help="repeat to compare databases in one run, calls interleaved")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--argon2", choices=("test", "production"), default="test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        targets = []
        for n, url in enumerate(args.database_url):
            app = build_app(url, args.redis_url, f"{instance}/{n}", args.argon2)
            targets.append(operations(app, args.samples + 50))
        samples: list[dict[str, list[float]]] = [{name: [] for name, _ in ops} for _, ops in targets]
        # Round robin, one call of each kind on each database per round: a noisy neighbour
        # slows every kind and every database alike.
        for n in range(args.samples + 50):
            for (_accounts, ops), taken in zip(targets, samples, strict=True):
                for name, prepare in ops:
                    call = prepare()
                    start = time.perf_counter()
                    call()
                    if n >= 50:
                        taken[name].append(time.perf_counter() - start)
        for (accounts, ops), taken in zip(targets, samples, strict=True):
            print(f"{accounts:,} accounts (and as many sessions, codes, token pairs, consents); "
                  f"{args.samples} samples each, argon2 {args.argon2}")
            print("| operation | p50 ms | p90 ms | p99 ms | mean ms |")
            print("|---|---|---|---|---|")
            for name, _prepare in ops:
                print(f"| {name} | {percentiles(taken[name])} |")
            print()


if __name__ == "__main__":
    main()

"""Password sign-in cost: the full HTTP path against the argon2id verification it is bound by.

Usage:  .venv/bin/python bench/signin.py [--rounds 30]

Prints per-operation milliseconds for (a) argon2id verify alone with the production
parameters, (b) POST /login through the Flask app (form, CSRF, lookup, verify, session,
audit, commit), and their ratio. Target: ratio <= 1.25, i.e. everything that is not argon2
costs under a quarter of a sign-in (argon2 itself is the intended cost).
One process, one thread, SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from idp import create_app  # noqa: E402
from idp.settings import load_settings  # noqa: E402

PASSWORD = "bench-password-2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    production = load_settings("production", environ={
        "IDP_ISSUER": "https://id.example.vn", "IDP_DATABASE_URL": "sqlite://",
        "IDP_SECRET_KEY": "b" * 40, "IDP_KEY_ENCRYPTION_KEY": "a" * 43,
        "IDP_REDIS_URL": "redis://127.0.0.1:6379/0", "IDP_PAIRWISE_SALT": "c" * 40})
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            "test", environ={}, database_url=f"sqlite:///{tmp}/bench.sqlite3", instance_path=tmp,
            argon2_time_cost=production.argon2_time_cost,
            argon2_memory_cost=production.argon2_memory_cost,
            argon2_parallelism=production.argon2_parallelism,
            login_ip_limit="100000 per minute",
        )
        app = create_app(settings)
        with app.app_context():
            upgrade()
            from tests.factories import active_citizen

            active_citizen(password=PASSWORD)

        hasher = PasswordHasher(time_cost=settings.argon2_time_cost,
                                memory_cost=settings.argon2_memory_cost,
                                parallelism=settings.argon2_parallelism)
        stored = hasher.hash(PASSWORD)
        raw = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            hasher.verify(stored, PASSWORD)
            raw.append(time.perf_counter() - start)

        full = []
        for _ in range(args.rounds):
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            start = time.perf_counter()
            response = client.post("/login", data={"csrf_token": token, "identifier": "001099012345",
                                                   "password": PASSWORD})
            full.append(time.perf_counter() - start)
            assert response.status_code == 302, response.status_code

    a, b = statistics.median(raw) * 1000, statistics.median(full) * 1000
    print(f"argon2id t={settings.argon2_time_cost} m={settings.argon2_memory_cost}KiB "
          f"p={settings.argon2_parallelism}: verify median {a:.1f} ms")
    print(f"POST /login (full path) median {b:.1f} ms, p90 {sorted(full)[int(len(full) * .9)] * 1000:.1f} ms")
    print(f"ratio full/verify = {b / a:.2f}  (target <= 1.25)")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

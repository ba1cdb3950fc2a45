"""Recovery start: does `POST /recover` take as long for an unknown identifier as for a known one?

Usage:  .venv/bin/python bench/recovery_timing.py [--samples 200]

Prints the median milliseconds of `POST /recover` for an ID number that belongs to an account
(confirmed phone and e-mail: the most work) and for one that belongs to nobody, interleaved,
and their difference. A figure, not a test: tests/web/recovery/test_recovery_same_work.py pins
the property that makes the difference small (the same SQL statements on both paths).
One process, one thread, SQLite in a temporary folder, outbox notifier.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from idp import create_app  # noqa: E402
from idp.settings import load_settings  # noqa: E402

KNOWN, UNKNOWN = "001099012345", "001099099999"
CSRF = 'name="csrf_token" type="hidden" value="'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            "test", environ={}, database_url=f"sqlite:///{tmp}/bench.sqlite3", instance_path=tmp,
            login_ip_limit="100000 per minute", login_free_failures=100000)
        app = create_app(settings)
        from idp.services.platform import throttle

        throttle.HARD_LIMIT = 10**9  # the bench asks far more often than a person may
        logging.getLogger().setLevel(logging.WARNING)  # the outbox notifier logs every message
        with app.app_context():
            upgrade()
            from idp.extensions import db
            from idp.models.base import utcnow
            from tests.factories import active_citizen

            account = active_citizen(email="an@example.vn")
            account.phone_verified_at = account.email_verified_at = utcnow()
            db.session.commit()
        client = app.test_client()
        page = client.get("/recover").get_data(as_text=True)
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        timings: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
        for i in range(2 * args.samples + 20):
            identifier = (KNOWN, UNKNOWN)[i % 2]
            began = time.perf_counter()
            response = client.post("/recover", data={"csrf_token": token, "identifier": identifier})
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 303, response.status_code
            if i >= 20:  # warm-up
                timings[identifier].append(elapsed)
    known, unknown = (statistics.median(timings[k]) for k in (KNOWN, UNKNOWN))
    print(f"POST /recover median, {args.samples} samples each: known {known:.2f} ms, "
          f"unknown {unknown:.2f} ms, difference {known - unknown:+.2f} ms")


if __name__ == "__main__":
    main()

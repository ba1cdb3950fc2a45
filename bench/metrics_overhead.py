"""The per-request cost of the metrics, in process, on `GET /userinfo`.

Two figures per mode (one process per mode: prometheus_client picks single- or multi-process
mode, the files `idp serve`'s workers write, at import):

- the recording itself: the middleware's call (one counter, one histogram observation) and
  the pool's checked-out gauge, written at each checkout and checkin, timed alone (best of
  several runs);
- userinfo through the WSGI application with the middleware and without it (the Flask
  application inside it), in alternating blocks in the same process; the fastest block of
  each, since a shared machine only ever adds time.

    taskset -c 1 .venv/bin/python bench/metrics_overhead.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

BLOCKS = 30
BLOCK = 200
WARMUP = 300
MODES = ("single-process", "multiprocess")


def measure(blocks: int) -> dict[str, float]:
    instance = Path(tempfile.mkdtemp(prefix="postid-bench-"))
    try:
        return _measure(instance, blocks)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _measure(instance: Path, blocks: int) -> dict[str, float]:
    from werkzeug.test import EnvironBuilder

    from idp import create_app
    from idp.extensions import db
    from idp.services.platform import metrics
    from idp.settings import load_settings
    from tests.oidc.flow import citizen, exchange, obtain_code, registered_portal, sign_in

    settings = load_settings("test", environ={}, instance_path=str(instance),
                             database_url=f"sqlite:///{instance / 'bench.sqlite3'}")
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    token = exchange(client, portal, code, request.verifier).json["access_token"]
    environ = EnvironBuilder(path="/userinfo", headers={"Authorization": f"Bearer {token}"}).get_environ()
    wrapped: Any = app.wsgi_app
    bare: Any = wrapped.wsgi_app  # the application inside RequestMetrics

    def call(wsgi: Any) -> None:
        status: list[str] = []
        body = wsgi(dict(environ), lambda code, headers, exc_info=None: status.append(code))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        assert status[0].startswith("200"), status

    def block(wsgi: Any) -> float:
        started = time.perf_counter()
        for _ in range(BLOCK):
            call(wsgi)
        return (time.perf_counter() - started) / BLOCK * 1e6

    for _ in range(WARMUP):
        call(wrapped)
        call(bare)
    times: dict[str, list[float]] = {"with": [], "without": []}
    for n in range(blocks):  # which goes first alternates too
        for name in (("with", "without") if n % 2 else ("without", "with")):
            times[name].append(block(wrapped if name == "with" else bare))
    record = timeit.Timer(lambda: metrics.request_answered("/userinfo", "GET", "200", 0.0012))
    # A checkout and a checkin each write the checked-out gauge (it changes every time).
    gauge = metrics._metrics().pool_checked_out
    flip = iter(range(10**9))
    pool = timeit.Timer(lambda: gauge.set(next(flip) & 1))
    return {"with_us": min(times["with"]), "without_us": min(times["without"]),
            "record_us": min(record.repeat(7, 20000)) / 20000 * 1e6,
            "pool_update_us": min(pool.repeat(7, 20000)) / 20000 * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=BLOCKS)
    parser.add_argument("--one", action="store_true")  # internal: measure in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.blocks)))
        return
    for mode in MODES:
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        with tempfile.TemporaryDirectory(prefix="postid-bench-metrics-") as directory:
            if mode == "multiprocess":
                env["PROMETHEUS_MULTIPROC_DIR"] = directory
            out = subprocess.run([sys.executable, __file__, "--one", "--blocks", str(args.blocks)],
                                 env=env, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{mode:15} userinfo {r['without_us']:6.1f} µs without, {r['with_us']:6.1f} µs with "
              f"({r['with_us'] - r['without_us']:+.1f} µs); recording a request "
              f"{r['record_us']:.1f} µs, the checked-out gauge at a checkout or checkin "
              f"{r['pool_update_us']:.1f} µs")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()

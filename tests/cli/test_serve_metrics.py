"""`/metrics` under the real server: `idp serve` with two worker processes, each writing its
own files (prometheus_client's multi-process mode), one scrape adding them all up."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict, mmap_key

from tests.cli.served import serving_idp
from tests.metrics_scrape import TOKEN, parse, value

DISCOVERY = "/.well-known/openid-configuration"
REQUESTS = ("postid_http_requests", "postid_http_requests_total", ["route", "method", "status"],
            [DISCOVERY, "GET", "200"])


def get(port: int, path: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                                       headers=headers), timeout=10) as answer:
        return answer.read()


def discovery_counts(directory: Path) -> dict[int, float]:
    """Each process's own count of discovery requests, read from its file."""
    counts: dict[int, float] = {}
    for path in directory.glob("counter_*.db"):
        for key, count, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == REQUESTS[1] and labels == dict(zip(REQUESTS[2], REQUESTS[3], strict=True)):
                counts[int(path.stem.split("_")[-1])] = count
    return counts


def spread_over_both_workers(port: int, directory: Path) -> int:
    """Bursts of concurrent connections until both workers have answered some; how many sent."""
    sent = 0
    with ThreadPoolExecutor(max_workers=16) as pool:
        while len(discovery_counts(directory)) < 2:
            assert sent < 800, "every request went to one worker"
            list(pool.map(lambda _: get(port, DISCOVERY), range(16)))
            sent += 16
    return sent


def stale_file(directory: Path) -> Path:
    """What an earlier run left: a dead process's count of 1000 discovery requests."""
    path = directory / "counter_999999.db"
    stale = MmapedDict(str(path))
    stale.write_value(mmap_key(*REQUESTS, "left by an earlier run"), 1000.0, 0.0)
    stale.close()
    return path


def test_one_scrape_counts_the_requests_of_both_workers(database_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale = stale_file(directory)
    env = {"IDP_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with serving_idp(database_url, tmp_path, "--workers", "2", env=env) as served:
        assert not stale.exists()  # emptied before the workers started
        sent = spread_over_both_workers(served.port, directory)
        per_worker = discovery_counts(directory)
        assert len(per_worker) == 2 and all(count > 0 for count in per_worker.values())
        assert sum(per_worker.values()) == sent
        samples = parse(get(served.port, "/metrics", TOKEN).decode())
        assert value(samples, "postid_http_requests_total", route=DISCOVERY, method="GET",
                     status="200") == sent
        # Each live worker reports its own pool; a worker that dies takes its gauges along.
        pools = {dict(labels)["pid"] for name, labels in samples
                 if name == "postid_db_pool_checked_out_connections"}
        assert pools == {str(pid) for pid in per_worker}
        victim = min(per_worker)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (directory / f"gauge_liveall_{victim}.db").exists():
            assert time.monotonic() < deadline, "the dead worker's gauges stayed"
            time.sleep(0.1)
        samples = parse(get(served.port, "/metrics", TOKEN).decode())
        assert str(victim) not in {dict(labels).get("pid") for _name, labels in samples}
        # Its counts stay: the requests it answered happened.
        assert value(samples, "postid_http_requests_total", route=DISCOVERY, method="GET",
                     status="200") == sent
    assert directory.is_dir()  # the operator's directory is theirs


def test_without_a_directory_set_the_server_makes_its_own_and_removes_it(database_url, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"IDP_METRICS_TOKEN": TOKEN, "TMPDIR": str(temporary)}
    with serving_idp(database_url, tmp_path, "--workers", "2", env=env) as served:
        [made] = list(temporary.glob("postid-metrics-*"))
        get(served.port, DISCOVERY)
        assert list(made.glob("counter_*.db"))
        samples = parse(get(served.port, "/metrics", TOKEN).decode())
        assert value(samples, "postid_http_requests_total", route=DISCOVERY, method="GET",
                     status="200") == 1
    assert not made.exists()

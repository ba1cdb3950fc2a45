"""Prometheus's multi-process mode for `idp serve` (docs/deployment.md, "Metrics").

Each gunicorn worker keeps its metric values in files of one directory, and the worker that
answers a scrape adds up every process's files (idp.web.metrics). So the master, before any
worker forks:

- uses the directory the operator set in PROMETHEUS_MULTIPROC_DIR, emptied of the files a
  previous run left (their counts would be added to this run's), or else creates a fresh one
  and removes it when it exits;
- when a worker exits, drops its per-process gauges (the pool's), which would otherwise be
  reported as if it still ran. Its counters stay: what it counted happened.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from idp.services.platform.metrics import MULTIPROC_ENV


def prepare(environ: MutableMapping[str, str] | None = None) -> Callable[[], None]:
    """Set up the directory (before the workers fork); returns what to call at exit."""
    environ = os.environ if environ is None else environ
    given = environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # only prometheus_client's own files
            stale.unlink()
        return lambda: None
    created = tempfile.mkdtemp(prefix="postid-metrics-")
    environ[MULTIPROC_ENV] = created
    master = os.getpid()

    def remove() -> None:
        # Workers are forked from this process and leave through the same stack: only the
        # master removes the directory.
        if os.getpid() == master:
            shutil.rmtree(created, ignore_errors=True)

    return remove


def child_exit(_server: Any, worker: Any) -> None:
    """gunicorn's hook, in the master, after a worker has exited."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

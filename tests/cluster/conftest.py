"""One cluster for the tests of this package: three `idp serve` nodes behind HAProxy on a fresh
PostgreSQL database and Redis, as `make cluster` runs it (deploy/cluster).

It runs in the PostgreSQL pass of `make test` (IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL
set), on a database of its own on that server, and is skipped, with the reason, where PostgreSQL,
Redis or haproxy is missing. IDP_TEST_CLUSTER_REQUIRED=1 (set by .ci/run) turns that skip into
a failure in the PostgreSQL pass, so that CI cannot pass without running it.
IDP_TEST_CLUSTER_PORT: HAProxy's port, the nodes on the next ones (default: free ports).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from deploy.cluster.cluster import Cluster, running_cluster
from tests.cluster.browser import POST_LOGOUT_URI, REDIRECT_URI, Portal

DATABASE = os.environ.get("IDP_TEST_DATABASE_URL", "")
REDIS = os.environ.get("IDP_TEST_REDIS_URL", "")
LOGIN_IP_LIMIT = 5  # per minute, low so that a test reaches it (IDP_LOGIN_IP_LIMIT)
KEY_CACHE_SECONDS = 2  # IDP_KEY_CACHE_SECONDS: a rotation reaches every node within this
SETTINGS = {"IDP_LOGIN_IP_LIMIT": f"{LOGIN_IP_LIMIT} per minute",
            "IDP_KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS)}


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 3):
            return True
    except OSError:
        return False


def missing() -> str | None:
    """Why the cluster cannot run here, or None."""
    if not DATABASE.startswith(("postgresql", "postgres:")):
        return "runs in the PostgreSQL pass (IDP_TEST_DATABASE_URL=postgresql://...)"
    if not REDIS:
        return "needs Redis (IDP_TEST_REDIS_URL)"
    if shutil.which("haproxy") is None:
        return "haproxy is not installed"
    if not _answers(DATABASE, 5432) or not _answers(REDIS, 6379):
        return "PostgreSQL or Redis does not answer"
    return None


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = missing()
    if reason:
        if os.environ.get("IDP_TEST_CLUSTER_REQUIRED") == "1" and DATABASE:
            pytest.fail(f"the cluster tests must run here: {reason}")
        pytest.skip(reason)
    port = os.environ.get("IDP_TEST_CLUSTER_PORT")
    with running_cluster(DATABASE, REDIS, env="test", settings=SETTINGS,
                         port=int(port) if port else None,
                         directory=tmp_path_factory.mktemp("cluster")) as running:
        yield running


def register(cluster: Cluster, name: str, scope: str = "openid profile") -> Portal:
    created = json.loads(cluster.idp(
        "clients", "create", "--name", name, "--redirect-uri", REDIRECT_URI,
        "--post-logout-redirect-uri", POST_LOGOUT_URI, "--scope", scope, "--json").stdout)
    return Portal(created["client_id"], created["client_secret"])


@pytest.fixture(scope="package")
def portal(cluster: Cluster) -> Portal:
    return register(cluster, "Cổng dịch vụ công của cụm")

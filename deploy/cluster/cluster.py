"""A PostID cluster on one machine: N `idp serve` nodes on loopback behind HAProxy, on a fresh
PostgreSQL database (created, migrated, seeded with the demo data, dropped at the end) and a
shared Redis. Used by `make cluster` (deploy/cluster/__main__.py) and tests/cluster."""

from __future__ import annotations

import base64
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from deploy.cluster.processes import (
    free_port,
    kill_group,
    port_is_free,
    start,
    stop_group,
    wait_for_health,
)
from deploy.cluster.proxy import Node, Proxy, cluster_config, running_haproxy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class NodeProcess:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[str] | None = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    url: str  # the proxy: the issuer, the only address clients use
    database_url: str
    env: dict[str, str]  # every node's environment, for `idp` commands too
    directory: Path
    nodes: list[NodeProcess] = field(default_factory=list)
    proxy: Proxy | None = None

    def idp(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """An `idp` command on the cluster's database and settings; RuntimeError (with its
        output) if it fails."""
        done = subprocess.run([sys.executable, "-m", "idp", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"idp {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}")
        return done

    def node(self, name: str) -> NodeProcess:
        return next(node for node in self.nodes if node.name == name)

    def start_node(self, node: NodeProcess) -> None:
        """Start (or restart) `node`; `wait_node` waits until it answers its health check."""
        node.process = start([sys.executable, "-m", "idp", "serve", "--host", "127.0.0.1",
                              "--port", str(node.port), "--workers", "1"],
                             self.env, log=node.log, new_session=True)

    def wait_node(self, node: NodeProcess) -> None:
        assert node.process is not None
        try:
            wait_for_health(node.process, node.port, seconds=60)
        except AssertionError as error:
            raise RuntimeError(f"{node.name} did not start:\n{node.log_text()[-3000:]}") from error

    def kill(self, name: str) -> None:
        """SIGKILL the node's master and workers at once; return once its port refuses
        connections (the kernel has closed every socket of its processes)."""
        node = self.node(name)
        assert node.process is not None
        kill_group(node.process)
        deadline = time.monotonic() + 10
        while not port_is_free(node.port) and time.monotonic() < deadline:
            time.sleep(0.001)

    def write_env_file(self) -> Path:
        """The IDP_* variables of the nodes, for a shell (`set -a; . FILE`); owner-only."""
        path = self.directory / "cluster.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            for key, value in self.env.items():
                if key.startswith("IDP_"):
                    out.write(f"{key}={shlex.quote(value)}\n")
        return path

    def stop(self) -> None:
        """SIGTERM to every node at once (each finishes what it holds), then whatever of a
        node outlived it is killed."""
        stopping = [threading.Thread(target=stop_group, args=(node.process,))
                    for node in self.nodes if node.process is not None]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def new_secrets() -> dict[str, str]:
    """The secrets every node must share (sessions signed on one node are read on another)."""
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return {"IDP_SECRET_KEY": secrets.token_urlsafe(32), "IDP_KEY_ENCRYPTION_KEY": kek,
            "IDP_PAIRWISE_SALT": secrets.token_urlsafe(32)}


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server_url` (any database of it that
    exists, e.g. postgres); dropped on exit, its open connections closed (WITH (FORCE))."""
    name = f"idp_cluster_{secrets.token_hex(5)}"
    admin = _libpq_url(server_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin)._replace(path="/" + name))
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                               .format(sql.Identifier(name)))


def _ports(count: int, base: int | None) -> list[int]:
    """The proxy's port, then one per node: `base`, base+1, ... (each must be free), or any
    free ports."""
    if base is None:
        return [free_port() for _ in range(count)]
    ports = list(range(base, base + count))
    taken = [port for port in ports if not port_is_free(port)]
    if taken:
        raise RuntimeError(f"port(s) in use: {', '.join(map(str, taken))}")
    return ports


@contextmanager
def running_cluster(postgres: str, redis: str, *, nodes: int = 3, port: int | None = None,
                    env: str = "development", settings: dict[str, str] | None = None,
                    directory: Path | None = None) -> Iterator[Cluster]:
    """Start everything, yield the cluster, and on exit (an error or a signal included) stop the
    proxy and every node, then drop the database. `settings`: IDP_* variables for every node."""
    with ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="postid-cluster-")))
        listen, *node_ports = _ports(nodes + 1, port)
        database_url = stack.enter_context(fresh_database(postgres))
        base = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
        cluster = Cluster(
            url=f"http://127.0.0.1:{listen}", database_url=database_url, directory=directory,
            env={**base, **new_secrets(), "IDP_ENV": env, "IDP_DATABASE_URL": database_url,
                 "IDP_REDIS_URL": redis, "IDP_ISSUER": f"http://127.0.0.1:{listen}",
                 "IDP_TRUSTED_PROXIES": "1", "IDP_INSTANCE_PATH": str(directory / "instance"),
                 **(settings or {})})
        cluster.idp("db", "upgrade")
        cluster.idp("demo", "seed")
        cluster.nodes = [NodeProcess(f"idp{i}", node_port, directory / f"idp{i}.log")
                         for i, node_port in enumerate(node_ports, start=1)]
        stack.callback(cluster.stop)
        for node in cluster.nodes:  # all booting at once, then each waited for
            cluster.start_node(node)
        for node in cluster.nodes:
            cluster.wait_node(node)
        config = cluster_config(directory, listen, [Node(n.name, n.port) for n in cluster.nodes])
        cluster.proxy = stack.enter_context(running_haproxy(config, listen, new_session=True))
        yield cluster

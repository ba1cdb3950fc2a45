"""`make cluster`: PostID as a cluster on this machine, until Ctrl-C or SIGTERM.

    python -m deploy.cluster [--nodes 3] [--port 5000] [--postgres URL] [--redis URL]

Starts N `idp serve` nodes (one worker each) on loopback behind HAProxy (the production
deploy/haproxy.cfg, on plain HTTP), on a new PostgreSQL database migrated and seeded with the
demo data, and Redis. Ctrl-C or SIGTERM stops the proxy and the nodes and drops the database.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from deploy.cluster.cluster import Cluster, running_cluster
from deploy.cluster.proxy import NODE_HEADER

DEMO_PORT = 5000  # the demo portal's registered redirect URI (idp demo seed) is on this port


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=3, help="idp serve nodes (default 3)")
    parser.add_argument("--port", type=int, default=DEMO_PORT,
                        help="HAProxy's port; the nodes take the next ones (default 5000)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a database of the PostgreSQL server to create the cluster's beside")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the shared Redis")
    args = parser.parse_args()
    if not 1 <= args.nodes <= 32:
        parser.error("--nodes must be between 1 and 32")

    def stop(signum: int, _frame: FrameType | None) -> None:
        # A second Ctrl-C must not cut the clean-up short (the database would stay).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt  # unwinds running_cluster: proxy, nodes, then the database

    # SIGINT too: a shell that started us in the background may have left it ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"Starting {args.nodes} nodes, HAProxy on :{args.port} ...", flush=True)
    try:
        with running_cluster(args.postgres, args.redis, nodes=args.nodes, port=args.port) as cluster:
            describe(cluster, args.port)
            watch(cluster)
    except KeyboardInterrupt:
        pass
    print("Stopped; the cluster's database is dropped.", flush=True)


def describe(cluster: Cluster, port: int) -> None:
    nodes = ", ".join(f"{node.name} 127.0.0.1:{node.port}" for node in cluster.nodes)
    print(f"""
PostID cluster: {cluster.url}  (HAProxy, round-robin over {nodes})
  account:      {cluster.url}/login  (ID number 001099012345, password Hoa-sen-demo-2026)""")
    if port == DEMO_PORT:
        print(f"  demo portal:  {cluster.url}/demo-portal/")
    print(f"""  which node:   curl -si {cluster.url}/.well-known/openid-configuration | grep -i {NODE_HEADER}
  one node:     add the request header "{NODE_HEADER}: idp2" (this local cluster only)
  database:     {cluster.database_url.rsplit('/', 1)[1]} (dropped at exit); logs in {cluster.directory}
  admin:        (set -a; . {cluster.write_env_file()}; .venv/bin/idp clients list)
Ctrl-C stops it.""", flush=True)


def watch(cluster: Cluster) -> None:
    """Wait for a signal; say so when a process dies (HAProxy takes a dead node out)."""
    reported: set[str] = set()
    while True:
        time.sleep(1)
        assert cluster.proxy is not None
        if cluster.proxy.process.poll() is not None:
            sys.exit(f"HAProxy exited; its log: {cluster.proxy.log}")
        for node in cluster.nodes:
            if node.process is not None and node.process.poll() is not None and node.name not in reported:
                reported.add(node.name)
                print(f"{node.name} exited (status {node.process.returncode}); see {node.log}", flush=True)


if __name__ == "__main__":
    main()

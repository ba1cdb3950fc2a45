"""The cluster's HAProxy configuration is deploy/haproxy.cfg but for the lines a loopback cluster
must change: a change to the production file (a timeout, a retry rule, a header) reaches the
cluster and its tests unchanged. Runs wherever haproxy is installed (it checks the file)."""

from __future__ import annotations

import shutil

import pytest

from deploy.cluster.proxy import HAPROXY_CFG, Node, cluster_config

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")


def test_only_the_loopback_lines_differ_from_production(tmp_path):
    nodes = [Node("idp1", 39001), Node("idp2", 39002)]
    production = HAPROXY_CFG.read_text().splitlines()
    cluster = cluster_config(tmp_path, 39000, nodes).read_text().splitlines()
    removed = [line.strip() for line in production if line not in cluster]
    added = [line.strip() for line in cluster if line not in production]
    assert [line.split()[0:2] for line in removed] == [
        ["bind", ":::443"], ["http-request", "set-header"], ["server", "idp1"]]
    assert "X-Forwarded-Proto https" in removed[1]
    options = " ".join(removed[2].split()[3:])  # the production server line's: check, maxconn
    assert "check" in options
    assert added == [
        "bind 127.0.0.1:39000", "bind ::1:39000",
        "http-request set-header X-Forwarded-Proto http",
        "http-after-response set-header X-PostID-Node %[srv_name]",
        "use-server idp1 if { req.hdr(X-PostID-Node) -m str idp1 }",
        "use-server idp2 if { req.hdr(X-PostID-Node) -m str idp2 }",
        f"server idp1 127.0.0.1:39001 {options}",
        f"server idp2 127.0.0.1:39002 {options}",
    ]

"""HAProxy configurations derived from deploy/haproxy.cfg for loopback: the production file with
its bind and server lines replaced, so that timeouts, health checks, retries, forwarded headers
and the log format stay exactly those of production. A change of that file's shape fails here
loudly rather than yielding a configuration that silently differs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.cluster.processes import free_port, start, stop, wait_for_health, wait_for_port

HAPROXY_CFG = Path(__file__).resolve().parents[1] / "haproxy.cfg"
# The proxy's own health checks go to the nodes; clients reach a cheap page instead.
PROXY_PROBE = "/.well-known/openid-configuration"
# Response header naming the node that answered; a request carrying it goes to that node.
NODE_HEADER = "X-PostID-Node"

_BIND = re.compile(r"(?m)^(\s*)bind :::443 v4v6 .*$")
_SERVER = re.compile(r"(?m)^(\s*)server (\S+) \S+ (.*)$")
_PROTO = re.compile(r"(?m)^(\s*http-request set-header X-Forwarded-Proto) https$")


@dataclass(frozen=True)
class Node:
    name: str
    port: int


def _substitute(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    text, count = pattern.subn(replacement, text)
    if count != 1:
        raise ValueError(f"{HAPROXY_CFG.name}: expected one line matching {pattern.pattern!r}")
    return text


def _loopback(text: str, listen: int) -> str:
    """Plain HTTP on loopback (no certificate here), IPv4 and IPv6 as the dual-stack bind."""
    return _substitute(_BIND, rf"\g<1>bind 127.0.0.1:{listen}\n\g<1>bind ::1:{listen}", text)


def single_node_config(directory: Path, listen: int, backend: int) -> Path:
    """deploy/haproxy.cfg as it is (X-Forwarded-Proto https included) in front of one node."""
    text = _substitute(_SERVER, rf"\g<1>server \g<2> 127.0.0.1:{backend} \g<3>",
                       _loopback(HAPROXY_CFG.read_text(), listen))
    return _write(directory, text)


def cluster_config(directory: Path, listen: int, nodes: Sequence[Node]) -> Path:
    """deploy/haproxy.cfg in front of `nodes`, each with the production server options, balanced
    round-robin (HAProxy's default, as in production). Added for the loopback cluster only:
    - X-Forwarded-Proto http: there is no TLS here;
    - the response header X-PostID-Node naming the node that served the request, or that
      failed it (http-after-response: HAProxy's own 502 and 503 carry it too);
    - a request carrying X-PostID-Node: <name> goes to that node while it is up (use-server),
      so a test can send each step of a flow to a chosen node whatever else is in flight.
      Never in production: a client has no business choosing a node."""
    def servers(match: re.Match[str]) -> str:
        indent, options = match.group(1), match.group(3)
        routes = [f"{indent}use-server {node.name} if {{ req.hdr({NODE_HEADER}) -m str {node.name} }}"
                  for node in nodes]
        lines = [f"{indent}server {node.name} 127.0.0.1:{node.port} {options}" for node in nodes]
        header = f"{indent}http-after-response set-header {NODE_HEADER} %[srv_name]"
        return "\n".join([header, *routes, *lines])

    text = _loopback(HAPROXY_CFG.read_text(), listen)
    text = _substitute(_PROTO, r"\g<1> http", text)
    text, count = _SERVER.subn(servers, text)
    if count != 1:
        raise ValueError(f"{HAPROXY_CFG.name}: expected one server line")
    return _write(directory, text)


def _write(directory: Path, text: str) -> Path:
    path = directory / "haproxy.cfg"
    path.write_text(text)
    subprocess.run(["haproxy", "-c", "-q", "-f", str(path)], check=True, timeout=30)
    return path


@dataclass
class Proxy:
    port: int
    process: subprocess.Popen[str]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_haproxy(config: Path, listen: int, *, new_session: bool = False,
                    ready: bool = True) -> Iterator[Proxy]:
    """HAProxy in the foreground with `config`; its log (stdout) beside the config. Yields once
    a client request answers 200 (`ready`), or once the proxy listens."""
    log = config.parent / "haproxy.log"
    proxy = start(["haproxy", "-db", "-f", str(config)], log=log, new_session=new_session)
    try:
        if ready:
            wait_for_health(proxy, listen, path=PROXY_PROBE)
        else:
            wait_for_port(proxy, listen)
        yield Proxy(listen, proxy, log)
    finally:
        stop(proxy)


@contextmanager
def running_proxy(directory: Path, backend: int, *, ready: bool = True) -> Iterator[Proxy]:
    """HAProxy with deploy/haproxy.cfg in front of one node on `backend`; its log in `directory`."""
    listen = free_port()
    with running_haproxy(single_node_config(directory, listen, backend), listen,
                         ready=ready) as proxy:
        yield proxy

"""deploy/compose.yaml, checked without a Docker engine: every service's command is a real
`idp` command line (parsed by the CLI itself), every file it names exists, every long-running
service has a health check and a restart policy, the nodes and workers wait for the migration
job, and deploy/compose/haproxy.cfg is deploy/haproxy.cfg but for what compose needs."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from idp.cli import cli
from idp.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
NODES = ("idp1", "idp2")
WORKERS = ("outbox", "logout", "audit-seal", "purge")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def idp_command_lines(command: list[str]) -> list[list[str]]:
    """The `idp ...` command lines a service runs, also inside `sh -c "..."`."""
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part.strip().removeprefix("do ").strip())
                for part in command[2].split(";") if re.match(r"\s*(do\s+)?idp\b", part)]
    return [command] if command[:1] == ["idp"] else []


def parse(args: list[str]) -> click.Command:
    """The command `args` names, its options parsed by click as `idp` would (nothing runs)."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="idp")
    rest = list(args)
    while isinstance(command, click.Group):
        name, rest = rest[0], rest[1:]
        sub = command.get_command(ctx, name)
        if sub is None:
            raise click.UsageError(f"no command {name!r}", ctx)
        ctx, command = click.Context(sub, info_name=name, parent=ctx), sub
    command.make_context(ctx.info_name, rest, parent=ctx.parent)  # raises on a wrong option
    return command


def test_every_command_is_a_real_idp_command_line(services):
    commands = {name: lines for name, service in services.items()
                if (lines := idp_command_lines(service.get("command", [])))}
    assert set(commands) == {"migrate", *NODES, *WORKERS}
    for lines in commands.values():
        for line in lines:
            assert not isinstance(parse(line[1:]), click.Group), line
    with pytest.raises(click.UsageError):
        parse(["outbox", "send"])


def test_a_wrong_flag_would_be_caught():
    with pytest.raises(click.UsageError):
        parse(["outbox", "deliver", "--every", "5"])
    with pytest.raises(click.UsageError):
        parse(["audit", "seal", "--loop", "5"])  # --loop takes no value here


def test_the_workers_loop_and_the_nodes_serve_on_the_proxys_port(services):
    assert services["outbox"]["command"][-2:] == ["--loop", "5"]
    assert services["logout"]["command"][-2:] == ["--loop", "30"]
    assert "--loop" in services["audit-seal"]["command"]
    assert "sleep 86400" in services["purge"]["command"][2]  # no loop mode: once a day
    for node in NODES:
        command = services[node]["command"]
        assert command[:2] == ["idp", "serve"] and command[command.index("--port") + 1] == "5000"


def test_health_checks_and_restart_policies_everywhere(services):
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name == "migrate":  # a one-off job: done, not healthy
            assert check == {"disable": True} and service["restart"] == "no"
            continue
        assert check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name
    for node in NODES:  # liveness, like the image; the proxy checks readiness
        assert "/healthz" in " ".join(services[node]["healthcheck"]["test"])


def test_nodes_and_workers_wait_for_the_migration_and_their_backing_services(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in (*NODES, *WORKERS):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"}}, name
    assert services["haproxy"]["depends_on"] == {
        node: {"condition": "service_healthy"} for node in NODES}


def test_only_the_proxy_publishes_a_port(services):
    assert {name for name, service in services.items() if "ports" in service} == {"haproxy"}
    assert services["haproxy"]["ports"] == ["443:443"]


def test_every_file_named_exists_and_no_secret_is_in_the_file(services):
    for name, service in services.items():
        if "build" in service:
            context = (DEPLOY / service["build"]["context"]).resolve()
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for env_file in service.get("env_file", []):
            assert (DEPLOY / f"{env_file}.example").is_file(), env_file  # copied by the operator
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and source != "./certs":  # certs: the operator's
                assert (DEPLOY / source).exists(), volume
        assert "environment" not in service, name  # settings and secrets come from env files
    assert not re.search(r"(?i)(password|secret|key)\s*[:=]\s*\S", COMPOSE.read_text())


def example(name: str) -> dict[str, str]:
    lines = (DEPLOY / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_env_examples_name_real_settings_and_hold_no_secret():
    settings = example("postid.env.example")
    fields = {f"IDP_{name.upper()}" for name in Settings.__dataclass_fields__}
    assert set(settings) - {"IDP_ENV"} <= fields
    assert {"IDP_ENV", "IDP_ISSUER", "IDP_DATABASE_URL", "IDP_REDIS_URL", "IDP_SECRET_KEY",
            "IDP_KEY_ENCRYPTION_KEY", "IDP_PAIRWISE_SALT", "IDP_TRUSTED_PROXIES"} <= set(settings)
    assert settings["IDP_TRUSTED_PROXIES"] == "1" and settings["IDP_ENV"] == "production"
    for name in ("IDP_SECRET_KEY", "IDP_KEY_ENCRYPTION_KEY", "IDP_PAIRWISE_SALT",
                 "IDP_SMS_GATEWAY_TOKEN", "IDP_SMTP_PASSWORD"):
        assert settings[name] == "change-me", name
    database = example("postgres.env.example")
    assert database["POSTGRES_PASSWORD"].startswith("change-me")
    assert (f"postgresql://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{database['POSTGRES_DB']}") == settings["IDP_DATABASE_URL"]
    ignored = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "deploy/*.env" in ignored and "deploy/certs/" in ignored


def without_compose_parts(text: str) -> list[str]:
    """A HAProxy file without its leading comment, `server` lines and the sections and lines
    that only compose needs (Docker's resolver, the monitor URI)."""
    text = text[text.index("\nglobal\n"):]
    text = re.split(r"\n(?=resolvers docker\n)", text)[0]
    compose_only = re.compile(r"^\s*(server |default-server resolvers docker )")
    lines = [line for line in text.splitlines() if not compose_only.match(line)]
    starts = [index for index, line in enumerate(lines)
              if line.startswith("    # The nodes by their service names")]
    for start in starts:
        del lines[start:start + 2]
    return lines


def test_the_compose_proxy_is_the_production_proxy_but_for_the_servers():
    compose = (DEPLOY / "compose" / "haproxy.cfg").read_text()
    production = (DEPLOY / "haproxy.cfg").read_text()
    assert without_compose_parts(compose) == without_compose_parts(production)
    server = re.compile(r"(?m)^\s*server (\S+) (\S+) (.*)$")
    [(_, _, options)] = server.findall(production)  # e.g. "check maxconn 16"
    assert server.findall(compose) == [(node, f"{node}:5000", options) for node in NODES]


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_the_compose_proxy_configuration_is_valid(tmp_path):
    text = (DEPLOY / "compose" / "haproxy.cfg").read_text()
    # No certificate here: the TLS bind becomes a plain loopback one, the rest is as written.
    text, binds = re.subn(r"(?m)^(\s*)bind :::443 v4v6 .*$", r"\g<1>bind 127.0.0.1:39299", text)
    assert binds == 1
    (tmp_path / "haproxy.cfg").write_text(text)
    checked = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr

"""`idp demo seed` (idempotent, never in production) and `idp db current`."""

from __future__ import annotations

import os
import subprocess
import sys

from flask.cli import ScriptInfo
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import Account, ClaimsProfile, OAuthClient
from idp.services.demo import DEMO_PASSWORD


def test_seed_twice_creates_once(app, runner):
    first = runner.invoke(cli, ["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Demo citizen created" in first.stdout and DEMO_PASSWORD in first.stdout
    second = runner.invoke(cli, ["demo", "seed"])
    assert second.exit_code == 0
    assert "already present" in second.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 2  # + colleague
        assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 1


def test_an_older_demo_portal_gets_the_organization_scope_and_dvcqg_profile(app, runner):
    runner.invoke(cli, ["demo", "seed"])
    with app.app_context():
        portal = db.session.scalar(select(OAuthClient))
        portal.scope = "openid profile"
        portal.claims_profile = ClaimsProfile.STANDARD
        db.session.commit()
    assert runner.invoke(cli, ["demo", "seed"]).exit_code == 0
    with app.app_context():
        portal = db.session.scalar(select(OAuthClient))
        assert "organization" in portal.scope.split()
        assert portal.claims_profile is ClaimsProfile.DVCQG


def test_demo_citizen_can_sign_in(app, runner, client):
    from tests.conftest import csrf_token

    runner.invoke(cli, ["demo", "seed"])
    response = client.post("/login", data={"csrf_token": csrf_token(client),
                                           "identifier": "001099012345", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_seed_refuses_production(app, make_app):
    from dataclasses import replace

    prod = make_app(replace(app.config["IDP_SETTINGS"], env="production"))
    result = prod.test_cli_runner().invoke(cli, ["demo", "seed"], obj=ScriptInfo(create_app=lambda: prod))
    assert result.exit_code == 1
    assert "never seeded in production" in result.stderr


def run_idp(*args: str, database_url: str, tmp_path) -> subprocess.CompletedProcess[str]:
    """The real command line in its own process (Alembic prints to the process's stdout)."""
    env = {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
           "IDP_INSTANCE_PATH": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "idp", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from idp.settings import ROOT

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head() or ""


def test_db_current_shows_the_head(app, database_url, tmp_path):
    result = run_idp("db", "current", database_url=database_url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{head_revision()} (head)" in result.stdout


def test_invalid_configuration_is_one_line_and_exit_1(tmp_path):
    env = {**os.environ, "IDP_ENV": "production", "IDP_SECRET_KEY": ""}
    env.pop("IDP_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "idp", "db", "current"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: invalid configuration: IDP_SECRET_KEY is required in production"
    ]


def test_unmigrated_database_is_one_line_and_exit_1(tmp_path):
    result = run_idp("demo", "seed", database_url=f"sqlite:///{tmp_path}/empty.sqlite3", tmp_path=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: database error")
    assert "idp db upgrade" in lines[0]

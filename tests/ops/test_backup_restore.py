"""deploy/backup.sh and deploy/restore.sh (docs/operations.md, "Backup and restore"): a dump of
a live database with a sealed audit log, restored into a new database, verifies and serves
sign-ins, given the same key-encryption key. PostgreSQL only; needs pg_dump and pg_restore."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask import Flask

from idp import create_app
from idp.extensions import db
from idp.settings import Settings
from tests.conftest import TEST_DATABASE_URL, make_settings
from tests.ops import scenarios

pytestmark = [
    pytest.mark.skipif(not (TEST_DATABASE_URL or "").startswith("postgresql"),
                       reason="backup and restore are PostgreSQL's (IDP_TEST_DATABASE_URL)"),
    pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")),
                       reason="pg_dump and pg_restore are not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "001099012345"


def _url_of(database: str) -> str:
    parts = urlsplit((TEST_DATABASE_URL or "").replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture
def new_database() -> Iterator[str]:
    """An empty database next to the test database, dropped afterwards."""
    name = f"{urlsplit(TEST_DATABASE_URL or '').path.lstrip('/')}_restored_{os.getpid()}"
    with psycopg.connect(_url_of("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _url_of(name)
    with psycopg.connect(_url_of("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def idp(settings: Settings, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The `idp` command as an operator runs it: its own process, configured by IDP_*."""
    env = {**os.environ, "IDP_ENV": "test", "IDP_DATABASE_URL": database_url,
           "IDP_KEY_ENCRYPTION_KEY": settings.key_encryption_key,
           "IDP_SECRET_KEY": settings.secret_key, "IDP_PAIRWISE_SALT": settings.pairwise_salt,
           "IDP_INSTANCE_PATH": settings.instance_path}
    return subprocess.run([sys.executable, "-m", "idp", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(ROOT / "deploy" / name), *args], capture_output=True,
                          text=True, timeout=300)


def _live_service(app: Flask) -> scenarios.Portal:
    """A portal, a citizen who signed in there, and a counter verification of them: the audit
    log holds sign-in, consent, enrolment, counter and approval events."""
    from idp.services.counter import checks, decisions
    from idp.services.identity import enrolment
    from tests.factories import active_citizen
    from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office
    from tests.verification_factories import good_check

    portal = scenarios.register_portal(app)
    with app.app_context():
        account = active_citizen(password=scenarios.PASSWORD, national_id=ID_NUMBER)
        verification = enrolment.request_code(account)
        office = post_office()
        clerk, supervisor = enrolled_clerk(office), enrolled_supervisor(office)
        checks.lookup(clerk, verification.code)
        checks.submit(clerk, verification.public_id, good_check(account))
        decisions.approve(supervisor, verification.public_id)
    scenarios.signed_in_tokens(app, portal, ID_NUMBER)
    return portal


def test_a_restored_database_verifies_and_signs_people_in(app: Flask, settings: Settings,
                                                          new_database: str, tmp_path: Path) -> None:
    portal = _live_service(app)
    source = settings.database_url
    sealed = idp(settings, source, "audit", "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith("sealed ") and sealed.stdout.split()[1] != "0", sealed.stdout
    assert idp(settings, source, "audit", "verify").returncode == 0

    dump = tmp_path / "postid.dump"
    backup = script("backup.sh", str(dump), source)
    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    restore = script("restore.sh", str(dump), new_database)
    assert restore.returncode == 0, restore.stderr

    verified = idp(settings, new_database, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    original = idp(settings, source, "audit", "verify", "--json")
    assert verified.stdout == original.stdout  # same tree size, root and unsealed backlog

    restored = create_app(make_settings(new_database, tmp_path / "restored",
                                        key_encryption_key=settings.key_encryption_key))
    try:
        tokens = scenarios.signed_in_tokens(restored, portal, ID_NUMBER)  # consent, code, token
        scenarios.userinfo(restored.test_client(), tokens["access_token"])
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restore_refuses_a_database_that_has_tables(app: Flask, settings: Settings,
                                                    tmp_path: Path) -> None:
    dump = tmp_path / "postid.dump"
    assert script("backup.sh", str(dump), settings.database_url).returncode == 0
    refused = script("restore.sh", str(dump), settings.database_url)
    assert refused.returncode == 1
    assert "restore into a new, empty one" in refused.stderr


def test_backup_leaves_no_file_when_the_database_is_unreachable(tmp_path: Path) -> None:
    dump = tmp_path / "postid.dump"
    failed = script("backup.sh", str(dump), _url_of("no_such_database_for_postid"))
    assert failed.returncode != 0
    assert not dump.exists() and not (tmp_path / "postid.dump.partial").exists()

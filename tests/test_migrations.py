"""`idp db upgrade` on an empty database gives exactly the models' schema, and downgrades."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from idp import create_app
from idp.extensions import db
from idp.models import Base
from tests.conftest import TEST_DATABASE_URL, make_settings


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    schema = f"parity_{uuid.uuid4().hex[:12]}"
    base = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url, tmp_path):
    app = create_app(make_settings(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) | {"alembic_version"} == tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_0011_client_credentials_up_and_down_with_data(empty_database_url, tmp_path):
    """0011 keeps every person's token and client; down again deletes only the clients' own
    tokens (the old schema cannot hold them) and the grant; the CHECK refuses a half row."""
    from datetime import timedelta

    from sqlalchemy.exc import IntegrityError

    from idp.models import OAuthToken
    from idp.models.base import utcnow
    from idp.services.portals.clients import register_client
    from tests.factories import active_citizen

    app = create_app(make_settings(empty_database_url, tmp_path))
    with app.app_context():
        upgrade()
        account = active_citizen()
        client = register_client(name="Cổng thử", redirect_uris=["https://portal.example.vn/cb"],
                                 service_scope="tax.read").client
        later = utcnow() + timedelta(minutes=10)
        person = dict(client_pk=client.id, account_id=account.id, family_id="f" * 43,
                      access_token_hash="a" * 64, access_expires_at=later, scope="openid",
                      auth_time=utcnow(), acr="urn:vn:postid:loa:1", amr="pwd")
        db.session.add_all([
            OAuthToken(**person),
            OAuthToken(client_pk=client.id, family_id="g" * 43, access_token_hash="b" * 64,
                       access_expires_at=later, scope="tax.read"),
        ])
        db.session.commit()
        half = {**person, "access_token_hash": "c" * 64, "auth_time": None}
        db.session.add(OAuthToken(**half))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(OAuthToken(**{**person, "access_token_hash": "d" * 64, "account_id": None,
                                     "auth_time": None, "acr": None, "amr": None,
                                     "refresh_token_hash": "e" * 64}))
        with pytest.raises(IntegrityError):  # a client's own token with a refresh token
            db.session.commit()
        db.session.rollback()
        db.session.remove()

        downgrade(revision="0010")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT access_token_hash FROM oauth_token")).scalars().all() == [
                "a" * 64]
            grant_types = conn.execute(text("SELECT grant_types FROM oauth_client")).scalar_one()
        assert "client_credentials" not in str(grant_types)
        columns = {c["name"]: c for c in inspect(db.engine).get_columns("oauth_token")}
        assert not columns["account_id"]["nullable"] and not columns["acr"]["nullable"]
        assert "service_scope" not in {c["name"] for c in inspect(db.engine).get_columns("oauth_client")}

        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT service_scope FROM oauth_client")).scalar_one() == ""
            assert conn.execute(text("SELECT count(*) FROM oauth_token")).scalar_one() == 1
        db.engine.dispose()

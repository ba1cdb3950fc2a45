"""Client registration, secrets, rotation and disabling (docs/architecture.md §5; RFC 7591 §2)."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey
from sqlalchemy import func, select

from idp.errors import Conflict, InvalidInput
from idp.extensions import db
from idp.models import ClientAuthMethod, OAuthClient, SubjectType
from idp.services.portals import clients
from idp.services.portals.clients import check_client_secret, register_client

CB = "https://portal.example.vn/callback"
EC_PUBLIC = ECKey.generate_key("P-256").as_dict(private=False)


def register(**overrides: Any) -> clients.RegisteredClient:
    values: dict[str, Any] = {"name": "Cổng dịch vụ công Hà Nội", "redirect_uris": [CB]}
    values.update(overrides)
    return register_client(**values)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(OAuthClient)) or 0


def refused(error: type[Exception] = InvalidInput, **overrides: Any) -> tuple[str, str | None]:
    """Register with `overrides`, expect a refusal, check nothing was written."""
    with pytest.raises(error) as caught:
        register(**overrides)
    assert count() == 0
    return caught.value.code, caught.value.field  # type: ignore[attr-defined]


def test_default_registration(app):
    with app.app_context():
        registered = register(redirect_uris=[CB, "https://portal.example.vn/other", CB])
        client, secret = registered.client, registered.client_secret
        db.session.expire_all()
        stored = db.session.scalar(select(OAuthClient))
        assert stored.client_id == client.client_id and len(client.client_id) >= 32
        assert stored.token_endpoint_auth_method is ClientAuthMethod.CLIENT_SECRET_BASIC
        assert stored.redirect_uris == [CB, "https://portal.example.vn/other"]  # order kept
        assert stored.scope == "openid profile"
        assert stored.grant_types == ["authorization_code", "refresh_token"]
        assert stored.subject_type is SubjectType.PUBLIC
        assert stored.sector_identifier == "portal.example.vn"
        assert stored.id_token_signed_response_alg == "RS256"
        assert stored.min_loa == 1
        assert stored.secret_rotated_at is None and stored.disabled_at is None
        # 256-bit secret, stored only as its SHA-256.
        assert secret is not None and len(secret) == 43
        assert stored.client_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        row = {column.name: getattr(stored, column.key) for column in OAuthClient.__table__.columns}
        assert not any(secret in str(value) for value in row.values())


def test_two_registrations_get_different_ids_and_secrets(app):
    with app.app_context():
        first, second = register(), register()
        assert first.client.client_id != second.client.client_id
        assert first.client_secret != second.client_secret


def test_name_is_nfc_and_stripped(app):
    with app.app_context():
        client = register(name="  " + unicodedata.normalize("NFD", "Cổng Hà Nội") + " ").client
        assert client.name == unicodedata.normalize("NFC", "Cổng Hà Nội")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "Cổng\nHà Nội", "Cổng\x00"])
def test_bad_name_refused(app, name):
    with app.app_context():
        assert refused(name=name) == ("client.name", "name")


def test_name_of_100_characters_accepted(app):
    with app.app_context():
        assert register(name="ư" * 100).client.name == "ư" * 100


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"redirect_uris": []}, "client.redirect_uri_required", "redirect_uris"),
        ({"redirect_uris": ["http://example.com/cb"]}, "uri.scheme", "redirect_uris"),
        ({"redirect_uris": [CB, "https://portal.example.vn/cb#x"]}, "uri.fragment", "redirect_uris"),
        ({"redirect_uris": ["https://u:p@portal.example.vn/cb"]}, "uri.userinfo", "redirect_uris"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "uri.scheme", "redirect_uris"),
        ({"redirect_uris": [" " + CB]}, "uri.format", "redirect_uris"),
        ({"redirect_uris": [None]}, "uri.format", "redirect_uris"),
        ({"post_logout_redirect_uris": ["http://portal.example.vn/"]}, "uri.scheme",
         "post_logout_redirect_uris"),
        ({"backchannel_logout_uri": "https://portal.example.vn/logout#x"}, "uri.fragment",
         "backchannel_logout_uri"),
        ({"backchannel_logout_uri": "http://portal.example.vn/logout"}, "uri.scheme",
         "backchannel_logout_uri"),
        ({"scope": "profile email"}, "client.scope_openid", "scope"),
        ({"scope": ""}, "client.scope_openid", "scope"),
        ({"scope": "openid admin"}, "client.scope_unsupported", "scope"),
        ({"scope": "openid organisation"}, "client.scope_unsupported", "scope"),
        ({"id_token_signed_response_alg": "HS256"}, "client.id_token_alg", "id_token_signed_response_alg"),
        ({"id_token_signed_response_alg": "none"}, "client.id_token_alg", "id_token_signed_response_alg"),
        ({"jwks_uri": "https://portal.example.vn/jwks"}, "client.keys_not_allowed", "jwks"),
        ({"auth_method": ClientAuthMethod.NONE, "jwks": {"keys": [EC_PUBLIC]}},
         "client.keys_not_allowed", "jwks"),
        ({"client_id": "bad id!"}, "client.client_id", "client_id"),
        ({"client_id": "x" * 65}, "client.client_id", "client_id"),
        ({"client_secret": "too-short"}, "client.fixed_secret", "client_secret"),
        ({"client_secret": "a b" * 20}, "client.fixed_secret", "client_secret"),
        ({"auth_method": ClientAuthMethod.NONE, "client_secret": "s" * 40}, "client.no_secret",
         "client_secret"),
        ({"min_loa": 0}, "client.min_loa", "min_loa"),
        ({"min_loa": 4}, "client.min_loa", "min_loa"),
        ({"min_loa": "2"}, "client.min_loa", "min_loa"),
        ({"min_loa": True}, "client.min_loa", "min_loa"),
        ({"min_loa": None}, "client.min_loa", "min_loa"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(app, overrides, code, field):
    with app.app_context():
        assert refused(**overrides) == (code, field)


def test_uris_and_scopes_are_deduplicated_in_order(app):
    with app.app_context():
        client = register(
            scope="openid  email openid profile email",
            post_logout_redirect_uris=["https://portal.example.vn/bye", "http://127.0.0.1:8080/",
                                       "https://portal.example.vn/bye"],
            backchannel_logout_uri="https://portal.example.vn/backchannel",
        ).client
        assert client.scope == "openid email profile"
        assert client.post_logout_redirect_uris == ["https://portal.example.vn/bye", "http://127.0.0.1:8080/"]
        assert client.backchannel_logout_uri == "https://portal.example.vn/backchannel"


def test_every_supported_scope_accepted(app):
    with app.app_context():
        assert register(scope=" ".join(clients.SUPPORTED_SCOPES)).client.scope == " ".join(
            clients.SUPPORTED_SCOPES)


def test_public_client_has_no_secret(app):
    with app.app_context():
        registered = register(auth_method=ClientAuthMethod.NONE)
        assert registered.client_secret is None
        assert registered.client.client_secret_hash is None and registered.client.is_public
        assert not check_client_secret(registered.client, "")
        assert not check_client_secret(registered.client, "anything")


def test_private_key_jwt_with_inline_public_keys(app):
    rsa_public = RSAKey.generate_key(2048).as_dict(private=False)
    with app.app_context():
        registered = register(auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                              jwks={"keys": [rsa_public, {**EC_PUBLIC, "use": "sig", "kid": "k1"}]},
                              id_token_signed_response_alg="ES256")
        assert registered.client_secret is None and registered.client.client_secret_hash is None
        db.session.expire_all()
        stored = db.session.scalar(select(OAuthClient))
        assert stored.jwks == {"keys": [rsa_public, {**EC_PUBLIC, "use": "sig", "kid": "k1"}]}
        assert stored.jwks_uri is None and stored.id_token_signed_response_alg == "ES256"


def test_private_key_jwt_with_jwks_uri(app):
    with app.app_context():
        client = register(auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                          jwks_uri="https://portal.example.vn/.well-known/jwks.json").client
        assert client.jwks_uri == "https://portal.example.vn/.well-known/jwks.json" and client.jwks is None


@pytest.mark.parametrize(
    ("keys", "code", "field"),
    [
        ({}, "client.keys_required", "jwks"),
        ({"jwks_uri": "https://portal.example.vn/jwks", "jwks": {"keys": [EC_PUBLIC]}},
         "client.keys_required", "jwks"),
        ({"jwks_uri": "http://portal.example.vn/jwks"}, "uri.scheme", "jwks_uri"),
        ({"jwks": {"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}},
         "client.jwks_private", "jwks"),
        ({"jwks": {"keys": [EC_PUBLIC, RSAKey.generate_key(2048).as_dict(private=True)]}},
         "client.jwks_private", "jwks"),
        ({"jwks": {"keys": [OctKey.generate_key(256).as_dict()]}}, "client.jwks_private", "jwks"),
        ({"jwks": {"keys": []}}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": "x"}}, "client.jwks_format", "jwks"),
        ({"jwks": [EC_PUBLIC]}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": ["x"]}}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": [{"kty": "RSA", "n": "abc"}]}}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": [{"kty": "XYZ", "x": "abc"}]}}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": [{**EC_PUBLIC, "use": "enc"}]}}, "client.jwks_format", "jwks"),
        ({"jwks": {"keys": [EC_PUBLIC] * 17}}, "client.jwks_format", "jwks"),
    ],
)
def test_private_key_jwt_key_rules(app, keys, code, field):
    with app.app_context():
        assert refused(auth_method=ClientAuthMethod.PRIVATE_KEY_JWT, **keys) == (code, field)


def test_check_client_secret(app):
    with app.app_context():
        registered = register(auth_method=ClientAuthMethod.CLIENT_SECRET_POST)
        client, secret = registered.client, registered.client_secret
        assert secret is not None
        assert check_client_secret(client, secret)
        assert not check_client_secret(client, secret + "x")
        assert not check_client_secret(client, secret.upper())
        assert not check_client_secret(client, "")
        assert not check_client_secret(client, "x" * 100_000)
        assert not check_client_secret(client, client.client_secret_hash)  # the hash is not the secret


def test_rotate_secret_invalidates_the_old_one(app):
    with app.app_context():
        registered = register()
        client_id, old = registered.client.client_id, registered.client_secret
        new = clients.rotate_secret(client_id)
        db.session.expire_all()
        client = clients.get_client(client_id)
        assert new != old and len(new) == 43
        assert client.client_secret_hash == hashlib.sha256(new.encode()).hexdigest()
        assert client.secret_rotated_at is not None
        assert check_client_secret(client, new) and not check_client_secret(client, old)


@pytest.mark.parametrize("method", [ClientAuthMethod.NONE, ClientAuthMethod.PRIVATE_KEY_JWT])
def test_rotate_secret_refused_without_a_secret(app, method):
    keys = {"jwks": {"keys": [EC_PUBLIC]}} if method is ClientAuthMethod.PRIVATE_KEY_JWT else {}
    with app.app_context():
        client_id = register(auth_method=method, **keys).client.client_id
        with pytest.raises(InvalidInput) as caught:
            clients.rotate_secret(client_id)
        assert caught.value.code == "client.no_secret"
        db.session.expire_all()
        assert clients.get_client(client_id).client_secret_hash is None


@pytest.mark.parametrize("level", [1, 2, 3])
def test_minimum_level_is_stored(app, level):
    with app.app_context():
        client_id = register(min_loa=level).client.client_id
        db.session.expire_all()
        assert clients.get_client(client_id).min_loa == level


def test_set_min_loa(app):
    with app.app_context():
        client_id = register().client.client_id
        assert clients.set_min_loa(client_id, 3).min_loa == 3
        for bad in (0, 4, "3", None):
            with pytest.raises(InvalidInput) as caught:
                clients.set_min_loa(client_id, bad)  # type: ignore[arg-type]
            assert (caught.value.code, caught.value.field) == ("client.min_loa", "min_loa")
        db.session.expire_all()
        assert clients.get_client(client_id).min_loa == 3


def test_unknown_client(app):
    with app.app_context():
        for action in (clients.rotate_secret, clients.disable_client,
                       lambda client_id: clients.set_min_loa(client_id, 2)):
            with pytest.raises(InvalidInput) as caught:
                action("no-such-client")
            assert caught.value.code == "client.not_found" and caught.value.field == "client_id"
        assert clients.get_client("no-such-client") is None
        assert clients.get_client("x" * 1000) is None


def test_disable_is_idempotent_and_stops_secret_checks(app):
    with app.app_context():
        registered = register()
        client_id, secret = registered.client.client_id, registered.client_secret
        first = clients.disable_client(client_id).disabled_at
        assert first is not None
        assert clients.disable_client(client_id).disabled_at == first
        db.session.expire_all()
        client = clients.get_client(client_id)  # disabled clients are still found
        assert client is not None and not client.is_active and client.disabled_at == first
        assert not check_client_secret(client, secret)
        with pytest.raises(InvalidInput) as caught:
            clients.rotate_secret(client_id)
        assert caught.value.code == "client.disabled"


def test_pairwise_sector(app):
    with app.app_context():
        client = register(subject_type=SubjectType.PAIRWISE,
                          redirect_uris=[CB, "https://portal.example.vn:8443/cb2"]).client
        assert client.subject_type is SubjectType.PAIRWISE
        assert client.sector_identifier == "portal.example.vn"


def test_pairwise_over_two_hosts_refused(app):
    with app.app_context():
        code = refused(subject_type=SubjectType.PAIRWISE,
                       redirect_uris=[CB, "https://other.example.vn/cb"])
        assert code == ("uri.sector", "redirect_uris")


def test_public_client_over_two_hosts_has_no_sector(app):
    with app.app_context():
        client = register(redirect_uris=[CB, "https://other.example.vn/cb"]).client
        assert client.sector_identifier == ""


def test_fixed_client_id_and_secret_for_demo_data(app):
    with app.app_context():
        registered = register(client_id="portal-test", client_secret="s" * 40)
        assert registered.client.client_id == "portal-test" and registered.client_secret == "s" * 40
        assert check_client_secret(registered.client, "s" * 40)
        with pytest.raises(Conflict) as caught:
            register(client_id="portal-test")
        assert caught.value.code == "client.duplicate_id"
        assert count() == 1


def test_list_clients_oldest_first(app):
    with app.app_context():
        ids = [register(name=f"Portal {n}").client.client_id for n in range(3)]
        clients.disable_client(ids[1])
        assert [c.client_id for c in clients.list_clients()] == ids


def test_generated_client_ids_are_safe_on_a_command_line(app):
    from idp.services.portals.clients import register_client

    with app.app_context():
        ids = [register_client(name=f"Portal {i}", redirect_uris=["https://p.example.vn/cb"]).client.client_id
               for i in range(40)]
    assert all(len(i) == 32 and i.isalnum() for i in ids)

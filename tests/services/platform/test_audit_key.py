"""The audit log's Ed25519 signing key: sealed at rest, rotatable, its verifier keys published, and
kept out of the token key rings."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select

from idp.domain.checkpoint import Checkpoint, open_note, parse_verifier_key, sign, time_line
from idp.extensions import db
from idp.models import AuditEvent, AuditTag, KeyState, SigningKey
from idp.services.platform import audit_key, audit_seal, crypto
from idp.services.platform.audit_verify import verify_log
from idp.services.portals import keys
from idp.settings import SettingsError
from tests.conftest import TEST_DATABASE_URL, at_once, make_settings


def checkpoint(size: int) -> Checkpoint:
    origin = audit_key.key_name()
    return Checkpoint(origin, size, bytes([size % 256]) * 32,
                      (time_line(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),))


def audit_rows() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).where(SigningKey.alg == "Ed25519")))


def test_origin_defaults_to_the_issuer_host(settings):
    assert settings.issuer == "http://localhost"
    assert settings.audit_log_origin == "localhost/audit"
    port = make_settings("sqlite://", settings.instance_path, issuer="http://127.0.0.1:5000")
    assert port.audit_log_origin == "127.0.0.1:5000/audit"
    other = make_settings("sqlite://", settings.instance_path, issuer="https://id.example.vn")
    assert other.audit_log_origin == "id.example.vn/audit"
    path = make_settings("sqlite://", settings.instance_path, issuer="https://example.vn/id")
    assert path.audit_log_origin == "example.vn/id/audit"
    chosen = make_settings("sqlite://", settings.instance_path, audit_log_origin="log.example.vn/a")
    assert chosen.audit_log_origin == "log.example.vn/a"


@pytest.mark.parametrize("origin", ["with space", "a+b", "tab\there", "nbsp\u00a0x", "bell\x07",
                                    "line\u2028sep"])
def test_origin_must_be_a_key_name(settings, origin):
    with pytest.raises(SettingsError, match="IDP_AUDIT_LOG_ORIGIN"):
        make_settings("sqlite://", settings.instance_path, audit_log_origin=origin)


def test_ensure_key_creates_one_current_key_once(app):
    with app.app_context():
        assert audit_key.ensure_key() is True
        assert audit_key.ensure_key() is False
        rows = audit_rows()
        assert [(r.alg, r.state) for r in rows] == [("Ed25519", KeyState.CURRENT)]
        assert set(rows[0].public_jwk) == {"kty", "crv", "x", "kid"}
        assert rows[0].public_jwk["kty"] == "OKP" and rows[0].public_jwk["crv"] == "Ed25519"
        assert rows[0].public_jwk["kid"] == rows[0].kid
        assert len(audit_key.verifier_keys()) == 1


def test_a_note_signed_by_signer_opens_with_the_first_verifier_key(app):
    with app.app_context():
        name, private_key = audit_key.signer()  # creates the key on first use
        assert name == "localhost/audit"
        note = sign(checkpoint(7), name, private_key)
        (verifier,) = audit_key.verifier_keys()
        assert open_note(note, verifier) == checkpoint(7)
        assert parse_verifier_key(verifier)[0] == name


def test_rotation_keeps_old_notes_verifiable_with_the_old_key(app):
    with app.app_context():
        audit_key.ensure_key()
        old_note = sign(checkpoint(1), *audit_key.signer())
        (old_verifier,) = audit_key.verifier_keys()
        old_kid = audit_rows()[0].kid
        new = audit_key.rotate()
        new_note = sign(checkpoint(2), *audit_key.signer())
        verifiers = audit_key.verifier_keys()
        assert verifiers == [verifiers[0], old_verifier] and verifiers[0] != old_verifier
        assert open_note(old_note, old_verifier) == checkpoint(1)
        assert open_note(new_note, verifiers[0]) == checkpoint(2)
        for note, wrong in ((old_note, verifiers[0]), (new_note, old_verifier)):
            with pytest.raises(ValueError, match="no signature by this key"):
                open_note(note, wrong)
        states = {r.kid: r.state for r in audit_rows()}
        assert states == {old_kid: KeyState.PREVIOUS, new.kid: KeyState.CURRENT}
        previous = db.session.scalars(select(SigningKey).where(SigningKey.kid == old_kid)).one()
        assert previous.deactivated_at is not None and previous.expires_at is None
        audit_key.rotate()
        assert len(audit_key.verifier_keys()) == 3 and audit_key.verifier_keys()[1:] == verifiers


def test_rotation_is_audited_and_chained(app):
    with app.app_context():
        audit_key.ensure_key()
        old_kid = audit_rows()[0].kid
        new = audit_key.rotate()
        event = db.session.scalars(select(AuditEvent)).one()
        assert event.tag == AuditTag.AUDIT_KEY_ROTATE.value == "audit.key.rotate"
        assert event.channel == "cli" and event.account_id is None
        assert event.data == {"kid": new.kid, "previous_kids": [old_kid]}
        assert audit_seal.seal_all() > 0
        assert verify_log().ok


def test_rotate_without_a_key_creates_the_first(app):
    with app.app_context():
        new = audit_key.rotate()
        assert [(r.kid, r.state) for r in audit_rows()] == [(new.kid, KeyState.CURRENT)]


def test_the_private_key_is_sealed_under_the_kek(app, settings, make_app):
    with app.app_context():
        _, private_key = audit_key.signer()
        row = audit_rows()[0]
        sealed, kid = row.private_key_encrypted, row.kid
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    der = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    for clear in (raw, pem, der, base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")):
        assert clear not in sealed
    with app.app_context():
        assert crypto.unseal(sealed, aad=kid.encode()) == pem  # PKCS#8 PEM, AAD = kid
        with pytest.raises(crypto.UnsealError):
            crypto.unseal(sealed, aad=b"another kid")
    other_kek = replace(settings, key_encryption_key=base64.urlsafe_b64encode(b"k" * 32).decode())
    with make_app(other_kek).app_context(), pytest.raises(crypto.UnsealError):
        audit_key.signer()


def test_public_key_matches_the_private_key(app):
    with app.app_context():
        _, private_key = audit_key.signer()
        public = audit_key.public_key(audit_rows()[0])
        assert public.public_bytes(Encoding.Raw, PublicFormat.Raw) == \
            private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_the_audit_key_is_not_a_token_key(app, client):
    with app.app_context():
        audit_key.ensure_key()
        audit_key.rotate()  # a PREVIOUS one too
        audit_kids = {r.kid for r in audit_rows()}
        assert {k.alg for k in keys.list_keys()} <= set(keys.ALGORITHMS)
        assert not audit_kids & {k.kid for k in keys.list_keys()}
    body = client.get("/jwks.json").json  # creates the token rings
    published = {k["kid"] for k in body["keys"]}
    assert len(published) == 4 and not published & audit_kids
    assert {k["kty"] for k in body["keys"]} == {"RSA", "EC"}
    with app.app_context():
        assert {k.alg for k in keys.list_keys()} == {"RS256", "ES256"}
        keys.ensure_signer("ES256")
        token = keys.sign_jwt({"sub": "x"}, alg="ES256")
        assert keys.verify_jwt(token, allow_expired=True) == {"sub": "x"}
        # rotating the token rings leaves the audit key alone, and the other way round
        keys.rotate("RS256")
        assert {r.kid for r in audit_rows()} == audit_kids
        audit_key.rotate()
        assert published <= {k.kid for k in keys.list_keys()}


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs IDP_TEST_DATABASE_URL (row races need PostgreSQL)")
def test_nodes_ensuring_the_key_at_once_make_one(app, settings, make_app):
    results = at_once([make_app(settings) for _ in range(4)], audit_key.ensure_key)
    assert sorted(results) == [False, False, False, True]
    with app.app_context():
        assert [r.state for r in audit_rows()] == [KeyState.CURRENT]


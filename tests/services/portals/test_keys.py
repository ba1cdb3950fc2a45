"""Key encryption at rest and the signing-key rings (docs/architecture.md §5, §7, OIDC Core §10.1.1)."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import func, select

from idp.errors import InvalidInput
from idp.extensions import db
from idp.models import KeyState, SigningKey
from idp.models.base import utcnow
from idp.services.platform import crypto
from idp.services.portals import keys
from tests.conftest import TEST_DATABASE_URL, at_once

NEXT, CURRENT, PREVIOUS, RETIRED = KeyState.NEXT, KeyState.CURRENT, KeyState.PREVIOUS, KeyState.RETIRED
PUBLIC_RSA = {"kty", "n", "e", "kid", "alg", "use"}
PUBLIC_EC = {"kty", "crv", "x", "y", "kid", "alg", "use"}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def ring(alg: str) -> dict[KeyState, list[str]]:
    """kids by state, oldest first, straight from the database."""
    db.session.expire_all()
    found: dict[KeyState, list[str]] = {state: [] for state in KeyState}
    for key in db.session.scalars(select(SigningKey).where(SigningKey.alg == alg).order_by(SigningKey.id)):
        found[key.state].append(key.kid)
    return found


def row(kid: str) -> SigningKey:
    db.session.expire_all()
    return db.session.scalars(select(SigningKey).where(SigningKey.kid == kid)).one()


def published() -> set[str]:
    return {jwk["kid"] for jwk in keys.public_jwks()["keys"]}


def header(token: str, alg: str | None = None) -> dict[str, object]:
    """Verify `token` with joserfc against the published JWKS, as a relying party would."""
    key_set = KeySet.import_key_set(keys.public_jwks())
    return jwt.decode(token, key_set, algorithms=[alg] if alg else None).header


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": "https://id.example.vn", "sub": "abc", "iat": now, "exp": now + 600, **extra}


# --- crypto -------------------------------------------------------------------------------------

def test_seal_round_trip_uses_a_fresh_nonce(ctx):
    first, second = (crypto.seal(b"secret bytes", aad=b"kid-1") for _ in range(2))
    assert len(first) == 12 + len(b"secret bytes") + 16  # nonce || ciphertext || 16-byte tag
    assert first[:12] != second[:12] and b"secret bytes" not in first
    assert [crypto.unseal(x, aad=b"kid-1") for x in (first, second)] == [b"secret bytes"] * 2


@pytest.mark.parametrize("position", [0, 11, 12, -17, -1])  # nonce, ciphertext, tag
def test_flipped_byte_is_detected(ctx, position):
    sealed = bytearray(crypto.seal(b"private key", aad=b"kid-1"))
    sealed[position] ^= 0x01
    with pytest.raises(crypto.UnsealError, match="failed authentication"):
        crypto.unseal(bytes(sealed), aad=b"kid-1")


def test_wrong_aad_and_truncation_are_detected(ctx):
    sealed = crypto.seal(b"private key", aad=b"kid-1")
    with pytest.raises(crypto.UnsealError, match="failed authentication"):
        crypto.unseal(sealed, aad=b"kid-2")
    with pytest.raises(crypto.UnsealError, match="truncated"):
        crypto.unseal(sealed[:27], aad=b"kid-1")


def test_other_key_encryption_key_cannot_open(app, settings, make_app):
    with app.app_context():
        sealed = crypto.seal(b"private key", aad=b"kid-1")
    other_kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    with make_app(replace(settings, key_encryption_key=other_kek)).app_context():
        with pytest.raises(crypto.UnsealError):
            crypto.unseal(sealed, aad=b"kid-1")


# --- ensure and rotate --------------------------------------------------------------------------

def test_ensure_keys_is_idempotent(ctx):
    assert keys.ensure_keys() is True
    first = {alg: ring(alg) for alg in ("RS256", "ES256")}
    for alg in ("RS256", "ES256"):
        assert [len(first[alg][s]) for s in (NEXT, CURRENT, PREVIOUS, RETIRED)] == [1, 1, 0, 0]
    assert keys.ensure_keys() is False
    assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 4
    assert {alg: ring(alg) for alg in ("RS256", "ES256")} == first
    assert row(first["RS256"][CURRENT][0]).activated_at is not None
    assert row(first["RS256"][NEXT][0]).activated_at is None


def test_rotate_moves_every_state_exactly(ctx):
    keys.ensure_keys()
    before, es_before = ring("RS256"), ring("ES256")
    new_next = keys.rotate("RS256")
    after = ring("RS256")
    assert after[CURRENT] == before[NEXT]
    assert after[PREVIOUS] == before[CURRENT]
    assert after[NEXT] == [new_next.kid] and new_next.kid not in before[NEXT] + before[CURRENT]
    assert after[RETIRED] == []
    old, promoted = row(before[CURRENT][0]), row(before[NEXT][0])
    assert old.deactivated_at == promoted.activated_at
    # id_token_seconds (600 in tests) + the 300 s margin.
    assert old.expires_at == old.deactivated_at + timedelta(seconds=900)
    assert ring("ES256") == es_before


def test_previous_key_stays_published_until_expiry_then_retires(ctx):
    keys.ensure_keys()
    old_current = ring("RS256")[CURRENT][0]
    keys.rotate("RS256")
    keys.rotate("RS256")  # not expired yet: still PREVIOUS, still published
    assert ring("RS256")[PREVIOUS][0] == old_current and old_current in published()
    old = row(old_current)
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert old_current in published()  # the in-process snapshot is at most key_cache_seconds old
    keys.invalidate_cache()
    assert old_current not in published()
    assert ring("RS256")[PREVIOUS][0] == old_current  # retired only by the next rotation
    keys.rotate("RS256")
    assert ring("RS256")[RETIRED] == [old_current] and old_current not in published()
    assert [k.kid for k in keys.list_keys()].count(old_current) == 1  # kept for audit


def test_snapshot_drops_a_previous_key_at_its_expiry_without_waiting_for_the_ttl(ctx, monkeypatch):
    keys.ensure_keys(("RS256",))
    old_current = ring("RS256")[CURRENT][0]
    keys.rotate("RS256")
    assert old_current in published()
    later = row(old_current).expires_at + timedelta(seconds=1)
    monkeypatch.setattr(keys, "utcnow", lambda: later)
    assert old_current not in published()
    keys.rotate("RS256")
    assert ring("RS256")[RETIRED] == [old_current]


def test_rotate_completes_a_ring_without_next_and_never_promotes_an_unpublished_key(ctx):
    new_next = keys.rotate("ES256")  # empty ring: like ensure_keys for that alg only
    assert ring("ES256")[NEXT] == [new_next.kid] and len(ring("ES256")[CURRENT]) == 1
    assert ring("RS256") == {state: [] for state in KeyState}
    current = ring("ES256")[CURRENT]
    db.session.delete(row(new_next.kid))  # a ring that lost its NEXT key
    db.session.commit()
    replacement = keys.rotate("ES256").kid
    assert ring("ES256")[CURRENT] == current and ring("ES256")[NEXT] == [replacement]


@pytest.mark.parametrize("call", [lambda: keys.rotate("HS256"), lambda: keys.ensure_keys(("none",)),
                                  lambda: keys.sign_jwt({}, alg="RS512")])
def test_unsupported_algorithm_is_refused_and_writes_nothing(ctx, call):
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code == "keys.unsupported_alg" and caught.value.field == "alg"
    assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 0


# --- publication and signing --------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_sign_jwt_uses_current_key_and_verifies_against_public_jwks(ctx, alg):
    keys.ensure_keys()
    assert header(keys.sign_jwt(claims(), alg=alg), alg) == {"alg": alg, "kid": ring(alg)[CURRENT][0]}
    logout = keys.sign_jwt(claims(), alg=alg, typ="logout+jwt")
    assert header(logout, alg) == {"alg": alg, "kid": ring(alg)[CURRENT][0], "typ": "logout+jwt"}


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_next_key_is_published_before_it_signs(ctx, alg):
    keys.ensure_keys()
    next_kid = ring(alg)[NEXT][0]
    assert next_kid in published()
    before = keys.sign_jwt(claims(), alg=alg)
    assert header(before)["kid"] != next_kid
    keys.rotate(alg)
    assert header(keys.sign_jwt(claims(), alg=alg))["kid"] == next_kid
    assert keys.verify_jwt(before)["sub"] == "abc"  # signed by the PREVIOUS key, still published


def test_public_jwks_has_no_private_members(ctx):
    keys.ensure_keys()
    keys.rotate("RS256")
    jwks = keys.public_jwks()
    assert sorted(jwk["alg"] for jwk in jwks["keys"]) == ["ES256", "ES256", "RS256", "RS256", "RS256"]
    for jwk in jwks["keys"]:
        assert set(jwk) == (PUBLIC_RSA if jwk["alg"] == "RS256" else PUBLIC_EC)
        assert jwk["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi", "oth", "k"} & set(jwk)
    assert published() == {k.kid for k in keys.list_keys() if k.state is not RETIRED}
    bad = row(ring("ES256")[CURRENT][0])  # even a corrupted row cannot leak a private member
    bad.public_jwk = {**bad.public_jwk, "d": "leaked"}
    db.session.commit()
    keys.invalidate_cache()
    assert all("d" not in jwk for jwk in keys.public_jwks()["keys"])


def test_private_keys_are_sealed_pkcs8_bound_to_their_kid(ctx):
    keys.ensure_keys()
    for key in keys.list_keys():
        assert b"PRIVATE KEY" not in key.private_key_encrypted
        pem = crypto.unseal(key.private_key_encrypted, aad=key.kid.encode())
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8, not PKCS#1/SEC1
        other = ring(key.alg)[NEXT if key.state is CURRENT else CURRENT][0]
        with pytest.raises(crypto.UnsealError):
            crypto.unseal(key.private_key_encrypted, aad=other.encode())
    current = row(ring("RS256")[CURRENT][0])
    rsa = RSAKey.import_key(crypto.unseal(current.private_key_encrypted, aad=current.kid.encode()))
    assert rsa.as_dict(private=False)["n"] == current.public_jwk["n"]
    assert len(base64.urlsafe_b64decode(rsa.as_dict()["n"] + "==")) * 8 == 2048


def test_sign_jwt_creates_the_ring_lazily(ctx):
    token = keys.sign_jwt(claims(), alg="ES256")
    assert [len(ring("ES256")[s]) for s in (NEXT, CURRENT)] == [1, 1]
    assert ring("RS256")[CURRENT] == []
    assert keys.verify_jwt(token)["iss"] == "https://id.example.vn"


def test_private_key_is_decrypted_once_and_jwks_is_cached(ctx, monkeypatch):
    keys.ensure_keys()
    calls: list[bytes] = []
    real = crypto.unseal
    monkeypatch.setattr(crypto, "unseal", lambda sealed, *, aad: calls.append(aad) or real(sealed, aad=aad))
    for _ in range(3):
        keys.sign_jwt(claims())
    assert calls == [ring("RS256")[CURRENT][0].encode()]
    assert keys.public_jwks() is keys.public_jwks()
    cached = keys.public_jwks()
    keys.rotate("ES256")
    assert keys.public_jwks() is not cached


def test_other_node_sees_a_rotation_after_its_cache_ttl(app, settings, make_app):
    node_b = make_app(settings)
    with app.app_context():
        keys.ensure_keys()
        old_current, old_next = ring("RS256")[CURRENT][0], ring("RS256")[NEXT][0]
    with node_b.app_context():
        assert old_next in published()
        token_b = keys.sign_jwt(claims())
    with app.app_context():
        new_next = keys.rotate("RS256").kid
    with node_b.app_context():
        assert new_next not in published()  # node B's snapshot is still fresh
        assert header(keys.sign_jwt(claims()))["kid"] == old_current
        cache = node_b.extensions["idp.keys"]
        cache.snapshot = replace(cache.snapshot, loaded_at=cache.snapshot.loaded_at - settings.key_cache_seconds)
        assert new_next in published()
        assert header(keys.sign_jwt(claims()))["kid"] == old_next
    with app.app_context():
        assert keys.verify_jwt(token_b)["sub"] == "abc"


def test_a_shorter_key_cache_shortens_the_wait_of_other_nodes(app, settings, make_app):
    node_b = make_app(replace(settings, key_cache_seconds=1))
    with app.app_context():
        keys.ensure_keys()
    with node_b.app_context():
        published()  # node B's snapshot taken now
    with app.app_context():
        new_next = keys.rotate("RS256").kid
    with node_b.app_context():
        assert new_next not in published()
        time.sleep(1.1)
        assert new_next in published()


def test_unknown_kid_reloads_the_snapshot_at_most_every_5_seconds(app, settings, make_app):
    node_b = make_app(settings)
    with node_b.app_context():
        assert keys.public_jwks() == {"keys": []}  # cached before any key exists
    with app.app_context():
        token = keys.sign_jwt(claims())  # node A creates the ring lazily
    with node_b.app_context():
        with pytest.raises(InvalidInput):
            keys.verify_jwt(token)
        cache = node_b.extensions["idp.keys"]
        cache.snapshot = replace(cache.snapshot, loaded_at=cache.snapshot.loaded_at - 5)
        assert keys.verify_jwt(token)["sub"] == "abc"



def test_sign_jwt_uses_the_ring_another_node_just_made(app, settings, make_app):
    node_b = make_app(settings)
    with node_b.app_context():
        assert keys.public_jwks() == {"keys": []}  # cached before any key exists
    with app.app_context():
        keys.ensure_keys(("RS256",))
        current = ring("RS256")[CURRENT][0]
    with node_b.app_context():
        assert header(keys.sign_jwt(claims()))["kid"] == current
        assert len(keys.list_keys()) == 2

# --- verify_jwt ---------------------------------------------------------------------------------

def test_verify_jwt_checks_expiry_unless_allowed(ctx):
    now = int(time.time())
    expired = keys.sign_jwt(claims(iat=now - 3600, exp=now - 31))  # beyond the 30 s leeway
    assert keys.verify_jwt(expired, allow_expired=True)["sub"] == "abc"
    assert keys.verify_jwt(keys.sign_jwt(claims(exp=now - 20)))["sub"] == "abc"  # within leeway
    future, no_exp = keys.sign_jwt(claims(iat=now + 3600)), keys.sign_jwt({"sub": "abc", "iat": now})
    for token in (expired, future, no_exp):
        with pytest.raises(InvalidInput) as caught:
            keys.verify_jwt(token)
        assert caught.value.code == "token.invalid"


def test_verify_jwt_refuses_foreign_forged_and_retired_tokens(ctx):
    keys.ensure_keys(("ES256",))
    current = ring("ES256")[CURRENT][0]
    impostor = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode({"alg": "ES256", "kid": current}, claims(), impostor)
    unsigned = "eyJhbGciOiJub25lIn0." + base64.urlsafe_b64encode(b'{"sub":"abc"}').decode().rstrip("=") + "."
    token = keys.sign_jwt(claims(), alg="ES256")
    for bad in (forged, unsigned, "not-a-jwt", token[:-4] + "AAAA", "x" * 20000):
        with pytest.raises(InvalidInput) as caught:
            keys.verify_jwt(bad)
        assert caught.value.code == "token.invalid"
    keys.rotate("ES256")
    old = row(current)
    old.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    keys.rotate("ES256")
    with pytest.raises(InvalidInput):
        keys.verify_jwt(token, allow_expired=True)  # its key is retired: no longer trusted


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs IDP_TEST_DATABASE_URL (row races need PostgreSQL)")
def test_two_nodes_bootstrapping_at_once_make_one_ring(app, settings, make_app):
    results = at_once([make_app(settings) for _ in range(4)], keys.ensure_keys)
    assert sorted(results) == [False, False, False, True]
    with app.app_context():
        assert [(k.alg, k.state) for k in keys.list_keys()] == [
            ("ES256", NEXT), ("ES256", CURRENT), ("RS256", NEXT), ("RS256", CURRENT)]

"""Signing-key rings for ID tokens and logout tokens (docs/architecture.md §5, OIDC Core §10.1.1).

One ring per algorithm: NEXT (in the JWKS, not signing yet) -> CURRENT (signs) -> PREVIOUS (in
the JWKS until every token it signed has expired) -> RETIRED (row kept for audit). A key is
published a whole rotation period before it signs, so relying parties caching the JWKS already
know it when its first token arrives. Hot paths read an in-process snapshot of the published
keys (reloaded every IDP_KEY_CACHE_SECONDS) and decrypt each private key once per process;
the caches hang off the Flask app, so each app (and test) has its own.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import and_, case, or_, select

from idp.domain.errors import N_
from idp.errors import InvalidInput
from idp.extensions import db
from idp.models import KeyState, SigningKey
from idp.models.audit import AuditTag
from idp.models.base import utcnow
from idp.services.platform import audit, crypto, locks
from idp.settings import current_settings

ALGORITHMS = ("RS256", "ES256")
KEY_TYPES: dict[str, type[RSAKey] | type[ECKey]] = {"RS256": RSAKey, "ES256": ECKey}
# 2048 bits is the RFC 7518 §3.3 minimum and NIST-acceptable through 2030. Keys live for one
# rotation period only, and 3072-bit signing costs about 3.5x the CPU on the token endpoint.
RSA_BITS = 2048
# Other nodes keep signing with a demoted key until their snapshot reloads (within
# key_cache_seconds, at most 120) and node clocks drift; the margin covers both.
EXPIRY_MARGIN = timedelta(seconds=300)
RELOAD_ON_UNKNOWN_KID_SECONDS = 5  # bounds the DB reloads that forged `kid`s can cause
# exp and iat required; 30 s for clock skew between nodes. "now" is read at each validate().
TIME_CLAIMS = JWTClaimsRegistry(leeway=30, exp={"essential": True}, iat={"essential": True})
MAX_TOKEN_LENGTH = 16 * 1024
STATE_ORDER = (KeyState.NEXT, KeyState.CURRENT, KeyState.PREVIOUS, KeyState.RETIRED)
# RFC 7517 §4 / RFC 7518 §6.2.1, §6.3.1: the only members a public JWK of ours may carry.
PUBLIC_MEMBERS = frozenset({"kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"})

UNSUPPORTED_ALG = N_("This signing algorithm is not supported.")
INVALID_TOKEN = N_("The token is invalid or has expired.")


@dataclass(frozen=True)
class _Snapshot:
    jwks: dict[str, list[dict[str, Any]]]
    key_set: KeySet  # the same keys, parsed once for verify_jwt
    signers: dict[str, tuple[str, bytes]]  # alg -> (kid, sealed PKCS#8 PEM) of the CURRENT key
    loaded_at: float  # time.monotonic()
    stale_at: datetime | None  # first PREVIOUS expiry: the JWKS changes then


@dataclass
class _Cache:
    snapshot: _Snapshot | None = None
    private_keys: dict[str, RSAKey | ECKey] = field(default_factory=dict)


def ensure_keys(algs: tuple[str, ...] = ALGORITHMS) -> bool:
    """Give each algorithm in `algs` a CURRENT and a NEXT key. One transaction.

    Returns True when it created (or promoted) a key, False when every ring was complete.
    Safe to call repeatedly and from several nodes at once (rings are locked on PostgreSQL).
    Raises InvalidInput for an unsupported algorithm.
    """
    algs = tuple(sorted(set(algs)))  # one lock order for every caller: no deadlocks
    for alg in algs:
        _check_alg(alg)
    if all(ring[KeyState.CURRENT] and ring[KeyState.NEXT] for ring in map(_ring, algs)):
        return False  # the common case: no lock taken, nothing committed
    now = utcnow()
    try:
        changed = False
        for alg in algs:
            _lock_ring(alg)
            changed = _fill_ring(alg, now) or changed
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    invalidate_cache()
    return changed


def rotate(alg: str = "RS256") -> SigningKey:
    """Rotate the ring of `alg` and return its new NEXT key. One transaction.

    Retires PREVIOUS keys whose tokens have all expired; CURRENT -> PREVIOUS (published until
    deactivation + id_token_seconds + margin); NEXT -> CURRENT; a new NEXT is created. Without
    a NEXT key (empty ring) it only completes the ring like ensure_keys: a key never signs
    before it has been published. Raises InvalidInput for an unsupported algorithm.
    """
    _check_alg(alg)
    settings = current_settings()
    now = utcnow()
    try:
        _lock_ring(alg)
        expired = select(SigningKey).where(
            SigningKey.alg == alg, SigningKey.state == KeyState.PREVIOUS, SigningKey.expires_at <= now)
        for old in db.session.scalars(expired):
            old.state = KeyState.RETIRED
        ring = _ring(alg)
        if not ring[KeyState.NEXT]:
            _fill_ring(alg, now)
        else:
            for current in ring[KeyState.CURRENT]:
                current.state = KeyState.PREVIOUS
                current.deactivated_at = now
                current.expires_at = now + timedelta(seconds=settings.id_token_seconds) + EXPIRY_MARGIN
            _activate(ring[KeyState.NEXT][0], now)
            _new_key(alg, KeyState.NEXT, now)
        db.session.flush()
        new_next = _ring(alg)[KeyState.NEXT][-1]
        audit.record(AuditTag.KEYS_ROTATE, channel="cli", alg=alg, next_kid=new_next.kid)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    invalidate_cache()
    return new_next


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """The JWK Set (RFC 7517 §5) of NEXT, CURRENT and unexpired PREVIOUS keys of every alg.
    Served from the in-process snapshot: the dict is shared, do not modify it."""
    return _snapshot().jwks


def ensure_signer(alg: str) -> None:
    """Make sure `alg` has a CURRENT key, creating its ring (one transaction of its own) if
    not: called before a caller opens the transaction that will sign, so that sign_jwt never
    commits in the middle of it. Raises InvalidInput for an unsupported algorithm."""
    _check_alg(alg)
    if _snapshot().signers.get(alg) is None:
        ensure_keys((alg,))
        invalidate_cache()


def sign_jwt(claims: dict[str, Any], *, alg: str = "RS256", typ: str | None = None) -> str:
    """A compact JWS of `claims` signed with the CURRENT key of `alg` (header alg, kid, typ).

    If `alg` has no key yet, its ring is created first by ensure_keys, which commits: provision
    keys at deployment (`idp keys rotate`) so that never happens inside a caller's transaction.
    Raises InvalidInput for an unsupported algorithm.
    """
    _check_alg(alg)
    signer = _snapshot().signers.get(alg)
    if signer is None:
        ensure_keys((alg,))
        invalidate_cache()  # another node may have made the ring while we were looking
        signer = _snapshot().signers[alg]
    kid, sealed = signer
    header = {"alg": alg, "kid": kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, _private_key(alg, kid, sealed), algorithms=[alg], default_type=None)


def verify_jwt(token: str, *, allow_expired: bool = False) -> dict[str, Any]:
    """The claims of a JWT signed by one of our published keys.

    Checks the signature, and `exp`/`iat` (both required) unless `allow_expired` (an
    id_token_hint may be expired, OIDC Core §3.1.2.1). `iss`, `aud` and `typ` are the caller's
    to check. Raises InvalidInput("token.invalid") on any failure.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidInput("token.invalid", INVALID_TOKEN)
    snapshot = _snapshot()
    try:
        try:
            decoded = jwt.decode(token, snapshot.key_set, algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            # A key made on another node moments ago; forged kids reload at most every 5 s.
            if time.monotonic() - snapshot.loaded_at < RELOAD_ON_UNKNOWN_KID_SECONDS:
                raise
            invalidate_cache()
            decoded = jwt.decode(token, _snapshot().key_set, algorithms=ALGORITHMS)
        if not allow_expired:
            TIME_CLAIMS.validate(decoded.claims)
    except (JoseError, ValueError):
        raise InvalidInput("token.invalid", INVALID_TOKEN) from None
    return decoded.claims


def list_keys() -> list[SigningKey]:
    """Every token key, RETIRED included: by alg, then next/current/previous/retired, then age.
    Other rows of the table (the audit log's Ed25519 key) are not token keys: left out."""
    rank = case(*((SigningKey.state == state, i) for i, state in enumerate(STATE_ORDER)))
    query = select(SigningKey).where(SigningKey.alg.in_(ALGORITHMS)).order_by(
        SigningKey.alg, rank, SigningKey.created_at, SigningKey.id)
    return list(db.session.scalars(query))


def invalidate_cache() -> None:
    """Reload the published keys on next use (this process only; others within
    key_cache_seconds)."""
    _cache().snapshot = None


def _check_alg(alg: str) -> None:
    if alg not in ALGORITHMS:
        raise InvalidInput("keys.unsupported_alg", UNSUPPORTED_ALG, field="alg")


def _cache() -> _Cache:
    cache: _Cache = current_app.extensions.setdefault("idp.keys", _Cache())
    return cache


def _snapshot() -> _Snapshot:
    cache = _cache()
    snapshot = cache.snapshot
    if (snapshot is not None
            and time.monotonic() - snapshot.loaded_at < current_settings().key_cache_seconds
            and (snapshot.stale_at is None or utcnow() < snapshot.stale_at)):
        return snapshot
    snapshot = _load_snapshot()
    cache.snapshot = snapshot
    # Forget decrypted keys that no longer sign (a rotated-out key must not linger in memory).
    signing = {kid for kid, _ in snapshot.signers.values()}
    cache.private_keys = {kid: key for kid, key in cache.private_keys.items() if kid in signing}
    return snapshot


def _load_snapshot() -> _Snapshot:
    now = utcnow()
    # Only the token algorithms: the table also holds the audit log's Ed25519 key, which
    # must never be published in the JWKS nor sign a token.
    published = and_(SigningKey.alg.in_(ALGORITHMS), or_(
        SigningKey.state.in_((KeyState.NEXT, KeyState.CURRENT)),
        and_(SigningKey.state == KeyState.PREVIOUS, SigningKey.expires_at > now),
    ))
    rows = sorted(db.session.scalars(select(SigningKey).where(published)), key=_order)
    jwks = {"keys": [{k: v for k, v in row.public_jwk.items() if k in PUBLIC_MEMBERS} for row in rows]}
    signers: dict[str, tuple[str, bytes]] = {}
    # Should a ring ever hold two CURRENT keys, the most recently activated one signs.
    for row in sorted((r for r in rows if r.state is KeyState.CURRENT),
                      key=lambda r: (r.activated_at or r.created_at, r.id)):
        signers[row.alg] = (row.kid, row.private_key_encrypted)
    expiries = [row.expires_at for row in rows if row.expires_at is not None]
    # A literal, so that it is checked as joserfc's KeySetSerialization (a TypedDict).
    key_set = KeySet.import_key_set({"keys": jwks["keys"]}) if rows else KeySet([])
    return _Snapshot(jwks, key_set, signers, time.monotonic(), min(expiries, default=None))


def _private_key(alg: str, kid: str, sealed: bytes) -> RSAKey | ECKey:
    cache = _cache()
    key = cache.private_keys.get(kid)
    if key is None:
        pem = crypto.unseal(sealed, aad=kid.encode())
        key = cache.private_keys[kid] = KEY_TYPES[alg].import_key(pem, {"kid": kid})
    return key


def _order(row: SigningKey) -> tuple[str, int, datetime, int]:
    return row.alg, STATE_ORDER.index(row.state), row.created_at, row.id


def _ring(alg: str) -> dict[KeyState, list[SigningKey]]:
    """The non-retired keys of `alg` by state, oldest first."""
    ring: dict[KeyState, list[SigningKey]] = {state: [] for state in STATE_ORDER}
    query = select(SigningKey).where(SigningKey.alg == alg, SigningKey.state != KeyState.RETIRED)
    for row in db.session.scalars(query.order_by(SigningKey.created_at, SigningKey.id)):
        ring[row.state].append(row)
    return ring


def _lock_ring(alg: str) -> None:
    """Serialise ring changes across nodes until the transaction ends, so two nodes cannot both
    create a CURRENT key. PostgreSQL only: SQLite is the single-node embedded default."""
    locks.advisory_xact_lock(f"postid.signing_key.{alg}")


def _fill_ring(alg: str, now: datetime) -> bool:
    """Add a CURRENT and a NEXT key to `alg` where missing (caller's transaction)."""
    ring = _ring(alg)
    changed = False
    if not ring[KeyState.CURRENT]:
        if ring[KeyState.NEXT]:
            _activate(ring[KeyState.NEXT].pop(0), now)  # already published: promote it
        else:
            _new_key(alg, KeyState.CURRENT, now)  # bootstrap: nothing to pre-publish
        changed = True
    if not ring[KeyState.NEXT]:
        _new_key(alg, KeyState.NEXT, now)
        changed = True
    return changed


def _activate(key: SigningKey, now: datetime) -> None:
    key.state, key.activated_at = KeyState.CURRENT, now


def _new_key(alg: str, state: KeyState, now: datetime) -> SigningKey:
    kid = secrets.token_urlsafe(16)
    key = RSAKey.generate_key(RSA_BITS, private=True) if alg == "RS256" \
        else ECKey.generate_key("P-256", private=True)
    public = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
    # PKCS#8 PEM, sealed with the kid as associated data: a blob moved to another row fails.
    sealed = crypto.seal(key.as_pem(private=True), aad=kid.encode())
    row = SigningKey(kid=kid, alg=alg, state=state, private_key_encrypted=sealed, public_jwk=public,
                     created_at=now, activated_at=now if state is KeyState.CURRENT else None)
    db.session.add(row)
    return row

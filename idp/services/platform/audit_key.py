"""The audit log's signing key: Ed25519, signs the log's checkpoints (idp/domain/checkpoint.py).

Kept in the signing_key table like the token keys, alg "Ed25519", its private key sealed under
the key-encryption key (PKCS#8 PEM, AES-GCM, AAD = kid), but in a ring of its own that the token
key rings ignore (never in the JWKS, never signing a token). Its states: CURRENT signs the
checkpoints; rotation makes it PREVIOUS and creates a new CURRENT. A PREVIOUS key never expires:
witnesses and auditors need its verifier key to check the checkpoints it signed, for as long as
the log is kept. There is no NEXT key: a checkpoint is checked against the verifier keys a
witness was given, so the new verifier key is handed to witnesses when the key rotates.

The key name is the log's origin (the setting audit_log_origin): verifier keys are computed
with the current origin, so changing the origin starts a new log for the witnesses.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from sqlalchemy import select

from idp.domain.checkpoint import verifier_key
from idp.extensions import db
from idp.models import KeyState, SigningKey
from idp.models.audit import AuditTag
from idp.models.base import utcnow
from idp.services.platform import audit, crypto, locks
from idp.settings import current_settings

ALG = "Ed25519"  # signing_key.alg is String(8)
LOCK = f"postid.signing_key.{ALG}"


def ensure_key() -> bool:
    """Create the CURRENT audit key if there is none (one transaction). True if it created one.

    Idempotent, and safe from several nodes at once: the check is repeated under an advisory
    lock on PostgreSQL, so only one node creates the key.
    """
    if _current() is not None:
        return False  # the common case: no lock taken, nothing committed
    try:
        locks.advisory_xact_lock(LOCK)
        created = _current() is None  # another node may have made it while we waited
        if created:
            _new_key()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return created


@dataclass(frozen=True)
class Signer:
    """The CURRENT audit key ready to sign: its name in notes (the log's origin), its kid (what
    a checkpoint row records) and the unsealed private key."""

    name: str
    kid: str
    private_key: Ed25519PrivateKey


def signer() -> tuple[str, Ed25519PrivateKey]:
    """(key name, private key) of the CURRENT audit key: the name is the log's origin."""
    current = current_signer()
    return current.name, current.private_key


def current_signer() -> Signer:
    """The CURRENT audit key, unsealed.

    Without a key yet, ensure_key creates it first, which commits: call ensure_key before
    opening the transaction that signs (or provision the key with `idp audit key`).
    """
    row = _current()
    if row is None:
        ensure_key()
        row = _current()
        assert row is not None  # ensure_key committed one, or another node did
    pem = crypto.unseal(row.private_key_encrypted, aad=row.kid.encode())
    private_key = load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"audit key {row.kid} is not an Ed25519 key")
    return Signer(key_name(), row.kid, private_key)


def verifier_keys() -> list[str]:
    """The C2SP verifier keys of the CURRENT key and of every PREVIOUS key, newest first."""
    return [verifier_key(key_name(), public_key(row)) for row in keys()]


def rotate() -> SigningKey:
    """CURRENT -> PREVIOUS (kept for verifying old checkpoints), a new CURRENT; audited.
    One transaction. Returns the new CURRENT key (the first key if there was none)."""
    now = utcnow()
    try:
        locks.advisory_xact_lock(LOCK)
        previous = [row for row in keys() if row.state is KeyState.CURRENT]
        for row in previous:
            row.state = KeyState.PREVIOUS
            row.deactivated_at = now
        new = _new_key()
        db.session.flush()
        audit.record(AuditTag.AUDIT_KEY_ROTATE, channel="cli", kid=new.kid,
                     previous_kids=[row.kid for row in previous])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return new


def keys() -> list[SigningKey]:
    """The CURRENT and PREVIOUS audit keys, newest (most recently activated) first."""
    query = select(SigningKey).where(
        SigningKey.alg == ALG, SigningKey.state.in_((KeyState.CURRENT, KeyState.PREVIOUS)))
    rows = db.session.scalars(query)
    # CURRENT first even should clocks disagree; then by activation, newest first.
    return sorted(rows, key=lambda r: (r.state is not KeyState.CURRENT,
                                       -(r.activated_at or r.created_at).timestamp(), -r.id))


def key_name() -> str:
    """The audit key's name in notes: the log's origin."""
    return current_settings().audit_log_origin


def public_key(row: SigningKey) -> Ed25519PublicKey:
    """The public key of an audit key row (its OKP JWK, RFC 8037)."""
    encoded = row.public_jwk["x"]
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def _current() -> SigningKey | None:
    query = select(SigningKey).where(SigningKey.alg == ALG, SigningKey.state == KeyState.CURRENT)
    return db.session.scalars(query.order_by(SigningKey.activated_at.desc(),
                                             SigningKey.id.desc())).first()


def _new_key() -> SigningKey:
    now = utcnow()
    kid = secrets.token_urlsafe(16)
    private_key = Ed25519PrivateKey.generate()
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    public = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid}
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # Sealed with the kid as associated data, as the token keys: a blob moved to another row fails.
    sealed = crypto.seal(pem, aad=kid.encode())
    row = SigningKey(kid=kid, alg=ALG, state=KeyState.CURRENT, private_key_encrypted=sealed,
                     public_jwk=public, created_at=now, activated_at=now)
    db.session.add(row)
    return row

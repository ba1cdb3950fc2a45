"""The one WebAuthn core of citizens' and staff passkeys (docs/architecture.md §7), on py_webauthn:
no attestation or assertion is parsed here by hand.

- The relying party is the issuer: RP ID its host, the only accepted origin the issuer itself
  (scheme, host, port). A WebAuthn RP ID must be a domain (WebAuthn L3 §5.1.4.1, "valid
  domain"): browsers refuse an IP address such as 127.0.0.1, so an issuer on an IP address
  offers no passkeys (`available()`); development uses http://localhost:5000, which browsers
  treat as a secure context.
- A ceremony's challenge (32 random bytes) is stored with its purpose and what it is bound to;
  the browser holds only a random handle. `take` claims it once (conditional UPDATE) and only
  before it expires, so a replayed response finds it spent.
- Sign counts (WebAuthn L3 §6.1.1, §7.2 step 21): a counter that does not grow although one
  of the two is non-zero may mean a cloned authenticator; py_webauthn refuses the assertion
  and so do we (the failure is audited by the caller). Synced passkeys report 0 always.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp.extensions import db, rowcount
from idp.models.base import utcnow
from idp.models.passkey import USER_HANDLE_BYTES, CeremonyPurpose, Passkey, WebauthnChallenge
from idp.services.platform.secrets import MAX_COOKIE_TOKEN_LENGTH, new_token, token_hash
from idp.settings import current_settings

CEREMONY_LIFETIME = timedelta(minutes=5)
TIMEOUT_MS = 120_000
RP_NAME = "PostID"
# A JSON credential from the browser is a few kilobytes; anything larger is refused unread.
MAX_CREDENTIAL_JSON = 16_384


class CeremonyFailed(Exception):
    """The response did not verify, or its ceremony is unknown, spent, expired or not bound to
    the caller. Callers turn it into their own refusal; the reason is for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str


def relying_party() -> RelyingParty | None:
    """The issuer as relying party, or None when its host cannot be an RP ID (an IP address)."""
    issuer = urlsplit(current_settings().issuer)
    host = issuer.hostname or ""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    return RelyingParty(rp_id=host, origin=f"{issuer.scheme}://{issuer.netloc}")


def available() -> bool:
    return relying_party() is not None


def _rp() -> RelyingParty:
    found = relying_party()
    if found is None:
        raise CeremonyFailed("no_rp_id")
    return found


def new_user_handle() -> bytes:
    return secrets.token_bytes(USER_HANDLE_BYTES)


# --- ceremonies ------------------------------------------------------------------------------

def begin(purpose: CeremonyPurpose, *, session_id: int | None = None,
          mfa_challenge_id: int | None = None, staff_session_id: int | None = None,
          user_handle: bytes | None = None) -> tuple[str, bytes]:
    """A new ceremony in the caller's transaction: (the browser's handle, the challenge)."""
    handle = new_token()
    challenge = secrets.token_bytes(32)
    db.session.add(WebauthnChallenge(
        handle_hash=token_hash(handle), purpose=purpose, challenge=challenge,
        session_id=session_id, mfa_challenge_id=mfa_challenge_id,
        staff_session_id=staff_session_id, user_handle=user_handle,
        expires_at=utcnow() + CEREMONY_LIFETIME))
    return handle, challenge


def take(handle: object, purpose: CeremonyPurpose, *, session_id: int | None = None,
         mfa_challenge_id: int | None = None,
         staff_session_id: int | None = None) -> WebauthnChallenge:
    """Spend the ceremony named by `handle` (in the caller's transaction), if it has this
    purpose and binding and is live. Raises CeremonyFailed otherwise."""
    if not isinstance(handle, str) or not handle or len(handle) > MAX_COOKIE_TOKEN_LENGTH:
        raise CeremonyFailed("no_ceremony")
    found = db.session.scalar(select(WebauthnChallenge).where(
        WebauthnChallenge.handle_hash == token_hash(handle)))
    now = utcnow()
    if found is None or found.purpose != purpose or (
            found.session_id, found.mfa_challenge_id, found.staff_session_id) != (
            session_id, mfa_challenge_id, staff_session_id):
        raise CeremonyFailed("no_ceremony")
    claimed = rowcount(db.session.execute(
        update(WebauthnChallenge)
        .where(WebauthnChallenge.id == found.id, WebauthnChallenge.used_at.is_(None),
               WebauthnChallenge.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)))
    if claimed != 1:
        raise CeremonyFailed("ceremony_spent")
    return found


# --- options ---------------------------------------------------------------------------------

def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [PublicKeyCredentialDescriptor(
        id=p.credential_id,
        transports=[AuthenticatorTransport(t) for t in p.transports.split() if t in known] or None)
        for p in passkeys]


def registration_options(challenge: bytes, *, user_handle: bytes, user_name: str,
                         display_name: str, existing: list[Passkey]) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions as JSON: a discoverable credential (a passkey), user
    verification preferred, no attestation (we trust no vendor list; the AAGUID is kept)."""
    options = generate_registration_options(
        rp_id=_rp().rp_id, rp_name=RP_NAME, user_id=user_handle, user_name=user_name,
        user_display_name=display_name, challenge=challenge, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(existing))
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def authentication_options(challenge: bytes, *, allowed: list[Passkey] | None,
                           user_verification: bool) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions as JSON; `allowed` None asks for a discoverable
    credential (no account named before the passkey answers)."""
    options = generate_authentication_options(
        rp_id=_rp().rp_id, challenge=challenge, timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed) if allowed else None,
        user_verification=(UserVerificationRequirement.REQUIRED if user_verification
                           else UserVerificationRequirement.PREFERRED))
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


# --- responses -------------------------------------------------------------------------------

def _credential_json(credential: object) -> str:
    if not isinstance(credential, str) or len(credential) > MAX_CREDENTIAL_JSON:
        raise CeremonyFailed("malformed")
    return credential


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: str
    backup_eligible: bool
    backed_up: bool
    user_verified: bool


def verify_registration(credential: object, challenge: bytes) -> NewCredential:
    raw = _credential_json(credential)
    rp = _rp()
    try:
        verified = verify_registration_response(
            credential=raw, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin)
        transports = json.loads(raw).get("response", {}).get("transports", [])
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError):
        raise CeremonyFailed("invalid_response") from None
    known = {t.value for t in AuthenticatorTransport}
    return NewCredential(
        credential_id=verified.credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, aaguid=verified.aaguid,
        transports=" ".join(t for t in transports if isinstance(t, str) and t in known)[:128]
        if isinstance(transports, list) else "",
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up, user_verified=verified.user_verified)


@dataclass(frozen=True)
class Assertion:
    credential_id: bytes
    user_handle: bytes | None


def read_assertion(credential: object) -> Assertion:
    """Which credential (and user handle) an assertion names, before it is verified: to find
    the stored public key. Nothing read here is trusted until `verify_assertion` passes."""
    try:
        parsed = parse_authentication_credential_json(_credential_json(credential))
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError):
        raise CeremonyFailed("malformed") from None
    return Assertion(credential_id=parsed.raw_id, user_handle=parsed.response.user_handle)


def verify_assertion(credential: object, challenge: bytes, passkey: Passkey, *,
                     require_user_verification: bool) -> bool:
    """Verify an assertion for `passkey` and record its use (caller commits). Returns whether
    the user was verified. Raises CeremonyFailed (a sign-count regression included)."""
    rp = _rp()
    try:
        verified = verify_authentication_response(
            credential=_credential_json(credential), expected_challenge=challenge,
            expected_rp_id=rp.rp_id, expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=require_user_verification)
    except WebAuthnException as error:
        # py_webauthn raises one exception class for every failed check; its message names a
        # sign-count regression, which the audit log records apart (a possible clone). The
        # answer is refused either way.
        raise CeremonyFailed("sign_count" if "sign count" in str(error) else "invalid_response") \
            from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CeremonyFailed("invalid_response") from None
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.user_verified = verified.user_verified
    passkey.last_used_at = utcnow()
    return verified.user_verified


def amr(passkey: Passkey, user_verified: bool) -> list[str]:
    """RFC 8176 values of one passkey use. `hwk` (proof of possession of a key) for a
    device-bound passkey, `swk` for a backup-eligible one, which may be synced through a cloud
    account; no attestation is asked, so `hwk` says "bound to one device", not "certified
    hardware". `user` is RFC 8176's user *presence* test, which every accepted assertion
    passed (py_webauthn requires the UP flag). User *verification* (the UV flag) is what makes
    a passkey alone multi-factor (`mfa`, added by the caller); WebAuthn does not say whether
    it was a PIN, a fingerprint or a face, so "pin", "fpt" and "face" are never claimed.
    ``user_verified`` is kept for the callers' records."""
    del user_verified
    return ["swk" if passkey.backup_eligible else "hwk", "user"]

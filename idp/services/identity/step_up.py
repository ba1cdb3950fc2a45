"""Step-up: a signed-in session proves its second factor later (docs/architecture.md §9, LoA3).

A portal may need multi-factor authentication (an essential `acr` of LoA3, or its registered
minimum) from a person who signed in with the password only, for example because they set up
TOTP after signing in. Decisions:

- It stays the same session: the same `sid`, so back-channel logout still reaches every portal
  the session signed in to, before and after the step-up, with the `sid` each of them knows.
- The cookie token changes (a token seen at the lower level never carries the higher one),
  and `amr` gains `otp` (TOTP code) and `mfa` (RFC 8176; a recovery code gives `mfa` only).
- `auth_time` stays the instant of the password sign-in: max_age still measures from it.
- The code is checked and spent exactly as at sign-in (services.mfa): each TOTP time-step and
  each recovery code once, failures counted by the same per-account throttle.
- The code that confirms a TOTP set-up made while signed in (enrol_and_step_up) is such a
  code too: it proves the app in this session, so it raises the session like a step-up and a
  portal waiting for LoA3 does not ask for a second code a moment later.
"""

from __future__ import annotations

from typing import Any

from idp.domain.errors import N_
from idp.errors import Refusal
from idp.extensions import db
from idp.models import AuditTag, UserSession
from idp.services.identity import mfa, second_factors
from idp.services.platform import audit, metrics, throttle
from idp.services.platform.failures import fail
from idp.services.platform.secrets import new_token, token_hash

AMR_ORDER = ("pwd", "hwk", "swk", "otp", "user", "mfa")
NOT_ENROLLED = N_("Two-step verification is not set up.")
PROVE_FIRST = N_("Confirm it is you with your passkey first, then set up the authenticator app.")


def has_second_factor(session: UserSession) -> bool:
    return bool({"otp", "mfa"} & set(session.amr.split()))


def must_prove_a_factor_first(session: UserSession) -> bool:
    """The account already has a second factor (a passkey: TOTP set up is not "pending") and
    this session has not proven one: it may not add another."""
    return second_factors.has_second_factor(session.account_id) and not has_second_factor(session)


def raised_amr(amr: str, method: str, extra: tuple[str, ...] = ()) -> str:
    """`amr` after a second factor of kind `method` ("otp", "recovery" or "passkey", whose
    own values (`hwk`/`swk`, `user`) come as `extra`)."""
    values = set(amr.split()) | {"mfa"} | ({"otp"} if method == "otp" else set()) | set(extra)
    return " ".join([v for v in AMR_ORDER if v in values] + sorted(values - set(AMR_ORDER)))


def step_up(session: UserSession, code: str, *, client: str | None = None) -> str:
    """Check a second factor for the signed-in `session` and raise its `amr`; returns the
    session's new cookie token. One transaction (a failure is recorded in its own).
    `client`: the client_id of the portal waiting for it, named in the activity history.

    Raises Throttled or a Refusal: mfa.not_enrolled, mfa.wrong_code, mfa.code_used; the
    session is unchanged then."""
    account_id = session.account_id
    if not mfa.is_enrolled(account_id):
        raise Refusal("mfa.not_enrolled", NOT_ENROLLED)
    attempt = mfa.begin_attempt(account_id)
    method, failure = mfa.check_code(account_id, code)
    if method is None:
        metrics.mfa_failure("citizen", "step_up", mfa.code_kind(code))
        fail(failure or mfa.wrong_code(), AuditTag.ACCOUNT_MFA_FAILURE, discard=True,
             account_id=account_id, session_id=session.id, step="step_up")
    token = _raise_session(session, method, step="step_up", client=client)
    db.session.commit()
    throttle.succeeded(attempt)
    return token


def enrol_and_step_up(session: UserSession, code: str) -> tuple[list[str], str]:
    """Confirm the pending TOTP set-up of the session's account with `code`, which also counts
    as the session's second factor ("otp"). Returns the recovery codes (show once) and the
    session's new cookie token. One transaction.

    Raises Throttled or a Refusal (mfa.not_pending, mfa.wrong_code, mfa.code_used); nothing
    changes then; mfa.prove_first (403) when the account has a passkey that this session has
    not proven: a password-only session must not add a factor of its own (the same rule as
    adding a passkey, identity.passkeys.may_add)."""
    if must_prove_a_factor_first(session):
        raise Refusal("mfa.prove_first", PROVE_FIRST, status=403)
    codes, attempt = mfa.activate_pending(session.account, code)
    token = _raise_session(session, "otp", step="enrol")
    db.session.commit()
    throttle.succeeded(attempt)
    return codes, token


def _raise_session(session: UserSession, method: str, *, step: str,
                   client: str | None = None, extra: tuple[str, ...] = ()) -> str:
    """New cookie token and raised `amr` for `session` (caller commits); returns the token."""
    token = new_token()
    session.token_hash = token_hash(token)
    session.amr = raised_amr(session.amr, method, extra)
    named: dict[str, Any] = {"client": client} if client else {}
    audit.record(AuditTag.ACCOUNT_MFA_SUCCESS, account_id=session.account_id,
                 session_id=session.id, method=method, step=step, **named)
    return token


def raise_with_passkey_in_transaction(session: UserSession, amr_values: list[str], *,
                                      step: str, client: str | None = None) -> str:
    """A passkey proven in the signed-in `session` (registered or used): its `amr` values and
    `mfa` join the session's, with a new cookie token (returned). Caller commits."""
    return _raise_session(session, "passkey", step=step, client=client, extra=tuple(amr_values))

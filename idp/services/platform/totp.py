"""The one TOTP core (RFC 6238) of citizens' second factor (identity.mfa) and staff sign-in
(staff.signin, staff.enrolment): code shape and cleaning, the accepted time-steps, new
secrets and how a secret is shown. Storing a secret, and spending a time-step once (the
conditional UPDATE of the last accepted step), stay with each owner: their rows differ.
"""

from __future__ import annotations

import hmac
import time
import unicodedata

import pyotp

from idp.domain.errors import N_

ISSUER = "PostID"
STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # steps either side of now
# Longer than any code or recovery code typed with spaces and hyphens; form fields stop at it.
MAX_CODE_LENGTH = 32

WRONG_CODE = N_("That code is not right. Check the code in your authenticator app and try again.")
# A right code whose time-step was already accepted (RFC 6238 §5.2: a code is accepted once).
CODE_USED = N_("This code has already been used: each code works once. Wait until your "
               "authenticator app shows the next code, then enter that one.")


def clean(code: str | None, max_length: int = MAX_CODE_LENGTH) -> str:
    """A typed code as compared: cut to `max_length` characters FIRST, then NFKC (full-width
    digits become ASCII), without spaces and hyphens. Cutting before normalising keeps the
    cost of a huge input at that of `max_length` characters (NFKC can also lengthen text);
    nothing right is lost, as every real code is far shorter."""
    text = unicodedata.normalize("NFKC", (code or "")[:max_length])
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def is_code_shape(cleaned: str) -> bool:
    return len(cleaned) == DIGITS and cleaned.isascii() and cleaned.isdigit()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time-step within ±VALID_WINDOW of now whose code equals the cleaned `code`, else
    None. The caller accepts it only if it is later than the last step it accepted (a code is
    used once), with a conditional UPDATE of its own row."""
    if not is_code_shape(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS, digits=DIGITS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step  # no early return: every candidate step costs the same
    return found


def new_secret() -> str:
    """160 bits from the CSPRNG, base32 (what authenticator apps read)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, label: str) -> str:
    """The otpauth:// URI of the QR code, under the issuer name PostID."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS, digits=DIGITS).provisioning_uri(
        name=label, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))

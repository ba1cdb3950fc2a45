"""Vietnamese mobile phone numbers, stored in E.164 ("+84912345678").

Only mobile numbers are accepted: the phone is used to deliver one-time codes
by SMS, and Vietnamese landlines (02x) cannot receive SMS. Numbering plan and
validity come from libphonenumber's metadata (the ``phonenumbers`` port) (region "VN"), which
already knows that the old 11-digit mobile numbers (01xx..., renumbered in
2018) are gone.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from idp.domain.errors import N_, DomainError

MSG_FORMAT = N_("Enter a Vietnamese mobile number, for example 0912 345 678.")
MSG_NOT_MOBILE = N_("Enter a mobile number that can receive text messages.")
MSG_NOT_VIETNAMESE = N_("Enter a Vietnamese mobile number (+84).")

REGION = "VN"
COUNTRY_CODE = 84
MAX_INPUT_LENGTH = 32

# ``phonenumbers.parse`` turns letters into keypad digits ("1-800-FLOWERS"),
# so only digits and the usual punctuation are let through to it.
_ALLOWED = re.compile(r"\+?[0-9 .\-()]+")


def _parse(raw: str) -> phonenumbers.PhoneNumber:
    if len(raw) > MAX_INPUT_LENGTH:
        raise DomainError("phone.format", MSG_FORMAT)
    # NFKC folds full-width digits/plus and odd spaces into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not _ALLOWED.fullmatch(text) or not any(c.isdigit() for c in text):
        raise DomainError("phone.format", MSG_FORMAT)
    try:
        # For a bare "84912345678" the library drops the leading 84 because
        # the rest is a valid VN number and the whole is not.
        return phonenumbers.parse(text, REGION)
    except NumberParseException:
        raise DomainError("phone.format", MSG_FORMAT) from None


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of a Vietnamese mobile number.

    Codes: ``phone.format`` (unparseable or not a valid VN number),
    ``phone.not_vietnamese`` (another country code), ``phone.not_mobile``
    (valid VN landline or service number).
    """
    number = _parse(raw)
    if number.country_code != COUNTRY_CODE:
        raise DomainError("phone.not_vietnamese", MSG_NOT_VIETNAMESE)
    if not phonenumbers.is_valid_number_for_region(number, REGION):
        raise DomainError("phone.format", MSG_FORMAT)
    if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        raise DomainError("phone.not_mobile", MSG_NOT_MOBILE)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """National display form ("0912 345 678") of a stored E.164 number."""
    number = _parse(e164)
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """A stored number as its owner is reminded of it ("+84912345678" -> "0912 *** 678"):
    enough to recognise, not a full echo."""
    local = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{local[:4]} *** {local[-3:]}"


def mask_phone_for_staff(e164: str) -> str:
    """The citizen's phone as the counter sees it: enough to ask "is it the one ending 678?",
    not enough to copy down ("+84912345678" -> "09** *** 678")."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{national[:2]}{'*' * (len(national) - 5)}{national[-3:]}" if len(national) > 5 \
        else "*" * len(national)

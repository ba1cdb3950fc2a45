"""Citizen accounts: creation with every domain rule applied, and lookup by sign-in identifier."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TypeVar

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.domain import names
from idp.domain.email_address import normalize_email
from idp.domain.errors import N_, DomainError
from idp.domain.gender import Gender, parse_gender
from idp.domain.national_id import (
    check_birthdate,
    check_declared,
    check_national_id,
    decode_national_id,
    normalize_national_id,
)
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.domain.phone import normalize_phone
from idp.errors import Conflict, InvalidInput
from idp.extensions import db
from idp.models import Account, AuditTag, Channel, PasswordCredential
from idp.services.platform import audit, notify, passwords

DUPLICATE_NATIONAL_ID = N_("An account with this ID number already exists.")
DUPLICATE_PHONE = N_("This phone number is already used by another account.")

T = TypeVar("T")


@dataclass(frozen=True)
class CitizenDetails:
    """What a citizen declares; raw strings as typed, normalised by `validate_citizen`."""

    national_id: str
    full_name: str
    birthdate: date
    gender: str | Gender
    phone: str
    email: str | None = None


def citizen_errors(details: CitizenDetails, password: str | None) -> list[InvalidInput]:
    """Every field the domain rules refuse, so a form can show them all in one round.

    `details.birthdate` may be None (the form could not parse it): the ID number is then
    checked for structure only. `password` None: no password yet (assisted registration: the
    citizen chooses it on their own phone). Each error names its field.
    """
    errors: list[InvalidInput] = []

    def attempt(field: str, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except DomainError as exc:
            # The birth date is checked together with the ID number but is its own field.
            where = "birthdate" if exc.code.startswith("birthdate.") else field
            errors.append(InvalidInput.from_domain(exc, where))
            return None

    raw_gender = details.gender.value if isinstance(details.gender, Gender) else details.gender
    gender = attempt("gender", lambda: parse_gender(raw_gender))
    attempt("full_name", lambda: names.normalize_name(details.full_name))
    # Each cross-field check runs as soon as its own inputs are valid: the sex against the
    # number even while the birth date is still wrong, and the other way round.
    birthdate: date | None = details.birthdate
    if birthdate is not None:
        before = len(errors)
        attempt("birthdate", partial(check_birthdate, birthdate))
        birthdate = birthdate if len(errors) == before else None
    facts = attempt("national_id", lambda: decode_national_id(details.national_id))
    national_id = facts.number if facts is not None else None
    if facts is not None:
        attempt("national_id", lambda: check_declared(facts, gender=gender, birthdate=birthdate))
    phone = attempt("phone", lambda: normalize_phone(details.phone))
    if details.email:
        attempt("email", lambda: normalize_email(details.email or ""))
    personal = tuple(str(v) for v in (national_id, phone) if v)
    # Context-specific blocklist (docs/architecture.md §7): own identifiers, own name, the service's name.
    if password is not None:
        attempt("password", lambda: check_password(password, personal_values=personal,
                                                    name=details.full_name,
                                                    service_words=SERVICE_WORDS))
    return errors


def validate_citizen(details: CitizenDetails, password: str | None) -> CitizenDetails:
    """Apply the domain rules; return normalised details or raise the first InvalidInput."""
    errors = citizen_errors(details, password)
    if errors:
        raise errors[0]
    gender = parse_gender(details.gender.value if isinstance(details.gender, Gender) else details.gender)
    email = normalize_email(details.email) if details.email else None
    return CitizenDetails(
        national_id=check_national_id(details.national_id, birthdate=details.birthdate, gender=gender),
        full_name=names.normalize_name(details.full_name),
        birthdate=details.birthdate,
        gender=gender,
        phone=normalize_phone(details.phone),
        email=email,
    )


def create_citizen(details: CitizenDetails, password: str, *, channel: str = "web") -> Account:
    """Create an active LoA1 citizen account with a password. One transaction.

    Raises InvalidInput (a domain rule refused a field) or Conflict (ID number or phone already
    registered); in both cases nothing is written.
    """
    clean = validate_citizen(details, password)
    try:
        account = add_citizen(clean, password, channel=channel)
        db.session.commit()
    except IntegrityError:
        # Two registrations raced past the duplicate check; the unique index decided.
        db.session.rollback()
        _refuse_duplicates(clean)
        raise
    return account


def add_citizen(clean: CitizenDetails, password: str, *, channel: str) -> Account:
    """Add validated details (from validate_citizen) to the caller's transaction."""
    _refuse_duplicates(clean)
    return add_citizen_with_hash(clean, passwords.hash_password(password), channel=channel)


def add_citizen_with_hash(clean: CitizenDetails, password_hash: str, *, channel: str,
                          locale: str = "vi") -> Account:
    """Like add_citizen, with a password already hashed (a confirmed self-registration).

    Raises Conflict when the ID number or phone is taken; the caller rolls back.
    """
    _refuse_duplicates(clean)
    assert isinstance(clean.gender, Gender)
    account = Account(
        sub=secrets.token_urlsafe(32),
        national_id=clean.national_id,
        full_name=clean.full_name,
        name_search_key=names.search_key(clean.full_name),
        birthdate=clean.birthdate,
        gender=clean.gender,
        phone=clean.phone,
        email=clean.email,
        locale=locale,
    )
    account.password = PasswordCredential(hash=password_hash)
    db.session.add(account)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_CREATE, account_id=account.id, channel=channel)
    with force_locale(account.locale):
        body = gettext("PostID: your account has been created. Never share your password or codes.")
    notify.enqueue(Channel.SMS, account.own_phone, template="account.created", body=body,
                   locale=account.locale, account_id=account.id)
    return account


def _refuse_duplicates(clean: CitizenDetails) -> None:
    if db.session.scalar(select(Account.id).where(Account.national_id == clean.national_id)):
        raise Conflict("account.duplicate_national_id", DUPLICATE_NATIONAL_ID, field="national_id")
    if db.session.scalar(select(Account.id).where(Account.phone == clean.phone)):
        raise Conflict("account.duplicate_phone", DUPLICATE_PHONE, field="phone")


def canonical_identifier(identifier: str) -> tuple[str, str] | None:
    """("national_id", 12 digits) or ("phone", E.164) for a sign-in identifier, else None."""
    try:
        return "national_id", normalize_national_id(identifier)
    except DomainError:
        pass
    try:
        return "phone", normalize_phone(identifier)
    except DomainError:
        return None


def taken_by(national_id: str, phone: str) -> list[Account]:
    """Accounts holding this (normalised) ID number or phone: 0, 1 or 2 of them."""
    return list(db.session.scalars(
        select(Account).where((Account.national_id == national_id) | (Account.phone == phone))
        .order_by(Account.id)))


def find_by_identifier(identifier: str) -> Account | None:
    """The account signed in as `identifier`: a 12-digit ID number or a phone number.

    Uses only unique indexes. Anything that is neither form finds nothing (no error: the
    caller answers every failure the same way).
    """
    canonical = canonical_identifier(identifier)
    if canonical is None:
        return None
    kind, value = canonical
    column = Account.national_id if kind == "national_id" else Account.phone
    return db.session.scalar(select(Account).where(column == value))


NOTICE_LOCALES = ("vi", "en")


def choose_notice_language(account: Account, locale: str) -> None:
    """SMS and e-mail to the person follow the language they last chose with the site's switch
    while signed in, not only the one they registered in. One transaction.

    Not audited: a display preference, like the switch's own cookie; it changes neither who
    the person is nor who can reach the account. An unknown language changes nothing.
    """
    if locale not in NOTICE_LOCALES or account.locale == locale:
        return
    account.locale = locale
    db.session.commit()

"""Post offices: the tenants of the counter console (docs/architecture.md §8).

Created by the operator (`idp offices create`); every staff member belongs to exactly one.
An office sits in one of the 34 provincial units in force since 1 Jul 2025
(idp/domain/admin_units.py), never an ID-number prefix.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.domain.admin_units import PROVINCES
from idp.domain.errors import N_
from idp.errors import Conflict, InvalidInput
from idp.extensions import db
from idp.models import AuditTag, PostOffice
from idp.services.platform import audit

CODE_RE = re.compile(r"[A-Z0-9-]{2,16}")
MAX_NAME_LENGTH = 100

MSG_CODE = N_("An office code has 2 to 16 letters A-Z, digits or “-”.")
MSG_NAME = N_("Enter an office name of 1 to 100 characters.")
MSG_PROVINCE = N_("Enter the 2-digit code of one of the 34 provinces and cities.")
MSG_DUPLICATE = N_("A post office with this code already exists.")
MSG_UNKNOWN = N_("There is no post office with this code.")


def normalize_code(raw: str) -> str:
    """The canonical (upper-case) office code, or raise InvalidInput (`office.code`)."""
    # ASCII only before upper-casing: "ß".upper() is "SS" and other scripts have letters
    # that upper-case into ASCII; an office code is typed from a list, never transliterated.
    text = (raw or "").strip()
    if not text.isascii() or not CODE_RE.fullmatch(text.upper()):
        raise InvalidInput("office.code", MSG_CODE, field="code")
    return text.upper()


def normalize_office_name(raw: str) -> str:
    """NFC, trimmed, inner runs of spaces collapsed; 1-100 characters, no control characters."""
    if len(raw or "") > 4 * MAX_NAME_LENGTH:
        raise InvalidInput("office.name", MSG_NAME, field="name")
    name = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not name or len(name) > MAX_NAME_LENGTH or any(
            unicodedata.category(ch)[0] == "C" for ch in name):
        raise InvalidInput("office.name", MSG_NAME, field="name")
    return name


def normalize_province(raw: str) -> str:
    code = (raw or "").strip()
    if code not in PROVINCES:
        raise InvalidInput("office.province", MSG_PROVINCE, field="province")
    return code


def find_office(code: str) -> PostOffice | None:
    """The office with this code (any case), or None; malformed codes find nothing."""
    try:
        canonical = normalize_code(code)
    except InvalidInput:
        return None
    return db.session.scalar(select(PostOffice).where(PostOffice.code == canonical))


def create_office(code: str, name: str, province_code: str, *, channel: str = "cli"
                  ) -> PostOffice:
    """Create a post office. One transaction.

    Raises InvalidInput (`office.code`, `office.name`, `office.province`, naming the field) or
    Conflict (`office.duplicate_code`); then nothing is written. Audited as office.create.
    """
    clean_code = normalize_code(code)
    clean_name = normalize_office_name(name)
    province = normalize_province(province_code)
    if find_office(clean_code) is not None:
        raise Conflict("office.duplicate_code", MSG_DUPLICATE, field="code")
    office = PostOffice(code=clean_code, name=clean_name, province_code=province)
    db.session.add(office)
    try:
        db.session.flush()
    except IntegrityError:
        # Another operator created the same code between our check and our insert.
        db.session.rollback()
        raise Conflict("office.duplicate_code", MSG_DUPLICATE, field="code") from None
    audit.record(AuditTag.OFFICE_CREATE, office_id=office.id, channel=channel,
                 province_code=province)
    db.session.commit()
    return office


def list_offices() -> list[PostOffice]:
    """Every office, by code (an operator's list: offices number in the thousands at most)."""
    return list(db.session.scalars(select(PostOffice).order_by(PostOffice.code)))


def set_passkeys_required(code: str, required: bool, *, channel: str = "cli") -> PostOffice:
    """Require (or no longer require) passkeys for the office's staff (docs/architecture.md §8).
    One transaction, audited as office.update; setting the value it has changes nothing and
    records nothing. Raises InvalidInput (`office.unknown`)."""
    office = find_office(code)
    if office is None:
        raise InvalidInput("office.unknown", MSG_UNKNOWN, field="code")
    if office.passkeys_required != required:
        office.passkeys_required = required
        audit.record(AuditTag.OFFICE_UPDATE, office_id=office.id, channel=channel,
                     passkeys_required=required)
    db.session.commit()
    return office

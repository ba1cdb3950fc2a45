"""Re-seal every value sealed under the key-encryption key (KEK) with the current KEK, after
the operator has replaced it (docs/operations.md, "Replacing the key-encryption key").

While the nodes run with the new key in IDP_KEY_ENCRYPTION_KEY and the old one in
IDP_KEY_ENCRYPTION_KEY_PREVIOUS, `crypto.unseal` opens both; this re-seals what only the old
key opens, so that the old key can then be removed. What is sealed, and with which associated
data, is decided by the modules that own each value; this module only repeats their choices
(tests/services/platform/test_kek_rewrap.py proves each through its owner's own code):

- signing keys of tokens and the audit checkpoint key: `signing_key.private_key_encrypted`,
  associated data the `kid` (portals.keys, platform.audit_key);
- citizens' TOTP secrets: `totp_credential.secret_encrypted`, `totp:<account id>`
  (identity.mfa);
- staff TOTP secrets: `staff.totp_secret_encrypted`, `staff-totp:<staff id>` once set up
  (staff.signin), `staff-enrolment:<staff id>` while the set-up code is outstanding
  (staff.enrolment).

Each value is replaced by a conditional UPDATE on its old bytes, so a value that a request
re-sealed meanwhile is read again rather than overwritten. Commits every BATCH rows; safe to
run again (a value the current key opens is left alone) and while the nodes serve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from idp.extensions import db, rowcount
from idp.models import SigningKey, StaffMember, TotpCredential
from idp.services.platform import crypto

BATCH = 500
RETRIES = 3


@dataclass(frozen=True)
class SealedColumn:
    name: str
    model: type[Any]
    column: InstrumentedAttribute[Any]
    aads: Callable[[Any], tuple[bytes, ...]]  # the associated data it may have been sealed with


SEALED = (
    SealedColumn("signing keys", SigningKey, SigningKey.private_key_encrypted,
                 lambda row: (row.kid.encode(),)),
    SealedColumn("citizens' TOTP secrets", TotpCredential, TotpCredential.secret_encrypted,
                 lambda row: (f"totp:{row.account_id}".encode(),)),
    SealedColumn("staff TOTP secrets", StaffMember, StaffMember.totp_secret_encrypted,
                 lambda row: (f"staff-totp:{row.id}".encode(), f"staff-enrolment:{row.id}".encode())),
)


@dataclass
class Outcome:
    name: str
    sealed: int = 0  # values found
    resealed: int = 0  # values the previous key opened, now under the current one
    failed: list[int] = field(default_factory=list)  # ids neither key opens


def _open(sealed: bytes, aads: tuple[bytes, ...]) -> tuple[bytes, bytes, bool] | None:
    """(plaintext, aad, opened by the previous key) or None when no key opens it."""
    for aad in aads:
        try:
            plaintext, previous = crypto.unseal_reporting(sealed, aad=aad)
        except crypto.UnsealError:
            continue
        return plaintext, aad, previous
    return None


def _rewrap_one(spec: SealedColumn, row: Any, outcome: Outcome) -> None:
    model, column = spec.model, spec.column
    for _ in range(RETRIES):
        value = getattr(row, column.key)
        if value is None:
            return
        opened = _open(value, spec.aads(row))
        if opened is None:
            outcome.failed.append(row.id)
            return
        plaintext, aad, previous = opened
        if not previous:
            return
        won = rowcount(db.session.execute(
            update(model).where(model.id == row.id, column == value)
            .values({column.key: crypto.seal(plaintext, aad=aad)})
            .execution_options(synchronize_session=False)))
        if won:
            outcome.resealed += 1
            return
        db.session.refresh(row)  # re-sealed by a request meanwhile: read it again
    outcome.failed.append(row.id)


def rewrap_all() -> list[Outcome]:
    """Re-seal, under the current KEK, every value only the previous KEK opens; commits per
    batch. Returns one outcome per kind of value; `failed` lists rows no key opens (left as
    they are: they were unreadable before too)."""
    outcomes = []
    for spec in SEALED:
        outcome, after = Outcome(spec.name), 0
        while True:
            rows = list(db.session.scalars(
                select(spec.model).where(spec.model.id > after, spec.column.is_not(None))
                .order_by(spec.model.id).limit(BATCH)))
            if not rows:
                break
            for row in rows:
                outcome.sealed += 1
                _rewrap_one(spec, row, outcome)
            db.session.commit()
            after = rows[-1].id
        outcomes.append(outcome)
    return outcomes

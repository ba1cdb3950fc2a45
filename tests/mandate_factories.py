"""Mandates and what they stand on, named after their states (docs/architecture.md §14). Call
inside an application context. The mandates are stored rows, as the counter leaves them, so a
test can start from any state: pending, active, made on another day, expired, revoked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from idp.domain import mandates as rules
from idp.domain.document_check import DocumentCheck
from idp.domain.procedures import Procedure
from idp.extensions import db
from idp.models import (
    Account,
    DocumentType,
    Mandate,
    MandateConfirmation,
    OAuthClient,
    PostOffice,
    StaffMember,
)
from idp.models.base import utcnow
from idp.services.platform.secrets import new_public_id
from idp.services.portals.clients import register_client
from tests.factories import active_citizen

CARD_ISSUED_ON = date(2021, 6, 1)
CARD_EXPIRES_ON = date(2039, 5, 17)
VERIFIED_ID = "001088004567"
VERIFIED_PHONE = "0912888999"


def verified_citizen(**overrides: Any) -> Account:
    """An active citizen verified in person (LoA2): a man born in 1988 (not the person of
    tests.factories.active_citizen, so both can be there)."""
    values: dict[str, Any] = {"national_id": VERIFIED_ID, "full_name": "Hoàng Văn Minh",
                              "birthdate": date(1988, 4, 12), "gender": "male",
                              "phone": VERIFIED_PHONE, "email": None}
    values.update(overrides)
    account = active_citizen(**values)
    account.identity_loa = 2
    db.session.commit()
    return account


def another_verified_citizen() -> Account:
    """A second verified person: a woman born in 2003 (tests.factories.second_citizen)."""
    return verified_citizen(national_id="079303001234", full_name="Trần Thị Bích Ngọc",
                            birthdate=date(2003, 2, 1), gender="female", phone="+84 983 456 789")


def card_check(account: Account, **overrides: Any) -> DocumentCheck:
    """The check of the citizen's own chip ID card, everything matching."""
    values: dict[str, Any] = {
        "document_type": DocumentType.CAN_CUOC.value, "document_number": account.national_id,
        "issued_on": CARD_ISSUED_ON, "expires_on": CARD_EXPIRES_ON, "name_match": True,
        "birthdate_match": True, "sex_match": True, "photo_match": True}
    values.update(overrides)
    return DocumentCheck(**values)


def delegating_portal(name: str = "Cổng dịch vụ công Bảo hiểm xã hội",
                      procedures: Iterable[Procedure] = (Procedure.SOCIAL_INSURANCE,), *,
                      client_id: str | None = None,
                      redirect_uri: str = "https://bhxh.example.vn/callback") -> OAuthClient:
    """A portal registered to accept delegated sign-in, declaring `procedures`."""
    client = register_client(name=name, redirect_uris=[redirect_uri], client_id=client_id).client
    client.accepts_delegation = True
    client.procedures = [p.value for p in procedures]
    db.session.commit()
    return client


def non_delegating_portal(name: str = "Cổng thông tin không ủy quyền", *,
                          client_id: str | None = None) -> OAuthClient:
    """A portal that does not accept delegated sign-in (the default)."""
    return register_client(name=name, redirect_uris=["https://khac.example.vn/callback"],
                           client_id=client_id).client


def pending_mandate(office: PostOffice, staff: StaffMember,
                    kinds: Iterable[Procedure] = (Procedure.ANY_DELEGATING_PORTAL,),
                    client_ids: Iterable[str] = (), months: int = 0, *,
                    account: Account | None = None, created_at: datetime | None = None) -> Mandate:
    """A mandate `staff` made at `office` for `account` (else a new verified citizen) at
    `created_at` (now), still waiting for the citizen's confirmation."""
    account = account if account is not None else verified_citizen()
    made = created_at or utcnow()
    duration = rules.Duration.this_visit() if months == 0 else rules.Duration.of_months(months)
    mandate = Mandate(
        public_id=new_public_id(), account_id=account.id, office_id=office.id,
        created_by_id=staff.id, kinds=[Procedure(k).value for k in kinds],
        client_ids=list(client_ids), months=months, loa=account.identity_loa,
        document_type=DocumentType.CAN_CUOC, document_number=account.national_id,
        document_issued_on=CARD_ISSUED_ON, document_expires_on=CARD_EXPIRES_ON,
        created_at=made, expires_at=rules.expires_at(duration, made))
    db.session.add(mandate)
    db.session.commit()
    return mandate


def active_mandate(office: PostOffice, staff: StaffMember,
                   kinds: Iterable[Procedure] = (Procedure.ANY_DELEGATING_PORTAL,),
                   client_ids: Iterable[str] = (), months: int = 1, *,
                   account: Account | None = None, created_at: datetime | None = None,
                   confirmed_by: MandateConfirmation = MandateConfirmation.SMS_CODE) -> Mandate:
    """A mandate as `pending_mandate`, confirmed by the citizen when it was made."""
    mandate = pending_mandate(office, staff, kinds, client_ids, months, account=account,
                              created_at=created_at)
    mandate.confirmed_at = mandate.created_at
    mandate.confirmed_by = confirmed_by
    db.session.commit()
    return mandate

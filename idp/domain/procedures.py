"""The kinds of online public procedure a mandate can cover, kept as data.

A portal declares the kinds it serves; a mandate names the kinds (and/or the portals) the
citizen lets an agent act for. The codes are stable: they are stored with mandates and portal
settings and sent in forms, so a code is never renamed, only added. The Vietnamese names, for
reference (the labels people read come from the web layer, through Babel):

    social_insurance        bảo hiểm xã hội
    land_housing            đất đai, nhà ở
    business_registration   đăng ký kinh doanh
    justice_records         lý lịch tư pháp (phiếu lý lịch tư pháp)
    civil_status            hộ tịch (khai sinh, kết hôn, khai tử...)
    health_insurance        bảo hiểm y tế

``any_delegating_portal`` is not a kind of procedure but a scope: every portal that accepts
delegated sign-in. A portal cannot declare it as one of its kinds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from idp.domain.errors import N_, DomainError

MSG_UNKNOWN = N_("This kind of procedure is not known.")
MSG_ANY_NOT_A_KIND = N_("“Any portal that accepts delegation” is not a kind of procedure.")

# Long enough for any real code; a longer value is cut before it is kept on the error.
_MAX_CODE = 64


class Procedure(enum.StrEnum):
    """A stored code. ``ANY_DELEGATING_PORTAL`` is the special scope, not a portal's kind."""

    SOCIAL_INSURANCE = "social_insurance"
    LAND_HOUSING = "land_housing"
    BUSINESS_REGISTRATION = "business_registration"
    JUSTICE_RECORDS = "justice_records"
    CIVIL_STATUS = "civil_status"
    HEALTH_INSURANCE = "health_insurance"
    ANY_DELEGATING_PORTAL = "any_delegating_portal"


# What a portal may declare, in the order forms list them.
PORTAL_KINDS: tuple[Procedure, ...] = tuple(p for p in Procedure if p is not Procedure.ANY_DELEGATING_PORTAL)


class UnknownProcedure(DomainError):
    """A code outside ``Procedure``. ``unknown`` names it for logs and callers; the message
    does not, so it stays one translatable sentence (domain messages never echo input)."""

    unknown: str

    def __init__(self, unknown: str) -> None:
        super().__init__("procedures.unknown", MSG_UNKNOWN)
        self.unknown = unknown[:_MAX_CODE]


def parse_procedures(codes: Iterable[str], *, allow_any: bool = True) -> tuple[Procedure, ...]:
    """The codes as ``Procedure`` values, duplicates removed, first occurrence's order kept.

    Codes are matched exactly (they come from stored data and form values, never typed by
    people), so ``"Civil_Status"`` is unknown. ``allow_any=False`` is for a portal's own kinds.
    Raises ``UnknownProcedure`` (``procedures.unknown``) naming the first unknown code, or
    ``DomainError("procedures.any_not_a_kind")``.
    """
    seen: dict[Procedure, None] = {}
    for code in codes:
        try:
            procedure = Procedure(code)
        except ValueError:
            raise UnknownProcedure(str(code)) from None
        if procedure is Procedure.ANY_DELEGATING_PORTAL and not allow_any:
            raise DomainError("procedures.any_not_a_kind", MSG_ANY_NOT_A_KIND)
        seen.setdefault(procedure, None)
    return tuple(seen)

"""Refusals of a citizen's request about an organisation: one error type, and one way to
refuse. A refusal undoes everything the request did so far, stores only its audit event
(ORGANISATION_REFUSED: the reason code, the action and the public ids involved, never the
typed values) in a commit of its own, then raises.
"""

from __future__ import annotations

from typing import Any, NoReturn

from idp.errors import IdpError
from idp.extensions import db
from idp.models import AuditTag
from idp.services.platform import audit


class OrganisationRefusal(IdpError):
    """A refused request; `status` is the HTTP status the page answers with."""

    def __init__(self, code: str, message: str, *, status: int = 400,
                 field: str | None = None,
                 more: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(code, message, field=field)
        self.status = status
        # Further (field, message) pairs refused in the same request, so a form shows them all.
        self.more = more


def refuse(code: str, message: str, *, action: str, account_id: int, session_id: int | None,
           status: int = 400, field: str | None = None,
           more: tuple[tuple[str, str, str], ...] = (), **ids: str) -> NoReturn:
    """Roll back, record the refusal alone, commit, raise OrganisationRefusal. `ids` are
    public ids (organisation=..., membership=...) captured before the rollback; `more` are
    further (code, message, field) refusals of the same request: one event lists their codes
    (`also`) after the first one's `reason`."""
    db.session.rollback()
    # One dict of audit data (Any): strings spread on their own could fill record's int ids.
    data: dict[str, Any] = {"also": [c for c, _, _ in more]} if more else {}
    data.update(ids)
    audit.record(AuditTag.ORGANISATION_REFUSED, account_id=account_id, session_id=session_id,
                 reason=code, action=action, **data)
    db.session.commit()
    raise OrganisationRefusal(code, message, status=status, field=field,
                              more=tuple((f, m) for _, m, f in more))

"""How a service ends an attempt that failed: what the failure must leave behind is stored in
a commit of its own, then the refusal is raised.

A failed sign-in, code or password check still changes something that has to last although
the request fails: its audit event (the person's activity history, the staff audit trail)
and the failure counts in the open transaction (otp.check_code's wrong guesses, a link that
is spent either way, a pending sign-in's wrong codes). Without the commit a raise would lose
them and a guesser would get every attempt for free. With `discard`, what the attempt did is
rolled back first (a code spent while the password was wrong), so only the event remains.
"""

from __future__ import annotations

from typing import Any, NoReturn

from idp.extensions import db
from idp.models import AuditTag
from idp.services.platform import audit


def keep(tag: AuditTag | None = None, *, discard: bool = False, **event: Any) -> None:
    """Commit the failure: the open transaction's work (none with `discard`) and, with `tag`,
    its audit event (`event` are the event's fields, read before any rollback)."""
    if discard:
        db.session.rollback()
    if tag is not None:
        audit.record(tag, **event)
    db.session.commit()


def fail(error: Exception, tag: AuditTag | None = None, *, discard: bool = False,
         **event: Any) -> NoReturn:
    """`keep` the failure, then raise `error`."""
    keep(tag, discard=discard, **event)
    raise error

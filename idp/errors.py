"""One error family for domain and service failures.

Services raise `IdpError` subclasses; views turn the expected ones into form errors. Whatever
escapes a view is rendered by idp.web.error_pages.
"""

from __future__ import annotations

from typing import Self

from idp.domain.errors import N_, DomainError


class IdpError(Exception):
    """Base of every domain/service error: a stable `code` and an English `message`.

    `message` is marked with N_ and translated where it is shown (gettext at the web edge,
    as-is on the CLI). `field` names the input that caused it, when there is one.
    """

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def from_domain(cls, error: DomainError, field: str) -> Self:
        return cls(error.code, error.message, field=field)


class InvalidInput(IdpError):
    """Input refused by a domain rule; nothing was written."""


class Conflict(IdpError):
    """The input collides with existing data (duplicate ID number or phone)."""

    status = 409


# The people's side (sign-in, second factor, registration, activation, recovery, the account
# page, staff sign-in) refuses in three ways only; a view catches these, not one class per
# service. They live here, beside IdpError, because every layer names them: the throttle
# raises Throttled, services of every package raise all three, views and this module's
# renderer turn them into answers.

THROTTLED = N_("Too many unsuccessful attempts. Wait a little, then try again.")
WRONG_PASSWORD = N_("This is not your current password.")


class Throttled(IdpError):
    """A throttle refused the attempt before anything was checked (HTTP 429). `retry_after`:
    seconds until it lets one through (the Retry-After header); `message` is the refusing
    service's wording."""

    status = 429

    def __init__(self, retry_after: int, message: str = THROTTLED) -> None:
        super().__init__("throttled", message)
        self.retry_after = retry_after


class WrongPassword(IdpError):
    """The current password, typed again to confirm a change on the account page, is wrong
    (nothing changed; the attempt was counted)."""

    def __init__(self) -> None:
        super().__init__("password.wrong", WRONG_PASSWORD)


class Refusal(IdpError):
    """Any other refused attempt (a wrong or spent code, a failed sign-in, a flow that ended):
    `code` names the reason, views branch on it where the answer differs (a flow that ended
    starts again); `status` is the HTTP status of that answer."""

    def __init__(self, code: str, message: str, *, status: int = 400,
                 field: str | None = None) -> None:
        super().__init__(code, message, field=field)
        self.status = status


class ResendRefused(Refusal):
    """A new code or link asked for too early (`wait` seconds to go) or after its last send
    (`wait` None): 429, with Retry-After only when waiting helps."""

    def __init__(self, code: str, wait: int | None, *, too_early: str, exhausted: str) -> None:
        super().__init__(code, exhausted if wait is None else too_early, status=429)
        self.wait = wait

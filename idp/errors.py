"""One error family for domain and service failures.

Services raise `IdpError` subclasses; views turn the expected ones into form errors. Whatever
escapes a view is rendered by idp.web.error_pages.
"""

from __future__ import annotations

from idp.domain.errors import DomainError


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
    def from_domain(cls, error: DomainError, field: str) -> IdpError:
        return cls(error.code, error.message, field=field)


class InvalidInput(IdpError):
    """Input refused by a domain rule; nothing was written."""


class Conflict(IdpError):
    """The input collides with existing data (duplicate ID number or phone)."""

    status = 409

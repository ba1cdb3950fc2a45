"""The single error type raised by ``idp.domain``.

Messages are English source strings marked with ``N_`` so that
``pybabel extract -k N_`` collects them; the web layer translates them with
``gettext(err.message)``. Messages never interpolate the raw input: the input
may be personal data (an ID number) and must not leak into logs or catalogs.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - conventional gettext marker name
    """Mark ``message`` for extraction without translating it here."""
    return message


class DomainError(ValueError):
    """A rule of the Vietnamese domain was broken.

    ``code`` is a stable, dotted identifier (``"national_id.unknown_prefix"``)
    that callers and tests match on; ``message`` is the untranslated English
    sentence for the user.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        # Both go into ``args`` so the exception survives pickling/copying.
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"

"""Text that the database can store and portals can read back.

PostgreSQL text and JSON fields cannot hold NUL (U+0000), and a lone UTF-16 surrogate
(U+D800–U+DFFF, which JSON's "\\ud800" escape or a form decoder can produce) cannot be encoded
as UTF-8 at all: input carrying either is refused before it reaches a query.
"""

from __future__ import annotations

from typing import Any


def is_storable(value: Any) -> bool:
    """True for text (or a JSON value made of text, numbers, lists and objects, keys included)
    without NUL or lone surrogates."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(is_storable(k) and is_storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_storable(v) for v in value)
    return True

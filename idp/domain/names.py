"""Personal names as printed on the ID card, and the accent-free search key.

Vietnamese order is family name first, given name last, with zero or more
middle names ("Nguyễn Thị Minh Khai"). The same name reaches us composed (NFC,
most keyboards) or decomposed (NFD, macOS and some IMEs), so every inbound
name is NFC-normalised before it is stored, compared or hashed.

The accent-free ``search_key`` helps counter staff find a record typed
without diacritics. It is for search only and never for identity equality:
"Hà" and "Hạ" are different names that share a key.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from idp.domain.errors import N_, DomainError

MSG_EMPTY = N_("Enter a name.")
MSG_TOO_LONG = N_("The name is too long.")
MSG_CHARACTERS = N_("The name may contain only letters, spaces, hyphens and apostrophes.")

DEFAULT_MAX_LENGTH = 100

# Ð (U+00D0, Icelandic eth) and Ɖ (U+0189, African D) look exactly like the
# Vietnamese Đ (U+0110) and arrive from wrong keyboard layouts or OCR. The
# lower-case ð is a different letter shape from đ and is not mapped.
_LOOKALIKE_D = str.maketrans({"\u00d0": "\u0110", "\u0189": "\u0110"})

# Đ/đ have a stroke, not a combining mark, so NFD leaves them intact; the
# search key must map them explicitly (docs/architecture.md §13).
_STROKE_D = str.maketrans({"\u0111": "d", "\u0110": "D", "\u00d0": "D", "\u0189": "D"})

# ASCII apostrophe and U+2019 (the typographic one phones insert) appear in
# transliterated minority and foreign-origin names.
_PUNCTUATION = frozenset("-'\u2019")


def _split_on_spaces(text: str) -> list[str]:
    return "".join(" " if unicodedata.category(c) == "Zs" else c for c in text).split(" ")


@dataclass(frozen=True, slots=True)
class NameParts:
    family: str
    middle: str | None
    given: str


def _allowed(text: str) -> bool:
    previous_is_letter = False
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "L":
            previous_is_letter = True
        elif category in ("Mn", "Mc"):
            # A combining mark left over after NFC must sit on a letter.
            if not previous_is_letter:
                return False
        elif char == " " or char in _PUNCTUATION:
            previous_is_letter = False
        else:
            # Digits, controls (Cc), format characters (Cf: zero-width,
            # bidi overrides) and symbols all end up here.
            return False
    return any(unicodedata.category(c)[0] == "L" for c in text)


def normalize_name(raw: str, *, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Return the canonical NFC form of a full name.

    Trims, collapses runs of spaces to one, maps look-alike capital D to Đ.
    Codes: ``name.empty``, ``name.too_long``, ``name.characters``.
    """
    # Cheap bound before normalising. A decomposed Vietnamese letter is at
    # most three code points (base, vowel mark, tone mark), so only input far
    # beyond any real name is refused here, before any work is done on it.
    if len(raw) > 4 * max_length:
        raise DomainError("name.too_long", MSG_TOO_LONG)
    text = unicodedata.normalize("NFC", raw).translate(_LOOKALIKE_D)
    # Space separators (Zs: ASCII space, no-break space...) collapse; any
    # other whitespace inside the name, such as a tab or newline, is a
    # control character and is rejected below.
    name = " ".join(w for w in _split_on_spaces(text.strip()) if w)
    if not name:
        raise DomainError("name.empty", MSG_EMPTY)
    if len(name) > max_length:
        raise DomainError("name.too_long", MSG_TOO_LONG)
    if not _allowed(name):
        raise DomainError("name.characters", MSG_CHARACTERS)
    return name


def search_key(raw: str) -> str:
    """Accent-free, case-folded key: "Nguyễn Văn An" -> "nguyen van an"."""
    # NFC first so that decomposed and composed input fold identically; the
    # stroke D is mapped before casefolding, and marks are dropped after it
    # because casefold can itself emit combining marks ("İ" -> "i" + U+0307).
    text = unicodedata.normalize("NFC", raw).translate(_STROKE_D).casefold()
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
    )
    return " ".join(stripped.split())


def lacks_vietnamese_marks(name: str) -> bool:
    """True when a name has letters but none outside ASCII ("Nguyen Van An").

    Almost every Vietnamese name has at least one tone or vowel mark or a Đ, so such a name
    was most likely typed without them; it is not refused (some names, e.g. of ethnic-minority
    or foreign origin, are written so on the card) but the person is asked to confirm it.
    """
    text = unicodedata.normalize("NFC", name)
    return any(c.isalpha() for c in text) and text.isascii()


def split_name(full_name: str) -> NameParts:
    """Split an already normalised full name into family, middle and given.

    A single-word name (some ethnic-minority and foreign-origin names) has
    only a given name: ``family`` is "" and ``middle`` is None.
    Raises ``DomainError("name.empty")`` for a blank name.
    """
    words = full_name.split()
    if not words:
        raise DomainError("name.empty", MSG_EMPTY)
    if len(words) == 1:
        return NameParts(family="", middle=None, given=words[0])
    middle = " ".join(words[1:-1]) or None
    return NameParts(family=words[0], middle=middle, given=words[-1])

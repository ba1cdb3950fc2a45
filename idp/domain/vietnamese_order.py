"""Vietnamese alphabetical order, for lists people scan by name (provinces).

Python's default order compares code points, which puts every accented letter after "z"
("Đà Nẵng" after "Vĩnh Long"). This key implements the CLDR collation for Vietnamese (the
``vi`` tailoring that ICU uses), written out because PyICU has no binary wheel and would need
a C++ toolchain and the ICU headers on every machine:

- the alphabet is a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y (f j w z of
  foreign names in their Latin places): ă, â, đ, ê, ô, ơ, ư are letters of their own, so
  "Đ" sorts after every "D" and before "E" (CLDR: &a<ă<â &d<đ &e<ê &o<ô<ơ &u<ư);
- tone marks do not change a letter; they only break ties, in the traditional order
  level, huyền, hỏi, ngã, sắc, nặng (CLDR: &̀<<̉<<̃<<́<<̣);
- case breaks the last ties; spaces and punctuation come before letters, as in ICU.

Only the order is decided here; the names themselves are never changed.
"""

from __future__ import annotations

import unicodedata

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letter_and_tone(char: str) -> tuple[str, int]:
    """"Ầ" -> ("Â", 1): the letter (with its breve, circumflex or horn) and its tone."""
    parts = unicodedata.normalize("NFD", char)
    tone = next((_TONES[c] for c in parts if c in _TONES), 0)
    letter = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
    return letter, tone


def sort_key(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...]]:
    """A key for ``sorted``: (letters, tones, case), compared level by level like UCA."""
    primary: list[tuple[int, int]] = []
    tones: list[int] = []
    cases: list[int] = []
    for char in unicodedata.normalize("NFC", text):
        letter, tone = _letter_and_tone(char)
        lower = letter.lower()
        if lower in _RANK:
            primary.append((2, _RANK[lower]))
        elif lower.isdigit():
            primary.append((1, ord(lower)))
        elif lower.isalpha():
            primary.append((3, ord(lower)))  # another script: after the Vietnamese letters
        else:
            primary.append((0, ord(lower)))  # space, hyphen, apostrophe: before every letter
        tones.append(tone)
        cases.append(0 if letter == lower else 1)
    return tuple(primary), tuple(tones), tuple(cases)

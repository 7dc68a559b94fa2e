"""Folding text to plain lowercase ASCII words, the shared key behind names, titles and places.

``fold`` is on the hot path of every import, match and search, so the common case (an ASCII
string) is three C-level string operations; only non-ASCII text pays for ``anyascii``."""

from __future__ import annotations

import string
import unicodedata

from anyascii import anyascii

# Every printable ASCII character that is not a letter or digit becomes a space, so
# "García-López", "O'Brien" and "Sales/Marketing" split into words. Control characters too.
_NON_ALNUM = "".join(chr(c) for c in range(128) if chr(c) not in string.ascii_letters + string.digits)
_TO_SPACE = str.maketrans(_NON_ALNUM, " " * len(_NON_ALNUM))


def fold(value: str | None) -> str:
    """``value`` transliterated to ASCII, lowercased, with every run of non-alphanumerics
    collapsed to one space: ``"José García-López"`` -> ``"jose garcia lopez"``."""
    if not value:
        return ""
    if not value.isascii():
        value = anyascii(value)
    return " ".join(value.lower().translate(_TO_SPACE).split())


def fold_words(value: str | None) -> list[str]:
    """The words of ``fold(value)``."""
    if not value:
        return []
    if not value.isascii():
        value = anyascii(value)
    return value.lower().translate(_TO_SPACE).split()


_MACRONS = str.maketrans("", "", "\u0304\u0331")


def without_macrons(value: str) -> str:
    """``value`` without macrons ("Mahārāshtra" -> "Maharashtra", "Thāne" -> "Thane"): ISO and
    geonames use them in transliterations that English-language records never write."""
    if value.isascii():
        return value
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", value).translate(_MACRONS))

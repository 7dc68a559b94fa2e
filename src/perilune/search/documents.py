"""Search documents built from repository rows: plain dicts in the index's field names
(``search.schema``), written to tantivy as JSON and read as they are by the in-memory backend.

Pure functions on plain values: the same row always gives the same document, whichever process
(rebuild, follower, tests) builds it."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from perilune.observability.logging import get_logger
from perilune.repository.normalize.text import fold
from perilune.repository.normalize.titles import TitleClass, classify_title, title_key, title_tokens
from perilune.search.schema import ORGANIZATION_KEY, joined, sort_key

PERSON = "person"
ORGANIZATION = "organization"
MISSING_STATE = "_"
# Apollo's email statuses as search filters know them (contact_email_status).
EMAIL_STATUSES = ("verified", "extrapolated", "unavailable")
# Stored statuses of an address known not to deliver.
UNDELIVERABLE = frozenset({"bounced", "invalid", "undeliverable", "unavailable"})

Document = dict[str, Any]
log = get_logger("perilune.search")
# A keyword tag longer than this contributes only its first words to tag-phrase matching.
MAX_TAG_WORDS = 8
_AMOUNT = re.compile(r"^\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([kmbt]?)$", re.IGNORECASE)
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class PersonColumns(NamedTuple):
    """The ``people`` columns a document is built from. ``classification`` is the JSON array
    ``[departments, subdepartments, functions, seniority]`` taken from ``data`` by the query
    (``search.source``): reading the whole object per person would dominate a rebuild."""

    id: str
    organization_id: str | None
    name: str | None
    title: str | None
    seniority: str | None
    email: str | None
    email_status: str | None
    city: str | None
    state: str | None
    country: str | None
    country_code: str | None
    classification: str | None


class OrganizationColumns(NamedTuple):
    """The ``organizations`` columns a document is built from (``data`` as JSON text)."""

    id: str
    name: str | None
    name_key: str | None
    primary_domain: str | None
    industry: str | None
    estimated_num_employees: int | None
    annual_revenue: float | None
    founded_year: int | None
    city: str | None
    state: str | None
    country: str | None
    country_code: str | None
    data: str | None


def location_facet(country_code: str | None, state: str | None = None, city: str | None = None) -> str | None:
    """``/us/california/san francisco``: the facet a place is indexed under and filtered by
    (a prefix, ``/us`` or ``/us/california``, matches every place beneath it)."""
    if not country_code:
        return None
    parts = [country_code.lower()]
    state_key, city_key = fold(state), fold(city)
    if state_key or city_key:
        parts.append(state_key or MISSING_STATE)
    if city_key:
        parts.append(city_key)
    return "/" + "/".join(parts)


def city_key(country_code: str | None, city: str | None) -> str | None:
    """``us:san francisco``: a city in a country, whatever its state."""
    key = fold(city)
    if not key or not country_code:
        return None
    return f"{country_code.lower()}:{key}"


def email_status(email: str | None, status: str | None) -> str:
    """Apollo's three-valued status (what search filters and ``people/show`` use): a verified
    address, an extrapolated one (guessed, unverified, anything not known to be good or bad), or
    none (no address, or one known not to deliver)."""
    if not email or status in UNDELIVERABLE:
        return "unavailable"
    return "verified" if status == "verified" else "extrapolated"


def status_detail(status: str | None) -> str | None:
    """A stored email status as the filters spell it: ``Likely To Engage`` -> ``likely_to_engage``."""
    return "_".join(fold(status).split()) or None if status else None


def keyword_phrases(tag: str) -> list[str]:
    """Every run of consecutive words of a keyword tag, folded: ``"B2B Sales Strategy"`` holds
    ``"b2b"``, ``"sales strategy"``, ``"b2b sales strategy"`` and the rest."""
    words = fold(tag).split()[:MAX_TAG_WORDS]
    return [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)]


def latest_funding(data: dict[str, Any]) -> tuple[float | None, int | None]:
    """(amount, date as YYYYMMDD) of the organization's latest funding round: the most recent
    of ``funding_events`` (amounts like ``10M`` or ``$2.5B``), the date also from
    ``latest_funding_round_date``."""
    dated: list[tuple[int, dict[str, Any]]] = []
    for event in data.get("funding_events") or []:
        when = _date_number(event.get("date")) if isinstance(event, dict) else None
        if when is not None:
            dated.append((when, event))
    latest = max(dated, key=lambda pair: pair[0]) if dated else None
    amount = _amount(latest[1].get("amount")) if latest else None
    date = _date_number(data.get("latest_funding_round_date")) or (latest[0] if latest else None)
    return amount, date


def _amount(value: Any) -> float | None:
    if isinstance(value, str):
        found = _AMOUNT.match(value.strip())
        if found is None:
            return None
        return float(found.group(1).replace(",", "")) * _SCALE[found.group(2).lower()]
    return _float(value)


def _date_number(value: Any) -> int | None:
    found = _DATE.match(value) if isinstance(value, str) else None
    return int("".join(found.groups())) if found else None


def organization_fields(org: OrganizationColumns, data: dict[str, Any] | None = None) -> Document:
    """The ``org_*`` fields an organization's people carry too."""
    data = _load(org.data) if data is None else data
    fields: Document = {"org_id": org.id}
    _put(fields, "org_name", org.name)
    _put(fields, "org_domain", org.primary_domain)
    industries = [org.industry, *_strings(data, "industries", "secondary_industries")]
    _put_list(fields, "org_industry", _lower(industries))
    _put(fields, "org_location", location_facet(org.country_code, org.state, org.city))
    _put(fields, "org_employees", _int(org.estimated_num_employees))
    _put(fields, "org_revenue", _float(org.annual_revenue))
    _put(fields, "org_founded_year", _int(org.founded_year))
    # On people too: "people at companies using Salesforce" is a common search, and resolving
    # it through the organizations first means matching people by tens of thousands of ids.
    _put_list(fields, "org_technologies", _technologies(data))
    return fields


def organization_document(org: OrganizationColumns) -> Document:
    """The organization's own document: the shared fields and those only it holds."""
    data = _load(org.data)
    keywords = _strings(data, "keywords")
    doc: Document = {
        "kind": ORGANIZATION,
        "id": org.id,
        "sort_key": sort_key(org.id),
        ORGANIZATION_KEY: org.id,
    }
    doc.update(organization_fields(org, data))
    _put(doc, "org_name_key", org.name_key)
    _put(doc, "org_city", city_key(org.country_code, org.city))
    _put(doc, "org_funding_stage", _lower_one(data.get("latest_funding_stage")))
    _put(doc, "org_total_funding", _float(data.get("total_funding")))
    _put_list(doc, "org_keywords", _lower(keywords))
    _put_list(doc, "org_keyword_phrases", (p for k in keywords for p in keyword_phrases(k)))
    amount, date = latest_funding(data)
    _put(doc, "org_latest_funding", amount)
    _put(doc, "org_latest_funding_date", date)
    doc["q_keywords"] = joined([org.name, org.primary_domain, org.industry, *keywords])
    return doc


class PreparedOrganization(NamedTuple):
    """An organization's ``org_*`` fields encoded once, for splicing into each of its people's
    documents (encoding them per person would dominate a rebuild)."""

    fields_json: str  # the JSON object's members, without braces
    name: str | None
    domain: str | None

    @classmethod
    def of(cls, fields: Document) -> PreparedOrganization:
        return cls(dumps(fields)[1:-1], fields.get("org_name"), fields.get("org_domain"))


def person_document(person: PersonColumns, org_fields: Document | None) -> Document:
    """A person's document; ``org_fields`` are their current organization's (or None)."""
    org_fields = org_fields or {}
    doc = _person_fields(person, org_fields.get("org_name"), org_fields.get("org_domain"))
    doc.update(org_fields)
    return doc


def person_json(person: PersonColumns, org: PreparedOrganization | None) -> str:
    """``person_document`` as JSON, with the organization's fields spliced in pre-encoded."""
    if org is None:
        return dumps(_person_fields(person, None, None))
    encoded = dumps(_person_fields(person, org.name, org.domain))
    return f"{encoded[:-1]},{org.fields_json}}}" if org.fields_json else encoded


def _person_fields(person: PersonColumns, org_name: str | None, org_domain: str | None) -> Document:
    doc: Document = {"kind": PERSON, "id": person.id, "sort_key": sort_key(person.id)}
    title = _title(person.title or "")
    departments, functions, seniority = _classification(person.classification, title)
    if title.words:
        doc["title_words"] = title.words
        doc["title_key"] = title.key
        doc["title_canonical"] = title.words
    if person.seniority or seniority:
        doc["seniority"] = person.seniority or seniority
    if departments:
        doc["departments"] = list(departments)
    if functions:
        doc["functions"] = list(functions)
    place = _place(person.country_code, person.state, person.city)
    if place.facet:
        doc["person_location"] = place.facet
    if place.city:
        doc["person_city"] = place.city
    doc["email_status"] = email_status(person.email, person.email_status)
    _put(doc, "email_status_detail", status_detail(person.email_status))
    doc["q_keywords"] = " ".join(w for w in (person.name, person.title, org_name, org_domain) if w)
    return doc


class _Title(NamedTuple):
    words: str
    key: str
    classified: TitleClass


class _Place(NamedTuple):
    facet: str | None
    city: str | None


# Titles and places repeat across people: each is normalised once per process.
@functools.lru_cache(maxsize=65536)
def _title(title: str) -> _Title:
    if not title:
        return _Title("", "", classify_title(None))
    return _Title(" ".join(sorted(title_tokens(title))), title_key(title), classify_title(title))


@functools.lru_cache(maxsize=65536)
def _place(country_code: str | None, state: str | None, city: str | None) -> _Place:
    return _Place(location_facet(country_code, state, city), city_key(country_code, city))


@functools.lru_cache(maxsize=65536)
def _classification(raw: str | None, title: _Title) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(departments and subdepartments, functions, seniority): as stored, or from the title when
    the stored object has no departments. (Few distinct values: cached.)"""
    stored = orjson.loads(raw) if raw else None
    if isinstance(stored, list) and len(stored) == 4 and stored[0] is not None:
        departments, subdepartments, functions, seniority = stored
        names = _distinct([*_only_strings(departments), *_only_strings(subdepartments)])
        return names, _distinct(_only_strings(functions)), seniority if isinstance(seniority, str) else None
    classified = title.classified
    names = _distinct([*classified.departments, *classified.subdepartments])
    return names, tuple(classified.functions), classified.seniority


def _only_strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return [value] if isinstance(value, str) and value else []


def _distinct(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _load(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    loaded = orjson.loads(data)
    return loaded if isinstance(loaded, dict) else {}


def _put(doc: Document, field: str, value: Any) -> None:
    if value is not None and value != "":
        doc[field] = value


def _put_list(doc: Document, field: str, values: Iterable[str]) -> None:
    distinct = list(dict.fromkeys(v for v in values if v))
    if distinct:
        doc[field] = distinct


def _strings(data: dict[str, Any], *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            out.append(value)
    return out


def _lower(values: Iterable[str | None]) -> list[str]:
    return [v.strip().lower() for v in values if v and v.strip()]


def _lower_one(value: Any) -> str | None:
    return value.strip().lower() or None if isinstance(value, str) else None


def _technologies(data: dict[str, Any]) -> list[str]:
    uids = [
        t["uid"]
        for t in data.get("current_technologies") or []
        if isinstance(t, dict) and isinstance(t.get("uid"), str)
    ]
    return [*uids, *(fold(name) for name in _strings(data, "technology_names"))]


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def dumps(doc: Document) -> str:
    return orjson.dumps(doc).decode()


def organization_json(org: OrganizationColumns) -> str | None:
    """The organization's document as JSON, or None (logged) if its data cannot be encoded."""
    try:
        return dumps(organization_document(org))
    except (TypeError, ValueError) as exc:  # orjson's errors are TypeErrors and ValueErrors
        log.warning("an organization could not be indexed", id=org.id, error=str(exc))
        return None


def person_json_or_none(person: PersonColumns, org: PreparedOrganization | None) -> str | None:
    try:
        return person_json(person, org)
    except (TypeError, ValueError) as exc:
        log.warning("a person could not be indexed", id=person.id, error=str(exc))
        return None

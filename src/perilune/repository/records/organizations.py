"""Organization lines -> ``OrganizationRecord``: the ``organizations`` columns and Apollo's
organization object, the name key organizations are matched on, and the organization's job
postings and news articles (rows of their own tables, not part of the Apollo object)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cleanco.clean import (  # type: ignore[import-untyped]  # cleanco ships no types
    custom_basename,
    normalized,
    prepare_default_terms,
    strip_punct,
)

from perilune.repository.normalize import (
    linkedin_company_slug,
    linkedin_company_url,
    name_key,
    registrable_domain,
    resolve_location,
    to_e164,
    website_url,
)
from perilune.repository.records.values import (
    LONG,
    NAME,
    READERS,
    SHORT,
    TEXT,
    Raw,
    RecordError,
    derived_id,
    float_field,
    id_field,
    int_field,
    list_field,
    object_field,
    objects_field,
    quote,
    text_field,
)

MISSING_ORGANIZATION_NAME = "an organization needs a name or a domain"

# An organization's child rows, by the line's key: each replaces the organization's stored rows
# when a line gives it. Items are column values (``Row``) without ids, in the line's order.
JOB_POSTINGS = "job_postings"
NEWS_ARTICLES = "news_articles"
ORGANIZATION_CHILDREN: tuple[str, ...] = (JOB_POSTINGS, NEWS_ARTICLES)
# The word in a child row's derived id (``derived_id(organization_id, kind, position)``).
_CHILD_ID_KINDS = {JOB_POSTINGS: "job_posting", NEWS_ARTICLES: "news_article"}
NEWS_TITLE = 1000  # models.NewsArticle.title
_TIMESTAMP = 64

Row = dict[str, Any]


@dataclass(slots=True)
class OrganizationRecord:
    """An organization's columns and Apollo-shaped ``data``. ``complete`` is False for a line
    that may only update an existing organization (it names no name and no domain)."""

    id: str | None
    name: str
    name_key: str
    primary_domain: str | None
    linkedin_slug: str | None
    industry: str | None
    estimated_num_employees: int | None
    annual_revenue: float | None
    founded_year: int | None
    city: str | None
    state: str | None
    country: str | None
    country_code: str | None
    data: dict[str, Any]
    complete: bool = True
    # None: the line does not give the list (the stored rows stay); a list replaces them.
    job_postings: list[Row] | None = None
    news_articles: list[Row] | None = None

    def columns(self) -> dict[str, Any]:
        """Column values of the ``organizations`` table, without id and timestamps."""
        return {
            "name": self.name,
            "name_key": self.name_key,
            "primary_domain": self.primary_domain,
            "linkedin_slug": self.linkedin_slug,
            "industry": self.industry,
            "estimated_num_employees": self.estimated_num_employees,
            "annual_revenue": self.annual_revenue,
            "founded_year": self.founded_year,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "country_code": self.country_code,
            "data": self.data,
        }

    def bind(self, organization_id: str) -> None:
        self.id = organization_id
        self.data["id"] = organization_id

    def child_items(self, kind: str) -> list[Row] | None:
        """The ``job_postings`` or ``news_articles`` the line gives (None: it gives none)."""
        return self.job_postings if kind == JOB_POSTINGS else self.news_articles

    def child_rows(self, kind: str) -> list[Row] | None:
        """Rows of the ``kind`` table for this organization (after ``bind``), with ids derived
        from the organization id and position, so the same line always yields the same rows."""
        items = self.child_items(kind)
        if items is None:
            return None
        assert self.id is not None
        id_kind = _CHILD_ID_KINDS[kind]
        return [
            {"id": derived_id(self.id, id_kind, position), "organization_id": self.id, **item}
            for position, item in enumerate(items)
        ]

    def copy(self) -> OrganizationRecord:
        """A copy whose ``data`` can be bound without touching this one."""
        return OrganizationRecord(
            self.id, self.name, self.name_key, self.primary_domain, self.linkedin_slug, self.industry,
            self.estimated_num_employees, self.annual_revenue, self.founded_year, self.city,
            self.state, self.country, self.country_code, dict(self.data), self.complete,
            self.job_postings, self.news_articles,
        )  # fmt: skip


# Apollo's organization fields in Apollo's order, each with how a value is read.
_ORGANIZATION_PASSTHROUGH: tuple[tuple[str, str], ...] = (
    ("blog_url", "url"),
    ("angellist_url", "url"),
    ("twitter_url", "url"),
    ("facebook_url", "url"),
    ("languages", "list"),
    ("alexa_ranking", "int"),
    ("linkedin_uid", "text"),
    ("publicly_traded_symbol", "text"),
    ("publicly_traded_exchange", "text"),
    ("logo_url", "url"),
    ("crunchbase_url", "url"),
    ("industry_tag_id", "text"),
    ("industry_tag_hash", "object"),
    ("retail_location_count", "int"),
    ("raw_address", "text"),
    ("street_address", "text"),
    ("postal_code", "text"),
    ("owned_by_organization_id", "text"),
    ("suborganizations", "objects"),
    ("num_suborganizations", "int"),
    ("seo_description", "long"),
    ("short_description", "long"),
    ("total_funding", "float"),
    ("total_funding_printed", "text"),
    ("latest_funding_round_date", "text"),
    ("latest_funding_stage", "text"),
    ("funding_events", "objects"),
    ("technology_names", "list"),
    ("current_technologies", "objects"),
    ("departmental_head_count", "object"),
)

ORGANIZATION_FIELDS: tuple[str, ...] = (
    "id", "name", "website_url", "blog_url", "angellist_url", "linkedin_url", "twitter_url",
    "facebook_url", "primary_phone", "languages", "alexa_ranking", "phone", "linkedin_uid",
    "founded_year", "publicly_traded_symbol", "publicly_traded_exchange", "logo_url",
    "crunchbase_url", "primary_domain", "sanitized_phone", "industry", "keywords",
    "estimated_num_employees", "industries", "secondary_industries", "industry_tag_id",
    "industry_tag_hash", "retail_location_count", "raw_address", "street_address", "city", "state",
    "postal_code", "country", "owned_by_organization_id", "suborganizations",
    "num_suborganizations", "seo_description", "short_description", "annual_revenue_printed",
    "annual_revenue", "total_funding", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "funding_events", "technology_names", "current_technologies",
    "departmental_head_count",
)  # fmt: skip

# Fields that are read together: a line giving any of them replaces all of them when it updates
# a stored record (a new website replaces the derived domain; a new city the resolved state).
ORGANIZATION_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"website_url", "primary_domain", "domain"}),
    frozenset({"phone", "primary_phone", "sanitized_phone"}),
    frozenset({"industry", "industries"}),
    frozenset({"annual_revenue", "annual_revenue_printed"}),
    frozenset({"total_funding", "total_funding_printed"}),
    frozenset({"city", "state", "country", "raw_address", "street_address", "postal_code"}),
)


def organization_record(raw: Raw, *, partial: bool = False) -> OrganizationRecord:
    """The record for one organization line (see ``perilune.repository.records``). With ``partial``, a
    line with an id or LinkedIn URL but no name or domain is accepted as an update-only record
    (``complete`` False)."""
    record_id = id_field(raw)
    name = text_field(raw, "name", NAME)
    domain = _domain(raw)
    slug = _company_slug(raw)
    complete = bool(name or domain)
    if not complete and not (partial and (record_id or slug)):
        raise RecordError(MISSING_ORGANIZATION_NAME)
    display_name = name or domain or ""
    location = resolve_location(
        text_field(raw, "city", SHORT),
        text_field(raw, "state", SHORT),
        text_field(raw, "country", SHORT),
        text_field(raw, "raw_address", TEXT),
    )
    phone_raw, primary_phone, sanitized_phone = _organization_phone(raw, location.country_code)
    industries = [i.lower() for i in list_field(raw, "industries")]
    industry = text_field(raw, "industry", SHORT)
    industry = industry.lower() if industry else (industries[0] if industries else None)
    if industry and not industries:
        industries = [industry]
    employees = int_field(raw, "estimated_num_employees")
    revenue = float_field(raw, "annual_revenue")
    founded = int_field(raw, "founded_year")
    passthrough = {key: READERS[kind](raw, key) for key, kind in _ORGANIZATION_PASSTHROUGH}
    if passthrough["total_funding_printed"] is None and passthrough["total_funding"] is not None:
        passthrough["total_funding_printed"] = printed_amount(passthrough["total_funding"])
    data: dict[str, Any] = {
        "id": record_id,
        "name": display_name or None,
        "website_url": website_url(domain) if domain else None,
        "linkedin_url": linkedin_company_url(slug) if slug else None,
        "primary_phone": primary_phone,
        "phone": phone_raw,
        "founded_year": founded,
        "primary_domain": domain,
        "sanitized_phone": sanitized_phone,
        "industry": industry,
        "keywords": list_field(raw, "keywords"),
        "estimated_num_employees": employees,
        "industries": industries,
        "secondary_industries": [i.lower() for i in list_field(raw, "secondary_industries")],
        "city": location.city,
        "state": location.state,
        "country": location.country,
        "annual_revenue_printed": text_field(raw, "annual_revenue_printed", SHORT)
        or (printed_amount(revenue) if revenue is not None else None),
        "annual_revenue": revenue,
        **passthrough,
    }
    return OrganizationRecord(
        id=record_id,
        name=display_name,
        name_key=organization_key(display_name),
        primary_domain=domain,
        linkedin_slug=slug,
        industry=industry,
        estimated_num_employees=employees,
        annual_revenue=revenue,
        founded_year=founded,
        city=location.city,
        state=location.state,
        country=location.country,
        country_code=location.country_code,
        data={key: data[key] for key in ORGANIZATION_FIELDS},
        complete=complete,
        job_postings=_children(raw, JOB_POSTINGS, _job_posting),
        news_articles=_children(raw, NEWS_ARTICLES, _news_article),
    )


def _domain(raw: Raw) -> str | None:
    for key in ("primary_domain", "domain", "website_url"):
        value = text_field(raw, key, TEXT)
        if value is None:
            continue
        domain = registrable_domain(value)
        if domain is None:
            raise RecordError(f"{key} {quote(value)} is not a valid domain or web address")
        return domain
    return None


def _company_slug(raw: Raw) -> str | None:
    value = text_field(raw, "linkedin_url", TEXT)
    if value is None:
        return None
    slug = linkedin_company_slug(value)
    if slug is None or len(slug) > SHORT:
        raise RecordError(f"linkedin_url {quote(value)} is not a LinkedIn company page")
    return slug


def _organization_phone(raw: Raw, country_code: str | None) -> tuple[str | None, dict[str, Any], str | None]:
    given = object_field(raw, "primary_phone")
    number = (
        text_field(raw, "phone", SHORT)
        or text_field(given, "number", SHORT)
        or text_field(raw, "sanitized_phone", SHORT)
    )
    if number is None:
        return None, {}, None
    sanitized = to_e164(number, country_code)
    primary: dict[str, Any] = {"number": number}
    if given.get("source"):
        primary["source"] = given["source"]
    primary["sanitized_number"] = sanitized
    return number, primary, sanitized


def _children(raw: Raw, key: str, read: Callable[[Raw], Row]) -> list[Row] | None:
    """The items of ``job_postings`` or ``news_articles``; None when the line leaves the key
    out or gives null (only a list, ``[]`` included, replaces what is stored)."""
    if raw.get(key) is None:
        return None
    items = []
    for position, item in enumerate(objects_field(raw, key)):
        try:
            items.append(read(item))
        except RecordError as exc:
            raise RecordError(f"{key}[{position}]: {exc.reason}") from None
    return items


def _job_posting(item: Raw) -> Row:
    """A ``job_postings`` row's values (models.JobPosting): the place resolved as an
    organization's is, so job-location filters compare like with like."""
    location = resolve_location(
        text_field(item, "city", SHORT), text_field(item, "state", SHORT), text_field(item, "country", SHORT)
    )
    return {
        "title": _child_title(item, NAME),
        "url": text_field(item, "url", TEXT),
        "city": location.city,
        "state": location.state,
        "country": location.country,
        "posted_at": timestamp_field(item, "posted_at"),
        "last_seen_at": timestamp_field(item, "last_seen_at"),
    }


def _news_article(item: Raw) -> Row:
    """A ``news_articles`` row's values (models.NewsArticle); ``domain`` is the registrable
    domain of the one given, else of the URL."""
    url = text_field(item, "url", TEXT)
    given = text_field(item, "domain", SHORT)
    domain = registrable_domain(given or url)
    if given is not None and domain is None:
        raise RecordError(f"domain {quote(given)} is not a valid domain")
    return {
        "title": _child_title(item, NEWS_TITLE),
        "url": url,
        "domain": domain,
        "snippet": text_field(item, "snippet", LONG),
        "event_categories": list_field(item, "event_categories"),
        "published_at": timestamp_field(item, "published_at"),
    }


def _child_title(item: Raw, limit: int) -> str:
    title = text_field(item, "title", limit)
    if title is None:
        raise RecordError("a title is required")
    return title


def timestamp_field(raw: Raw, key: str) -> datetime | None:
    """An ISO 8601 timestamp (``2024-08-30T14:19:10.200+00:00``, ``...Z``, or a bare date) as
    an aware UTC datetime; one without a zone is taken as UTC."""
    value = text_field(raw, key, _TIMESTAMP)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise RecordError(f"{key} {quote(value)} is not a timestamp") from None


def printed_amount(value: float) -> str:
    """Apollo's short form of an amount: 345600000 -> "345.6M", 10000000 -> "10M"."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.0f}"


_LEGAL_TERMS = prepare_default_terms()
# Legal-form terms by their last word: a term can only be a suffix of a name whose words
# include that word, so most names skip cleanco's scan of all ~300 terms.
_TERMS_BY_LAST_WORD: dict[str, list[tuple[int, int, list[str]]]] = {}
for _position, (_size, _parts) in enumerate(_LEGAL_TERMS):
    _TERMS_BY_LAST_WORD.setdefault(_parts[-1], []).append((_position, _size, _parts))


def organization_key(name: str | None) -> str:
    """The comparison key of an organization name: cleanco's base name (legal forms like
    "Inc.", "GmbH", "S.A." dropped), then ``name_key``: "Apollo Inc." -> "apollo". A name that
    is nothing but a legal form keeps it ("Inc." -> "inc")."""
    if not name:
        return ""
    return _organization_key(name[:NAME])


@functools.lru_cache(maxsize=65536)
def _organization_key(name: str) -> str:
    return name_key(company_basename(name)) or name_key(name)


def company_basename(name: str) -> str:
    """``cleanco.basename(name)``, the same result, at a fraction of the cost: only the legal
    terms whose words all occur in the name are handed to cleanco's matcher, in cleanco's
    order (tests/repository/test_records.py checks the agreement)."""
    text = name.lower() if name.isascii() else normalized(name)
    words = {strip_punct(word) for word in text.split()}
    candidates = [
        (position, size, parts)
        for word in words.intersection(_TERMS_BY_LAST_WORD)
        for position, size, parts in _TERMS_BY_LAST_WORD[word]
        if words.issuperset(parts)
    ]
    candidates.sort()
    result: str = custom_basename(name, [(size, parts) for _, size, parts in candidates])
    return result

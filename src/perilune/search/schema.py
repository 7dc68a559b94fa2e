"""The search index's schema: one tantivy index holding two kinds of document, people and
organizations, distinguished by ``kind``. A person document carries its current organization's
main fields too (name, domain, industry, location, employees, revenue, founded year), so "people
at companies with 50-200 employees in Germany" is one index lookup, not a join. The rest of an
organization's fields (keyword tags and technologies, dozens per company; funding; name key;
city) are on the organization's document only: a people search on them finds the organizations
first and then their people by ``org_id`` (``filters.Within``). That keeps every person's
document small, and a rebuild of a million people fast.

Fields (all optional unless marked; a missing value never matches a filter on that field)

=====================  ======================  =================================================
field                  type                    holds
=====================  ======================  =================================================
On both kinds of document
kind                   keyword                 ``person`` | ``organization``
id                     keyword, stored         the record's id (results are read from here;
                                               the follower deletes by it)
sort_key               unsigned, fast          the id's first 16 hex digits as a number: pages
                                               are ordered by it (newest record first)
q_keywords             text                    person: name, title, organization name and
                                               domain; organization: name, domain, industry,
                                               keywords. Analysed by TEXT_ANALYZER.
org_id                 keyword                 the person's organization / the organization
org_name               text                    organization name (words)
org_domain             keyword                 primary domain
org_industry           keyword, multi          industry, industries, secondary industries
                                               (lower case)
org_location           facet                   headquarters as ``/<country code>/<state>/<city>``
                                               folded (``/us/california/san francisco``); a
                                               missing state is ``_``
org_employees          integer, fast           estimated number of employees
org_revenue            float, fast             annual revenue (USD)
org_founded_year       integer, fast           founding year
org_technologies       keyword, multi          technology uids and folded technology names

On people
title_words            text (whitespace)       ``normalize.titles.title_tokens`` of the title:
                                               canonical, stemmed words (``person_titles``)
title_key              keyword                 the whole title folded (exact title match)
title_canonical        keyword                 title_words as one term: the title's canonical
                                               words, sorted (``include_similar_titles=false``:
                                               "VP, Sales" and "Vice President of Sales" agree)
seniority              keyword                 Apollo seniority (``owner`` ... ``intern``)
departments            keyword, multi          departments and subdepartments
functions              keyword, multi          Apollo functions
person_location        facet                   as org_location, where the person is
person_city            keyword                 ``<cc>:<city>`` folded (a city, whatever state)
email_status           keyword                 ``verified`` | ``extrapolated`` | ``unavailable``
email_status_detail    keyword                 the stored status, lower case (``bounced``,
                                               ``guessed``, ``pending_manual_fulfillment``...)

On organizations
organization_key       keyword, fast           the id again: the ids of thousands of matching
                                               organizations are read from this column
org_name_key           keyword                 ``normalize.names.name_key`` of the name
org_city               keyword                 as person_city
org_funding_stage      keyword                 latest funding stage (lower case)
org_total_funding      float, fast             total funding (USD)
org_latest_funding     float, fast             the latest funding round's amount (USD)
org_latest_funding_date integer, fast          its date as YYYYMMDD
org_keywords           keyword, multi          keyword tags (lower case, trimmed)
org_keyword_phrases    keyword, multi          every run of consecutive words of every tag,
                                               folded ("b2b sales strategy" holds "sales
                                               strategy"): a tag filter matches tags that
                                               contain it
=====================  ======================  =================================================

Countries are facet prefixes (``/de``), so they need no field of their own.

Keyword fields are stored exactly as the document builder (``search.documents``) writes them and
are matched by exact terms; text fields go through an analyzer, and queries on them are built
from the same analyzer's tokens, never by the query parser (``search.index``). Numeric fields
are fast (columnar) for ranges, sorting and, later, aggregations.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import tantivy

# Bump when a field is added, removed or re-typed, or documents are built differently: an index
# of another version is rebuilt, never followed.
SCHEMA_VERSION = 4

_HEX = frozenset("0123456789abcdefABCDEF")
TEXT_ANALYZER = "perilune_text"
# Words longer than this are dropped at indexing and at query time alike (tantivy's default).
MAX_WORD = 40
# A query's free text contributes at most this many words (a 10 kB string is not 2,000 clauses).
MAX_QUERY_WORDS = 32

KEYWORD_FIELDS: tuple[str, ...] = (
    "kind",
    "seniority",
    "title_key",
    "title_canonical",
    "departments",
    "functions",
    "person_city",
    "email_status",
    "email_status_detail",
    "org_id",
    "org_name_key",
    "org_domain",
    "org_industry",
    "org_keywords",
    "org_keyword_phrases",
    "org_technologies",
    "org_funding_stage",
    "org_city",
)
ORGANIZATION_KEY = "organization_key"
# On organization documents only (see the module docstring).
ORGANIZATION_ONLY_FIELDS: tuple[str, ...] = (
    "org_name_key",
    "org_city",
    "org_funding_stage",
    "org_total_funding",
    "org_keywords",
    "org_keyword_phrases",
    "org_latest_funding",
    "org_latest_funding_date",
)
TEXT_FIELDS: tuple[str, ...] = ("q_keywords", "org_name")
FACET_FIELDS: tuple[str, ...] = ("person_location", "org_location")
INTEGER_FIELDS: tuple[str, ...] = ("org_employees", "org_founded_year", "org_latest_funding_date")
FLOAT_FIELDS: tuple[str, ...] = ("org_revenue", "org_total_funding", "org_latest_funding")


@cache
def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(ORGANIZATION_KEY, fast=True, tokenizer_name="raw", index_option="basic")
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=TEXT_ANALYZER, index_option="freq")
    builder.add_text_field("title_words", tokenizer_name="whitespace", index_option="freq")
    for name in FACET_FIELDS:
        builder.add_facet_field(name)
    builder.add_unsigned_field("sort_key", fast=True)
    for name in INTEGER_FIELDS:
        builder.add_integer_field(name, indexed=True, fast=True)
    for name in FLOAT_FIELDS:
        builder.add_float_field(name, indexed=True, fast=True)
    return builder.build()


@cache
def text_analyzer() -> tantivy.TextAnalyzer:
    """Words of free text: split on non-alphanumerics, long words dropped, lower case, folded
    to ASCII ("José" and "jose" are one word)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def text_tokens(text: str | None, limit: int | None = None) -> list[str]:
    """The distinct words ``text`` is indexed (or searched) by, in order."""
    if not text:
        return []
    seen: dict[str, None] = {}
    for token in text_analyzer().analyze(text):
        seen.setdefault(token, None)
        if limit is not None and len(seen) >= limit:
            break
    return list(seen)


def create_index(path: Path) -> tantivy.Index:
    path.mkdir(parents=True, exist_ok=True)
    return _registered(tantivy.Index(build_schema(), path=str(path), reuse=False))


def open_index(path: Path) -> tantivy.Index:
    return _registered(tantivy.Index.open(str(path)))


def _registered(index: tantivy.Index) -> tantivy.Index:
    # Analyzers are not stored in the index: every Index object needs them registered.
    index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
    return index


def joined(values: Iterable[str | None]) -> str:
    return " ".join(v for v in values if v)


def sort_key(record_id: str) -> int:
    """The id's first 16 hex digits (its creation second and 32 random bits) as an unsigned
    64-bit integer; 0 for an id that is not hex."""
    prefix = record_id[:16]
    return int(prefix, 16) if prefix and _HEX.issuperset(prefix) else 0

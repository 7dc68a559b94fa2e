"""Normalisation of people and organization data: pure functions on plain values, shared by the
importer, the generator, matching (enrichment) and search, so that every path derives the same
keys from the same input.

Modules: ``domains`` (registrable domains, website URLs), ``linkedin`` (profile and company
slugs), ``names`` (splitting, comparison keys, nicknames, phonetics), ``emails`` (normalized
address, hashes, personal providers), ``phones`` (E.164), ``countries`` and ``locations``
(countries, subdivisions, cities, time zones, GDPR), ``titles`` (Apollo's seniority and
department vocabulary, title search), ``text`` (the ASCII folding they share).

Nothing here touches the network, the database or the clock. Reference tables (the Public Suffix
List, the gazetteer, nicknames) load lazily on first use; ``locations.preload()`` builds the
largest of them eagerly.
"""

from perilune.repository.normalize.countries import Country, Subdivision, find_subdivisions, resolve_country
from perilune.repository.normalize.domains import registrable_domain, website_url
from perilune.repository.normalize.emails import (
    email_domain,
    email_hashes,
    hashed_email_kind,
    is_personal_domain,
    normalize_email,
)
from perilune.repository.normalize.linkedin import (
    linkedin_company_slug,
    linkedin_company_url,
    linkedin_slug,
    linkedin_url,
)
from perilune.repository.normalize.locations import Location, is_gdpr_country, resolve_location
from perilune.repository.normalize.names import (
    NameParts,
    first_name_variants,
    name_key,
    phonetic_key,
    split_name,
)
from perilune.repository.normalize.phones import to_e164
from perilune.repository.normalize.text import fold
from perilune.repository.normalize.titles import TitleClass, classify_title, title_key, title_matches

__all__ = [
    "Country",
    "Location",
    "NameParts",
    "Subdivision",
    "TitleClass",
    "classify_title",
    "email_domain",
    "email_hashes",
    "find_subdivisions",
    "first_name_variants",
    "fold",
    "hashed_email_kind",
    "is_gdpr_country",
    "is_personal_domain",
    "linkedin_company_slug",
    "linkedin_company_url",
    "linkedin_slug",
    "linkedin_url",
    "name_key",
    "normalize_email",
    "phonetic_key",
    "registrable_domain",
    "resolve_country",
    "resolve_location",
    "split_name",
    "title_key",
    "title_matches",
    "to_e164",
    "website_url",
]

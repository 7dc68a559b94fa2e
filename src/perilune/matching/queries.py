"""What a client asks for (Apollo's enrichment parameters) and the keys it is matched on.

``person_keys`` and ``organization_keys`` run every value through
``perilune.repository.normalize`` (and the organization-name key the importer stores), so a
query and the repository derive the same key from the same input: ``" Tim@Apollo.IO "`` is
``tim@apollo.io``, ``https://uk.linkedin.com/in/Tim-Zheng/?x=y`` is ``tim-zheng``,
``https://www.apollo.io/about`` is ``apollo.io``, ``"Apollo Inc."`` is ``apollo``. A value that
normalises to nothing (an invalid email, a URL that is no LinkedIn profile) is dropped, as if it
had not been given."""

from __future__ import annotations

from dataclasses import dataclass

from perilune.db.ids import is_valid_id
from perilune.repository.normalize import (
    first_name_variants,
    hashed_email_kind,
    is_personal_domain,
    linkedin_company_slug,
    linkedin_slug,
    name_key,
    normalize_email,
    phonetic_key,
    registrable_domain,
    split_name,
)
from perilune.repository.records import organization_key

# A query value longer than this is not an identifier; it is cut before normalising.
_MAX_VALUE = 2048


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """A person to find, with Apollo's ``people/match`` parameter names. Every field is
    optional; the more are given, the stronger the evidence. ``domain`` and
    ``organization_name`` may name a current or a former employer; ``hashed_email`` is the MD5
    or SHA-256 of an email address."""

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    email: str | None = None
    hashed_email: str | None = None
    organization_name: str | None = None
    domain: str | None = None
    linkedin_url: str | None = None


@dataclass(frozen=True, slots=True)
class OrganizationQuery:
    """An organization to find, with Apollo's ``organizations/enrich`` parameter names
    (``website`` is a full URL; its domain is used). ``id`` is Perilune's organization id."""

    id: str | None = None
    domain: str | None = None
    website: str | None = None
    linkedin_url: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class PersonKeys:
    """The normalised keys of a ``PersonQuery``; ``""``/``None``/``()`` where not given.

    ``loose`` is a one-word ``name`` ("Zheng"): a first or a last name, nobody can tell which.
    ``domains`` are employer domains: ``domain`` and the domain of a work ``email`` (never a
    personal provider's, which says nothing about the employer)."""

    person_id: str | None = None
    first: str = ""
    last: str = ""
    loose: str = ""
    first_variants: frozenset[str] = frozenset()
    last_phonetic: str = ""
    email: str | None = None
    email_md5: str | None = None
    email_sha256: str | None = None
    linkedin_slug: str | None = None
    domains: tuple[str, ...] = ()
    organization_key: str = ""

    @property
    def has_name(self) -> bool:
        return bool(self.first or self.last or self.loose)

    @property
    def has_employer(self) -> bool:
        return bool(self.domains or self.organization_key)

    @property
    def has_email(self) -> bool:
        return bool(self.email or self.email_md5 or self.email_sha256)

    @property
    def is_empty(self) -> bool:
        return not (
            self.person_id or self.has_name or self.has_email or self.linkedin_slug or self.has_employer
        )


@dataclass(frozen=True, slots=True)
class OrganizationKeys:
    organization_id: str | None = None
    domain: str | None = None
    linkedin_slug: str | None = None
    name_key: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.organization_id or self.domain or self.linkedin_slug or self.name_key)


def person_keys(query: PersonQuery) -> PersonKeys:
    first, last, loose = _names(query)
    email = normalize_email(_clip(query.email))
    md5, sha256 = _hash(query.hashed_email)
    return PersonKeys(
        person_id=_id(query.id),
        first=first,
        last=last,
        loose=loose,
        first_variants=first_name_variants(first) if first else frozenset(),
        last_phonetic=phonetic_key(last),
        email=email,
        email_md5=md5,
        email_sha256=sha256,
        linkedin_slug=linkedin_slug(_clip(query.linkedin_url)),
        domains=_employer_domains(query, email),
        organization_key=organization_key(_clip(query.organization_name)),
    )


def organization_keys(query: OrganizationQuery) -> OrganizationKeys:
    domain = _work_domain(query.domain) or _work_domain(query.website)
    return OrganizationKeys(
        organization_id=_id(query.id),
        domain=domain,
        linkedin_slug=linkedin_company_slug(_clip(query.linkedin_url)),
        name_key=organization_key(_clip(query.name)),
    )


def _names(query: PersonQuery) -> tuple[str, str, str]:
    """(first, last, loose) name keys: ``first_name``/``last_name`` as given, the missing ones
    taken from ``name`` split by nameparser ("Zheng, Tim" and "Dr. Tim Zheng Jr." included)."""
    first, last = name_key(_clip(query.first_name)), name_key(_clip(query.last_name))
    if query.name and not (first and last):
        parts = split_name(_clip(query.name))
        if not first and not last and parts.first and not parts.last:
            return "", "", name_key(parts.first)
        first = first or name_key(parts.first)
        last = last or name_key(parts.last)
    return first, last, ""


def _employer_domains(query: PersonQuery, email: str | None) -> tuple[str, ...]:
    domains = [_work_domain(query.domain), _work_domain(email)]
    organization = query.organization_name
    if organization and "." in organization and " " not in organization.strip():
        domains.append(_work_domain(organization))  # "apollo.io" given as the company's name
    return tuple(dict.fromkeys(d for d in domains if d))


def _work_domain(value: str | None) -> str | None:
    domain = registrable_domain(_clip(value))
    return None if domain is None or is_personal_domain(domain) else domain


def _hash(value: str | None) -> tuple[str | None, str | None]:
    kind = hashed_email_kind(_clip(value))
    if kind is None or value is None:
        return None, None
    digest = value.strip().lower()
    return (digest, None) if kind == "md5" else (None, digest)


def _id(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip().lower()
    return text if is_valid_id(text) else None


def _clip(value: str | None) -> str | None:
    return value[:_MAX_VALUE] if value else None

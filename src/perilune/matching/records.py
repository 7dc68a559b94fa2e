"""Candidates as plain records: the few repository values a comparison reads, nothing else.

Blocking (``blocking.py``) fills them from the database; the comparisons and the scorer only read
them, so tests and benchmarks can build them by hand."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Employer:
    """A job of a candidate: the organization's registrable domain (when the repository knows
    the organization) and its name key (``organization_key``), current or former."""

    domain: str | None
    name_key: str
    current: bool


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A known address of a candidate with its hashes (work or personal)."""

    email: str
    md5: str | None
    sha256: str | None
    personal: bool


@dataclass(slots=True)
class PersonCandidate:
    """A person blocking found. Names are ``name_key`` forms; ``employers`` hold the current
    organization and the employment history; ``mailboxes`` the work and personal emails
    (personal ones only when the query gave an email or a hash)."""

    id: str
    first: str = ""
    last: str = ""
    linkedin_slug: str | None = None
    employers: list[Employer] = field(default_factory=list)
    mailboxes: list[Mailbox] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OrganizationCandidate:
    id: str
    domain: str | None
    linkedin_slug: str | None
    name_key: str
    estimated_num_employees: int | None

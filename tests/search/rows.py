"""Repository rows for tests, written straight through the ORM: organizations and people with
Apollo-shaped ``data``, their employment history, phones and personal emails, job postings, news
articles, and the ``repository_changes`` entries an import writes beside them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from perilune.db.engine import session_factory
from perilune.db.ids import new_id
from perilune.models import (
    EmploymentHistory,
    JobPosting,
    NewsArticle,
    Organization,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    RepositoryChange,
)
from perilune.repository.normalize import classify_title, fold, name_key

CREATED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


@dataclass
class OrgSpec:
    name: str = "Sumware Software"
    domain: str | None = "sumware.com"
    industry: str | None = "computer software"
    employees: int | None = 250
    revenue: float | None = 42_500_000.0
    founded_year: int | None = 2012
    city: str | None = "San Francisco"
    state: str | None = "California"
    country: str | None = "United States"
    country_code: str | None = "US"
    keywords: list[str] = field(default_factory=lambda: ["sales engagement", "b2b", "saas"])
    technologies: list[tuple[str, str]] = field(
        default_factory=lambda: [("salesforce", "Salesforce"), ("google_analytics", "Google Analytics")]
    )
    funding_stage: str | None = "Series B"
    total_funding: int | None = 30_000_000
    phone: str | None = "+1 415-555-0100"


@dataclass
class PersonSpec:
    first_name: str = "Ava"
    last_name: str = "Ruiz"
    title: str | None = "VP of Sales"
    email: str | None = "ava.ruiz@sumware.com"
    email_status: str | None = "verified"
    city: str | None = "San Francisco"
    state: str | None = "California"
    country: str | None = "United States"
    country_code: str | None = "US"
    time_zone: str | None = "America/Los_Angeles"
    phones: list[tuple[str, str]] = field(
        default_factory=lambda: [("+1 415-555-0100", "work_hq"), ("+1 415-555-0199", "mobile")]
    )
    personal_emails: list[str] = field(default_factory=lambda: ["ava.r@gmail.com"])
    past_jobs: list[tuple[str, str, str, str]] = field(
        default_factory=lambda: [("Braingenie", "Account Executive", "2015-02-01", "2019-06-01")]
    )


def organization_data(org_id: str, spec: OrgSpec) -> dict[str, Any]:
    """The Apollo organization object an import stores in ``data``."""
    website = f"http://www.{spec.domain}" if spec.domain else None
    return {
        "id": org_id,
        "name": spec.name,
        "website_url": website,
        "blog_url": None,
        "linkedin_url": f"http://www.linkedin.com/company/{fold(spec.name).replace(' ', '-')}",
        "twitter_url": None,
        "facebook_url": None,
        "primary_phone": {"number": spec.phone, "source": "Owler"} if spec.phone else None,
        "languages": [],
        "phone": spec.phone,
        "founded_year": spec.founded_year,
        "logo_url": None,
        "primary_domain": spec.domain,
        "industry": spec.industry,
        "keywords": list(spec.keywords),
        "estimated_num_employees": spec.employees,
        "industries": [spec.industry] if spec.industry else [],
        "secondary_industries": [],
        "raw_address": ", ".join(p for p in (spec.city, spec.state, spec.country) if p).lower(),
        "city": spec.city,
        "state": spec.state,
        "country": spec.country,
        "short_description": f"{spec.name} makes software for sales teams.",
        "annual_revenue": spec.revenue,
        "annual_revenue_printed": None if spec.revenue is None else f"{spec.revenue / 1e6:.1f}M",
        "total_funding": spec.total_funding,
        "latest_funding_stage": spec.funding_stage,
        "funding_events": [],
        "technology_names": [name for _, name in spec.technologies],
        "current_technologies": [
            {"uid": uid, "name": name, "category": "Other"} for uid, name in spec.technologies
        ],
        "suborganizations": None,
        "num_suborganizations": 0,
        # A team's CRM record: repository data must never show it.
        "account_id": "63f53afe4ceeca00016bdd47",
        "account": {"id": "63f53afe4ceeca00016bdd47", "name": "Someone's account"},
    }


def person_data(person_id: str, org_id: str | None, spec: PersonSpec, org_name: str | None) -> dict[str, Any]:
    """The Apollo person object an import stores in ``data``."""
    classified = classify_title(spec.title)
    name = f"{spec.first_name} {spec.last_name}"
    return {
        "id": person_id,
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "name": name,
        "linkedin_url": f"http://www.linkedin.com/in/{fold(name).replace(' ', '-')}-1a2b3c",
        "title": spec.title,
        "photo_url": None,
        "twitter_url": None,
        "github_url": None,
        "facebook_url": None,
        "extrapolated_email_confidence": None,
        "headline": f"{spec.title} at {org_name}" if spec.title and org_name else spec.title,
        "organization_id": org_id,
        "state": spec.state,
        "city": spec.city,
        "country": spec.country,
        "time_zone": spec.time_zone,
        # An import may keep these in data: the response must not take them from there.
        "email": spec.email,
        "hashed_email": hashlib.md5(spec.email.encode()).hexdigest() if spec.email else None,  # noqa: S324
        "personal_emails": list(spec.personal_emails),
        "departments": list(classified.departments),
        "subdepartments": list(classified.subdepartments),
        "functions": list(classified.functions),
        "seniority": classified.seniority,
        "intent_strength": None,
        "show_intent": False,
    }


async def add_organization(
    session: AsyncSession, spec: OrgSpec | None = None, *, log: bool = True, org_id: str | None = None
) -> Organization:
    spec = spec or OrgSpec()
    org_id = org_id or new_id()
    org = Organization(
        id=org_id,
        name=spec.name,
        name_key=name_key(spec.name),
        primary_domain=spec.domain,
        industry=spec.industry,
        estimated_num_employees=spec.employees,
        annual_revenue=spec.revenue,
        founded_year=spec.founded_year,
        city=spec.city,
        state=spec.state,
        country=spec.country,
        country_code=spec.country_code,
        data=organization_data(org_id, spec),
        created_at=CREATED,
        updated_at=CREATED,
    )
    session.add(org)
    await session.flush()
    if log:
        await log_change(session, "organization", org_id)
    return org


async def add_person(
    session: AsyncSession,
    spec: PersonSpec | None = None,
    organization: Organization | None = None,
    *,
    log: bool = True,
    person_id: str | None = None,
) -> Person:
    spec = spec or PersonSpec()
    person_id = person_id or new_id()
    org_id = organization.id if organization else None
    org_name = organization.name if organization else None
    email = spec.email.lower() if spec.email else None
    person = Person(
        id=person_id,
        organization_id=org_id,
        first_name=spec.first_name,
        last_name=spec.last_name,
        name=f"{spec.first_name} {spec.last_name}",
        first_name_key=name_key(spec.first_name),
        last_name_key=name_key(spec.last_name),
        title=spec.title,
        seniority=classify_title(spec.title).seniority,
        email=email,
        email_md5=hashlib.md5(email.encode()).hexdigest() if email else None,  # noqa: S324
        email_sha256=hashlib.sha256(email.encode()).hexdigest() if email else None,
        email_status=spec.email_status if email else None,
        city=spec.city,
        state=spec.state,
        country=spec.country,
        country_code=spec.country_code,
        time_zone=spec.time_zone,
        data=person_data(person_id, org_id, spec, org_name),
        created_at=CREATED,
        updated_at=CREATED,
    )
    session.add(person)
    await session.flush()
    _add_history(session, person, spec, organization)
    for position, (number, kind) in enumerate(spec.phones):
        digits = "+" + "".join(c for c in number if c.isdigit())
        session.add(
            PersonPhoneNumber(
                person_id=person_id,
                raw_number=number,
                sanitized_number=digits,
                type=kind,
                status="valid_number",
                position=position,
            )
        )
    for address in spec.personal_emails:
        session.add(
            PersonalEmail(
                person_id=person_id,
                email=address,
                email_md5=hashlib.md5(address.encode()).hexdigest(),  # noqa: S324
                email_sha256=hashlib.sha256(address.encode()).hexdigest(),
            )
        )
    await session.flush()
    if log:
        await log_change(session, "person", person_id)
    return person


def _add_history(
    session: AsyncSession, person: Person, spec: PersonSpec, organization: Organization | None
) -> None:
    if organization is not None:
        session.add(
            EmploymentHistory(
                person_id=person.id,
                organization_id=organization.id,
                organization_name=organization.name,
                organization_name_key=name_key(organization.name),
                title=spec.title,
                start_date="2020-01-01",
                current=True,
            )
        )
    for org_name, title, start, end in spec.past_jobs:
        session.add(
            EmploymentHistory(
                person_id=person.id,
                organization_name=org_name,
                organization_name_key=name_key(org_name),
                title=title,
                start_date=start,
                end_date=end,
                current=False,
            )
        )


async def add_job_posting(
    session: AsyncSession,
    organization: Organization,
    title: str,
    posted_at: datetime | None,
    *,
    country: str | None = "United States",
) -> JobPosting:
    posting = JobPosting(
        organization_id=organization.id,
        title=title,
        url=f"https://jobs.example.test/{fold(title).replace(' ', '-')}",
        city=None,
        state=None,
        country=country,
        posted_at=posted_at,
        last_seen_at=posted_at,
        created_at=CREATED,
    )
    session.add(posting)
    await session.flush()
    return posting


async def add_news_article(
    session: AsyncSession,
    organization: Organization,
    title: str,
    published_at: datetime | None,
    categories: list[str],
) -> NewsArticle:
    article = NewsArticle(
        organization_id=organization.id,
        title=title,
        url=f"https://news.example.test/{fold(title).replace(' ', '-')}",
        domain="news.example.test",
        snippet=f"{organization.name}: {title}.",
        event_categories=categories,
        published_at=published_at,
        created_at=CREATED,
    )
    session.add(article)
    await session.flush()
    return article


async def log_change(session: AsyncSession, entity: str, record_id: str, op: str = "upsert") -> None:
    session.add(RepositoryChange(entity=entity, record_id=record_id, op=op, created_at=CREATED))
    await session.flush()


async def delete_person(session: AsyncSession, person_id: str) -> None:
    await session.execute(delete(Person).where(Person.id == person_id))
    await log_change(session, "person", person_id, "delete")


async def delete_organization(session: AsyncSession, organization_id: str) -> None:
    await session.execute(delete(Organization).where(Organization.id == organization_id))
    await log_change(session, "organization", organization_id, "delete")


async def change_count(session: AsyncSession) -> int:
    return len((await session.execute(select(RepositoryChange.seq))).all())


def sessions(engine: AsyncEngine) -> Any:
    """A transaction on ``engine``: ``async with sessions(engine)() as s, s.begin(): ...``."""
    return session_factory(engine)

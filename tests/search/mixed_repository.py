"""A small hand-built repository, imported through the importer as a user would load their own
data, where the right answer to every search filter is known: six organizations and thirteen
people (named by first name below), plus job postings. The people searches' and the
organization search's tests read their expectations from the comments here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db.engine import session_factory
from perilune.models import JobPosting, Person
from perilune.repository.importer import import_records

ORG_IDS = {
    "sumware": "6500000100000000000000a1",
    "kraftwerk": "6500000200000000000000a2",
    "cafe": "6500000300000000000000a3",
    "lonestar": "6500000400000000000000a4",
    "peach": "6500000500000000000000a5",
    "tbilisi": "6500000600000000000000a6",
}


def _technologies(*uids: tuple[str, str]) -> dict[str, Any]:
    return {
        "current_technologies": [{"uid": uid, "name": name, "category": "Other"} for uid, name in uids],
        "technology_names": [name for _, name in uids],
    }


ORGANIZATIONS: list[dict[str, Any]] = [
    {
        # San Francisco, 250 people, 42.5M revenue, Series B (20M on 2023-05-01, 30M in all).
        "id": ORG_IDS["sumware"],
        "name": "Sumware Software",
        "website_url": "https://www.sumware.com",
        "industry": "Computer Software",
        "keywords": ["sales engagement", "B2B SaaS", "lead generation"],
        "estimated_num_employees": 250,
        "annual_revenue": 42_500_000,
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
        "postal_code": "94105",
        "phone": "+1 415-555-0100",
        "total_funding": 30_000_000,
        "latest_funding_stage": "Series B",
        "latest_funding_round_date": "2023-05-01T00:00:00.000+00:00",
        "funding_events": [
            {"date": "2021-02-01T00:00:00.000+00:00", "type": "Series A", "amount": "10M", "currency": "$"},
            {"date": "2023-05-01T00:00:00.000+00:00", "type": "Series B", "amount": "20M", "currency": "$"},
        ],
        **_technologies(("salesforce", "Salesforce"), ("google_analytics", "Google Analytics")),
    },
    {
        # Hamburg, Germany; 1,200 people, 310M revenue; no funding.
        "id": ORG_IDS["kraftwerk"],
        "name": "Kraftwerk Logistik GmbH",
        "website_url": "kraftwerk-logistik.de",
        "industry": "Logistics & Supply Chain",
        "keywords": ["Freight", "logistics"],
        "estimated_num_employees": 1200,
        "annual_revenue": 310_000_000,
        "city": "Hamburg",
        "country": "Germany",
        **_technologies(("sap", "SAP")),
    },
    {
        # Madrid, 8 people, revenue unknown.
        "id": ORG_IDS["cafe"],
        "name": "Café Ñandú",
        "website_url": "cafe-nandu.es",
        "industry": "Restaurants",
        "estimated_num_employees": 8,
        "city": "Madrid",
        "country": "Spain",
        **_technologies(("wordpress_org", "WordPress.org")),
    },
    {
        # Austin, Texas; 50 people, 5M revenue, 2M raised on 2021-01-15.
        "id": ORG_IDS["lonestar"],
        "name": "Lone Star Analytics",
        "website_url": "lonestar.io",
        "industry": "Computer Software",
        "keywords": ["data analytics", "sales strategy"],
        "estimated_num_employees": 50,
        "annual_revenue": 5_000_000,
        "city": "Austin",
        "state": "Texas",
        "country": "United States",
        "total_funding": 2_000_000,
        "funding_events": [{"date": "2021-01-15", "type": "Seed", "amount": "$2M"}],
        **_technologies(("google_analytics", "Google Analytics"), ("hubspot", "HubSpot")),
    },
    {
        # Atlanta, Georgia (the state); 10 people, 1M revenue.
        "id": ORG_IDS["peach"],
        "name": "Peach Tree Labs",
        "website_url": "peachtree.dev",
        "industry": "Research",
        "keywords": ["lead management"],
        "estimated_num_employees": 10,
        "annual_revenue": 1_000_000,
        "city": "Atlanta",
        "state": "Georgia",
        "country": "United States",
        **_technologies(("hubspot", "HubSpot")),
    },
    {
        # Tbilisi, Georgia (the country); 30 people.
        "id": ORG_IDS["tbilisi"],
        "name": "Tbilisi Soft",
        "website_url": "tbilisisoft.ge",
        "industry": "Computer Software",
        "estimated_num_employees": 30,
        "city": "Tbilisi",
        "country": "Georgia",
    },
]


def _person(first: str, last: str, title: str, org: str | None, **fields: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"first_name": first, "last_name": last, "title": title, **fields}
    if org is not None:
        line["organization_id"] = ORG_IDS[org]
    return line


MOBILE = [{"raw_number": "+1 415-555-0199", "type": "mobile"}]
HQ = [{"raw_number": "+1 415-555-0100", "type": "work_hq"}]
PEOPLE: list[dict[str, Any]] = [
    _person(
        "Ava", "Ruiz", "VP of Sales", "sumware", email="ava@sumware.com", email_status="verified",
        city="San Francisco", state="California", country="United States", phone_numbers=MOBILE,
    ),
    _person(
        "Ben", "Okafor", "Senior Software Engineer", "sumware", email="ben@sumware.com",
        email_status="guessed", city="San Francisco", state="California", country="United States",
        phone_numbers=HQ,
    ),
    _person(
        "Jose", "Garcia", "Sales Development Representative", "sumware", email="jose@sumware.com",
        email_status="verified", city="Austin", state="Texas", country="United States",
    ),
    _person(
        "Mia", "Lindqvist", "Senior Sales Manager, EMEA", "sumware", email="mia@sumware.com",
        email_status="verified", city="London", country="United Kingdom",
        employment_history=[
            {"organization_name": "Sumware Software", "title": "Sales Manager", "start_date": "2021-03"},
            {"organization_name": "Braingenie", "title": "Account Executive", "start_date": "2016",
             "end_date": "2021-02"},
        ],
    ),
    _person(
        "Chloe", "Becker", "Chief Executive Officer", "kraftwerk", email="chloe@kraftwerk-logistik.de",
        email_status="verified", city="Hamburg", country="Germany",
    ),
    _person("Dmitri", "Volkov", "Logistics Manager", "kraftwerk", city="Berlin", country="Germany"),
    _person("Elena", "Ng", "Owner", "cafe", city="Madrid", country="Spain"),
    _person(
        "Farid", "Haddad", "Marketing Director", None, email="farid@example.co.uk",
        email_status="bounced", city="London", country="United Kingdom",
    ),
    _person(
        "Liam", "Walsh", "Sales Manager", "lonestar", email="liam@lonestar.io", email_status="verified",
        city="Austin", state="Texas", country="United States",
    ),
    _person(
        "Nora", "Kim", "Head of Data", "lonestar", email_status="pending_manual_fulfillment",
        city="Chicago", state="Illinois", country="United States",
    ),
    _person(
        "Omar", "Farouk", "Founder & CEO", "peach", email="omar@peachtree.dev", email_status="verified",
        city="Atlanta", state="Georgia", country="United States",
    ),
    _person(
        "Sofia", "Beridze", "Sales Manager", "tbilisi", email="sofia@tbilisisoft.ge",
        email_status="guessed", city="Tbilisi", country="Georgia",
    ),
    _person(
        "Tom", "Baker", "Account Executive", "peach", email="tom@peachtree.dev", email_status="verified",
        city="Portland", state="Oregon", country="United States",
    ),
]  # fmt: skip
EVERYONE = {p["first_name"].lower() for p in PEOPLE}

US = "United States"
# (organization, title, city, state, country, posted on)
JOB_POSTINGS: list[tuple[str, str, str, str | None, str, datetime]] = [
    ("sumware", "Sales Manager", "San Francisco", "California", US, datetime(2025, 3, 10, tzinfo=UTC)),
    ("sumware", "Senior Software Engineer", "Austin", "Texas", US, datetime(2025, 4, 1, tzinfo=UTC)),
    ("kraftwerk", "Logistics Coordinator", "Hamburg", "Hamburg", "Germany", datetime(2025, 1, 5, tzinfo=UTC)),
    ("lonestar", "Data Engineer", "Austin", "Texas", US, datetime(2025, 5, 20, tzinfo=UTC)),
    ("lonestar", "Sales Development Rep", "Atlanta", "Georgia", US, datetime(2025, 5, 21, tzinfo=UTC)),
    ("lonestar", "Regional Sales Manager", "Chicago", "Illinois", US, datetime(2024, 12, 1, tzinfo=UTC)),
]  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    people: dict[str, str]  # first name (lower case) -> id
    organizations: dict[str, str]

    def names(self, ids: Iterable[str]) -> set[str]:
        by_id = {v: k for k, v in self.people.items()}
        return {by_id[i] for i in ids}

    def org_names(self, ids: Iterable[str]) -> set[str]:
        by_id = {v: k for k, v in self.organizations.items()}
        return {by_id[i] for i in ids}


async def seed_repository(engine: AsyncEngine) -> Seeded:
    """Import the organizations and people above, and add the job postings."""
    organizations = await import_records(engine, "organizations", enumerate(ORGANIZATIONS, 1))
    people = await import_records(engine, "people", enumerate(PEOPLE, 1))
    assert not organizations.errors and not people.errors, (organizations.errors, people.errors)
    async with session_factory(engine)() as session, session.begin():
        for org, title, city, state, country, posted in JOB_POSTINGS:
            session.add(
                JobPosting(
                    organization_id=ORG_IDS[org],
                    title=title,
                    city=city,
                    state=state,
                    country=country,
                    posted_at=posted,
                    last_seen_at=posted,
                    created_at=posted,
                )
            )
    return Seeded(await _people_ids(engine), dict(ORG_IDS))


async def _people_ids(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(Person.first_name, Person.id))
        return {str(first).lower(): person_id for first, person_id in rows}

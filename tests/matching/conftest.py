"""A small repository for the matching tests, imported through the real importer into the
``database`` fixture (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db.engine import create_engine
from perilune.repository.importer import import_records
from tests.conftest import Database

APOLLO = "5e66b6381e05b4008c8331b8"
BRAINGENIE = "5e66b6381e05b4008c8331b9"
STONEBRIDGE = "5e66b6381e05b4008c8331ba"
ACME = "5e66b6381e05b4008c8331bb"
NORTHWIND_BIG = "5e66b6381e05b4008c8331bc"
NORTHWIND_SMALL = "5e66b6381e05b4008c8331bd"

TIM = "6453e9bd8f50d40001f1e348"
ROBERT = "6453e9bd8f50d40001f1e349"
JOSE = "6453e9bd8f50d40001f1e34a"
JOHN_A = "6453e9bd8f50d40001f1e34b"
JOHN_B = "6453e9bd8f50d40001f1e34c"
CATHERINE = "6453e9bd8f50d40001f1e34d"
MARIA = "6453e9bd8f50d40001f1e34e"

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "id": APOLLO,
        "name": "Apollo.io",
        "website_url": "http://www.apollo.io",
        "linkedin_url": "http://www.linkedin.com/company/apolloio",
        "estimated_num_employees": 1600,
    },
    {
        "id": BRAINGENIE,
        "name": "Braingenie Inc.",
        "primary_domain": "braingenie.com",
        "estimated_num_employees": 12,
    },
    {
        "id": STONEBRIDGE,
        "name": "Stonebridge Logistics GmbH",
        "primary_domain": "stonebridge-logistics.de",
        "estimated_num_employees": 240,
    },
    {"id": ACME, "name": "Acme Widgets", "primary_domain": "acmewidgets.com", "estimated_num_employees": 80},
    {
        "id": NORTHWIND_BIG,
        "name": "Northwind",
        "primary_domain": "northwind.com",
        "estimated_num_employees": 5000,
    },
    {
        "id": NORTHWIND_SMALL,
        "name": "Northwind Inc.",
        "primary_domain": "northwind.io",
        "estimated_num_employees": 9,
    },
]


def _job(name: str, organization_id: str | None, current: bool, start: str) -> dict[str, Any]:
    return {
        "organization_name": name,
        "organization_id": organization_id,
        "current": current,
        "start_date": start,
    }


PEOPLE: list[dict[str, Any]] = [
    {
        "id": TIM,
        "first_name": "Tim",
        "last_name": "Zheng",
        "title": "Founder & CEO",
        "email": "tim@apollo.io",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        "personal_emails": ["tim.zheng@gmail.com"],
        "organization_id": APOLLO,
        "employment_history": [
            _job("Apollo", APOLLO, True, "2016-01-01"),
            _job("Braingenie", BRAINGENIE, False, "2011-01-01"),
            _job("Citadel Investment Group", None, False, "2008-01-01"),
        ],
    },
    {
        "id": ROBERT,
        "first_name": "Robert",
        "last_name": "Mueller",
        "email": "robert.mueller@stonebridge-logistics.de",
        "linkedin_url": "https://www.linkedin.com/in/robert-mueller-4411aa",
        "organization_id": STONEBRIDGE,
        "employment_history": [_job("Stonebridge Logistics", STONEBRIDGE, True, "2019-03-01")],
    },
    {
        "id": JOSE,
        "first_name": "José",
        "last_name": "García López",
        "email": "jgarcia@stonebridge-logistics.de",
        "organization_id": STONEBRIDGE,
        "employment_history": [_job("Stonebridge Logistics", STONEBRIDGE, True, "2020-05-01")],
    },
    {
        "id": JOHN_A,
        "first_name": "John",
        "last_name": "Smith",
        "email": "john.smith@acmewidgets.com",
        "organization_id": ACME,
        "employment_history": [_job("Acme Widgets", ACME, True, "2018-01-01")],
    },
    {
        "id": JOHN_B,
        "first_name": "John",
        "last_name": "Smith",
        "email": "jsmith@acmewidgets.com",
        "organization_id": ACME,
        "employment_history": [_job("Acme Widgets", ACME, True, "2021-01-01")],
    },
    {
        "id": CATHERINE,
        "first_name": "Catherine",
        "last_name": "Kowalski",
        "email": "catherine@apollo.io",
        "organization_id": APOLLO,
        "employment_history": [_job("Apollo", APOLLO, True, "2022-01-01")],
    },
    {
        "id": MARIA,
        "first_name": "Maria",
        "last_name": "Sanchez",
        "email": "maria@braingenie.com",
        "organization_id": BRAINGENIE,
        "employment_history": [
            _job("Braingenie", BRAINGENIE, True, "2023-01-01"),
            _job("Apollo", APOLLO, False, "2019-01-01"),
        ],
    },
]


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


@pytest.fixture
async def repository(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with ORGANIZATIONS and PEOPLE imported."""
    organizations = await import_records(engine, "organizations", enumerate(ORGANIZATIONS, 1))
    people = await import_records(engine, "people", enumerate(PEOPLE, 1))
    assert not organizations.errors and not people.errors
    return engine

"""A repository for the enrichment endpoint tests, imported through the real importer into the
app's database (SQLite, and PostgreSQL when configured): the companies and people of the
reference docs' enrichment examples, plus people for GDPR, nicknames and typos. Settings let
webhooks reach a real receiver on loopback; the tests run the worker themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from perilune.config import Settings
from perilune.repository.importer import import_records
from perilune.runtime import Runtime
from tests.webhooks.conftest import SIGNING_KEY, Receiver

APOLLO = "5e66b6381e05b4008c8331b8"
OUTREACH = "55ea57fdf3e5bb1430000ac7"
MICROSOFT = "5d09312ca3ae61489386b467"
BRAINGENIE = "5e66b6381e05b4008c8331b9"
STONEBRIDGE = "5e66b6381e05b4008c8331ba"

TIM = "6453e9bd8f50d40001f1e348"
ROY = "611c931f1b404b00014e884c"
ROBERT = "6453e9bd8f50d40001f1e349"
CATHERINE = "6453e9bd8f50d40001f1e34d"
MARIA = "6453e9bd8f50d40001f1e34e"

TIM_MOBILE = "+1 415-555-0164"

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "id": APOLLO,
        "name": "Apollo.io",
        "website_url": "http://www.apollo.io",
        "linkedin_url": "http://www.linkedin.com/company/apolloio",
        "phone": "+1 415-640-9303",
        "industry": "information technology & services",
        "keywords": ["sales engagement", "lead generation"],
        "estimated_num_employees": 1200,
        "founded_year": 2015,
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
    },
    {
        "id": OUTREACH,
        "name": "Outreach, Inc.",
        "website_url": "http://www.outreach.com",
        "linkedin_url": "http://www.linkedin.com/company/outreach-inc-",
        "industry": "marketing & advertising",
        "estimated_num_employees": 170,
    },
    {
        "id": MICROSOFT,
        "name": "Microsoft",
        "website_url": "http://www.microsoft.com",
        "linkedin_url": "http://www.linkedin.com/company/microsoft",
        "estimated_num_employees": 220000,
    },
    {
        "id": BRAINGENIE,
        "name": "Braingenie",
        "primary_domain": "braingenie.com",
        "estimated_num_employees": 12,
    },
    {
        "id": STONEBRIDGE,
        "name": "Stonebridge Logistics GmbH",
        "primary_domain": "stonebridge-logistics.de",
        "city": "Hamburg",
        "country": "Germany",
    },
]


def _job(name: str, organization_id: str | None, current: bool, start: str, title: str) -> dict[str, Any]:
    return {
        "organization_name": name,
        "organization_id": organization_id,
        "current": current,
        "start_date": start,
        "title": title,
    }


PEOPLE: list[dict[str, Any]] = [
    {
        "id": TIM,
        "first_name": "Tim",
        "last_name": "Zheng",
        "title": "Founder & CEO",
        "email": "tim@apollo.io",
        "email_status": "verified",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        "personal_emails": ["tim.zheng@gmail.com"],
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
        "organization_id": APOLLO,
        "phone_numbers": [
            {"raw_number": "+1 415-640-9303", "type": "work_hq"},
            {"raw_number": TIM_MOBILE, "type": "mobile"},
        ],
        "employment_history": [
            _job("Apollo", APOLLO, True, "2016-01-01", "Founder & CEO"),
            _job("Braingenie", BRAINGENIE, False, "2011-01-01", "Founder & CEO"),
        ],
    },
    {
        "id": ROY,
        "first_name": "Roy",
        "last_name": "Chung",
        "title": "Entrepreneur",
        "email": "roy@apollo.io",
        "email_status": "verified",
        "linkedin_url": "http://www.linkedin.com/in/royychung",
        "personal_emails": ["royychung@gmail.com"],
        "city": "New York",
        "state": "New York",
        "country": "United States",
        "organization_id": APOLLO,
        "employment_history": [_job("Apollo", APOLLO, True, "2022-07-01", "Entrepreneur")],
    },
    {
        # In Germany: personal emails are never revealed.
        "id": ROBERT,
        "first_name": "Robert",
        "last_name": "Mueller",
        "title": "Head of Operations",
        "email": "robert.mueller@stonebridge-logistics.de",
        "email_status": "verified",
        "personal_emails": ["robert.mueller@web.de"],
        "city": "Hamburg",
        "country": "Germany",
        "organization_id": STONEBRIDGE,
        "phone_numbers": [{"raw_number": "+49 40 5555 0123", "type": "mobile"}],
        "employment_history": [_job("Stonebridge Logistics", STONEBRIDGE, True, "2019-03-01", "Head of Ops")],
    },
    {
        "id": CATHERINE,
        "first_name": "Catherine",
        "last_name": "Kowalski",
        "title": "Account Executive",
        "email": "catherine@apollo.io",
        "email_status": "verified",
        "country": "United States",
        "organization_id": APOLLO,
        "employment_history": [_job("Apollo", APOLLO, True, "2022-01-01", "Account Executive")],
    },
    {
        # No location known: whether she lives in a GDPR region cannot be told.
        "id": MARIA,
        "first_name": "Maria",
        "last_name": "Sanchez",
        "title": "Engineer",
        "email": "maria@braingenie.com",
        "email_status": "verified",
        "personal_emails": ["maria.sanchez@gmail.com"],
        "organization_id": BRAINGENIE,
        "employment_history": [_job("Braingenie", BRAINGENIE, True, "2023-01-01", "Engineer")],
    },
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private_networks": True,
            "webhook_signing_key": SecretStr(SIGNING_KEY),
            "webhook_timeout_seconds": 2.0,
            "run_worker": False,
        }
    )


@pytest.fixture
async def repository(runtime: Runtime) -> None:
    """ORGANIZATIONS and PEOPLE imported into the app's database."""
    organizations = await import_records(runtime.engine, "organizations", enumerate(ORGANIZATIONS, 1))
    people = await import_records(runtime.engine, "people", enumerate(PEOPLE, 1))
    assert not organizations.errors and not people.errors, (organizations.errors, people.errors)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()

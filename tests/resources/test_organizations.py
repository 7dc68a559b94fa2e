"""GET /organizations/{id} and GET /organizations/{organization_id}/job_postings against a real
database (SQLite and PostgreSQL): shapes, errors and credits."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.clock import FrozenClock
from perilune.models import CreditLedgerEntry, Organization
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant, spend_credits
from tests.search.rows import OrgSpec, add_job_posting, add_organization

PREFIXES = ("/api/v1", "/v1")
APOLLO_OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")


async def seed_org(runtime: Runtime, spec: OrgSpec | None = None) -> Organization:
    async with runtime.sessions() as session, session.begin():
        return await add_organization(session, spec or OrgSpec())


async def get(client: httpx.AsyncClient, key: str, path: str, **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers={"x-api-key": key})


async def spent(runtime: Runtime, team_id: str) -> list[tuple[int, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CreditLedgerEntry.amount, CreditLedgerEntry.endpoint).where(
                CreditLedgerEntry.team_id == team_id, CreditLedgerEntry.credit_type == "lead_credit"
            )
        )
        return [(amount, endpoint) for amount, endpoint in rows]


# ---------------------------------------------------------------------------------------------
# GET /organizations/{id}


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_organization_shape(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str
) -> None:
    org = await seed_org(runtime)
    response = await get(client, tenant.master_key, f"{prefix}/organizations/{org.id}")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"organization"}
    body = response.json()["organization"]
    assert body["id"] == org.id
    assert (body["name"], body["primary_domain"], body["website_url"]) == (
        "Sumware Software",
        "sumware.com",
        "http://www.sumware.com",
    )
    assert (body["industry"], body["estimated_num_employees"], body["founded_year"]) == (
        "computer software",
        250,
        2012,
    )
    assert body["annual_revenue"] == 42_500_000.0
    assert (body["city"], body["state"], body["country"]) == ("San Francisco", "California", "United States")
    assert body["keywords"] == ["sales engagement", "b2b", "saas"]
    assert body["technology_names"] == ["Salesforce", "Google Analytics"]
    assert body["current_technologies"][0] == {"uid": "salesforce", "name": "Salesforce", "category": "Other"}
    assert body["primary_phone"] == {"number": "+1 415-555-0100", "source": "Owler"}
    for field in ("industries", "secondary_industries", "suborganizations", "funding_events", "languages"):
        assert isinstance(body[field], list), field
    assert "account" not in body and "account_id" not in body


async def test_an_organization_without_optional_data(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org = await seed_org(
        runtime, OrgSpec(name="Bare Co", domain=None, industry=None, employees=None, phone=None)
    )
    body = (await get(client, tenant.master_key, f"/api/v1/organizations/{org.id}")).json()["organization"]
    assert (body["primary_domain"], body["industry"], body["estimated_num_employees"]) == (None, None, None)
    assert body["industries"] == []
    assert body["primary_phone"] == {}


async def test_each_organization_shown_costs_one_credit(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org = await seed_org(runtime)
    for _ in range(2):
        assert (await get(client, tenant.master_key, f"/v1/organizations/{org.id}")).status_code == 200
    assert await spent(runtime, tenant.team_id) == [(-1, "api/v1/organizations/show")] * 2
    stats = await client.post("/v1/usage_stats/credit_usage_stats", headers={"x-api-key": tenant.master_key})
    assert stats.json()["credit_usage_stats"]["lead_credit"]["consumed"] == 2


async def test_organization_errors(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    response = await get(client, tenant.master_key, "/api/v1/organizations/not-an-id")
    assert response.status_code == 422
    assert response.json() == {"error": "Parameters misconfigured. id is not a valid ID"}
    response = await get(client, tenant.master_key, f"/api/v1/organizations/{'0' * 24}")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found."}
    assert await spent(runtime, tenant.team_id) == []


async def test_without_credits_no_organization_is_shown(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    org = await seed_org(runtime)
    await spend_credits(runtime, clock, tenant.team_id, "lead_credit", 10000)
    response = await get(client, tenant.master_key, f"/api/v1/organizations/{org.id}")
    assert response.status_code == 422
    assert response.json() == {"error": "Insufficient credits. Please upgrade your plan."}


# ---------------------------------------------------------------------------------------------
# GET /organizations/{organization_id}/job_postings


async def seed_postings(runtime: Runtime) -> tuple[Organization, list[str]]:
    """An organization with four postings (one undated) and another organization with one."""
    async with runtime.sessions() as session, session.begin():
        org = await add_organization(session, OrgSpec())
        other = await add_organization(session, OrgSpec(name="Other", domain="other.test"))
        await add_job_posting(session, other, "Not Ours", datetime(2024, 9, 1, tzinfo=UTC))
        undated = await add_job_posting(session, org, "Evergreen Role", None)
        old = await add_job_posting(
            session, org, "IT Support Analyst", datetime(2024, 8, 29, 19, 19, 10, 200000, UTC)
        )
        newest = await add_job_posting(
            session, org, "VP, Data", datetime(2024, 9, 10, 5, 36, 36, 635000, UTC)
        )
        middle = await add_job_posting(session, org, "Social Media Manager", datetime(2024, 9, 1, tzinfo=UTC))
    return org, [newest.id, middle.id, old.id, undated.id]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_job_postings_shape_and_order(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str
) -> None:
    org, order = await seed_postings(runtime)
    response = await get(client, tenant.master_key, f"{prefix}/organizations/{org.id}/job_postings")
    assert response.status_code == 200, response.text
    body = response.json()
    postings = body["organization_job_postings"]
    assert [p["id"] for p in postings] == order
    first = postings[0]
    assert set(first) == {"id", "title", "url", "city", "state", "country", "last_seen_at", "posted_at"}
    assert first["title"] == "VP, Data"
    assert first["posted_at"] == "2024-09-10T05:36:36.635+00:00"
    assert APOLLO_OFFSET_TIME.match(first["last_seen_at"])
    assert (first["city"], first["state"], first["country"]) == (None, None, "United States")
    assert postings[-1]["posted_at"] is None
    assert body["pagination"] == {"page": 1, "per_page": 10000, "total_entries": 4, "total_pages": 1}


async def test_job_postings_pages_cost_one_credit_each(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    org, order = await seed_postings(runtime)
    path = f"/api/v1/organizations/{org.id}/job_postings"
    pages = [await get(client, tenant.master_key, path, page=page, per_page=3) for page in (1, 2, 3)]
    assert [[p["id"] for p in r.json()["organization_job_postings"]] for r in pages] == [
        order[:3],
        order[3:],
        [],
    ]
    assert pages[0].json()["pagination"] == {"page": 1, "per_page": 3, "total_entries": 4, "total_pages": 2}
    # Two pages held postings; the empty third page is free.
    assert await spent(runtime, tenant.team_id) == [(-1, "api/v1/organizations/job_postings")] * 2


async def test_job_postings_errors(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    response = await get(client, tenant.master_key, "/api/v1/organizations/xyz/job_postings")
    assert response.status_code == 422
    assert response.json() == {"error": "Parameters misconfigured. organization_id is not a valid ID"}
    response = await get(client, tenant.master_key, f"/api/v1/organizations/{'a' * 24}/job_postings")
    assert response.status_code == 404
    response = await get(client, tenant.master_key, f"/api/v1/organizations/{'a' * 24}/job_postings", page=0)
    assert response.status_code == 422
    assert await spent(runtime, tenant.team_id) == []


async def test_job_postings_of_an_organization_without_any(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    org = await seed_org(runtime)
    other = await make_tenant(runtime, clock, name="Globex")
    response = await get(client, other.master_key, f"/v1/organizations/{org.id}/job_postings")
    assert response.status_code == 200
    assert response.json()["organization_job_postings"] == []
    assert await spent(runtime, other.team_id) == []

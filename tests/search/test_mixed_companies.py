"""POST /mixed_companies/search through HTTP against the hand-built repository (SQLite and
PostgreSQL): the documented shape and breadcrumbs, the organization object GET
/organizations/{id} shows, pages, credits and plans. Each filter's semantics are in
test_filters_semantics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.search.endpoints import crumb, post, running_app, spent
from tests.search.mixed_repository import Seeded, seed_repository

SEARCH = "/mixed_companies/search"
DOCS_SAMPLE = {
    "page": 1,
    "per_page": 10,
    "organization_num_employees_ranges": ["1,100", "1,1000"],
    "organization_locations": ["United States"],
    "q_organization_keyword_tags": ["sales strategy", "lead"],
    "q_organization_name": "Lone Star",
}


@pytest.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    return await seed_repository(engine)


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock, seeded: Seeded) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock) as application:
        yield application


async def ok(client: httpx.AsyncClient, key: str, body: Any, prefix: str = "/api/v1") -> Any:
    response = await post(client, SEARCH, key, body, prefix)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_the_docs_sample(
    client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded, prefix: str
) -> None:
    body = await ok(client, tenant.master_key, DOCS_SAMPLE, prefix)
    assert set(body) == {
        "breadcrumbs",
        "partial_results_only",
        "has_join",
        "disable_eu_prospecting",
        "partial_results_limit",
        "pagination",
        "accounts",
        "organizations",
        "model_ids",
        "num_fetch_result",
        "derived_params",
    }
    assert body["breadcrumbs"] == [
        crumb("Company Name", "q_organization_name", "Lone Star", "Lone Star"),
        crumb("# Employees", "organization_num_employees_ranges", "1,100", "1-100"),
        crumb("# Employees", "organization_num_employees_ranges", "1,1000", "1-1000"),
        crumb("Company Locations", "organization_locations", "United States", "United States"),
        crumb(
            "Company Keywords Contain ANY Of",
            "q_organization_keyword_tags",
            "sales strategy",
            "sales strategy",
        ),
        crumb("Company Keywords Contain ANY Of", "q_organization_keyword_tags", "lead", "lead"),
    ]
    assert body["pagination"] == {"page": 1, "per_page": 10, "total_entries": 1, "total_pages": 1}
    assert body["accounts"] == []  # no CRM accounts yet
    [org] = body["organizations"]
    assert body["model_ids"] == [org["id"]] == [seeded.organizations["lonestar"]]
    assert (org["name"], org["primary_domain"], org["estimated_num_employees"]) == (
        "Lone Star Analytics",
        "lonestar.io",
        50,
    )
    assert org["keywords"] == ["data analytics", "sales strategy"]
    assert [t["uid"] for t in org["current_technologies"]] == ["google_analytics", "hubspot"]
    assert (org["city"], org["state"], org["country"]) == ("Austin", "Texas", "United States")


async def test_organizations_render_as_organizations_show(
    client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded
) -> None:
    body = await ok(client, tenant.master_key, {"q_organization_domains_list": ["sumware.com"]})
    [found] = body["organizations"]
    shown = await client.get(f"/api/v1/organizations/{found['id']}", headers={"x-api-key": tenant.master_key})
    assert shown.status_code == 200
    assert shown.json()["organization"] == found


async def test_pages_and_the_display_cap(client: httpx.AsyncClient, tenant: Tenant) -> None:
    pages = [await ok(client, tenant.master_key, {"per_page": 4, "page": n}) for n in (1, 2, 3)]
    assert [len(p["organizations"]) for p in pages] == [4, 2, 0]
    assert [p["pagination"] for p in pages] == [
        {"page": n, "per_page": 4, "total_entries": 6, "total_pages": 2} for n in (1, 2, 3)
    ]
    ids = [o["id"] for p in pages for o in p["organizations"]]
    assert len(set(ids)) == 6 and ids == sorted(ids, reverse=True)
    over = await post(client, SEARCH, tenant.master_key, {"per_page": 50, "page": 1001})
    assert over.status_code == 422
    assert over.json() == {"error": "Invalid parameter passed in. Page * per page number is over threshold."}


async def test_one_credit_per_page_that_holds_organizations(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await ok(client, tenant.master_key, {"q_organization_name": "no such company"})
    assert await spent(runtime, tenant.team_id, "lead_credit") == 0
    await ok(client, tenant.master_key, {"per_page": 100})
    await ok(client, tenant.master_key, {"per_page": 2, "page": 3})
    assert await spent(runtime, tenant.team_id, "lead_credit") == 2


async def test_free_plans_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    response = await post(client, SEARCH, free.master_key, {})
    assert response.status_code == 403
    assert response.json() == {"message": "This endpoint is only available to Apollo users on paid plans."}


async def test_saved_accounts_only(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await ok(client, tenant.master_key, {"prospected_by_current_team": ["yes"]})
    assert (body["accounts"], body["organizations"], body["pagination"]["total_entries"]) == ([], [], 0)

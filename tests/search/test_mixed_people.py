"""POST /mixed_people/search (legacy) and /mixed_people/api_search through HTTP, against the
hand-built repository (SQLite and PostgreSQL): the documented shapes, locked emails until a
team reveals a person, pages under Apollo's display cap, credits, plans and scopes, the
parameter dialects, and the answer while no index exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.app import create_app
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.models import PersonReveal
from perilune.resources.mixed_companies.schemas import OVER_THRESHOLD, PER_PAGE_ZERO
from perilune.resources.people.schemas import LOCKED_EMAIL
from perilune.runtime import Runtime
from tests.conftest import Tenant, asgi_client, make_scoped_key, make_tenant
from tests.search.endpoints import crumb, post, running_app, spent
from tests.search.mixed_repository import Seeded, seed_repository

LEGACY = "/mixed_people/search"
API = "/mixed_people/api_search"
# The legacy docs' sample request, with this repository's domains.
DOCS_SAMPLE = {
    "q_organization_domains": "sumware.com\nlonestar.io",
    "page": 1,
    "per_page": 10,
    "organization_locations": ["California, US"],
    "person_seniorities": ["senior", "manager"],
    "organization_num_employees_ranges": ["1,1000000"],
    "person_titles": ["sales manager", "engineer manager"],
}


@pytest.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    return await seed_repository(engine)


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock, seeded: Seeded) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock) as application:
        yield application


async def ok(
    client: httpx.AsyncClient, path: str, key: str, body: Any = None, prefix: str = "/api/v1"
) -> Any:
    response = await post(client, path, key, body, prefix)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_the_legacy_docs_sample(
    client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded, prefix: str
) -> None:
    body = await ok(client, LEGACY, tenant.master_key, DOCS_SAMPLE, prefix)
    assert set(body) == {
        "breadcrumbs",
        "partial_results_only",
        "disable_eu_prospecting",
        "partial_results_limit",
        "pagination",
        "contacts",
        "people",
        "num_fetch_result",
    }
    assert body["breadcrumbs"] == [
        crumb("Titles", "person_titles", "sales manager", "sales manager"),
        crumb("Titles", "person_titles", "engineer manager", "engineer manager"),
        crumb("# Employees", "organization_num_employees_ranges", "1,1000000", "1-1000000"),
        crumb("Management Level", "person_seniorities", "senior", "Senior"),
        crumb("Management Level", "person_seniorities", "manager", "Manager"),
        crumb("Company Locations", "organization_locations", "California, US", "California, US"),
        crumb(
            "Company Domains",
            "q_organization_domains",
            ["sumware.com", "lonestar.io"],
            "sumware.com, lonestar.io",
        ),
    ]
    assert body["pagination"] == {"page": 1, "per_page": 10, "total_entries": 1, "total_pages": 1}
    assert (body["partial_results_only"], body["partial_results_limit"]) == (False, 10000)
    assert body["contacts"] == []
    [mia] = body["people"]
    assert mia["id"] == seeded.people["mia"]
    assert (mia["name"], mia["title"]) == ("Mia Lindqvist", "Senior Sales Manager, EMEA")
    assert (mia["email"], mia["email_status"]) == (LOCKED_EMAIL, "verified")
    assert mia["organization"]["name"] == "Sumware Software"
    assert mia["organization_id"] == seeded.organizations["sumware"]
    current, former = mia["employment_history"]
    assert (current["current"], current["organization_id"]) == (True, seeded.organizations["sumware"])
    assert (former["organization_name"], former["end_date"]) == ("Braingenie", "2021-02-01")
    assert mia["seniority"] == "manager"
    assert mia["revealed_for_current_team"] is False


async def test_emails_are_locked_until_the_team_reveals_them(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, seeded: Seeded
) -> None:
    query = {"q_organization_domains_list": ["sumware.com"], "per_page": 100}

    def emails(body: Any) -> dict[str, Any]:
        return {seeded.names([p["id"]]).pop(): p["email"] for p in body["people"]}

    before = emails(await ok(client, LEGACY, tenant.master_key, query))
    # Verified addresses are locked; a guessed one is shown, as GET /people/{id} shows it.
    assert before == {
        "ava": LOCKED_EMAIL,
        "ben": "ben@sumware.com",
        "jose": LOCKED_EMAIL,
        "mia": LOCKED_EMAIL,
    }
    async with runtime.sessions() as session, session.begin():
        session.add(PersonReveal(team_id=tenant.team_id, person_id=seeded.people["ava"]))
    after = emails(await ok(client, LEGACY, tenant.master_key, query))
    assert after == {**before, "ava": "ava@sumware.com"}
    # Another team's reveal unlocks nothing for this one.
    other = await make_tenant(runtime, clock, name="Other")
    assert emails(await ok(client, LEGACY, other.master_key, query)) == before


async def test_api_search_is_lean(client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded) -> None:
    body = await ok(client, API, tenant.master_key, {"person_locations": ["California, US"]})
    assert set(body) == {"total_entries", "people"}
    assert body["total_entries"] == 2
    people = {seeded.names([p["id"]]).pop(): p for p in body["people"]}
    ava, ben = people["ava"], people["ben"]
    assert set(ava) == {
        "id",
        "first_name",
        "last_name_obfuscated",
        "title",
        "last_refreshed_at",
        "has_email",
        "has_city",
        "has_state",
        "has_country",
        "has_direct_phone",
        "organization",
    }
    assert (ava["first_name"], ava["last_name_obfuscated"], ava["title"]) == ("Ava", "R***z", "VP of Sales")
    assert "Ruiz" not in str(body) and "ava@sumware.com" not in str(body)
    assert (ava["has_email"], ben["has_email"]) == (True, False)  # verified, guessed
    assert ava["has_direct_phone"] == "Yes"  # a mobile number
    assert ben["has_direct_phone"].startswith("Maybe")  # only the switchboard
    assert ava["last_refreshed_at"].endswith("+00:00")
    assert ava["organization"] == {
        "name": "Sumware Software",
        "has_industry": True,
        "has_phone": True,
        "has_city": True,
        "has_state": True,
        "has_country": True,
        "has_zip_code": True,
        "has_revenue": True,
        "has_employee_count": True,
    }
    farid = (await ok(client, API, tenant.master_key, {"q_keywords": "farid"}))["people"]
    assert farid[0]["organization"] == {}  # no employer


async def test_pages(client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded) -> None:
    query = {"person_locations": ["United States"], "per_page": 3}
    pages = [await ok(client, LEGACY, tenant.master_key, {**query, "page": n}) for n in (1, 2, 3, 4)]
    assert [p["pagination"] for p in pages] == [
        {"page": n, "per_page": 3, "total_entries": 7, "total_pages": 3} for n in (1, 2, 3, 4)
    ]
    ids = [person["id"] for page in pages for person in page["people"]]
    assert len(ids) == 7 and ids == sorted(ids, reverse=True)
    lean = [await ok(client, API, tenant.master_key, {**query, "page": n}) for n in (1, 2, 3)]
    assert [person["id"] for page in lean for person in page["people"]] == ids
    assert {page["total_entries"] for page in lean} == {7}


async def test_the_display_cap(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # More than 100 a page shows 100; no page may reach past the 50,000th record.
    body = await ok(client, LEGACY, tenant.master_key, {"per_page": 500})
    assert body["pagination"]["per_page"] == 100
    assert len(body["people"]) == 13
    last = await ok(client, API, tenant.master_key, {"per_page": 100, "page": 500})
    assert last == {"total_entries": 13, "people": []}
    for path in (LEGACY, API):
        over = await post(client, path, tenant.master_key, {"per_page": 100, "page": 501})
        assert (over.status_code, over.json()) == (422, {"error": OVER_THRESHOLD})
        zero = await post(client, path, tenant.master_key, {"per_page": 0})
        assert (zero.status_code, zero.json()) == (422, {"error": PER_PAGE_ZERO})
    fine = await ok(client, API, tenant.master_key, {"per_page": 10, "page": 5000})
    assert fine["people"] == []


async def test_credits(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    await ok(client, API, tenant.master_key, {})
    assert await spent(runtime, tenant.team_id, "export_credit") == 0
    await ok(client, LEGACY, tenant.master_key, {"person_titles": ["nobody has this title"]})
    assert await spent(runtime, tenant.team_id, "export_credit") == 0
    await ok(client, LEGACY, tenant.master_key, {"per_page": 100})
    await ok(client, LEGACY, tenant.master_key, {"per_page": 1, "page": 2})
    assert await spent(runtime, tenant.team_id, "export_credit") == 2  # one a page that holds people


async def test_plans_and_scopes(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    legacy = await post(client, LEGACY, free.master_key, {})
    assert legacy.status_code == 403
    assert legacy.json() == {"message": "This endpoint is only available to Apollo users on paid plans."}
    assert (await post(client, API, free.master_key, {})).status_code == 200
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/mixed_people/api_search")
    assert (await post(client, API, scoped, {})).status_code == 200
    refused = await post(client, LEGACY, scoped, {})
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "API_INACCESSIBLE"
    assert "api/v1/mixed_people/search" in refused.json()["error"]
    assert (await client.post("/api/v1" + API, json={})).status_code == 401


async def test_query_string_dialects(client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded) -> None:
    key = {"x-api-key": tenant.master_key}
    query = (
        "person_titles[]=sales%20manager&person_locations[]=texas&organization_num_employees_ranges[]=1,100"
    )
    response = await client.post(f"/api/v1{API}?{query}", headers=key)
    assert response.status_code == 200, response.text
    assert seeded.names(p["id"] for p in response.json()["people"]) == {"liam"}
    # The spec's names as JSON keys, and nested ranges as flat keys.
    body = {
        "person_titles[]": ["sales manager"],
        "revenue_range[min]": "5000000",
        "revenue_range[max]": 50000000,
    }
    names = seeded.names(p["id"] for p in (await ok(client, API, tenant.master_key, body))["people"])
    assert names == {"mia", "liam"}
    legacy = await client.post(f"/v1{LEGACY}?api_key={tenant.master_key}&q_keywords=jose&per_page=1")
    assert legacy.status_code == 200 and legacy.json()["pagination"]["total_entries"] == 1


async def test_saved_and_net_new(client: httpx.AsyncClient, tenant: Tenant) -> None:
    saved_only = await ok(client, LEGACY, tenant.master_key, {"prospected_by_current_team": ["yes"]})
    assert (saved_only["contacts"], saved_only["people"]) == ([], [])  # no CRM contacts yet
    assert saved_only["pagination"]["total_entries"] == 0
    net_new = await ok(client, LEGACY, tenant.master_key, {"prospected_by_current_team": ["no"]})
    assert net_new["pagination"]["total_entries"] == 13
    wrong = await post(client, LEGACY, tenant.master_key, {"prospected_by_current_team": ["maybe"]})
    assert wrong.status_code == 422 and "prospected_by_current_team" in wrong.json()["error"]


async def test_bad_values_get_apollo_422s(client: httpx.AsyncClient, tenant: Tenant) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"organization_num_employees_ranges": ["ten to twenty"]}, "organization_num_employees_ranges"),
        ({"revenue_range": {"min": "1,000,000"}}, "revenue_range"),
        ({"organization_job_posted_at_range": {"min": "yesterday"}}, "organization_job_posted_at_range"),
        ({"person_titles": [{"a": 1}]}, "person_titles"),
        ({"include_similar_titles": "perhaps"}, "include_similar_titles"),
        ({"page": "two"}, "page"),
        ({"q_organization_domains_list": [f"d{i}.test" for i in range(1001)]}, "q_organization_domains_list"),
    ]
    for body, named in cases:
        response = await post(client, API, tenant.master_key, body)
        assert response.status_code == 422, (body, response.text)
        assert set(response.json()) == {"error"} and named in response.json()["error"], response.text


async def test_no_index_yet_is_a_503(settings: Settings, clock: FrozenClock, runtime: Runtime) -> None:
    # A process that may not build the index, with no index built by anyone.
    reader = settings.model_copy(update={"index_writer": False, "index_dir": settings.data_dir / "elsewhere"})
    lonely = create_app(reader, clock)
    async with LifespanManager(lonely), asgi_client(lonely) as client:
        tenant = await make_tenant(lonely.state.runtime, clock, name="Early")
        response = await post(client, API, tenant.master_key, {})
    assert response.status_code == 503
    assert response.json() == {"error": "The search index is not ready yet; try again in a moment."}
    assert response.headers["retry-after"] == "5"

"""Deal lists: the legacy GET /opportunities and GET/POST /opportunities/search, on deals whose
right order is known: each documented sort, the filters, pagination, plan and team isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, call, ok
from tests.crm.test_opportunities import add_account, create, stage_ids

# name -> (amount, stage): created in this order, a minute apart.
BOOK = {
    "Small open": ("100", "Qualify"),
    "Big won": ("9000", "Closed Won"),
    "Mid lost": ("500", "Closed Lost"),
    "Huge open": ("20000", "Commit"),
    "No amount": (None, "Educate"),
}
NEWEST_FIRST = ["No amount", "Huge open", "Mid lost", "Big won", "Small open"]


@pytest.fixture
async def book(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> dict[str, str]:
    """The team's deals by name -> id."""
    stages = await stage_ids(runtime, tenant.team_id)
    ids = {}
    for name, (amount, stage) in BOOK.items():
        params: dict[str, Any] = {"name": name, "opportunity_stage_id": stages[stage]}
        if amount is not None:
            params["amount"] = amount
        ids[name] = (await create(client, tenant.master_key, **params))["id"]
        clock.advance(60)
    return ids


async def names(
    client: httpx.AsyncClient, key: str, params: dict[str, Any], *, method: str = "POST"
) -> list[str]:
    dialect = "json" if method == "POST" else "query"
    body = await ok(await call(client, method, "/api/v1/opportunities/search", key, params, dialect=dialect))
    return [deal["name"] for deal in body["opportunities"]]


async def test_the_legacy_list_answers_every_deal_with_its_account(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, book: dict[str, str]
) -> None:
    account_id = await add_account(runtime, clock, tenant.team_id)
    await ok(
        await call(
            client,
            "PATCH",
            f"/v1/opportunities/{book['Big won']}",
            tenant.master_key,
            {"account_id": account_id},
        )
    )
    body = await ok(await call(client, "GET", "/v1/opportunities", tenant.master_key, dialect="query"))
    assert body["breadcrumbs"] == []
    assert [deal["name"] for deal in body["opportunities"]] == NEWEST_FIRST
    won = next(deal for deal in body["opportunities"] if deal["name"] == "Big won")
    assert won["account"]["id"] == account_id and won["account"]["num_contacts"] == 0
    assert all("account" not in deal for deal in body["opportunities"] if deal["name"] != "Big won")
    assert body["pagination"] == {"page": 1, "per_page": 25, "total_entries": 5, "total_pages": 1}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_spec_search_on_get_and_post_in_each_dialect(
    client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str], dialect: str
) -> None:
    for method in ("GET", "POST"):
        response = await call(
            client,
            method,
            "/api/v1/opportunities/search",
            tenant.master_key,
            {"sort_by_field": "amount"},
            dialect=dialect,
        )
        body = await ok(response)
        assert set(body) == {
            "breadcrumbs", "opportunities", "salesforce_users", "partial_results_only", "has_join",
            "disable_eu_prospecting", "partial_results_limit", "pagination", "num_fetch_result",
        }  # fmt: skip
        assert [deal["name"] for deal in body["opportunities"]] == [
            "Huge open", "Big won", "Mid lost", "Small open", "No amount",
        ]  # fmt: skip


async def test_each_documented_sort(client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str]) -> None:
    key = tenant.master_key
    assert await names(client, key, {}) == NEWEST_FIRST
    assert await names(client, key, {"sort_by_field": "amount", "sort_ascending": True}) == [
        "Small open", "Mid lost", "Big won", "Huge open", "No amount",
    ]  # fmt: skip
    # Closed deals first (newest first among equals), then won deals first.
    assert await names(client, key, {"sort_by_field": "is_closed"}) == [
        "Mid lost", "Big won", "No amount", "Huge open", "Small open",
    ]  # fmt: skip
    assert (await names(client, key, {"sort_by_field": "is_won"}))[0] == "Big won"
    response = await call(client, "POST", "/api/v1/opportunities/search", key, {"sort_by_field": "name"})
    assert (response.status_code, response.json()) == (422, {"error": "Invalid sort criteria"})


async def test_filters_and_pagination(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, book: dict[str, str]
) -> None:
    stages = await stage_ids(runtime, tenant.team_id)
    key = tenant.master_key
    closed = [stages["Closed Won"], stages["Closed Lost"]]
    assert await names(client, key, {"opportunity_stage_ids": closed}) == ["Mid lost", "Big won"]
    assert await names(client, key, {"opportunity_stage_ids[]": stages["Commit"]}, method="GET") == [
        "Huge open"
    ]
    assert await names(client, key, {"owner_ids": [tenant.user_id]}) == NEWEST_FIRST
    response = await call(client, "POST", "/api/v1/opportunities/search", key, {"owner_ids": ["not-an-id"]})
    assert response.status_code == 422
    pages = []
    for page in (1, 2, 3):
        body = await ok(
            await call(client, "POST", "/api/v1/opportunities/search", key, {"page": page, "per_page": 2})
        )
        pages += [deal["name"] for deal in body["opportunities"]]
        assert body["pagination"] == {"page": page, "per_page": 2, "total_entries": 5, "total_pages": 3}
    assert pages == NEWEST_FIRST


async def test_another_team_sees_none_of_the_deals(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, book: dict[str, str]
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    mine = await create(client, other.master_key, name="Globex deal")
    assert await names(client, other.master_key, {}) == ["Globex deal"]
    body = await ok(await call(client, "GET", "/api/v1/opportunities", other.master_key, dialect="query"))
    assert [deal["id"] for deal in body["opportunities"]] == [mine["id"]]


async def test_deal_search_is_for_paid_plans(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    for method, path in (("GET", "/api/v1/opportunities/search"), ("GET", "/v1/opportunities")):
        response = await call(client, method, path, free.master_key, dialect="query")
        assert response.status_code == 403
        assert response.json() == {
            "message": "This endpoint is only available to Apollo users on paid plans."
        }

"""POST /news_articles/search against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.models import CreditLedgerEntry
from perilune.runtime import Runtime
from tests.conftest import Tenant
from tests.search.rows import OrgSpec, add_news_article, add_organization

PREFIXES = ("/api/v1", "/v1")
ENDPOINT = "api/v1/news_articles/search"


async def seed_news(runtime: Runtime) -> tuple[str, str, dict[str, str]]:
    async with runtime.sessions() as session, session.begin():
        acme = await add_organization(session, OrgSpec(name="Acme", domain="acme.test"))
        globex = await add_organization(session, OrgSpec(name="Globex", domain="globex.test"))
        articles = {
            "cmo": await add_news_article(
                session, acme, "Acme appoints a new CMO", datetime(2025, 5, 2, tzinfo=UTC), ["hires"]
            ),
            "series_b": await add_news_article(
                session,
                acme,
                "Acme raises a Series B",
                datetime(2025, 2, 15, 23, 59, tzinfo=UTC),
                ["investment", "Receives_Financing"],
            ),
            "contract": await add_news_article(
                session, acme, "Acme wins a contract", datetime(2024, 7, 2, 12, tzinfo=UTC), ["contract"]
            ),
            "globex": await add_news_article(
                session, globex, "Globex hires a CRO", datetime(2025, 3, 1, tzinfo=UTC), ["hires"]
            ),
            "undated": await add_news_article(session, acme, "Acme in the press", None, []),
        }
    return acme.id, globex.id, {name: article.id for name, article in articles.items()}


async def search(client: httpx.AsyncClient, key: str, prefix: str = "/api/v1", **body: Any) -> httpx.Response:
    return await client.post(f"{prefix}/news_articles/search", json=body, headers={"x-api-key": key})


async def found(client: httpx.AsyncClient, key: str, **body: Any) -> list[str]:
    response = await search(client, key, **body)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["news_articles"]]


async def charges(runtime: Runtime, team_id: str) -> list[tuple[int, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(CreditLedgerEntry.amount, CreditLedgerEntry.endpoint).where(
                CreditLedgerEntry.team_id == team_id
            )
        )
        return [(amount, endpoint) for amount, endpoint in rows]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_news_shape(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str) -> None:
    acme, _, ids = await seed_news(runtime)
    response = await search(client, tenant.master_key, prefix, organization_ids=[acme])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pagination"] == {"page": 1, "per_page": 25, "total_entries": 4, "total_pages": 1}
    articles = body["news_articles"]
    assert [a["id"] for a in articles] == [ids["cmo"], ids["series_b"], ids["contract"], ids["undated"]]
    first = articles[0]
    assert set(first) == {
        "id",
        "url",
        "domain",
        "title",
        "snippet",
        "organization_ids",
        "published_at",
        "event_categories",
    }
    assert first["organization_ids"] == [acme]
    assert first["published_at"] == "2025-05-02T00:00:00.000+00:00"
    assert first["event_categories"] == ["hires"]
    assert first["domain"] == "news.example.test"
    assert articles[-1]["event_categories"] == [] and articles[-1]["published_at"] is None


async def test_query_string_dialect(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    acme, globex, ids = await seed_news(runtime)
    query = (
        f"organization_ids[]={acme}&organization_ids[]={globex}&categories[]=hires"
        "&published_at[min]=2025-03-01&published_at[max]=2025-05-02"
    )
    response = await client.post(
        f"/v1/news_articles/search?{query}", headers={"x-api-key": tenant.master_key}
    )
    assert response.status_code == 200, response.text
    assert [a["id"] for a in response.json()["news_articles"]] == [ids["cmo"], ids["globex"]]


async def test_filters(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    acme, globex, ids = await seed_news(runtime)
    key = tenant.master_key
    assert await found(client, key, organization_ids=[globex]) == [ids["globex"]]
    assert await found(client, key, organization_ids=[acme], categories=["HIRES", "contract"]) == [
        ids["cmo"],
        ids["contract"],
    ]
    assert await found(client, key, organization_ids=[acme], categories=["receives_financing"]) == [
        ids["series_b"]
    ]
    # Both bounds are whole days, inclusive.
    window = {"min": "2025-02-15", "max": "2025-05-01"}
    assert await found(client, key, organization_ids=[acme, globex], published_at=window) == [
        ids["globex"],
        ids["series_b"],
    ]
    assert await found(client, key, organization_ids=[acme], published_at={"max": "2024-12-31"}) == [
        ids["contract"]
    ]
    assert await found(client, key, organization_ids=["0" * 24]) == []


async def test_pages(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    acme, _, ids = await seed_news(runtime)
    key = tenant.master_key
    first = await search(client, key, organization_ids=[acme], per_page=3)
    assert first.json()["pagination"] == {"page": 1, "per_page": 3, "total_entries": 4, "total_pages": 2}
    assert await found(client, key, organization_ids=[acme], per_page=3, page=2) == [ids["undated"]]
    assert await found(
        client, key, organization_ids=[acme], categories=["hires", "contract"], per_page=1, page=2
    ) == [ids["contract"]]
    capped = await search(client, key, organization_ids=[acme], per_page=500)
    assert capped.json()["pagination"]["per_page"] == 25


async def test_each_page_with_articles_costs_one_credit(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    acme, _, _ = await seed_news(runtime)
    key = tenant.master_key
    await found(client, key, organization_ids=[acme], per_page=2, page=1)
    await found(client, key, organization_ids=[acme], per_page=2, page=2)
    await found(client, key, organization_ids=[acme], per_page=2, page=3)  # empty: free
    assert await charges(runtime, tenant.team_id) == [(-1, ENDPOINT)] * 2
    stats = await client.post("/api/v1/usage_stats/credit_usage_stats", headers={"x-api-key": key})
    assert stats.json()["credit_usage_stats"]["lead_credit"]["consumed"] == 2


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "organization_ids is required"),
        ({"organization_ids": []}, "organization_ids is required"),
        ({"organization_ids": [""]}, "organization_ids is required"),
    ],
)
async def test_organization_ids_are_required(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, body: dict[str, Any], error: str
) -> None:
    response = await search(client, tenant.master_key, **body)
    assert response.status_code == 422
    assert response.json() == {"error": error}


async def test_bad_dates_are_422(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    acme, _, _ = await seed_news(runtime)
    response = await search(
        client, tenant.master_key, organization_ids=[acme], published_at={"min": "2025-13-45"}
    )
    assert response.status_code == 422
    assert "published_at" in response.json()["error"]
    assert await charges(runtime, tenant.team_id) == []

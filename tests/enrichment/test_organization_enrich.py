"""GET/POST /organizations/enrich and POST /organizations/bulk_enrich: the reference docs'
examples, every form of a domain, misses, credits, limits and dialects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.runtime import Runtime
from tests.conftest import Tenant
from tests.enrichment.conftest import APOLLO, MICROSOFT, OUTREACH
from tests.enrichment.support import PREFIXES, answer, call, consumed, ledger

pytestmark = pytest.mark.usefixtures("repository")

ENRICH = "api/v1/organizations/enrich"
BULK_ENRICH = "api/v1/organizations/bulk_enrich"
BULK_KEYS = {
    "status", "error_code", "error_message", "total_requested_records", "total_requested_domains",
    "unique_domains", "unique_records", "unique_enriched_records", "missing_records", "organizations",
}  # fmt: skip


async def enriched(client: httpx.AsyncClient, key: str, query: str) -> Any:
    response = await client.get(f"/api/v1/organizations/enrich?{query}", headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_reference_example(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str
) -> None:
    # The legacy docs' request: GET with the key and the domain in the query string. It must
    # not be taken for GET /organizations/{id} with the id "enrich".
    url = f"{prefix}/organizations/enrich?api_key={tenant.master_key}&domain=apollo.io"
    response = await client.get(url)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"organization"}
    organization = body["organization"]
    assert (organization["id"], organization["name"], organization["primary_domain"]) == (
        APOLLO,
        "Apollo.io",
        "apollo.io",
    )
    assert organization["website_url"] == "http://www.apollo.io"
    assert organization["linkedin_url"] == "http://www.linkedin.com/company/apolloio"
    assert (organization["estimated_num_employees"], organization["founded_year"]) == (1200, 2015)
    assert organization["keywords"] == ["sales engagement", "lead generation"]
    for field in ("funding_events", "industries", "technology_names", "current_technologies"):
        assert isinstance(organization[field], list), field
    assert "account" not in organization  # another team's CRM record
    assert 0.9 <= organization["match_confidence"] <= 1
    assert organization["match_reasons"] == ["domain"]
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 1, ENRICH)]


FORMS = {
    "upper-case": "domain=APOLLO.IO",
    "www": "domain=www.apollo.io",
    "a URL with a path": "domain=https%3A%2F%2Fwww.apollo.io%2Fabout%3Fx%3D1",
    "a trailing dot and padding": "domain=%20apollo.io.%20",
    "an email address": "domain=sales%40apollo.io",
    "website": "website=http%3A%2F%2Fwww.apollo.io",
    "linkedin_url": "linkedin_url=https%3A%2F%2Fwww.linkedin.com%2Fcompany%2Fapolloio%2F",
    "several at once": "domain=apollo.io&name=Apollo&website=apollo.io",
}


@pytest.mark.parametrize("query", FORMS.values(), ids=FORMS.keys())
async def test_every_form_of_a_company(client: httpx.AsyncClient, tenant: Tenant, query: str) -> None:
    assert (await enriched(client, tenant.master_key, query))["organization"]["id"] == APOLLO


async def test_by_name(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await enriched(client, tenant.master_key, "name=Microsoft"))["organization"]["id"] == MICROSOFT


async def test_post_with_a_json_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await answer(client, tenant.master_key, "/organizations/enrich", {"domain": "outreach.com"})
    assert body["organization"]["id"] == OUTREACH


async def test_a_miss_is_an_empty_object_and_free(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    assert await enriched(client, tenant.master_key, "domain=nonexistent-domain-xyz.test") == {}
    assert await enriched(client, tenant.master_key, "domain=gmail.com") == {}
    assert await ledger(runtime, tenant.team_id) == []


@pytest.mark.parametrize("query", ["", "domain=", "domain=%20%20", "industry=software"])
async def test_nothing_to_match_on_is_apollos_422(
    client: httpx.AsyncClient, tenant: Tenant, query: str
) -> None:
    response = await client.get(f"/v1/organizations/enrich?{query}", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 422
    assert response.json() == {"error": "Required parameter 'domain' missing"}


# Bulk Organization Enrichment


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_bulk_reference_example(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str
) -> None:
    params = {"domains": ["apollo.io", "outreach.com", "microsoft.com"]}
    body = await answer(client, tenant.master_key, "/organizations/bulk_enrich", params, prefix=prefix)
    assert set(body) == BULK_KEYS
    assert (body["status"], body["error_code"], body["error_message"]) == ("success", None, None)
    assert (body["total_requested_domains"], body["unique_domains"]) == (3, 3)
    assert (body["total_requested_records"], body["unique_records"]) == (None, None)
    assert (body["unique_enriched_records"], body["missing_records"]) == (3, 0)
    assert [org["id"] for org in body["organizations"]] == [APOLLO, OUTREACH, MICROSOFT]
    assert [org["name"] for org in body["organizations"]] == ["Apollo.io", "Outreach, Inc.", "Microsoft"]
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 3, BULK_ENRICH)]
    assert (await consumed(client, tenant.master_key))["lead_credit"] == 3


async def test_bulk_repeats_and_misses(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    domains = ["apollo.io", "https://www.apollo.io/", "nowhere.example", "microsoft.com", "APOLLO.IO"]
    body = await answer(client, tenant.master_key, "/organizations/bulk_enrich", {"domains": domains})
    assert (body["total_requested_domains"], body["unique_domains"]) == (5, 3)
    assert (body["unique_enriched_records"], body["missing_records"]) == (2, 1)
    assert [org["id"] for org in body["organizations"]] == [APOLLO, MICROSOFT]
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 2, BULK_ENRICH)]


async def test_bulk_details_match_by_any_field_and_win_over_domains(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # The spec's example: one company by everything, one by LinkedIn URL, one by name.
    details = [
        {"domain": "apollo.io", "linkedin_url": "http://www.linkedin.com/company/apolloio", "name": "apollo"},
        {"linkedin_url": "http://www.linkedin.com/company/microsoft"},
        {"name": "Outreach"},
        {"name": "Initech"},
    ]
    body = await answer(
        client,
        tenant.master_key,
        "/organizations/bulk_enrich",
        {"details": details, "domains": ["braingenie.com"]},
    )
    assert (body["total_requested_records"], body["unique_records"]) == (4, 4)
    assert (body["total_requested_domains"], body["unique_domains"]) == (None, None)
    assert (body["unique_enriched_records"], body["missing_records"]) == (3, 1)
    assert [org["id"] for org in body["organizations"]] == [APOLLO, MICROSOFT, OUTREACH]


async def test_bulk_domains_in_the_query_string(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/api/v1/organizations/bulk_enrich?domains[]=apollo.io&domains[]=microsoft.com",
        headers={"x-api-key": tenant.master_key},
    )
    assert response.status_code == 200, response.text
    assert [org["id"] for org in response.json()["organizations"]] == [APOLLO, MICROSOFT]


async def test_bulk_limits(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant) -> None:
    ten = await answer(
        client, tenant.master_key, "/organizations/bulk_enrich", {"domains": ["apollo.io"] * 10}
    )
    assert (ten["total_requested_domains"], ten["unique_domains"]) == (10, 1)
    for params in ({"domains": [f"company{i}.com" for i in range(11)]}, {"details": [{"name": "x"}] * 11}):
        response = await call(client, tenant.master_key, "/organizations/bulk_enrich", params)
        assert response.status_code == 400
        assert response.json() == {
            "status": "failed",
            "error_code": "RECORD_LIMIT_EXCEEDED",
            "error_message": "domain count cannot be more than 10",
        }
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 1, BULK_ENRICH)]


@pytest.mark.parametrize(
    "params", [{}, {"domains": []}, {"details": []}], ids=["absent", "no domains", "no details"]
)
async def test_bulk_without_companies(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
) -> None:
    response = await call(client, tenant.master_key, "/organizations/bulk_enrich", params)
    assert response.status_code == 400
    assert response.json() == {
        "status": "failed",
        "error_code": "INVALID_REQUEST",
        "error_message": "invalid request, missing domains",
    }


async def test_the_bulk_rate_limit_class(client: httpx.AsyncClient, tenant: Tenant) -> None:
    single = await client.get(
        "/api/v1/organizations/enrich?domain=apollo.io", headers={"x-api-key": tenant.master_key}
    )
    bulk = await call(client, tenant.master_key, "/organizations/bulk_enrich", {"domains": ["apollo.io"]})
    assert (single.headers["x-rate-limit-minute"], bulk.headers["x-rate-limit-minute"]) == ("1000", "100")

"""POST /people/bulk_match: the reference docs' example, the envelope's counters, misses in
place, duplicates, the 10-record limit and the array dialects."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key
from tests.enrichment.conftest import CATHERINE, ROBERT, ROY, TIM
from tests.enrichment.support import PREFIXES, answer, call, ledger, md5, reveals

pytestmark = pytest.mark.usefixtures("repository")

ENVELOPE_KEYS = {
    "status", "error_code", "error_message", "total_requested_enrichments", "unique_enriched_records",
    "missing_records", "credits_consumed", "matches",
}  # fmt: skip

# The legacy docs' Bulk People Enrichment request (Roy's hash is not of any address we hold).
LEGACY_EXAMPLE = {
    "reveal_personal_emails": True,
    "details": [
        {
            "first_name": "Tim",
            "last_name": "Zheng",
            "domain": "apollo.io",
            "email": "tim@apollo.io",
            "hashed_email": "8d935115b9ff4489f2d1f9249503cadf",
            "organization_name": "Apollo",
            "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        },
        {
            "first_name": "Roy",
            "last_name": "Chung",
            "email": "roy@apollo.io",
            "hashed_email": "97817c0c49994eb500ad0a5e7e2d8aed51977b26424d508f66e4e8887746a152",
            "organization_name": "Apollo",
            "linkedin_url": "http://www.linkedin.com/in/royychung",
        },
    ],
}


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_reference_example_answers_with_the_documented_envelope(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str
) -> None:
    body = await answer(client, tenant.master_key, "/people/bulk_match", LEGACY_EXAMPLE, prefix=prefix)
    assert set(body) == ENVELOPE_KEYS
    assert (body["status"], body["error_code"], body["error_message"]) == ("success", None, None)
    assert body["total_requested_enrichments"] == 2
    assert (body["unique_enriched_records"], body["missing_records"], body["credits_consumed"]) == (2, 0, 2)
    tim, roy = body["matches"]
    assert (tim["id"], tim["email"], tim["personal_emails"]) == (
        TIM,
        "tim@apollo.io",
        ["tim.zheng@gmail.com"],
    )
    assert (roy["id"], roy["email"], roy["personal_emails"]) == (
        ROY,
        "roy@apollo.io",
        ["royychung@gmail.com"],
    )
    assert all(match["revealed_for_current_team"] for match in body["matches"])
    assert all(0.9 <= match["match_confidence"] <= 1 and match["match_reasons"] for match in body["matches"])
    assert await reveals(runtime, tenant.team_id) == {TIM, ROY}


async def test_misses_are_null_in_request_order(client: httpx.AsyncClient, tenant: Tenant) -> None:
    details: list[dict[str, Any]] = [
        {"email": "nobody@nowhere.example"},
        {"first_name": "Bob", "last_name": "Mueller", "domain": "stonebridge-logistics.de"},
        {},
        {"hashed_email": md5("catherine@apollo.io")},
    ]
    body = await answer(client, tenant.master_key, "/people/bulk_match", {"details": details})
    assert [m and m["id"] for m in body["matches"]] == [None, ROBERT, None, CATHERINE]
    assert (
        body["total_requested_enrichments"],
        body["unique_enriched_records"],
        body["missing_records"],
    ) == (4, 2, 2)
    assert body["credits_consumed"] == 2


async def test_a_person_asked_for_twice_is_charged_once(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    details = [{"email": "tim@apollo.io"}, {"linkedin_url": "linkedin.com/in/tim-zheng-677ba010"}]
    body = await answer(client, tenant.master_key, "/people/bulk_match", {"details": details})
    assert [m["id"] for m in body["matches"]] == [TIM, TIM]
    first, second = (m["match_reasons"] for m in body["matches"])
    assert "email" in first and "linkedin_url" not in first
    assert "linkedin_url" in second and "email" not in second
    assert (body["unique_enriched_records"], body["missing_records"], body["credits_consumed"]) == (1, 0, 1)
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 1, "api/v1/people/bulk_match")]


async def test_nobody_found_costs_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    body = await answer(client, tenant.master_key, "/people/bulk_match", {"details": [{"first_name": "Tim"}]})
    assert body["matches"] == [None]
    assert (body["unique_enriched_records"], body["missing_records"], body["credits_consumed"]) == (0, 1, 0)
    assert await ledger(runtime, tenant.team_id) == []


async def test_ten_details_are_fine_eleven_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    ten = await answer(
        client, tenant.master_key, "/people/bulk_match", {"details": [{"email": "roy@apollo.io"}] * 10}
    )
    assert ten["total_requested_enrichments"] == 10
    spent = await ledger(runtime, tenant.team_id)

    eleven = await call(
        client, tenant.master_key, "/people/bulk_match", {"details": [{"email": "tim@apollo.io"}] * 11}
    )
    assert eleven.status_code == 400
    assert eleven.json() == {
        "status": "failed",
        "error_code": "RECORD_LIMIT_EXCEEDED",
        "error_message": "cannot enrich more than 10 in a single request",
    }
    assert await ledger(runtime, tenant.team_id) == spent
    assert TIM not in await reveals(runtime, tenant.team_id)


@pytest.mark.parametrize("body", [{}, {"details": []}, {"details": ""}], ids=["absent", "empty", "blank"])
async def test_no_details_is_apollos_400(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    response = await call(client, tenant.master_key, "/people/bulk_match", body)
    assert response.status_code == 400
    assert response.json() == {
        "status": "failed",
        "error_code": "INVALID_REQUEST",
        "error_message": "invalid request, missing details",
    }


async def test_details_that_are_not_objects_are_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await call(client, tenant.master_key, "/people/bulk_match", {"details": ["tim@apollo.io"]})
    assert response.status_code == 422
    assert "details" in response.json()["error"]


DIALECTS = {
    "query string k[][name]": {
        # A repeated name starts the next object (Rack's rule).
        "params": "details[][email]=tim@apollo.io&details[][email]=roy@apollo.io&reveal_personal_emails=true"
    },
    "query string k[0][name]": {
        "params": "details[0][email]=tim@apollo.io&details[1][linkedin_url]=linkedin.com/in/royychung"
        "&reveal_personal_emails=true"
    },
    "form body": {
        "data": {
            "details[0][email]": "tim@apollo.io",
            "details[1][email]": "roy@apollo.io",
            "reveal_personal_emails": "true",
        }
    },
}


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
async def test_array_dialects(client: httpx.AsyncClient, tenant: Tenant, dialect: dict[str, Any]) -> None:
    response = await client.post(
        "/api/v1/people/bulk_match", headers={"x-api-key": tenant.master_key}, **dialect
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["id"] for m in body["matches"]] == [TIM, ROY]
    assert body["matches"][0]["personal_emails"] == ["tim.zheng@gmail.com"]


async def test_a_scoped_key_needs_the_bulk_scope(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    single_only = await make_scoped_key(runtime, clock, tenant, "api/v1/people/match")
    response = await call(
        client, single_only, "/people/bulk_match", {"details": [{"email": "tim@apollo.io"}]}
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE"
    assert "api/v1/people/bulk_match" in response.json()["error"]

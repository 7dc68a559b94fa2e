"""No search parameter, however odd, breaks a search: query syntax, quotes, brackets, control
characters, 10 kB strings and unicode in every filter get results or an empty page; values of
the wrong type get Apollo's 422. Never a 500, through HTTP on all three search endpoints."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from tests.conftest import Tenant
from tests.search.endpoints import post, running_app, unlimited_tenant
from tests.search.mixed_repository import Seeded, seed_repository

ENDPOINTS = ("/mixed_people/api_search", "/mixed_people/search", "/mixed_companies/search")
TEXT_PARAMS = ("q_keywords", "q_organization_name")
# Free text in a list: any value is a filter that finds something or nothing.
TEXT_LIST_PARAMS = (
    "person_titles",
    "person_not_titles",
    "person_locations",
    "person_seniorities",
    "contact_email_status",
    "organization_ids",
    "q_organization_domains",
    "q_organization_domains_list",
    "organization_locations",
    "organization_not_locations",
    "q_organization_keyword_tags",
    "currently_using_any_of_technology_uids",
    "currently_using_all_of_technology_uids",
    "currently_not_using_any_of_technology_uids",
    "q_organization_job_titles",
    "organization_job_locations",
)
# Values with a grammar: a value outside it is Apollo's 422.
STRICT_PARAMS = (
    "organization_num_employees_ranges",
    "prospected_by_current_team",
    "include_similar_titles",
    "page",
    "per_page",
    "revenue_range",
    "total_funding_range",
    "latest_funding_amount_range",
    "organization_num_jobs_range",
    "latest_funding_date_range",
    "organization_job_posted_at_range",
)
ODD_TEXT = [
    "",
    "   ",
    '"',
    '"unclosed phrase',
    "title:ceo",
    "a:b:c",
    "(",
    ")",
    "[1 TO 5]",
    "{x TO y}",
    "*",
    "?",
    "\\",
    "AND",
    "OR NOT",
    "+-!~^",
    "name~2",
    "'; DROP TABLE people; --",
    "%_",
    "\x00",
    "\n\t\r",
    "/",
    "/us/../..",
    "😀 émoji",
    "中文 日本語 한국어",
    "Zoë Saldaña-Øster",
    "ünïcödé\u200b\ufeff",
    "\ud7ff\ue000",
    "x" * 10_000,
    "word " * 2_000,
    ",",
    "1,10,100",
    "-5,-1",
    "nan",
    "-inf",
    "1e400",
    "99999999999999999999999",
]
WRONG_TYPES: list[Any] = [5, -1, 2.5, True, None, {"a": "b"}, [["nested"]], [1, 2], [None], [{}], ""]


@pytest.fixture
async def seeded(engine: AsyncEngine) -> Seeded:
    return await seed_repository(engine)


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock, seeded: Seeded) -> AsyncIterator[FastAPI]:
    async with running_app(settings, clock) as application:
        yield application


@pytest.fixture
async def tenant(runtime: Runtime, clock: FrozenClock) -> Tenant:
    return await unlimited_tenant(runtime, clock)


def apollo_shaped(response: httpx.Response) -> bool:
    """A 200, or a 422 with Apollo's ``{"error": ...}`` body."""
    if response.status_code == 200:
        return True
    body = response.json()
    return response.status_code == 422 and set(body) == {"error"} and isinstance(body["error"], str)


async def test_odd_text_in_every_text_filter_finds_something_or_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    failures = []
    for text in ODD_TEXT:
        bodies = [{name: text} for name in TEXT_PARAMS] + [{name: [text]} for name in TEXT_LIST_PARAMS]
        for body in bodies:
            response = await post(client, ENDPOINTS[0], tenant.master_key, body)
            if response.status_code != 200:
                failures.append(
                    f"{next(iter(body))}={text[:30]!r}: {response.status_code} {response.text[:200]}"
                )
    assert not failures, "\n".join(failures)


async def test_odd_values_everywhere_at_once(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for text in ODD_TEXT:
        body: dict[str, Any] = dict.fromkeys(TEXT_PARAMS, text)
        body.update({name: [text, text[::-1]] for name in TEXT_LIST_PARAMS})
        for path in ENDPOINTS:
            response = await post(client, path, tenant.master_key, body)
            assert response.status_code == 200, (path, text[:30], response.text[:300])


async def test_values_outside_a_grammar_are_422s(client: httpx.AsyncClient, tenant: Tenant) -> None:
    failures = []
    for text in ODD_TEXT:
        for name in STRICT_PARAMS:
            for value in (text, [text], {"min": text, "max": text}):
                response = await post(client, ENDPOINTS[0], tenant.master_key, {name: value})
                if not apollo_shaped(response):
                    failures.append(
                        f"{name}={str(value)[:30]!r}: {response.status_code} {response.text[:200]}"
                    )
    assert not failures, "\n".join(failures)


async def test_wrong_types_are_422s_never_500s(client: httpx.AsyncClient, tenant: Tenant) -> None:
    failures = []
    for name in (*TEXT_PARAMS, *TEXT_LIST_PARAMS, *STRICT_PARAMS):
        for value in WRONG_TYPES:
            for path in ENDPOINTS:
                response = await post(client, path, tenant.master_key, {name: value})
                if not apollo_shaped(response):
                    failures.append(f"{path} {name}={value!r}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_random_text(client: httpx.AsyncClient, tenant: Tenant, seeded: Seeded) -> None:
    rng = random.Random(20_261_126)
    alphabet = [chr(c) for c in range(1, 0x2FF)] + list("中文😀\u200b\u202e:\"'()[]{}*?~^\\/") + [" "] * 20
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.choice((1, 5, 40, 300, 3000))))
        name = rng.choice((*TEXT_PARAMS, *TEXT_LIST_PARAMS))
        value: Any = text if name in TEXT_PARAMS else [text]
        response = await post(client, rng.choice(ENDPOINTS), tenant.master_key, {name: value})
        assert response.status_code == 200, (name, text[:60], response.text[:300])
    # The index still answers afterwards.
    response = await post(client, ENDPOINTS[0], tenant.master_key, {"person_titles": ["sales manager"]})
    assert seeded.names(p["id"] for p in response.json()["people"]) == {"mia", "liam", "sofia"}


async def test_many_and_long_values(client: httpx.AsyncClient, tenant: Tenant) -> None:
    many = [f"title number {i} " + "x" * 40 for i in range(1000)]
    body = dict.fromkeys(TEXT_LIST_PARAMS, many)
    for path in ENDPOINTS:
        response = await post(client, path, tenant.master_key, body)
        assert response.status_code == 200, (path, response.text[:300])
    huge = "y" * 1_000_000
    response = await post(
        client, ENDPOINTS[0], tenant.master_key, {"q_keywords": huge, "person_titles": [huge]}
    )
    assert response.status_code == 200, response.text[:300]

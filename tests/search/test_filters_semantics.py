"""Every search filter of the people and organization searches, from the request's parameters
(as Apollo names them) to the matching records, on the hand-built repository of
``mixed_repository`` where each answer is known. Each case runs on the tantivy index and on the
in-memory backend built from the same rows, on SQLite and PostgreSQL; totals must be exact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db.engine import session_factory
from perilune.resources.mixed_companies.schemas import CompanySearchParams
from perilune.resources.mixed_companies.service import company_filter
from perilune.resources.mixed_people.schemas import PeopleSearchParams
from perilune.resources.mixed_people.service import people_filter
from perilune.search.backend import MemorySearchBackend, SearchBackend
from perilune.search.index import SearchIndex, rebuild
from tests.search.mixed_repository import EVERYONE, Seeded, seed_repository

US = {"ava", "ben", "jose", "liam", "nora", "omar", "tom"}
AT_SUMWARE = {"ava", "ben", "jose", "mia"}
AT_LONESTAR = {"liam", "nora"}
AT_PEACH = {"omar", "tom"}

PEOPLE_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, set(EVERYONE)),
    # Titles: every word of one title, in any order, plurals and abbreviations folded.
    ({"person_titles": ["sales manager"]}, {"mia", "liam", "sofia"}),
    ({"person_titles": ["Managers, Sales"]}, {"mia", "liam", "sofia"}),
    ({"person_titles": ["sr software engineer", "owner"]}, {"ben", "elena"}),
    ({"person_titles": ["sales manager"], "include_similar_titles": False}, {"liam", "sofia"}),
    ({"person_titles": ["Vice President, Sales"], "include_similar_titles": "false"}, {"ava"}),
    ({"person_not_titles": ["sales", "owner"]}, EVERYONE - {"ava", "jose", "mia", "liam", "sofia", "elena"}),
    ({"person_titles": ["manager"], "person_not_titles": ["senior"]}, {"dmitri", "liam", "sofia"}),
    # Where people are: countries, states, cities, several meanings of one name.
    ({"person_locations": ["California, US"]}, {"ava", "ben"}),
    ({"person_locations": ["United States"]}, US),
    ({"person_locations": ["texas", "Ireland"]}, {"jose", "liam"}),
    ({"person_locations": ["chicago"]}, {"nora"}),
    ({"person_locations": ["Austin, TX"]}, {"jose", "liam"}),
    ({"person_locations": ["georgia"]}, {"omar", "sofia"}),  # the state and the country
    ({"person_locations": ["Georgia, US"]}, {"omar"}),
    ({"person_locations": ["London, UK", "Madrid"]}, {"mia", "farid", "elena"}),
    ({"person_locations": ["Atlantis"]}, set()),
    ({"person_seniorities": ["c_suite", "owner", "founder"]}, {"chloe", "elena", "omar"}),
    ({"person_seniorities": ["manager"]}, {"mia", "dmitri", "liam", "sofia"}),
    # Email statuses: Apollo's buckets and the stored statuses.
    ({"contact_email_status": ["verified"]}, {"ava", "jose", "mia", "chloe", "liam", "omar", "tom"}),
    ({"contact_email_status": ["guessed"]}, {"ben", "sofia"}),
    ({"contact_email_status": ["unverified", "bounced"]}, {"ben", "sofia", "farid"}),
    ({"contact_email_status": ["unavailable"]}, {"dmitri", "elena", "farid", "nora"}),
    ({"contact_email_status": ["pending_manual_fulfillment"]}, {"nora"}),
    ({"q_keywords": "josé garcia"}, {"jose"}),
    ({"q_keywords": "lonestar.io"}, AT_LONESTAR),
    ({"q_keywords": "Kraftwerk manager"}, {"dmitri"}),
]

EMPLOYER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"q_organization_domains": "sumware.com\nlonestar.io"}, AT_SUMWARE | AT_LONESTAR),
    ({"q_organization_domains_list": ["https://www.peachtree.dev/jobs", "nobody.test"]}, AT_PEACH),
    ({"organization_ids": ["6500000200000000000000a2"]}, {"chloe", "dmitri"}),
    ({"organization_locations": ["California, US"]}, AT_SUMWARE),
    ({"organization_locations": ["georgia"]}, AT_PEACH | {"sofia"}),
    ({"organization_locations": ["Austin, TX", "hamburg"]}, AT_LONESTAR | {"chloe", "dmitri"}),
    (
        {"organization_locations": ["United States"], "organization_not_locations": ["texas"]},
        AT_SUMWARE | AT_PEACH,
    ),
    # Ranges are inclusive at both ends; several ranges are alternatives.
    ({"organization_num_employees_ranges": ["1,10", "51,250"]}, AT_SUMWARE | AT_PEACH | {"elena"}),
    ({"organization_num_employees_ranges": ["1000,"]}, {"chloe", "dmitri"}),
    ({"organization_num_employees_ranges": ["50,50"]}, AT_LONESTAR),
    ({"revenue_range": {"min": 5_000_000, "max": 42_500_000}}, AT_SUMWARE | AT_LONESTAR),
    ({"revenue_range": {"max": "1000000"}}, AT_PEACH),
    (
        {"currently_using_any_of_technology_uids": ["hubspot", "sap"]},
        AT_LONESTAR | AT_PEACH | {"chloe", "dmitri"},
    ),
    ({"currently_using_all_of_technology_uids": ["hubspot", "google_analytics"]}, AT_LONESTAR),
    ({"currently_using_any_of_technology_uids": ["wordpress_org"]}, {"elena"}),
    # People without an employer use no technology: excluding one keeps them.
    (
        {"currently_not_using_any_of_technology_uids": ["google_analytics"]},
        EVERYONE - AT_SUMWARE - AT_LONESTAR,
    ),
    ({"q_organization_keyword_tags": ["lead"]}, AT_SUMWARE | AT_PEACH),
    ({"q_organization_keyword_tags": ["Sales Strategy", "freight"]}, AT_LONESTAR | {"chloe", "dmitri"}),
    ({"q_organization_name": "star"}, AT_LONESTAR),
    ({"q_organization_name": "sta"}, set()),
    ({"total_funding_range": {"min": 1_000_000, "max": 2_000_000}}, AT_LONESTAR),
    ({"latest_funding_amount_range": {"min": 10_000_000}}, AT_SUMWARE),
    ({"latest_funding_date_range": {"min": "2021-01-01", "max": "2021-12-31"}}, AT_LONESTAR),
    # Job postings: one posting must match title, place and date together.
    ({"q_organization_job_titles": ["sales manager"]}, AT_SUMWARE | AT_LONESTAR),
    (
        {"q_organization_job_titles": ["sales manager"], "organization_job_locations": ["california"]},
        AT_SUMWARE,
    ),
    ({"organization_job_locations": ["atlanta"]}, AT_LONESTAR),
    (
        {"organization_job_posted_at_range": {"min": "2025-04-01", "max": "2025-05-20"}},
        AT_SUMWARE | AT_LONESTAR,
    ),
    ({"organization_job_posted_at_range": {"max": "2025-01-05"}}, AT_LONESTAR | {"chloe", "dmitri"}),
    (
        {
            "q_organization_job_titles": ["engineer"],
            "organization_job_posted_at_range": {"min": "2025-05-01"},
        },
        AT_LONESTAR,
    ),
    ({"organization_num_jobs_range": {"min": 2}}, AT_SUMWARE | AT_LONESTAR),
    ({"organization_num_jobs_range": {"min": 1, "max": 2}}, AT_SUMWARE | {"chloe", "dmitri"}),
    ({"organization_num_jobs_range": {"min": 3, "max": 2}}, set()),
    ({"organization_num_jobs_range": {"max": -1}}, set()),
    ({"organization_num_jobs_range": {"min": -5, "max": 1e30}}, set(EVERYONE)),
]

COMBINATION_CASES: list[tuple[dict[str, Any], set[str]]] = [
    # The legacy docs' sample request.
    (
        {
            "q_organization_domains": "sumware.com\nlonestar.io",
            "organization_locations": ["California, US"],
            "person_seniorities": ["senior", "manager"],
            "organization_num_employees_ranges": ["1,1000000"],
            "person_titles": ["sales manager", "engineer manager"],
        },
        {"mia"},
    ),
    (
        {
            "person_titles": ["sales"],
            "organization_num_employees_ranges": ["50,200"],
            "organization_locations": ["United States"],
            "contact_email_status": ["verified"],
        },
        {"liam"},
    ),
    (
        {
            "q_keywords": "sales",
            "person_locations": ["United States"],
            "currently_using_any_of_technology_uids": ["google_analytics"],
            "revenue_range": {"min": 1_000_000},
            "person_not_titles": ["vp"],
        },
        {"jose", "liam"},
    ),
    ({"person_titles": ["sales manager"], "prospected_by_current_team": ["no"]}, {"mia", "liam", "sofia"}),
]

ORGANIZATION_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"sumware", "kraftwerk", "cafe", "lonestar", "peach", "tbilisi"}),
    # The docs' sample, on this repository.
    (
        {
            "organization_num_employees_ranges": ["1,100", "1,1000"],
            "organization_locations": ["United States"],
            "q_organization_keyword_tags": ["sales strategy", "lead"],
        },
        {"sumware", "lonestar", "peach"},
    ),
    ({"q_organization_name": "Lone Star"}, {"lonestar"}),
    ({"q_organization_name": "café"}, {"cafe"}),
    ({"q_keywords": "freight"}, {"kraftwerk"}),
    ({"organization_locations": ["georgia"]}, {"peach", "tbilisi"}),
    ({"organization_not_locations": ["United States", "spain"]}, {"kraftwerk", "tbilisi"}),
    ({"organization_ids": ["6500000300000000000000a3", "0" * 24]}, {"cafe"}),
    ({"q_organization_domains_list": ["tbilisisoft.ge"]}, {"tbilisi"}),
    ({"revenue_range": {"min": 100_000_000}}, {"kraftwerk"}),
    ({"currently_using_any_of_technology_uids": ["google_analytics"]}, {"sumware", "lonestar"}),
    ({"currently_not_using_any_of_technology_uids": ["hubspot", "sap"]}, {"sumware", "cafe", "tbilisi"}),
    ({"total_funding_range": {"min": 10_000_000}}, {"sumware"}),
    ({"latest_funding_date_range": {"min": "2023-01-01"}}, {"sumware"}),
    ({"q_organization_job_titles": ["data engineer"]}, {"lonestar"}),
    ({"organization_num_jobs_range": {"max": 0}}, {"cafe", "peach", "tbilisi"}),
]


@dataclass
class Backends:
    seeded: Seeded
    engine: AsyncEngine
    index: SearchIndex
    memory: MemorySearchBackend


@pytest.fixture
async def backends(engine: AsyncEngine, index_dir: Path) -> Backends:
    seeded = await seed_repository(engine)
    await rebuild(engine, index_dir, heap_mb=64)
    return Backends(
        seeded, engine, SearchIndex.open_current(index_dir), await MemorySearchBackend.load(engine)
    )


async def found_people(b: Backends, backend: SearchBackend, params: dict[str, Any]) -> set[str]:
    async with session_factory(b.engine)() as session:
        filters = await people_filter(session, PeopleSearchParams.model_validate(params))
    hits = backend.search_people(filters, limit=100)
    # The total is exact whatever the page: a page of one says the same total.
    assert backend.search_people(filters, limit=1).total == hits.total == len(hits.ids)
    return b.seeded.names(hits.ids)


async def found_organizations(b: Backends, backend: SearchBackend, params: dict[str, Any]) -> set[str]:
    parsed = CompanySearchParams.model_validate(params)
    async with session_factory(b.engine)() as session:
        filters = await company_filter(session, parsed)
    hits = backend.search_organizations(filters, limit=100)
    assert backend.search_organizations(filters, limit=1).total == hits.total == len(hits.ids)
    return b.seeded.org_names(hits.ids)


async def check_people(b: Backends, cases: list[tuple[dict[str, Any], set[str]]]) -> None:
    wrong = []
    for params, expected in cases:
        for name, backend in (("tantivy", b.index), ("memory", b.memory)):
            got = await found_people(b, backend, params)
            if got != expected:
                wrong.append(f"{name} {params}: got {sorted(got)}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


async def test_people_filters(backends: Backends) -> None:
    await check_people(backends, PEOPLE_CASES)


async def test_employer_filters(backends: Backends) -> None:
    await check_people(backends, EMPLOYER_CASES)


async def test_filter_combinations(backends: Backends) -> None:
    await check_people(backends, COMBINATION_CASES)


async def test_organization_filters(backends: Backends) -> None:
    wrong = []
    for params, expected in ORGANIZATION_CASES:
        for name, backend in (("tantivy", backends.index), ("memory", backends.memory)):
            got = await found_organizations(backends, backend, params)
            if got != expected:
                wrong.append(f"{name} {params}: got {sorted(got)}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


async def test_pages_split_the_exact_total(backends: Backends) -> None:
    async with session_factory(backends.engine)() as session:
        filters = await people_filter(session, PeopleSearchParams(person_locations=["United States"]))
    pages = [backends.index.search_people(filters, offset=o, limit=3) for o in (0, 3, 6)]
    assert [len(p.ids) for p in pages] == [3, 3, 1]
    assert {p.total for p in pages} == {len(US)}
    ids = [i for p in pages for i in p.ids]
    assert ids == sorted(ids, reverse=True)  # newest record first, no repeats
    assert backends.seeded.names(ids) == US

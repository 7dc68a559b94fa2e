"""The tantivy index against a real database (SQLite and PostgreSQL): rebuilding from rows,
searching with every kind of filter (checked against the in-memory backend built from the same
rows), and request text that must never break a query."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.search.backend import MemorySearchBackend, SearchBackend
from perilune.search.documents import location_facet
from perilune.search.filters import OrganizationFilter, PeopleFilter, Range
from perilune.search.index import (
    CURRENT_FILE,
    IndexState,
    IndexUnavailable,
    RebuildProgress,
    SearchIndex,
    add_documents,
    current_generation,
    index_status,
    rebuild,
)
from perilune.search.schema import SCHEMA_VERSION, create_index
from tests.search.rows import OrgSpec, PersonSpec, add_organization, add_person, log_change, sessions


@dataclass
class Seeded:
    orgs: dict[str, str]
    people: dict[str, str]


async def seed(engine: AsyncEngine) -> Seeded:
    """Three organizations and seven people, varied in every indexed field."""
    async with sessions(engine)() as session, session.begin():
        sumware = await add_organization(session, OrgSpec())
        kraftwerk = await add_organization(
            session,
            OrgSpec(
                name="Kraftwerk Logistik GmbH",
                domain="kraftwerk-logistik.de",
                industry="Logistics & Supply Chain",
                employees=1200,
                revenue=310_000_000.0,
                founded_year=1998,
                city="Hamburg",
                state="Hamburg",
                country="Germany",
                country_code="DE",
                keywords=["Freight", "logistics"],
                technologies=[("sap", "SAP")],
                funding_stage=None,
                total_funding=None,
            ),
        )
        cafe = await add_organization(
            session,
            OrgSpec(
                name="Café Ñandú",
                domain="cafe-nandu.es",
                industry="restaurants",
                employees=8,
                revenue=None,
                founded_year=None,
                city="Madrid",
                state=None,
                country="Spain",
                country_code="ES",
                keywords=[],
                technologies=[],
                funding_stage=None,
                total_funding=None,
            ),
        )
        people = {
            "ava": await add_person(session, PersonSpec(), sumware),
            "ben": await add_person(
                session,
                PersonSpec("Ben", "Okafor", "Senior Software Engineer", "ben@sumware.com", "extrapolated"),
                sumware,
            ),
            "jose": await add_person(
                session,
                PersonSpec(
                    "José",
                    "García",
                    "Sales Development Representative",
                    "jose@sumware.com",
                    city="Austin",
                    state="Texas",
                ),
                sumware,
            ),
            "chloe": await add_person(
                session,
                PersonSpec(
                    "Chloe",
                    "Becker",
                    "Chief Executive Officer",
                    "c.becker@kraftwerk-logistik.de",
                    city="Hamburg",
                    state="Hamburg",
                    country="Germany",
                    country_code="DE",
                ),
                kraftwerk,
            ),
            "dmitri": await add_person(
                session,
                PersonSpec(
                    "Dmitri",
                    "Volkov",
                    "Logistics Managers",
                    None,
                    city="Berlin",
                    state="Berlin",
                    country="Germany",
                    country_code="DE",
                ),
                kraftwerk,
            ),
            "elena": await add_person(
                session,
                PersonSpec(
                    "Elena",
                    "Ruiz",
                    "Owner",
                    None,
                    city="Madrid",
                    state=None,
                    country="Spain",
                    country_code="ES",
                ),
                cafe,
            ),
            "farid": await add_person(
                session,
                PersonSpec(
                    "Farid",
                    "Haddad",
                    "Marketing Director",
                    "farid@example.co.uk",
                    city="London",
                    state="England",
                    country="United Kingdom",
                    country_code="GB",
                ),
                None,
            ),
        }
    return Seeded(
        orgs={"sumware": sumware.id, "kraftwerk": kraftwerk.id, "cafe": cafe.id},
        people={name: person.id for name, person in people.items()},
    )


async def built(engine: AsyncEngine, index_dir: Path) -> SearchIndex:
    await rebuild(engine, index_dir, heap_mb=64)
    return SearchIndex.open_current(index_dir)


def people(backend: SearchBackend, **filters: object) -> set[str]:
    hits = backend.search_people(PeopleFilter(**filters), limit=100)  # type: ignore[arg-type]
    assert hits.total == len(hits.ids)
    return set(hits.ids)


def at_org(backend: SearchBackend, **filters: object) -> set[str]:
    return people(backend, organization=OrganizationFilter(**filters))  # type: ignore[arg-type]


async def test_rebuild_indexes_every_row(engine: AsyncEngine, index_dir: Path) -> None:
    seeded = await seed(engine)
    index = await built(engine, index_dir)
    assert index.count("person") == 7
    assert index.count("organization") == 3
    state = index.state()
    assert (state.people, state.organizations) == (7, 3)
    assert state.schema_version == SCHEMA_VERSION
    assert state.docs_per_second is not None and state.docs_per_second > 0
    assert people(index) == set(seeded.people.values())


async def test_rebuild_records_the_change_log_position(engine: AsyncEngine, index_dir: Path) -> None:
    await seed(engine)  # ten changes: three organizations, seven people
    index = await built(engine, index_dir)
    assert index.state().position == 10
    saved = orjson.loads((index.directory / "state.json").read_bytes())
    assert saved["position"] == 10
    assert (index_dir / CURRENT_FILE).exists()


async def test_rebuild_streams_in_batches_and_reports_progress(engine: AsyncEngine, index_dir: Path) -> None:
    await seed(engine)
    seen: list[RebuildProgress] = []
    report = await rebuild(engine, index_dir, seen.append, heap_mb=64, batch_size=2)
    assert (report.people, report.organizations) == (7, 3)
    assert [p.done for p in seen if p.kind == "organization"] == [2, 3]
    assert [p.done for p in seen if p.kind == "person"] == [2, 4, 6, 7]
    assert all(p.total == (7 if p.kind == "person" else 3) for p in seen)
    assert report.docs_per_second > 0


async def test_a_rebuild_replaces_the_previous_generation(engine: AsyncEngine, index_dir: Path) -> None:
    await seed(engine)
    first = await built(engine, index_dir)
    # Another rebuild still running: its generation has no state file yet.
    running = index_dir / "g-20000101T000000000000-abcdef" / "tantivy"
    await asyncio.to_thread(running.mkdir, parents=True)
    second = await built(engine, index_dir)
    third = await built(engine, index_dir)
    assert current_generation(index_dir) == third.generation
    kept = await asyncio.to_thread(lambda: {p.name for p in index_dir.iterdir() if p.is_dir()})
    # The current generation, the one before it (a process may still be reading it) and the
    # one being built.
    assert kept == {second.generation, third.generation, running.parent.name}
    assert first.generation not in kept


async def test_an_index_of_another_schema_version_is_not_opened(engine: AsyncEngine, index_dir: Path) -> None:
    index = await built(engine, index_dir)
    state = index.state()
    state.schema_version = SCHEMA_VERSION - 1
    state.save(index.directory)
    with pytest.raises(IndexUnavailable, match="rebuild"):
        SearchIndex.open_current(index_dir)
    with pytest.raises(IndexUnavailable, match="no search index"):
        SearchIndex.open_current(index_dir / "elsewhere")


async def test_filters_on_people(engine: AsyncEngine, index_dir: Path) -> None:
    s = await seed(engine)
    index = await built(engine, index_dir)
    p = s.people
    assert people(index, titles=("vp sales",)) == {p["ava"]}
    # Plurals, abbreviations and word order fold away; any title in the list may match.
    assert people(index, titles=("engineers senior", "logistics manager")) == {p["ben"], p["dmitri"]}
    assert people(index, exact_titles=("chief executive officer",)) == {p["chloe"]}
    assert people(index, seniorities=("c_suite", "owner")) == {p["chloe"], p["elena"]}
    assert people(index, departments=("sales",)) >= {p["ava"], p["jose"]}
    assert people(index, person_locations=("/us",)) == {p["ava"], p["ben"], p["jose"]}
    assert people(index, person_locations=(location_facet("US", "Texas", "Austin") or "",)) == {p["jose"]}
    assert people(index, person_locations=("/de/hamburg",)) == {p["chloe"]}
    assert people(index, person_countries=("es", "GB")) == {p["elena"], p["farid"]}
    assert people(index, email_statuses=("unavailable",)) == {p["dmitri"], p["elena"]}
    assert people(index, q_keywords="josé") == {p["jose"]}
    assert people(index, q_keywords="GARCIA jose") == {p["jose"]}
    assert people(index, q_keywords="kraftwerk") == {p["chloe"], p["dmitri"]}
    assert people(index, q_keywords="sumware.com") == {p["ava"], p["ben"], p["jose"]}
    assert people(index, q_keywords="!!! ...") == set(p.values())  # no words: no constraint
    assert people(index, ids=(p["ava"], "0" * 24)) == {p["ava"]}


async def test_filters_on_the_current_organization(engine: AsyncEngine, index_dir: Path) -> None:
    s = await seed(engine)
    index = await built(engine, index_dir)
    p = s.people
    sumware = {p["ava"], p["ben"], p["jose"]}
    kraftwerk = {p["chloe"], p["dmitri"]}
    assert at_org(index, ids=(s.orgs["kraftwerk"],)) == kraftwerk
    assert at_org(index, employees=(Range(1, 10), Range(1000, 5000))) == {*kraftwerk, p["elena"]}
    assert at_org(index, employees=(Range(200, None),)) == {*sumware, *kraftwerk}
    assert at_org(index, employees=(Range(None, None),)) == set(p.values())  # open: no constraint
    assert at_org(index, revenue=Range(100_000_000, None)) == kraftwerk
    assert at_org(index, founded_year=Range(2000, 2020)) == sumware
    assert at_org(index, industries=("LOGISTICS & SUPPLY CHAIN",)) == kraftwerk
    assert at_org(index, keyword_tags=("freight",)) == kraftwerk
    assert at_org(index, technologies=("Google Analytics",)) == sumware
    assert at_org(index, technologies=("salesforce",)) == sumware
    assert at_org(index, locations=("/de",)) == kraftwerk
    assert at_org(index, countries=("es",)) == {p["elena"]}
    assert at_org(index, domains=("Kraftwerk-Logistik.de",)) == kraftwerk
    assert at_org(index, funding_stages=("series b",)) == sumware
    assert at_org(index, name_words="café") == {p["elena"]}
    assert at_org(index, name_keys=("Kraftwerk Logistik GmbH",)) == kraftwerk


async def test_filters_on_organizations(engine: AsyncEngine, index_dir: Path) -> None:
    s = await seed(engine)
    index = await built(engine, index_dir)

    def orgs(**filters: object) -> set[str]:
        return set(index.search_organizations(OrganizationFilter(**filters), limit=10).ids)  # type: ignore[arg-type]

    assert orgs() == set(s.orgs.values())
    assert orgs(q_keywords="freight") == {s.orgs["kraftwerk"]}
    assert orgs(q_keywords="nandu") == {s.orgs["cafe"]}
    assert orgs(employees=(Range(None, 300),)) == {s.orgs["sumware"], s.orgs["cafe"]}
    assert orgs(locations=("/us/california/san francisco",)) == {s.orgs["sumware"]}


async def test_pages_are_stable_and_newest_first(engine: AsyncEngine, index_dir: Path) -> None:
    s = await seed(engine)
    index = await built(engine, index_dir)
    everyone = sorted(s.people.values(), reverse=True)
    pages = [index.search_people(PeopleFilter(), offset=o, limit=3) for o in (0, 3, 6, 9)]
    assert [hits.ids for hits in pages] == [everyone[0:3], everyone[3:6], everyone[6:7], []]
    assert {hits.total for hits in pages} == {7}
    assert index.search_people(PeopleFilter(), offset=10**12, limit=5).ids == []
    assert index.search_people(PeopleFilter(), limit=0).ids == []


FILTER_CASES: list[PeopleFilter] = [
    PeopleFilter(),
    PeopleFilter(titles=("sales",)),
    PeopleFilter(titles=("director", "engineer")),
    PeopleFilter(seniorities=("vp", "senior", "manager")),
    PeopleFilter(departments=("engineering_technical", "c_suite")),
    PeopleFilter(person_locations=("/de", "/gb")),
    PeopleFilter(email_statuses=("verified", "extrapolated")),
    PeopleFilter(q_keywords="sales sumware"),
    PeopleFilter(organization=OrganizationFilter(employees=(Range(5, 500),), locations=("/us/california",))),
    PeopleFilter(
        titles=("manager",), organization=OrganizationFilter(industries=("logistics & supply chain",))
    ),
]


@pytest.mark.parametrize("case", range(len(FILTER_CASES)))
async def test_the_index_agrees_with_the_in_memory_backend(
    engine: AsyncEngine, index_dir: Path, case: int
) -> None:
    await seed(engine)
    index = await built(engine, index_dir)
    twin = await MemorySearchBackend.load(engine)
    filters = FILTER_CASES[case]
    assert index.search_people(filters, limit=100) == twin.search_people(filters, limit=100)


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
    "\\\\\\",
    "AND",
    "OR NOT",
    "+-!~^",
    "name~2",
    "boost^3",
    "'; DROP TABLE people; --",
    "%_",
    "\x00",
    "\n\t\r",
    "/",
    "//",
    "/us/../..",
    "/ us / california /",
    "😀 émoji",
    "中文 日本語 한국어",
    "Zoë Saldaña-Øster",
    "x" * 10_000,
    "word " * 2_000,
    "ceo " * 300,
]


async def test_odd_request_text_never_breaks_a_search(engine: AsyncEngine, index_dir: Path) -> None:
    await seed(engine)
    index = await built(engine, index_dir)
    twin = await MemorySearchBackend.load(engine)
    for text in ODD_TEXT:
        org = OrganizationFilter(
            domains=(text,),
            locations=(text,),
            industries=(text,),
            keyword_tags=(text,),
            technologies=(text,),
            name_words=text,
            q_keywords=text,
        )
        filters = [
            PeopleFilter(q_keywords=text),
            PeopleFilter(titles=(text,)),
            PeopleFilter(exact_titles=(text,), seniorities=(text,), departments=(text,)),
            PeopleFilter(person_locations=(text,), ids=(text,)),
            PeopleFilter(organization=OrganizationFilter(name_words=text)),
            PeopleFilter(organization=org),
        ]
        for people_filter in filters:
            assert index.search_people(people_filter) == twin.search_people(people_filter), repr(text[:40])
        assert index.search_organizations(org) == twin.search_organizations(org), repr(text[:40])


async def test_status_reports_documents_position_and_lag(engine: AsyncEngine, index_dir: Path) -> None:
    empty = await index_status(engine, index_dir)
    assert empty.generation is None and not empty.ready
    s = await seed(engine)
    await built(engine, index_dir)
    async with sessions(engine)() as session, session.begin():
        await log_change(session, "person", s.people["ava"])
    status = await index_status(engine, index_dir)
    assert status.ready
    assert status.documents == {"person": 7, "organization": 3}
    assert status.change_log_head == 11
    assert status.lag == 1
    assert status.writer_running is False


def test_state_position_waits_for_pending_changes() -> None:
    assert IndexState(high=20).position == 20
    assert IndexState(high=20, pending=[17, 12]).position == 11


def test_a_document_tantivy_refuses_does_not_stop_the_others(index_dir: Path) -> None:
    index = create_index(index_dir / "t")
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    good = '{"kind": "person", "id": "65f0a1b2c3d4e5f600012345", "sort_key": 1}'
    add_documents(writer, ["{not json", None, '{"org_employees": "many"}', good])
    writer.commit()
    index.reload()
    assert index.searcher().num_docs == 1

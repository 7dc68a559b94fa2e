"""An organization's job postings and news articles in organization import lines, on SQLite and
PostgreSQL: stored as rows of their own tables, served by the read endpoints, replaced only when a
line gives them, unchanged on re-import, and the generator's output imported with them."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.clock import FrozenClock
from perilune.db.engine import create_engine
from perilune.repository.generator import Generator
from perilune.repository.importer import ImportReport, import_file, import_records
from perilune.repository.records import RecordError, organization_record
from perilune.runtime import Runtime
from tests.conftest import Database, make_tenant

ACME_ID = "64a0c0ffee0000000000a001"
POSTINGS: list[dict[str, Any]] = [
    {
        "title": "Senior Backend Engineer",
        "url": "https://jobs.acme.test/1",
        "city": "Berlin",
        "country": "Germany",
        "posted_at": "2024-09-10T05:36:36.635+00:00",
    },
    {
        "title": "Account Executive",
        "url": "https://jobs.acme.test/2",
        "city": "San Francisco",
        "state": "CA",
        "country": "USA",
        "posted_at": "2024-08-01T12:00:00Z",
        "last_seen_at": "2024-09-20T09:00:00+02:00",
    },
]
NEWS: list[dict[str, Any]] = [
    {
        "title": "Acme raises a $40M Series B",
        "url": "https://www.TechCrunch.com/2024/05/02/acme-series-b/",
        "snippet": "Acme, the maker of anvils, raised $40M.",
        "published_at": "2024-05-02T08:00:00.000+00:00",
        "event_categories": ["investment", "receives_financing"],
    },
    {
        "title": "Acme names a new CRO",
        "url": "https://news.example.org/acme-cro",
        "domain": "https://press.businesswire.com/",
        "published_at": "2024-06-30",
        "event_categories": "hires; leadership",
    },
]


def acme(**changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": ACME_ID,
        "name": "Acme Corp",
        "primary_domain": "acme-anvils.com",
        "job_postings": POSTINGS,
        "news_articles": NEWS,
    }
    line.update(changes)
    return {key: value for key, value in line.items() if value is not ...}


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


async def load(engine: AsyncEngine, *lines: dict[str, Any], batch_size: int = 2000) -> ImportReport:
    return await import_records(engine, "organizations", list(enumerate(lines, 1)), batch_size=batch_size)


def outcome(report: ImportReport) -> tuple[int, int, int, list[tuple[int, str]]]:
    return report.created, report.updated, report.unchanged, [(e.line, e.reason) for e in report.errors]


async def select(engine: AsyncEngine, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(sa.text(statement), params)]


async def posting_rows(engine: AsyncEngine, organization_id: str = ACME_ID) -> list[tuple[Any, ...]]:
    return await select(
        engine,
        "SELECT id, title, city, state, country, posted_at, last_seen_at, created_at FROM job_postings"
        " WHERE organization_id = :o ORDER BY title",
        o=organization_id,
    )


async def news_rows(engine: AsyncEngine, organization_id: str = ACME_ID) -> list[tuple[Any, ...]]:
    return await select(
        engine,
        "SELECT id, title, domain, published_at, created_at FROM news_articles"
        " WHERE organization_id = :o ORDER BY title",
        o=organization_id,
    )


async def change_count(engine: AsyncEngine) -> int:
    return int((await select(engine, "SELECT COUNT(*) FROM repository_changes"))[0][0])


# -- reading the lists (no database) -----------------------------------------------------------


def test_lines_read_into_rows_with_stable_ids() -> None:
    record = organization_record(acme())
    assert "job_postings" not in record.data and "news_articles" not in record.data
    record.bind(ACME_ID)
    postings = record.child_rows("job_postings")
    assert postings is not None
    assert [p["title"] for p in postings] == ["Senior Backend Engineer", "Account Executive"]
    assert (postings[1]["city"], postings[1]["state"], postings[1]["country"]) == (
        "San Francisco",
        "California",
        "United States",
    )
    assert postings[0]["posted_at"] == datetime(2024, 9, 10, 5, 36, 36, 635000, UTC)
    assert postings[1]["last_seen_at"] == datetime(2024, 9, 20, 7, tzinfo=UTC)  # +02:00 -> UTC
    again = organization_record(acme())
    again.bind(ACME_ID)
    assert again.child_rows("job_postings") == postings
    other = organization_record(acme())
    other.bind("64a0c0ffee0000000000a002")
    other_rows = other.child_rows("job_postings")
    assert other_rows is not None and {r["id"] for r in other_rows}.isdisjoint(r["id"] for r in postings)
    news = record.child_rows("news_articles")
    assert news is not None
    assert [n["domain"] for n in news] == ["techcrunch.com", "businesswire.com"]
    assert news[1]["event_categories"] == ["hires", "leadership"]
    assert news[1]["published_at"] == datetime(2024, 6, 30, tzinfo=UTC)  # a bare date is midnight UTC


def test_absent_null_and_empty_lists() -> None:
    assert organization_record(acme(job_postings=..., news_articles=None)).job_postings is None
    assert organization_record(acme(job_postings=..., news_articles=None)).news_articles is None
    assert organization_record(acme(job_postings=[])).job_postings == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"job_postings": [POSTINGS[0], {**POSTINGS[1], "posted_at": "last tuesday"}]},
            "job_postings[1]: posted_at 'last tuesday' is not a timestamp",
        ),
        ({"job_postings": [{"url": "https://jobs.acme.test/3"}]}, "job_postings[0]: a title is required"),
        ({"job_postings": [{"title": "x" * 501}]}, "job_postings[0]: title is longer than 500 characters"),
        ({"job_postings": "Engineer"}, "job_postings must be a list of objects"),
        (
            {"news_articles": [{"title": "Acme", "published_at": "2024-13-01"}]},
            "news_articles[0]: published_at '2024-13-01' is not a timestamp",
        ),
        (
            {"news_articles": [{"title": "Acme", "domain": "not a domain"}]},
            "news_articles[0]: domain 'not a domain' is not a valid domain",
        ),
        (
            {"news_articles": [{"title": "Acme", "event_categories": [{"x": 1}]}]},
            "news_articles[0]: event_categories must be a list of text",
        ),
    ],
)
def test_bad_items_name_the_field_and_index(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordError) as raised:
        organization_record(acme(**changes))
    assert raised.value.reason == reason


# -- importing -------------------------------------------------------------------------------


async def test_postings_and_news_are_served(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    report = await load(runtime.engine, acme())
    assert outcome(report) == (1, 0, 0, [])
    tenant = await make_tenant(runtime, clock)
    headers = {"x-api-key": tenant.master_key}
    response = await client.get(f"/v1/organizations/{ACME_ID}/job_postings", headers=headers)
    assert response.status_code == 200, response.text
    postings = response.json()["organization_job_postings"]
    assert [p["title"] for p in postings] == ["Senior Backend Engineer", "Account Executive"]
    assert postings[0]["posted_at"] == "2024-09-10T05:36:36.635+00:00"
    assert (postings[0]["city"], postings[0]["country"]) == ("Berlin", "Germany")
    assert postings[1]["last_seen_at"] == "2024-09-20T07:00:00.000+00:00"
    response = await client.post(
        "/v1/news_articles/search", json={"organization_ids": [ACME_ID]}, headers=headers
    )
    assert response.status_code == 200, response.text
    articles = response.json()["news_articles"]
    assert [(a["title"], a["domain"]) for a in articles] == [
        ("Acme names a new CRO", "businesswire.com"),
        ("Acme raises a $40M Series B", "techcrunch.com"),
    ]
    assert articles[1]["organization_ids"] == [ACME_ID]
    assert articles[1]["event_categories"] == ["investment", "receives_financing"]
    assert articles[1]["snippet"] == "Acme, the maker of anvils, raised $40M."


async def test_reimporting_changes_nothing(engine: AsyncEngine) -> None:
    await load(engine, acme())
    postings, news, changes = await posting_rows(engine), await news_rows(engine), await change_count(engine)
    assert (len(postings), len(news)) == (2, 2)
    assert outcome(await load(engine, acme())) == (0, 0, 1, [])
    # Not even rewritten with the same values: the rows keep their created_at.
    assert await posting_rows(engine) == postings
    assert await news_rows(engine) == news
    assert await change_count(engine) == changes


async def test_changed_postings_alone_update_and_replace(engine: AsyncEngine) -> None:
    await load(engine, acme())
    news, changes = await news_rows(engine), await change_count(engine)
    moved = [{**POSTINGS[1], "city": "Austin", "state": "TX"}, {"title": "Office Manager"}]
    assert outcome(await load(engine, acme(job_postings=moved))) == (0, 1, 0, [])
    rows = await posting_rows(engine)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("Account Executive", "Austin", "Texas"),
        ("Office Manager", None, None),
    ]
    assert await news_rows(engine) == news  # not given differently: kept as they were
    assert await change_count(engine) == changes + 1
    assert outcome(await load(engine, acme(job_postings=moved))) == (0, 0, 1, [])


async def test_absent_keys_keep_and_empty_lists_clear(engine: AsyncEngine) -> None:
    await load(engine, acme())
    postings, news = await posting_rows(engine), await news_rows(engine)
    # A line without the keys: the stored lists stay, whether or not other fields change.
    assert outcome(await load(engine, acme(job_postings=..., news_articles=...))) == (0, 0, 1, [])
    assert outcome(await load(engine, acme(job_postings=None, news_articles=..., industry="Mining"))) == (
        0,
        1,
        0,
        [],
    )
    assert (await posting_rows(engine), await news_rows(engine)) == (postings, news)
    # An update-only line (an id and nothing else but a list).
    assert outcome(await load(engine, {"id": ACME_ID, "news_articles": []})) == (0, 1, 0, [])
    assert await news_rows(engine) == []
    assert await posting_rows(engine) == postings
    assert outcome(await load(engine, acme(job_postings=[], news_articles=...))) == (0, 1, 0, [])
    assert await posting_rows(engine) == []
    (industry,) = await select(engine, "SELECT industry FROM organizations WHERE id = :o", o=ACME_ID)
    assert industry == ("mining",)


async def test_stored_lists_are_read_only_for_matched_organizations(engine: AsyncEngine) -> None:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)

    def reads(table: str) -> int:
        return sum(s.startswith("select") and f"from {table}" in s for s in statements)

    lines = [acme(), {"name": "Globex", "primary_domain": "globex-corp.com", "job_postings": []}]
    assert outcome(await load(engine, *lines)) == (2, 0, 0, [])
    assert (reads("job_postings"), reads("news_articles")) == (0, 0)  # a first load reads none
    statements.clear()
    assert outcome(await load(engine, *lines)) == (0, 0, 2, [])
    assert (reads("job_postings"), reads("news_articles")) == (1, 1)  # one read per table per batch
    statements.clear()
    assert outcome(await load(engine, acme(job_postings=..., news_articles=...))) == (0, 0, 1, [])
    assert (reads("job_postings"), reads("news_articles")) == (0, 0)  # no lists given: none read


async def test_lists_in_csv_cells(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "organizations.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "primary_domain", "job_postings", "news_articles"])
        writer.writerow(["Acme", "acme-anvils.com", orjson.dumps(POSTINGS).decode(), ""])
    report = await import_file(engine, "organizations", str(path))
    assert (report.created, report.errors) == (1, [])
    assert [r[1] for r in await select(engine, "SELECT organization_id, title FROM job_postings")] == [
        "Senior Backend Engineer",
        "Account Executive",
    ]
    assert await select(engine, "SELECT COUNT(*) FROM news_articles") == [(0,)]


async def test_a_bad_timestamp_skips_its_line_only(engine: AsyncEngine) -> None:
    bad = acme(job_postings=[POSTINGS[0], {**POSTINGS[1], "posted_at": "2024-02-30T10:00:00Z"}])
    other = {"name": "Globex", "primary_domain": "globex-corp.com", "job_postings": [{"title": "Welder"}]}
    report = await load(engine, other, bad)
    assert outcome(report) == (
        1,
        0,
        0,
        [(2, "job_postings[1]: posted_at '2024-02-30T10:00:00Z' is not a timestamp")],
    )
    assert await select(engine, "SELECT COUNT(*) FROM organizations WHERE id = :o", o=ACME_ID) == [(0,)]
    assert [r[1] for r in await select(engine, "SELECT organization_id, title FROM job_postings")] == [
        "Welder"
    ]


async def test_lists_within_one_batch(engine: AsyncEngine) -> None:
    # Created, then named again in the same batch without the lists, then with new news.
    later_news = [{"title": "Acme opens an office", "url": "https://www.reuters.com/acme"}]
    lines = [
        acme(),
        acme(job_postings=..., news_articles=..., industry="tools"),
        acme(news_articles=later_news),
    ]
    assert outcome(await load(engine, *lines)) == (1, 2, 0, [])
    assert [r[1] for r in await posting_rows(engine)] == ["Account Executive", "Senior Backend Engineer"]
    assert [(r[1], r[2]) for r in await news_rows(engine)] == [("Acme opens an office", "reuters.com")]
    # Stored now: changed twice in a batch, the last list wins.
    lines = [acme(job_postings=[{"title": "Welder"}]), acme(job_postings=[{"title": "Machinist"}])]
    assert outcome(await load(engine, *lines)) == (0, 2, 0, [])
    assert [r[1] for r in await posting_rows(engine)] == ["Machinist"]


async def test_batches_land_whole_with_their_lists(engine: AsyncEngine) -> None:
    lines = [
        {
            "name": f"Company {n}",
            "primary_domain": f"company{n}.com",
            "job_postings": [{"title": f"Job {n}"}],
        }
        for n in range(7)
    ]
    assert outcome(await load(engine, *lines, batch_size=3)) == (7, 0, 0, [])
    assert await select(engine, "SELECT COUNT(*) FROM job_postings") == [(7,)]
    assert outcome(await load(engine, *lines, batch_size=3)) == (0, 0, 7, [])
    assert await select(engine, "SELECT COUNT(*) FROM job_postings") == [(7,)]


async def test_a_nested_employer_never_replaces_stored_lists(engine: AsyncEngine) -> None:
    await load(engine, acme())
    postings = await posting_rows(engine)
    people = [
        {
            "first_name": "Wile",
            "last_name": "Coyote",
            "email": "wile@acme-anvils.com",
            "organization": {"name": "Acme", "primary_domain": "acme-anvils.com", "job_postings": []},
        },
        {
            "first_name": "Road",
            "last_name": "Runner",
            "email": "road@initech-software.com",
            "organization": {
                "name": "Initech",
                "primary_domain": "initech-software.com",
                "job_postings": [{"title": "TPS Report Analyst"}],
            },
        },
    ]
    report = await import_records(engine, "people", list(enumerate(people, 1)))
    assert (report.created, report.organizations.created, report.organizations.unchanged) == (2, 1, 1)
    assert await posting_rows(engine) == postings
    (initech,) = await select(
        engine, "SELECT id FROM organizations WHERE primary_domain = 'initech-software.com'"
    )
    assert [r[1] for r in await posting_rows(engine, initech[0])] == ["TPS Report Analyst"]


async def test_generator_output_imports_with_postings_and_news(engine: AsyncEngine) -> None:
    lines = [
        orjson.loads(orjson.dumps(o)) for o in Generator(people=0, organizations=60, seed=4).organizations()
    ]
    postings = {o["id"]: len(o["job_postings"]) for o in lines}
    news = {o["id"]: len(o["news_articles"]) for o in lines}
    assert sum(postings.values()) > 0 and sum(news.values()) > 0  # the sample exercises both
    assert outcome(await load(engine, *lines, batch_size=25)) == (60, 0, 0, [])
    stored_postings = dict(
        await select(engine, "SELECT organization_id, COUNT(*) FROM job_postings GROUP BY organization_id")
    )
    stored_news = dict(
        await select(engine, "SELECT organization_id, COUNT(*) FROM news_articles GROUP BY organization_id")
    )
    assert stored_postings == {i: n for i, n in postings.items() if n}
    assert stored_news == {i: n for i, n in news.items() if n}
    assert outcome(await load(engine, *lines, batch_size=25)) == (0, 0, 60, [])
    with_news = next(o for o in lines if o["news_articles"])
    (row,) = await select(
        engine,
        "SELECT title, url, domain FROM news_articles WHERE organization_id = :o AND title = :t",
        o=with_news["id"],
        t=with_news["news_articles"][0]["title"],
    )
    assert row[1] == with_news["news_articles"][0]["url"]
    assert row[1].removeprefix("https://www.").startswith(row[2] + "/")

"""Importing JSON Lines and CSV into the repository, on SQLite and PostgreSQL: formats, upsert
rules, bad lines, idempotent re-import, interrupted batches and the change log."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from perilune.cli import importing
from perilune.cli.main import app
from perilune.db.engine import create_engine
from perilune.repository.importer import ImportReport, SourceError, import_file, import_records, tables
from perilune.repository.importer.people import PeopleBatch
from tests.conftest import Database

TABLES = (
    "organizations",
    "people",
    "employment_history",
    "person_phone_numbers",
    "personal_emails",
    "repository_changes",
)
APOLLO_ID = "5e66b6381e05b4008c8331b8"
TIM_ID = "6453e9bd8f50d40001f1e348"

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "id": APOLLO_ID,
        "name": "Apollo.io",
        "website_url": "http://www.apollo.io",
        "linkedin_url": "http://www.linkedin.com/company/apolloio",
        "industry": "information technology & services",
        "keywords": ["sales engagement", "lead generation"],
        "estimated_num_employees": 1600,
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
    },
    {"name": "Braingenie Inc.", "primary_domain": "braingenie.com"},
    {"name": "Citadel Investment Group", "linkedin_url": "linkedin.com/company/citadel"},
]
PEOPLE: list[dict[str, Any]] = [
    {
        "id": TIM_ID,
        "first_name": "Tim",
        "last_name": "Zheng",
        "title": "Founder & CEO",
        "email": "tim@apollo.io",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
        "organization_id": APOLLO_ID,
        "city": "San Francisco",
        "state": "California",
        "country": "United States",
        "phone_numbers": [{"raw_number": "+1 415-640-9303", "type": "work_hq"}],
        "personal_emails": ["tim.zheng@gmail.com"],
        "employment_history": [
            {
                "organization_name": "Apollo",
                "organization_id": APOLLO_ID,
                "title": "Founder & CEO",
                "start_date": "2016-01-01",
                "current": True,
            },
            {
                "organization_name": "Braingenie",
                "title": "Founder & CEO",
                "start_date": "2011-01-01",
                "end_date": "2015-01-01",
            },
        ],
    },
    {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "VP of Engineering",
        "email": "ada@braingenie.com",
        "organization": {"name": "Braingenie", "primary_domain": "braingenie.com"},
    },
    {
        "name": "Grace Hopper",
        "title": "Senior Software Engineer",
        "linkedin_url": "https://www.linkedin.com/in/grace-hopper",
        "organization": {"name": "Navy Labs", "website_url": "https://navy-labs.example.org"},
        "phone_numbers": "+44 20 7946 0018",
    },
]


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            name: (
                await connection.execute(sa.select(sa.func.count()).select_from(sa.table(name)))
            ).scalar_one()
            for name in TABLES
        }


async def person_data(engine: AsyncEngine, **where: str) -> dict[str, Any]:
    table = tables.people
    condition = sa.and_(*(table.c[k] == v for k, v in where.items()))
    async with engine.connect() as connection:
        text = (await connection.execute(sa.select(tables.data_text(table)).where(condition))).scalar_one()
    return tables.parse_data(text)


async def rows(engine: AsyncEngine, statement: str, **params: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(sa.text(statement), params)]


def jsonl(path: Path, items: list[dict[str, Any]] | list[bytes]) -> Path:
    lines = [item if isinstance(item, bytes) else orjson.dumps(item) for item in items]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def numbered(items: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(items, 1))


def outcome(report: ImportReport) -> tuple[int, int, int, int, int]:
    return report.created, report.updated, report.unchanged, report.suppressed, len(report.errors)


async def seed(engine: AsyncEngine, tmp_path: Path) -> None:
    await import_file(engine, "organizations", str(jsonl(tmp_path / "organizations.jsonl", ORGANIZATIONS)))
    await import_file(engine, "people", str(jsonl(tmp_path / "people.jsonl", PEOPLE)))


# -- files and formats -----------------------------------------------------------------------


async def test_jsonl_import_lands_every_table(engine: AsyncEngine, tmp_path: Path) -> None:
    report = await import_file(engine, "organizations", str(jsonl(tmp_path / "o.jsonl", ORGANIZATIONS)))
    assert outcome(report) == (3, 0, 0, 0, 0)
    report = await import_file(engine, "people", str(jsonl(tmp_path / "p.jsonl", PEOPLE)))
    assert outcome(report) == (3, 0, 0, 0, 0)
    # Braingenie matched by domain; Navy Labs created from Grace's line
    assert (report.organizations.created, report.organizations.unchanged) == (1, 1)
    assert await counts(engine) == {
        "organizations": 4,
        "people": 3,
        "employment_history": 2,
        "person_phone_numbers": 2,
        "personal_emails": 1,
        "repository_changes": 4 + 3,
    }
    tim = await person_data(engine, id=TIM_ID)
    assert tim["headline"] == "Founder & CEO at Apollo.io"
    assert tim["phone_numbers"][0]["sanitized_number"] == "+14156409303"
    assert tim["personal_emails"] == ["tim.zheng@gmail.com"]
    assert tim["time_zone"] == "America/Los_Angeles"
    ada = await person_data(engine, email="ada@braingenie.com")
    (braingenie,) = await rows(
        engine, "SELECT id, name FROM organizations WHERE primary_domain = 'braingenie.com'"
    )
    assert ada["organization_id"] == braingenie[0]
    assert braingenie[1] == "Braingenie Inc."  # a nested employer does not rename the organization
    grace = await person_data(engine, linkedin_slug="grace-hopper")
    assert (grace["first_name"], grace["last_name"], grace["seniority"]) == ("Grace", "Hopper", "senior")
    assert grace["phone_numbers"][0]["sanitized_number"] == "+442079460018"


async def test_csv_import_with_lists_and_a_nested_organization(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        header = "first_name last_name email title phone_numbers personal_emails organization.name"
        writer.writerow(
            [*header.split(), "organization.primary_domain", "organization.keywords", "employment_history"]
        )
        writer.writerow(
            ["Ada", "Lovelace", "ada@analyticalengines.com", "CTO", "+1 415 640 9303;+44 20 7946 0018",
             "ada@gmail.com", "Analytical Engines", "analyticalengines.com", "computing; engines",
             '[{"organization_name": "Analytical Engines", "start_date": "1842", "current": true}]']
        )  # fmt: skip
        writer.writerow(["Charles", "Babbage", "", "Inventor", "", "", "Analytical Engines", "", "", ""])
    report = await import_file(engine, "people", str(path))
    assert outcome(report) == (2, 0, 0, 0, 0)
    ada = await person_data(engine, email="ada@analyticalengines.com")
    assert [p["sanitized_number"] for p in ada["phone_numbers"]] == ["+14156409303", "+442079460018"]
    assert ada["personal_emails"] == ["ada@gmail.com"]
    assert ada["employment_history"][0]["start_date"] == "1842-01-01"
    (organization,) = await rows(engine, "SELECT name, primary_domain, CAST(data AS TEXT) FROM organizations")
    assert organization[:2] == ("Analytical Engines", "analyticalengines.com")
    assert orjson.loads(organization[2])["keywords"] == ["computing", "engines"]
    charles = await person_data(engine, last_name_key="babbage")
    assert charles["organization_id"] == ada["organization_id"]  # matched by name


async def test_gzip_and_format_sniffing(engine: AsyncEngine, tmp_path: Path) -> None:
    gz = tmp_path / "organizations.jsonl.gz"
    gz.write_bytes(gzip.compress(b"\n".join(orjson.dumps(o) for o in ORGANIZATIONS)))
    assert outcome(await import_file(engine, "organizations", str(gz))) == (3, 0, 0, 0, 0)
    unnamed = tmp_path / "export.data"
    unnamed.write_bytes(gzip.compress(b"name,primary_domain\nInitech,initech.example.com\n"))
    assert outcome(await import_file(engine, "organizations", str(unnamed))) == (1, 0, 0, 0, 0)
    forced = tmp_path / "more.txt"
    forced.write_text("name\nHooli\n")
    assert outcome(await import_file(engine, "organizations", str(forced), "csv")) == (1, 0, 0, 0, 0)
    with pytest.raises(SourceError):
        await import_file(engine, "organizations", str(tmp_path / "missing.jsonl"))
    with pytest.raises(SourceError):
        await import_file(engine, "organizations", str(forced), "xml")


async def test_stdin(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\xef\xbb\xbf" + b"\n".join(orjson.dumps(o) for o in ORGANIZATIONS) + b"\n\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert outcome(await import_file(engine, "organizations", "-")) == (3, 0, 0, 0, 0)


# -- idempotence and updates -----------------------------------------------------------------


async def test_reimporting_changes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine, tmp_path)
    before = await counts(engine)
    tim_before = await person_data(engine, id=TIM_ID)
    organizations = await import_file(engine, "organizations", str(tmp_path / "organizations.jsonl"))
    people = await import_file(engine, "people", str(tmp_path / "people.jsonl"))
    assert outcome(organizations) == (0, 0, 3, 0, 0)
    assert outcome(people) == (0, 0, 3, 0, 0)
    assert (people.organizations.created, people.organizations.updated) == (0, 0)
    assert await counts(engine) == before  # no duplicates, no change-log rows
    assert await person_data(engine, id=TIM_ID) == tim_before


async def test_updates_by_email_linkedin_and_id(engine: AsyncEngine, tmp_path: Path) -> None:
    await seed(engine, tmp_path)
    before = await counts(engine)
    report = await import_records(
        engine,
        "people",
        numbered(
            [
                {"email": "TIM@apollo.io", "title": "CEO", "phone_numbers": ["+1 415 555 2671"]},
                {"linkedin_url": "linkedin.com/in/grace-hopper", "city": "Berlin", "country": "Germany"},
                {"id": TIM_ID, "personal_emails": ["tim@hey.com", "tim@proton.me"]},
            ]
        ),
    )
    assert outcome(report) == (0, 3, 0, 0, 0)
    tim = await person_data(engine, id=TIM_ID)
    assert (tim["title"], tim["seniority"], tim["headline"]) == ("CEO", "c_suite", "CEO at Apollo.io")
    assert [p["sanitized_number"] for p in tim["phone_numbers"]] == ["+14155552671"]
    assert tim["personal_emails"] == ["tim@hey.com", "tim@proton.me"]
    assert tim["first_name"] == "Tim" and len(tim["employment_history"]) == 2  # untouched fields stay
    grace = await person_data(engine, linkedin_slug="grace-hopper")
    assert (grace["city"], grace["country"], grace["time_zone"]) == ("Berlin", "Germany", "Europe/Berlin")
    after = await counts(engine)
    # children replaced, not duplicated
    assert after["employment_history"] == before["employment_history"]
    assert after["person_phone_numbers"] == before["person_phone_numbers"]
    assert after["personal_emails"] == before["personal_emails"] + 1
    assert after["people"] == before["people"]
    assert await rows(
        engine, "SELECT sanitized_number FROM person_phone_numbers WHERE person_id = :id", id=TIM_ID
    ) == [("+14155552671",)]
    # one change per record and batch, however many lines touched it
    assert after["repository_changes"] == before["repository_changes"] + 2
    changes = await rows(engine, "SELECT entity, record_id, op FROM repository_changes ORDER BY seq")
    assert changes[-2:] == [("person", TIM_ID, "upsert"), ("person", grace["id"], "upsert")]


async def test_people_without_keys_are_not_duplicated(engine: AsyncEngine) -> None:
    lines = numbered([{"name": "Jane Doe", "organization": {"name": "Acme"}}, {"name": "John Roe"}])
    assert outcome(await import_records(engine, "people", lines)) == (2, 0, 0, 0, 0)
    assert outcome(await import_records(engine, "people", lines)) == (0, 0, 2, 0, 0)
    other_employer = numbered([{"name": "Jane Doe", "organization": {"name": "Globex"}}])
    assert outcome(await import_records(engine, "people", other_employer)) == (1, 0, 0, 0, 0)


async def test_nested_organizations_match_by_domain_then_linkedin_then_name(engine: AsyncEngine) -> None:
    await import_records(
        engine,
        "organizations",
        numbered(
            [
                {"name": "Acme Inc.", "primary_domain": "acme.com"},
                {"name": "Globex", "linkedin_url": "linkedin.com/company/globex"},
                {"name": "Initech LLC"},
                {"name": "Initrode", "primary_domain": "initrode.io"},
            ]
        ),
    )
    report = await import_records(
        engine,
        "people",
        numbered(
            [
                # the domain wins over a different name; nothing to fill in: unchanged
                {
                    "first_name": "A",
                    "email": "a@acme.com",
                    "organization": {"name": "ACME", "website_url": "acme.com"},
                },
                # the LinkedIn page; the domain the line adds is filled in
                {
                    "first_name": "B",
                    "email": "b@globex.com",
                    "organization": {
                        "name": "Globex Corp",
                        "linkedin_url": "https://www.linkedin.com/company/globex/",
                        "primary_domain": "globex.com",
                    },
                },
                # the name
                {"first_name": "C", "email": "c@initech.example", "organization": {"name": "INITECH, LLC"}},
                # the same name but another domain: a new organization
                {
                    "first_name": "D",
                    "email": "d@initrode.com",
                    "organization": {"name": "Initrode", "primary_domain": "initrode.com"},
                },
                # no match: a new organization
                {"first_name": "E", "email": "e@umbrella.com", "organization": {"name": "Umbrella"}},
            ]
        ),
    )
    assert outcome(report) == (5, 0, 0, 0, 0)
    assert (report.organizations.created, report.organizations.updated, report.organizations.unchanged) == (
        2,
        1,
        2,
    )
    employers = {
        first: (name, domain)
        for first, name, domain in await rows(
            engine,
            "SELECT p.first_name, o.name, o.primary_domain FROM people p "
            "JOIN organizations o ON o.id = p.organization_id",
        )
    }
    assert employers == {
        "A": ("Acme Inc.", "acme.com"),
        "B": ("Globex", "globex.com"),
        "C": ("Initech LLC", None),
        "D": ("Initrode", "initrode.com"),
        "E": ("Umbrella", None),
    }
    assert (await counts(engine))["organizations"] == 6


async def test_organizations_upsert_rules(engine: AsyncEngine) -> None:
    await import_records(engine, "organizations", numbered(ORGANIZATIONS))
    report = await import_records(
        engine,
        "organizations",
        numbered(
            [
                {"id": APOLLO_ID, "estimated_num_employees": 1700},  # by id, partial update
                {"name": "Braingenie", "website_url": "https://braingenie.com", "industry": "E-Learning"},
                {"name": "Citadel", "linkedin_url": "http://www.linkedin.com/company/citadel"},
                {"name": "Apollo.io", "industry": "Information Technology & Services"},  # by name
                {"id": "0123456789abcdef01234567", "name": "New Co"},  # unknown id: created with it
            ]
        ),
    )
    assert outcome(report) == (1, 3, 1, 0, 0)
    assert await rows(
        engine, "SELECT estimated_num_employees, name FROM organizations WHERE id = :id", id=APOLLO_ID
    ) == [(1700, "Apollo.io")]
    assert await rows(
        engine, "SELECT name, industry FROM organizations WHERE primary_domain = 'braingenie.com'"
    ) == [("Braingenie", "e-learning")]
    assert (await counts(engine))["organizations"] == 4


# -- bad lines -------------------------------------------------------------------------------


async def test_bad_lines_are_reported_and_good_lines_land(engine: AsyncEngine, tmp_path: Path) -> None:
    lines: list[bytes] = [
        orjson.dumps({"first_name": "Good", "email": "good@example.com"}),
        b'{"first_name": "Broken", ',
        orjson.dumps({"title": "Nameless"}),
        orjson.dumps({"first_name": "Bad", "id": "not-an-id"}),
        orjson.dumps({"first_name": "Orphan", "organization_id": "0123456789abcdef01234567"}),
        b"[1, 2]",
        orjson.dumps({"email": "nobody@example.com", "title": "CTO"}),
        orjson.dumps({"first_name": "Also good", "linkedin_url": "linkedin.com/in/also-good"}),
    ]
    report = await import_file(engine, "people", str(jsonl(tmp_path / "mixed.jsonl", lines)), batch_size=3)
    assert outcome(report) == (2, 0, 0, 0, 6)
    reasons = dict(report.errors)
    assert list(reasons) == [2, 3, 4, 5, 6, 7]
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3] == "a person needs a name (first_name, last_name or name)"
    assert reasons[4] == "id 'not-an-id' is not a 24-hex-digit id"
    assert "organization_id '0123456789abcdef01234567' is not in the repository" in reasons[5]
    assert reasons[6] == "each line must be a JSON object"
    assert reasons[7].startswith("no person matches this line")
    assert (await counts(engine))["people"] == 2


async def test_csv_line_numbers_count_physical_lines(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text('name,short_description\n"Acme","two\nlines"\n,no name\n"Globex",x,extra\n')
    report = await import_file(engine, "organizations", str(path))
    assert report.created == 1
    assert report.errors == [
        (4, "an organization needs a name or a domain"),
        (5, "the line has 3 fields but the header names 2"),
    ]


async def test_a_line_the_database_refuses_is_isolated(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tables.insert_rows

    async def refusing(connection: Any, table: Any, items: list[dict[str, Any]]) -> None:
        if table is tables.people and any(row["last_name"] == "Refused" for row in items):
            raise IntegrityError("INSERT", {}, Exception("refused by a constraint"))
        await original(connection, table, items)

    monkeypatch.setattr(tables, "insert_rows", refusing)
    lines = numbered(
        [{"first_name": str(n), "last_name": "Refused" if n == 5 else "Fine"} for n in range(1, 9)]
    )
    report = await import_records(engine, "people", lines)
    assert outcome(report) == (7, 0, 0, 0, 1)
    assert report.errors == [(5, "the database refused this line: refused by a constraint")]


# -- transactions and the change log ---------------------------------------------------------


async def test_an_interrupted_import_leaves_no_partial_record(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [
        {
            "first_name": f"P{n}",
            "email": f"p{n}@example.com",
            "organization": {"name": f"Org {n % 3}"},
            "employment_history": [{"organization_name": "Old Co", "start_date": "2001"}],
            "phone": "+1 415 640 9303",
        }
        for n in range(10)
    ]
    original = PeopleBatch.flush
    calls = 0

    async def crash_in_second_batch(self: PeopleBatch) -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        if calls == 2:
            # people and their organizations are written; the children are not: then the crash
            await tables.insert_rows(
                self.connection,
                tables.people,
                [
                    {"id": i, "created_at": self.now, "updated_at": self.now, **r.columns()}
                    for i, r in self.inserts.items()
                ],
            )
            raise KeyboardInterrupt
        return await original(self)

    monkeypatch.setattr(PeopleBatch, "flush", crash_in_second_batch)
    with pytest.raises(KeyboardInterrupt):
        await import_records(engine, "people", numbered(people), batch_size=4)
    assert await counts(engine) == {
        "organizations": 3,
        "people": 4,
        "employment_history": 4,
        "person_phone_numbers": 4,
        "personal_emails": 0,
        "repository_changes": 3 + 4,
    }
    monkeypatch.setattr(PeopleBatch, "flush", original)
    report = await import_records(engine, "people", numbered(people), batch_size=4)
    assert outcome(report) == (6, 0, 4, 0, 0)
    final = await counts(engine)
    assert (final["people"], final["employment_history"], final["person_phone_numbers"]) == (10, 10, 10)
    assert final["repository_changes"] == 3 + 10


async def test_the_change_log_names_every_write(engine: AsyncEngine) -> None:
    await import_records(engine, "organizations", numbered(ORGANIZATIONS[:1]))
    await import_records(engine, "people", numbered(PEOPLE[:2]))
    await import_records(engine, "people", numbered(PEOPLE[:2]))  # unchanged: nothing logged
    await import_records(engine, "people", numbered([{"id": TIM_ID, "title": "CEO"}]))
    changes = await rows(engine, "SELECT seq, entity, op FROM repository_changes ORDER BY seq")
    assert [(entity, op) for _, entity, op in changes] == [
        ("organization", "upsert"),
        ("organization", "upsert"),  # Braingenie, nested in Ada's line
        ("person", "upsert"),
        ("person", "upsert"),
        ("person", "upsert"),
    ]
    assert [seq for seq, _, _ in changes] == sorted(seq for seq, _, _ in changes)
    assert len({seq for seq, _, _ in changes}) == 5


async def test_nested_organizations_are_resolved_once_across_batches(engine: AsyncEngine) -> None:
    acme = {"name": "Acme", "domain": "acme.com"}
    lines = numbered(
        [{"first_name": f"P{n}", "email": f"p{n}@acme.com", "organization": acme} for n in range(9)]
    )
    seen: list[int] = []
    report = await import_records(engine, "people", lines, batch_size=2, progress=seen.append)
    assert seen == [2, 2, 2, 2, 1]
    assert (report.lines, report.created) == (9, 9)
    assert (report.organizations.created, report.organizations.unchanged) == (1, 0)
    assert (await counts(engine))["organizations"] == 1


# -- the CLI ---------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERILUNE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERILUNE_DATABASE_SCHEMA", raising=False)
    return tmp_path / "data"


def test_cli_imports_files_and_stdin(data_dir: Path, tmp_path: Path) -> None:
    organizations = tmp_path / "organizations.jsonl.gz"
    organizations.write_bytes(gzip.compress(b"\n".join(orjson.dumps(o) for o in ORGANIZATIONS)))
    result = runner.invoke(app, ["import", "organizations", str(organizations)])
    assert result.exit_code == 0, result.output
    assert "organizations: 3 lines: 3 created, 0 updated, 0 unchanged, 0 skipped" in result.output

    people = b"\n".join(orjson.dumps(p) for p in PEOPLE)
    result = runner.invoke(app, ["import", "people", "-"], input=people)
    assert result.exit_code == 0, result.output
    assert "people: 3 lines: 3 created" in result.output
    assert "organizations: 1 created, 0 updated, 1 unchanged" in result.output

    csv_text = "first_name,email,organization.name\nTim,tim@apollo.io,Apollo.io\n"
    result = runner.invoke(
        app, ["import", "people", "-", "--format", "csv", "--batch-size", "1"], input=csv_text
    )
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output


def test_cli_reports_bad_lines(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text('{"first_name": "Good"}\nnot json\n{"title": "No name"}\n')
    errors = tmp_path / "errors.csv"
    result = runner.invoke(app, ["import", "people", str(path), "--errors", str(errors)])
    assert result.exit_code == 1
    assert "1 created" in result.output and "2 with errors" in result.output
    assert "line 2: not valid JSON" in result.output
    assert "line 3: a person needs a name" in result.output
    with errors.open() as file:
        assert [row[0] for row in csv.reader(file)] == ["line", "2", "3"]

    result = runner.invoke(app, ["import", "people", str(tmp_path / "nowhere.csv")])
    assert result.exit_code == 1
    assert "cannot read" in result.output
    result = runner.invoke(app, ["import", "people", str(path), "--format", "xml"])
    assert result.exit_code == 1
    assert "unknown format 'xml'" in result.output


def test_cli_plain_progress_lines() -> None:
    stream = io.StringIO()
    advance = importing._plain_progress("people", stream)
    advance(10)
    assert stream.getvalue() == ""
    importing.PLAIN_PROGRESS_SECONDS, saved = 0.0, importing.PLAIN_PROGRESS_SECONDS
    try:
        advance(5)
    finally:
        importing.PLAIN_PROGRESS_SECONDS = saved
    assert stream.getvalue().startswith("importing people: 15 lines, ")
    assert stream.getvalue().rstrip().endswith("rows/s")


def documented_import_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "data-formats.md").read_text()
    return text.split("## Importing people and organizations", 1)[1]


async def test_the_documented_examples_import(engine: AsyncEngine, tmp_path: Path) -> None:
    section = documented_import_section()
    json_lines = section.split("```json\n", 1)[1].split("```", 1)[0]
    organization, person = (orjson.loads(line) for line in json_lines.splitlines())
    assert outcome(await import_records(engine, "organizations", [(1, organization)])) == (1, 0, 0, 0, 0)
    report = await import_records(engine, "people", [(1, person)])
    assert (outcome(report), report.organizations.unchanged) == ((1, 0, 0, 0, 0), 1)
    csv_path = tmp_path / "example.csv"
    csv_path.write_text(section.split("```csv\n", 1)[1].split("```", 1)[0])
    assert outcome(await import_file(engine, "people", str(csv_path))) == (0, 1, 0, 0, 0)
    tim = await person_data(engine, email="tim@apollo.io")
    assert [p["sanitized_number"] for p in tim["phone_numbers"]] == ["+14156409303", "+14155550100"]

"""Loading big files: secondary indexes deferred while the first people are loaded (and
restored however the import ends), and lines prepared in worker processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.db.indexes import drop_indexes
from perilune.models import Base
from perilune.repository.importer import Importer, import_file, open_source
from perilune.repository.importer.bulk import deferrable_indexes, deferred_indexes
from tests.conftest import Database

PEOPLE_TABLES = ("people", "employment_history", "person_phone_numbers", "personal_emails")


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


async def index_names(engine: AsyncEngine) -> set[str]:
    def read(connection: sa.Connection) -> set[str]:
        inspector = sa.inspect(connection)
        return {str(i["name"]) for table in PEOPLE_TABLES for i in inspector.get_indexes(table)}

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def declared_indexes() -> set[str]:
    return {str(i.name) for table in PEOPLE_TABLES for i in Base.metadata.tables[table].indexes}


def people_lines(count: int, start: int = 0) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "first_name": f"Person{n}",
                "last_name": "Example",
                "email": f"person{n}@example.com",
                "title": "VP of Sales",
                "phone_numbers": [{"raw_number": "+1 415 555 0100", "type": "mobile"}],
                "employment_history": [{"organization_name": "Example Inc", "title": "VP of Sales"}],
                "organization": {"name": "Example Inc", "primary_domain": "example.com"},
            }
        )
        for n in range(start, start + count)
    ]


def write_lines(path: Path, lines: list[bytes]) -> str:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def test_only_indexes_the_importer_does_not_read_are_deferred() -> None:
    deferred = {str(i.name) for i in deferrable_indexes("people")}
    assert deferred < declared_indexes()
    # The importer matches lines by these: they must stay while it runs.
    assert not deferred & {"ix_people_email", "ix_people_linkedin_slug", "ix_people_last_first"}
    assert "ix_employment_history_person_id" in deferred
    assert deferrable_indexes("organizations") == []


async def test_indexes_are_dropped_while_loading_an_empty_repository(engine: AsyncEngine) -> None:
    assert await index_names(engine) >= declared_indexes()
    announced: list[str] = []
    async with deferred_indexes(engine, "people", lambda: announced.append("rebuild")) as deferred:
        assert deferred
        missing = declared_indexes() - await index_names(engine)
        assert missing == {str(i.name) for i in deferrable_indexes("people")}
    assert announced == ["rebuild"]
    assert await index_names(engine) >= declared_indexes()


async def test_indexes_come_back_when_the_load_fails(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with deferred_indexes(engine, "people"):
            raise RuntimeError("interrupted")
    assert await index_names(engine) >= declared_indexes()


async def test_a_repository_with_people_keeps_its_indexes(engine: AsyncEngine, tmp_path: Path) -> None:
    await import_file(engine, "people", write_lines(tmp_path / "first.jsonl", people_lines(3)))
    announced: list[str] = []
    report = await Importer(engine, "people").run(
        [(1, orjson.loads(people_lines(1, start=10)[0]))], announce=announced.append
    )
    assert report.created == 1
    assert announced == []


async def test_a_first_import_announces_the_rebuild_and_matches_lines_as_usual(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    lines = people_lines(5)
    path = write_lines(tmp_path / "people.jsonl", [*lines, lines[0]])  # the last line repeats the first
    announced: list[str] = []
    with open_source(path, parse=False) as source:
        report = await Importer(engine, "people").run(source, batch_size=2, announce=announced.append)
    assert (report.created, report.unchanged, report.errors) == (5, 1, [])
    assert announced == ["building the deferred indexes"]
    assert await index_names(engine) >= declared_indexes()


async def test_a_killed_load_gets_its_indexes_back_from_the_next_upgrade(
    engine: AsyncEngine, database: Database
) -> None:
    async with engine.begin() as connection:
        dropped = await connection.run_sync(drop_indexes, deferrable_indexes("people"))
    assert dropped
    assert not declared_indexes() <= await index_names(engine)
    await migrate.upgrade_async(database.url, database.schema)
    assert await index_names(engine) >= declared_indexes()


async def test_worker_processes_import_exactly_what_this_process_does(
    database: Database, tmp_path: Path
) -> None:
    lines = [*people_lines(6), b'{"first_name": broken', orjson.dumps({"title": "no name"}), *people_lines(2)]
    path = write_lines(tmp_path / "people.jsonl", lines)
    reports = []
    for workers in (2, 0):
        engine = create_engine(database.url, schema=database.schema)
        try:
            reports.append(await import_file(engine, "people", path, batch_size=3, workers=workers))
        finally:
            await engine.dispose()
    parallel, inline = reports
    assert (parallel.created, parallel.unchanged, parallel.lines) == (6, 2, 10)  # the last two repeat
    assert (inline.created, inline.unchanged, inline.lines) == (0, 8, 10)
    assert parallel.errors == inline.errors
    assert [number for number, _ in parallel.errors] == [7, 8]

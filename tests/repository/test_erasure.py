"""Erasing a person on request, and the suppression that keeps them out of later imports."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from perilune.auth import admin
from perilune.cli.main import app
from perilune.db.engine import create_engine, session_factory
from perilune.models import PersonReveal
from perilune.repository.erasure import ErasureError, erase_person
from perilune.repository.importer import import_records
from tests.conftest import Database

TIM_ID = "6453e9bd8f50d40001f1e348"
TIM: dict[str, Any] = {
    "id": TIM_ID,
    "first_name": "Tim",
    "last_name": "Zheng",
    "email": "tim@apollo.io",
    "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
    "personal_emails": ["tim.zheng@gmail.com"],
    "phone_numbers": ["+1 415-640-9303"],
    "organization": {"name": "Apollo", "primary_domain": "apollo.io"},
    "employment_history": [
        {"organization_name": "Apollo", "start_date": "2016-01-01"},
        {"organization_name": "Braingenie", "start_date": "2011-01-01", "end_date": "2015-01-01"},
    ],
}
ADA: dict[str, Any] = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@engines.com"}
CHILDREN = ("employment_history", "person_phone_numbers", "personal_emails", "person_reveals")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url, schema=database.schema)
    yield engine
    await engine.dispose()


async def scalar_rows(engine: AsyncEngine, statement: str) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(sa.text(statement))).all())


async def count(engine: AsyncEngine, table: str, **equals: str) -> int:
    columns: list[sa.ColumnClause[Any]] = [sa.column(name) for name in equals]
    statement = sa.select(sa.func.count()).select_from(sa.table(table, *columns))
    statement = statement.where(*(column == equals[column.name] for column in columns))
    async with engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


async def seed(engine: AsyncEngine) -> None:
    report = await import_records(engine, "people", [(1, TIM), (2, ADA)])
    assert report.created == 2
    async with session_factory(engine)() as session, session.begin():
        now = datetime.now(UTC)
        team = await admin.create_team(session, "Acme", "professional", now)
        session.add(PersonReveal(team_id=team.id, person_id=TIM_ID, revealed_at=now))


async def test_erase_by_email_removes_everything_and_suppresses(engine: AsyncEngine) -> None:
    await seed(engine)
    report = await erase_person(engine, email=" TIM@Apollo.io ")
    (erased,) = report.people
    assert (
        erased.id,
        erased.employment_history,
        erased.phone_numbers,
        erased.personal_emails,
        erased.reveals,
    ) == (
        TIM_ID,
        2,
        1,
        1,
        1,
    )
    assert await count(engine, "people", id=TIM_ID) == 0
    for table in CHILDREN:
        assert await count(engine, table, person_id=TIM_ID) == 0
    assert await count(engine, "people") == 1  # Ada stays
    assert await count(engine, "organizations") == 1  # the employer stays
    changes = await scalar_rows(engine, "SELECT entity, record_id, op FROM repository_changes ORDER BY seq")
    assert tuple(changes[-1]) == ("person", TIM_ID, "delete")
    suppressed = {tuple(row) for row in await scalar_rows(engine, "SELECT kind, value FROM suppressions")}
    assert suppressed == {
        ("email_sha256", sha256("tim@apollo.io")),
        ("email_sha256", sha256("tim.zheng@gmail.com")),
        ("linkedin_slug_sha256", sha256("tim-zheng-677ba010")),
    }
    assert report.new_suppressions == 3
    dump = str(await scalar_rows(engine, "SELECT * FROM suppressions"))
    assert "tim@apollo.io" not in dump and "tim-zheng" not in dump


@pytest.mark.parametrize(
    "identifier",
    [
        {"linkedin_url": "https://uk.linkedin.com/in/Tim-Zheng-677ba010/"},
        {"person_id": TIM_ID},
        {"email": "tim.zheng@gmail.com"},  # a personal email finds the person too
    ],
)
async def test_erase_by_linkedin_id_or_personal_email(
    engine: AsyncEngine, identifier: dict[str, str]
) -> None:
    await seed(engine)
    report = await erase_person(
        engine,
        email=identifier.get("email"),
        linkedin_url=identifier.get("linkedin_url"),
        person_id=identifier.get("person_id"),
    )
    assert [p.id for p in report.people] == [TIM_ID]
    assert await count(engine, "suppressions") == 3


async def test_a_later_import_skips_the_erased(engine: AsyncEngine) -> None:
    await seed(engine)
    await erase_person(engine, email="tim@apollo.io")
    again = [
        (1, TIM),
        (2, {"first_name": "Tim", "linkedin_url": "linkedin.com/in/tim-zheng-677ba010", "email": "t@new.io"}),
        (3, {"first_name": "Tim", "email": "somebody@else.com", "personal_emails": ["TIM.ZHENG@gmail.com"]}),
        (4, ADA),
    ]
    report = await import_records(engine, "people", again)
    assert (report.created, report.unchanged, report.suppressed, report.errors) == (0, 1, 3, [])
    assert "3 erased on request (suppressed)" in report.summary()
    assert await count(engine, "people") == 1


async def test_suppression_without_a_match_still_holds(engine: AsyncEngine) -> None:
    report = await erase_person(engine, email="nobody@example.com")
    assert report.people == []
    assert report.suppressions == [("email_sha256", sha256("nobody@example.com"))]
    again = await erase_person(engine, email="nobody@example.com")
    assert (again.new_suppressions, await count(engine, "suppressions")) == (0, 1)
    imported = await import_records(
        engine, "people", [(1, {"first_name": "No", "email": "Nobody@example.com"})]
    )
    assert (imported.created, imported.suppressed) == (0, 1)


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ({}, "name the person by email, LinkedIn URL or id"),
        ({"email": "not-an-email"}, "is not a valid email address"),
        ({"linkedin_url": "https://example.com/tim"}, "is not a LinkedIn profile URL"),
        ({"person_id": "123"}, "is not a 24-hex-digit id"),
    ],
)
async def test_erasure_needs_a_valid_identifier(
    engine: AsyncEngine, identifier: dict[str, str], message: str
) -> None:
    with pytest.raises(ErasureError, match=message):
        await erase_person(
            engine,
            email=identifier.get("email"),
            linkedin_url=identifier.get("linkedin_url"),
            person_id=identifier.get("person_id"),
        )


# -- the CLI ---------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PERILUNE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PERILUNE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PERILUNE_DATABASE_SCHEMA", raising=False)
    return tmp_path / "data"


def test_cli_erase_then_import_says_so(data_dir: Path, tmp_path: Path) -> None:
    people = tmp_path / "people.jsonl"
    people.write_bytes(orjson.dumps(TIM) + b"\n" + orjson.dumps(ADA) + b"\n")
    result = runner.invoke(app, ["import", "people", str(people)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output

    result = runner.invoke(app, ["people", "erase", "--email", "tim@apollo.io"])
    assert result.exit_code == 0, result.output
    assert f"erased person {TIM_ID}: 2 employment history items, 1 phone numbers" in result.output
    assert "suppressed 3 identifiers (SHA-256 only)" in result.output
    assert "tim@apollo.io" not in result.output.split("suppressed", 1)[1]

    result = runner.invoke(app, ["import", "people", str(people)])
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output
    assert "1 person was skipped: erased on request" in result.output


def test_cli_erase_errors(data_dir: Path) -> None:
    result = runner.invoke(app, ["people", "erase"])
    assert result.exit_code == 1
    assert "name the person by email, LinkedIn URL or id" in result.output
    result = runner.invoke(app, ["people", "erase", "--id", "0123456789abcdef01234567"])
    assert result.exit_code == 1
    assert "no person has id 0123456789abcdef01234567" in result.output
    result = runner.invoke(app, ["people", "erase", "--email", "gone@example.com"])
    assert result.exit_code == 0, result.output
    assert "no person in the repository matched" in result.output

"""The phonetic last-name key: the importer writes it, and migration 0006 fills it in for people
stored before it existed, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.repository.normalize import phonetic_key
from perilune.repository.records import person_record
from tests.conftest import Database


def test_person_records_carry_the_phonetic_last_name() -> None:
    record = person_record({"first_name": "Ann", "last_name": "Smyth"})
    assert record.last_name_phonetic == phonetic_key("Smith") == "SM0"
    assert record.columns()["last_name_phonetic"] == "SM0"
    assert person_record({"first_name": "Ann"}).last_name_phonetic is None


async def _insert_person(engine: AsyncEngine, person_id: str, last_name: str | None) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO people (id, first_name, last_name, data, created_at, updated_at) "
                "VALUES (:id, 'Ann', :last, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": person_id, "last": last_name},
        )


async def _phonetic_keys(engine: AsyncEngine) -> dict[str, str | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT id, last_name_phonetic FROM people"))
        return {row[0]: row[1] for row in rows}


def test_the_migration_fills_in_people_stored_before_it(database: Database) -> None:
    config = migrate.alembic_config(database.url, database.schema)
    command.downgrade(config, "0005")

    async def seed() -> None:
        engine = create_engine(database.url, schema=database.schema)
        try:
            await _insert_person(engine, "a" * 24, "Smyth")
            await _insert_person(engine, "b" * 24, "García López")
            await _insert_person(engine, "c" * 24, None)
        finally:
            await engine.dispose()

    async def keys() -> dict[str, str | None]:
        engine = create_engine(database.url, schema=database.schema)
        try:
            return await _phonetic_keys(engine)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    migrate.upgrade(database.url, database.schema)
    assert asyncio.run(keys()) == {"a" * 24: "SM0", "b" * 24: phonetic_key("Garcia Lopez"), "c" * 24: None}
    migrate.check(database.url, database.schema)

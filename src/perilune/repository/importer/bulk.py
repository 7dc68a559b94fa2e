"""Loading people into an empty repository: indexes deferred to the end.

Keeping a dozen secondary indexes up to date row by row costs more than writing the rows (each
insert lands on a random page of each index); building an index once, sorted, at the end is
several times cheaper. So when a people import starts with no people stored, the indexes the
importer itself does not read are dropped and built again when it ends. The ones it reads to
match lines (id, email, LinkedIn profile, name keys) stay, so the import's semantics do not
change: a line still finds the person an earlier line created.

If the import is killed before the end, the next migration run (every CLI command and ``serve``)
builds the missing indexes (``db.indexes.create_missing_indexes``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from perilune.db.dialect import write_transaction
from perilune.db.indexes import create_missing_indexes, drop_indexes
from perilune.models import Base, EmploymentHistory, Person, PersonalEmail, PersonPhoneNumber
from perilune.repository.importer.report import Kind

# The people columns ``PeopleBatch`` looks lines up by (an index led by one of them stays).
_PERSON_LOOKUPS = frozenset({"email", "linkedin_slug", "last_name_key", "first_name_key"})
_PEOPLE_TABLES: tuple[sa.Table, ...] = tuple(
    Base.metadata.tables[model.__tablename__]
    for model in (Person, EmploymentHistory, PersonPhoneNumber, PersonalEmail)
)


def deferrable_indexes(kind: Kind) -> list[sa.Index]:
    if kind != "people":
        return []
    return [
        index
        for table in _PEOPLE_TABLES
        for index in table.indexes
        if not (table.name == "people" and next(iter(index.columns)).name in _PERSON_LOOKUPS)
    ]


@asynccontextmanager
async def deferred_indexes(
    engine: AsyncEngine, kind: Kind, rebuilding: Callable[[], None] | None = None
) -> AsyncIterator[bool]:
    """Drop the deferrable indexes when the repository holds no people yet; yields whether it
    did, and builds them again on the way out (calling ``rebuilding`` first, for a message)."""
    indexes = deferrable_indexes(kind)
    deferred = False
    if indexes:
        async with write_transaction(engine) as connection:
            people = _PEOPLE_TABLES[0]
            if await connection.scalar(sa.select(people.c.id).limit(1)) is None:
                deferred = bool(await connection.run_sync(drop_indexes, indexes))
    try:
        yield deferred
    finally:
        if deferred:
            if rebuilding is not None:
                rebuilding()
            async with write_transaction(engine) as connection:
                await connection.run_sync(create_missing_indexes, _PEOPLE_TABLES)
                await _analyze(connection)


async def _analyze(connection: AsyncConnection) -> None:
    """Fresh planner statistics for the tables just loaded: without them SQLite may pick a
    poor index for matching's look-ups (it keeps no statistics until ANALYZE runs). A bounded
    analysis (SQLite samples at most ``analysis_limit`` rows per index) takes well under a
    second; PostgreSQL samples by itself."""
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        for table in _PEOPLE_TABLES:
            await connection.exec_driver_sql(f"ANALYZE {table.name}")
    else:
        await connection.exec_driver_sql(f"ANALYZE {', '.join(table.name for table in _PEOPLE_TABLES)}")

"""Every SQL statement the search index runs: streaming the repository in batches, loading
records by id, and reading the change log. Each call is a short transaction of its own, so a
long rebuild never holds a read snapshot (or SQLite's WAL) open."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.models import Organization, Person, RepositoryChange
from perilune.search.documents import OrganizationColumns, PersonColumns

T = TypeVar("T")
# Ids per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits.
ID_CHUNK = 1000


def _classification(dialect: str) -> ColumnElement[str]:
    """``[departments, subdepartments, functions, seniority]`` from the stored person object, as
    JSON text: a few bytes per row instead of the whole object."""
    keys = ("departments", "subdepartments", "functions", "seniority")
    if dialect == "postgresql":
        return cast(func.json_build_array(*(Person.data[k] for k in keys)), Text)
    return cast(func.json_extract(Person.data, *(f"$.{k}" for k in keys)), Text)


def _person_columns(engine: AsyncEngine) -> tuple[Any, ...]:
    return (*_PERSON_COLUMNS, _classification(engine.dialect.name))


_PERSON_COLUMNS: tuple[Any, ...] = (
    Person.id,
    Person.organization_id,
    Person.name,
    Person.title,
    Person.seniority,
    Person.email,
    Person.email_status,
    Person.city,
    Person.state,
    Person.country,
    Person.country_code,
)
_ORGANIZATION_COLUMNS = (
    Organization.id,
    Organization.name,
    Organization.name_key,
    Organization.primary_domain,
    Organization.industry,
    Organization.estimated_num_employees,
    Organization.annual_revenue,
    Organization.founded_year,
    Organization.city,
    Organization.state,
    Organization.country,
    Organization.country_code,
    # The JSON as text, decoded by orjson: several times faster than the driver's json.loads.
    cast(Organization.data, Text),
)


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    entity: str
    record_id: str
    op: str


async def count_records(engine: AsyncEngine) -> tuple[int, int]:
    """(people, organizations)."""
    async with engine.connect() as connection:
        people = await connection.scalar(select(func.count()).select_from(Person))
        organizations = await connection.scalar(select(func.count()).select_from(Organization))
    return int(people or 0), int(organizations or 0)


async def stream_people(engine: AsyncEngine, batch_size: int) -> AsyncIterator[list[PersonColumns]]:
    """Every person, in id order, ``batch_size`` at a time (keyset pagination)."""
    after = ""
    while True:
        query = (
            select(*_person_columns(engine)).where(Person.id > after).order_by(Person.id).limit(batch_size)
        )
        async with engine.connect() as connection:
            rows = [PersonColumns._make(row) for row in (await connection.execute(query)).all()]
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def stream_organizations(
    engine: AsyncEngine, batch_size: int
) -> AsyncIterator[list[OrganizationColumns]]:
    after = ""
    while True:
        query = (
            select(*_ORGANIZATION_COLUMNS)
            .where(Organization.id > after)
            .order_by(Organization.id)
            .limit(batch_size)
        )
        async with engine.connect() as connection:
            rows = [OrganizationColumns._make(row) for row in (await connection.execute(query)).all()]
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def load_people(engine: AsyncEngine, ids: Iterable[str]) -> list[PersonColumns]:
    found: list[PersonColumns] = []
    async with engine.connect() as connection:
        for chunk in _chunks(ids):
            rows = await connection.execute(select(*_person_columns(engine)).where(Person.id.in_(chunk)))
            found.extend(PersonColumns._make(row) for row in rows)
    return found


async def load_organizations(engine: AsyncEngine, ids: Iterable[str]) -> list[OrganizationColumns]:
    found: list[OrganizationColumns] = []
    async with engine.connect() as connection:
        for chunk in _chunks(ids):
            query = select(*_ORGANIZATION_COLUMNS).where(Organization.id.in_(chunk))
            found.extend(OrganizationColumns._make(row) for row in await connection.execute(query))
    return found


async def people_of_organizations(engine: AsyncEngine, organization_ids: Iterable[str]) -> list[str]:
    """Ids of the people whose current organization is one of ``organization_ids``."""
    found: list[str] = []
    async with engine.connect() as connection:
        for chunk in _chunks(organization_ids):
            rows = await connection.execute(select(Person.id).where(Person.organization_id.in_(chunk)))
            found.extend(row[0] for row in rows)
    return found


async def change_log_head(engine: AsyncEngine, window: int) -> tuple[int, list[int]]:
    """The newest change's seq, and the seqs missing among the ``window`` before it: changes
    that may belong to transactions still in flight (PostgreSQL hands out sequence numbers at
    insert time, not in commit order)."""
    async with engine.connect() as connection:
        head = int(await connection.scalar(select(func.max(RepositoryChange.seq))) or 0)
        if head == 0:
            return 0, []
        floor = max(0, head - window)
        rows = await connection.execute(select(RepositoryChange.seq).where(RepositoryChange.seq > floor))
        present = {row[0] for row in rows}
    return head, [seq for seq in range(floor + 1, head) if seq not in present]


async def read_changes(engine: AsyncEngine, after: int, missing: Sequence[int], limit: int) -> list[Change]:
    """Up to ``limit`` changes after ``after``, plus any of the ``missing`` seqs that have
    appeared since, in seq order."""
    columns = (RepositoryChange.seq, RepositoryChange.entity, RepositoryChange.record_id, RepositoryChange.op)
    async with engine.connect() as connection:
        query = select(*columns).where(RepositoryChange.seq > after).order_by(RepositoryChange.seq)
        changes = [Change(*row) for row in await connection.execute(query.limit(limit))]
        for seqs in _chunks(missing):
            late = select(*columns).where(RepositoryChange.seq.in_(seqs))
            changes.extend(Change(*row) for row in await connection.execute(late))
    return sorted(changes, key=lambda change: change.seq)


def _chunks(values: Iterable[T]) -> Iterable[list[T]]:
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= ID_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

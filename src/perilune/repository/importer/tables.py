"""The repository tables as the importer writes them: Core statements run with executemany, one
call per table per batch, never an ORM object per row.

``data`` is bound through ``FastJSON`` (orjson) instead of SQLAlchemy's ``json.dumps``: a person's
Apollo object serialises ~8x faster, and the text is standard JSON that any reader parses. It is
read back as text (``CAST(data AS TEXT)``) and parsed with orjson for the same reason."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement, TableClause
from sqlalchemy.types import TypeDecorator

from perilune.models import (
    EmploymentHistory,
    JobPosting,
    NewsArticle,
    Organization,
    Person,
    PersonalEmail,
    PersonPhoneNumber,
    PersonReveal,
    RepositoryChange,
    Suppression,
)

# Bound parameters per IN list: far below SQLite's 32766 and asyncpg's 32767 limits.
IN_CHUNK = 4000


class FastJSON(TypeDecorator[Any]):
    """JSON serialised with orjson (the column type stays JSON, so PostgreSQL sees ``::JSON``)."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: Any) -> str | None:
            return None if value is None else orjson.dumps(value).decode()

        return process


def _light(model: type[Any]) -> TableClause:
    """A column-for-column TableClause of a model's table, JSON columns bound with FastJSON."""
    table: sa.Table = model.__table__
    columns = [
        sa.column(c.name, FastJSON() if isinstance(c.type, sa.JSON) else c.type) for c in table.columns
    ]
    return sa.table(table.name, *columns)


organizations = _light(Organization)
people = _light(Person)
employment_history = _light(EmploymentHistory)
person_phone_numbers = _light(PersonPhoneNumber)
personal_emails = _light(PersonalEmail)
person_reveals = _light(PersonReveal)
suppressions = _light(Suppression)
repository_changes = _light(RepositoryChange)
job_postings = _light(JobPosting)
news_articles = _light(NewsArticle)

PERSON_CHILDREN: tuple[TableClause, ...] = (employment_history, person_phone_numbers, personal_emails)
# An organization's child tables, by the import line's key (records.ORGANIZATION_CHILDREN).
ORGANIZATION_CHILDREN: dict[str, TableClause] = {"job_postings": job_postings, "news_articles": news_articles}


def data_text(table: TableClause) -> ColumnElement[str]:
    return sa.cast(table.c.data, sa.Text).label("data")


def parse_data(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def insert_rows(connection: AsyncConnection, table: TableClause, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` every row (all rows carry the same keys) with one executemany."""
    if rows:
        await _execute_many(connection, _compiled(connection, table, "insert", tuple(rows[0])), rows)


async def update_rows(connection: AsyncConnection, table: TableClause, rows: list[dict[str, Any]]) -> None:
    """``UPDATE table SET <every other key of the row> WHERE id = :id`` with one executemany.
    All rows carry the same keys."""
    if rows:
        columns = tuple(key for key in rows[0] if key != "id")
        await _execute_many(connection, _compiled(connection, table, "update", columns), rows)


class _Bulk(NamedTuple):
    sql: str
    names: tuple[str, ...]  # row keys in parameter order
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)


_COMPILED: dict[tuple[str, str, str, str, tuple[str, ...]], _Bulk] = {}


def _compiled(connection: AsyncConnection, table: TableClause, op: str, columns: tuple[str, ...]) -> _Bulk:
    """The statement compiled once for the connection's dialect, with the bind processors of
    its parameters (SQLAlchemy would otherwise rebuild every row's parameters through its
    general machinery: ~10 µs a row, more than SQLite takes to insert it)."""
    dialect = connection.dialect
    key = (dialect.name, dialect.driver, table.name, op, columns)
    found = _COMPILED.get(key)
    if found is not None:
        return found
    if op == "insert":
        statement: Any = sa.insert(table)
    else:
        statement = sa.update(table).where(table.c.id == sa.bindparam("id_"))
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup or ())
    processors = []
    for position, name in enumerate(order):
        processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((position, processor))
    names = tuple("id" if name == "id_" else name for name in order)
    found = _COMPILED[key] = _Bulk(str(compiled), names, tuple(processors))
    return found


async def _execute_many(connection: AsyncConnection, bulk: _Bulk, rows: list[dict[str, Any]]) -> None:
    get = operator.itemgetter(*bulk.names)
    if len(bulk.names) == 1:
        params: list[Any] = [[get(row)] for row in rows]
    else:
        params = [list(get(row)) for row in rows]
    for position, processor in bulk.processors:
        # A batch's timestamps are one object (the batch's ``now``): converted once, not per row.
        last: Any = _NOTHING
        converted: Any = None
        for values in params:
            value = values[position]
            if value is not last:
                last, converted = value, processor(value)
            values[position] = converted
    await connection.exec_driver_sql(bulk.sql, [tuple(values) for values in params])


_NOTHING = object()


async def delete_where_in(
    connection: AsyncConnection, table: TableClause, column: str, values: Sequence[Any]
) -> None:
    for chunk in chunks(values):
        await connection.execute(sa.delete(table).where(table.c[column].in_(chunk)))

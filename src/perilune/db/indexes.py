"""Secondary indexes the models declare, created where the database lacks them.

A bulk import drops some indexes for its duration and builds them again at the end (one sorted
build is several times cheaper than keeping them up to date row by row). If that import is
killed, the indexes are missing; every migration run (each CLI command, ``serve``) calls
``create_missing_indexes`` so they come back before anything reads."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from perilune.models import Base


def create_missing_indexes(connection: Connection, tables: Iterable[sa.Table] | None = None) -> list[str]:
    """Create every declared index of ``tables`` (default: all) that does not exist; returns
    the names created."""
    inspector = sa.inspect(connection)
    created = []
    for table in tables if tables is not None else Base.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            # A column the migrations have not made yet is theirs to index, not ours.
            if index.name not in present and {c.name for c in index.columns} <= columns:
                index.create(connection)
                created.append(str(index.name))
    return created


def drop_indexes(connection: Connection, indexes: Iterable[sa.Index]) -> list[str]:
    """Drop the given indexes where they exist; returns the names dropped."""
    inspector = sa.inspect(connection)
    dropped = []
    by_table: dict[str, set[str]] = {}
    for index in indexes:
        table = index.table
        assert table is not None
        present = by_table.setdefault(
            table.name, {str(found["name"]) for found in inspector.get_indexes(table.name)}
        )
        if index.name in present:
            index.drop(connection)
            dropped.append(str(index.name))
    return dropped

"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(dialect_name: str, table: Table, rows: list[dict[str, Any]]) -> Insert:
    """INSERT that skips rows whose primary key already exists."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).values(rows).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        return sqlite.insert(table).values(rows).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect {dialect_name}")

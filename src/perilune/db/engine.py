"""Engine creation: SQLite in WAL mode by default, PostgreSQL (asyncpg) when configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from perilune.config import Settings

SQLITE_PRAGMAS = (
    # 16 KiB pages (SQLite's default is 4 KiB): a person row with its Apollo object is ~2.5 kB,
    # and 4 KiB pages hold one such row each, wasting a third of the file and its I/O. The size
    # only takes effect on a new database, so it comes before anything that writes the header.
    "PRAGMA page_size=16384",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns through orjson: a page of search results decodes a hundred people's Apollo
# objects, several times faster than with the json module; the text is the same standard JSON.
_JSON: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    if is_sqlite(url):
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, pool_pre_ping=True, connect_args=connect_args, **_JSON)


def engine_from_settings(settings: Settings) -> AsyncEngine:
    return create_engine(settings.resolved_database_url, schema=settings.database_schema)


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 10}, **_JSON)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's implicit transactions would hide BEGIN IMMEDIATE; let SQLAlchemy drive them.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock at BEGIN so two processes never deadlock upgrading a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write(connection) else "BEGIN")

    return engine


def _wants_write(connection: Any) -> bool:
    return bool(connection.get_execution_options().get("sqlite_immediate", False))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)

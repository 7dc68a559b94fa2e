"""Engine creation: SQLite in WAL mode by default, PostgreSQL (asyncpg) when configured."""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
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


def create_inline_engine(url: str, *, writes: bool) -> AsyncEngine | None:
    """An engine for request transactions, where that pays: on SQLite, connections that run
    each statement on the calling thread instead of handing it to aiosqlite's thread (a hop
    costs ~0.13 ms of CPU, ten times a primary-key read). A statement that waited here would
    hold up the event loop, so neither kind ever waits on a lock: a reader (``writes=False``)
    refuses to write (``query_only``) and a WAL reader takes no lock; a writer gives up at once
    when another connection holds the write lock (``busy_timeout=0``: the caller waits for it
    asynchronously, see ``api.deps``), and once BEGIN IMMEDIATE has it nothing else waits. A
    long statement still holds the loop up: scans belong on the main engine. None on
    PostgreSQL or for an in-memory database (use the main engine)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database or ":memory:"
    if database == ":memory:" or database.startswith("file:"):
        return None

    def connect() -> InlineConnection:
        return InlineConnection(partial(sqlite3.connect, database, timeout=0, check_same_thread=False))

    engine = create_async_engine(url, async_creator=connect, **_JSON)
    _configure_sqlite(engine, ("PRAGMA busy_timeout=0",) if writes else ("PRAGMA query_only=ON",))
    return engine


def is_busy(error: BaseException) -> bool:
    """SQLite's "database is locked": another connection holds the write lock."""
    cause = getattr(error, "orig", error)
    return isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection without its thread: every call runs at once on the caller's."""

    def __init__(self, connector: Any) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # SQLAlchemy's adapter queues some calls on the thread's queue directly.
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its thread: runs each queued call when it is put."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as the thread would
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


def _sqlite_engine(url: str) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 10}, **_JSON)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine, extra_pragmas: tuple[str, ...] = ()) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's implicit transactions would hide BEGIN IMMEDIATE; let SQLAlchemy drive them.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (*SQLITE_PRAGMAS, *extra_pragmas):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock at BEGIN so two processes never deadlock upgrading a read lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write(connection) else "BEGIN")


def _wants_write(connection: Any) -> bool:
    return bool(connection.get_execution_options().get("sqlite_immediate", False))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)

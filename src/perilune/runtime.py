"""What a running app holds: settings, the database, the clock and the rate-limit store. Built
once by the app's lifespan and reached by dependencies through ``request.app.state.runtime``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from perilune.auth.cache import CallerCache
from perilune.clock import Clock
from perilune.config import Settings
from perilune.db.engine import create_inline_engine, engine_from_settings, session_factory
from perilune.db.gate import WriteGate
from perilune.metering.ratelimit import MemoryRateLimitStore, RateLimitStore
from perilune.metering.stores import DatabaseRateLimitStore, RedisRateLimitStore


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    rate_limits: RateLimitStore
    callers: CallerCache
    # Apollo endpoint names served by this app, in route order (for usage reports).
    endpoints: tuple[str, ...] = ()
    # SQLite: request write transactions queue here (within and across the processes serving the
    # database) instead of in SQLite's sleeping busy handler; see ``perilune.db.gate``. None on
    # PostgreSQL, whose writers wait on row locks only.
    write_gate: WriteGate | None = None
    # Request transactions (``api.deps``): on SQLite, engines of their own whose statements skip
    # aiosqlite's thread (``create_inline_engine``); else None, and ``sessions`` serves them.
    # Everything else (jobs, the search index, the command line) uses ``engine``.
    read_engine: AsyncEngine | None = None
    write_engine: AsyncEngine | None = None

    def __post_init__(self) -> None:
        self._readers = session_factory(self.read_engine) if self.read_engine is not None else self.sessions
        self._writers = session_factory(self.write_engine) if self.write_engine is not None else self.sessions

    def reader(self) -> async_sessionmaker[AsyncSession]:
        return self._readers

    def writer(self) -> async_sessionmaker[AsyncSession]:
        return self._writers

    async def close(self) -> None:
        await self.rate_limits.close()
        for inline in (self.read_engine, self.write_engine):
            if inline is not None:
                await inline.dispose()
        if self.write_gate is not None:
            self.write_gate.close()
        await self.engine.dispose()


def build_rate_limit_store(settings: Settings, engine: AsyncEngine) -> RateLimitStore:
    name = settings.effective_rate_limit_store()
    if name == "redis":
        if not settings.redis_url:
            raise ValueError("PERILUNE_RATE_LIMIT_STORE=redis needs PERILUNE_REDIS_URL")
        return RedisRateLimitStore(settings.redis_url)
    if name == "database":
        return DatabaseRateLimitStore(engine)
    return MemoryRateLimitStore()


def _write_gate(engine: AsyncEngine) -> WriteGate | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
    return WriteGate(Path(f"{database}-writers") if on_disk else None)


def build_runtime(settings: Settings, clock: Clock, **overrides: Any) -> Runtime:
    engine = engine_from_settings(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        rate_limits=overrides.get("rate_limits") or build_rate_limit_store(settings, engine),
        callers=CallerCache(settings.auth_cache_seconds),
        write_gate=_write_gate(engine),
        read_engine=create_inline_engine(settings.resolved_database_url, writes=False),
        write_engine=create_inline_engine(settings.resolved_database_url, writes=True),
    )

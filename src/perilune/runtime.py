"""What a running app holds: settings, the database, the clock and the rate-limit store. Built
once by the app's lifespan and reached by dependencies through ``request.app.state.runtime``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from perilune.auth.cache import CallerCache
from perilune.clock import Clock
from perilune.config import Settings
from perilune.db.engine import engine_from_settings, session_factory
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
    # SQLite: request write transactions of this process queue here instead of in SQLite's busy
    # handler, which sleeps in steps of up to 100 ms (seconds of p99 with a few writers waiting).
    # None on PostgreSQL, whose writers wait on row locks only.
    write_gate: asyncio.Lock | None = None

    async def close(self) -> None:
        await self.rate_limits.close()
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


def build_runtime(settings: Settings, clock: Clock, **overrides: Any) -> Runtime:
    engine = engine_from_settings(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=clock,
        rate_limits=overrides.get("rate_limits") or build_rate_limit_store(settings, engine),
        callers=CallerCache(settings.auth_cache_seconds),
        write_gate=asyncio.Lock() if engine.dialect.name == "sqlite" else None,
    )

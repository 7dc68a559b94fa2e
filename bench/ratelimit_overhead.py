"""What each rate-limit store costs a request: GET /api/v1/auth/health through the in-process
ASGI app (httpx.ASGITransport, no network), one request at a time, with the memory store as the
baseline. The app's own database is SQLite in every case, so the differences are the stores'.

    .venv/bin/python -m bench.ratelimit_overhead [--requests 2000]

Stores measured: memory; database on SQLite; Redis when one answers at PERILUNE_REDIS_URL (or
redis://127.0.0.1:6379/0); database on PostgreSQL when PERILUNE_BENCH_POSTGRES_URL is set (in a
schema of its own, dropped afterwards). The rounds are interleaved (each store in turn, several
times) so that a machine busy with other work slows every store alike."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import RateLimitStoreName, Settings
from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.metering.ratelimit import RateLimitStore
from perilune.metering.stores import DatabaseRateLimitStore, RedisRateLimitStore
from perilune.runtime import Runtime

HEALTH = "/api/v1/auth/health"
DEFAULT_REQUESTS = 2000
ROUNDS = 4
WARMUP = 100
# High enough that every request is counted and allowed: the path every real request takes.
UNLIMITED = {"limits": {"default": {"minute": 10**9, "hour": 10**9, "day": 10**9}}}


@dataclass
class Case:
    name: str
    settings: Settings
    redis: tuple[str, str] | None = None  # (url, namespace): counters in Redis
    counters_db: tuple[str, str] | None = None  # (url, schema): counters in PostgreSQL
    cleanup: Callable[[], None] | None = None
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    client: httpx.AsyncClient | None = None
    key: str = ""


def _redis_url() -> str | None:
    url = os.environ.get("PERILUNE_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        return None
    return url


def _redis_cleanup(url: str, namespace: str) -> Callable[[], None]:
    def cleanup() -> None:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{namespace}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    return cleanup


def _run_sql(url: str, statement: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


def build_cases(workdir: Path) -> list[Case]:
    template = workdir / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{template}")

    def sqlite_settings(name: str, store: RateLimitStoreName) -> Settings:
        path = workdir / f"{name}.db"
        shutil.copy(template, path)
        return Settings(
            data_dir=workdir / name,
            database_url=f"sqlite+aiosqlite:///{path}",
            rate_limit_store=store,
            log_level="WARNING",
        )

    cases = [
        Case("memory", sqlite_settings("memory", "memory")),
        Case("database (SQLite)", sqlite_settings("database", "database")),
    ]
    redis_url = _redis_url()
    if redis_url is not None:
        namespace = f"perilune-bench-{uuid.uuid4().hex[:12]}"
        cases.append(
            Case(
                "redis",
                sqlite_settings("redis", "memory"),
                redis=(redis_url, namespace),
                cleanup=_redis_cleanup(redis_url, namespace),
            )
        )
    else:
        print("redis: skipped (no Redis answered at PERILUNE_REDIS_URL or redis://127.0.0.1:6379/0)")
    postgres_url = os.environ.get("PERILUNE_BENCH_POSTGRES_URL")
    if postgres_url:
        url = Settings(database_url=postgres_url).resolved_database_url
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        _run_sql(url, f'CREATE SCHEMA "{schema}"')
        migrate.upgrade(url, schema)
        # The app's own database stays SQLite; only the counters go to PostgreSQL.
        cases.append(
            Case(
                "database (PostgreSQL)",
                sqlite_settings("postgres", "memory"),
                counters_db=(url, schema),
                cleanup=lambda: _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'),
            )
        )
    return cases


@asynccontextmanager
async def opened(case: Case, clock: FrozenClock) -> AsyncIterator[None]:
    engine = None
    if case.counters_db:
        url, schema = case.counters_db
        engine = create_engine(url, schema=schema)
    store: RateLimitStore | None = None
    if case.redis:
        store = RedisRateLimitStore(*case.redis)
    elif engine is not None:
        store = DatabaseRateLimitStore(engine)
    app = create_app(case.settings, clock, **({"rate_limits": store} if store else {}))
    try:
        async with LifespanManager(app):
            runtime: Runtime = app.state.runtime
            async with runtime.sessions() as session, session.begin():
                team = await admin.create_team(session, "Bench", "custom", clock.now())
                await admin.set_plan(session, team, "custom", UNLIMITED)
                case.key = (await admin.create_key(session, team, master=True, now=clock.now())).secret
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
                case.client = client
                yield
    finally:
        if engine is not None:
            await engine.dispose()


async def run_round(case: Case, requests: int) -> int:
    """Send ``requests`` requests one at a time; return the last response's hourly usage."""
    assert case.client is not None
    headers = {"x-api-key": case.key}
    get = case.client.get
    usage = 0
    started = time.perf_counter()
    for _ in range(requests):
        before = time.perf_counter()
        response = await get(HEALTH, headers=headers)
        case.latencies.append(time.perf_counter() - before)
        if response.status_code != 200:
            raise RuntimeError(f"{case.name}: {response.status_code} {response.text}")
        usage = int(response.headers["x-hourly-usage"])
    case.elapsed += time.perf_counter() - started
    return usage


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(cases: list[Case], requests: int) -> None:
    clock = FrozenClock()  # windows never roll over mid-run, so every count can be checked
    per_round = max(1, requests // ROUNDS)
    async with AsyncExitStack() as stack:
        for case in cases:
            await stack.enter_async_context(opened(case, clock))
            await run_round(case, WARMUP)
            case.latencies.clear()
            case.elapsed = 0.0
        for _ in range(ROUNDS):
            for case in cases:
                await run_round(case, per_round)
        for case in cases:
            # The store counted every request once (warm-up included): it did its work.
            counted = await run_round(case, 1)
            expected = WARMUP + ROUNDS * per_round + 1
            if counted != expected:
                raise RuntimeError(f"{case.name}: counted {counted} requests, sent {expected}")
            case.latencies.pop()


def report(cases: list[Case]) -> None:
    base = cases[0]
    base_p50 = percentile(base.latencies, 0.5)
    base_rps = len(base.latencies) / sum(base.latencies)
    print(f"GET {HEALTH} through the ASGI app, {len(base.latencies)} requests per store, sequential")
    header = f"{'store':<24}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'req/s':>9}{'p50 x':>8}{'req/s x':>9}"
    print(header)
    print("-" * len(header))
    for case in cases:
        p50 = percentile(case.latencies, 0.5)
        p99 = percentile(case.latencies, 0.99)
        mean = statistics.fmean(case.latencies)
        rps = len(case.latencies) / sum(case.latencies)
        print(
            f"{case.name:<24}{p50 * 1000:>9.2f}{p99 * 1000:>9.2f}{mean * 1000:>9.2f}{rps:>9.0f}"
            f"{p50 / base_p50:>8.2f}{rps / base_rps:>9.2f}"
        )
    print(f"(ratios against the {base.name} store, the baseline; p50 x above 1 is slower)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="timed requests per store")
    args = parser.parse_args(argv)
    os.environ.setdefault("PERILUNE_RUN_WORKER", "false")  # no job worker polling beside the requests
    workdir = Path(tempfile.mkdtemp(prefix="perilune-bench-"))
    cases: list[Case] = []
    try:
        cases = build_cases(workdir)
        asyncio.run(measure(cases, args.requests))
        report(cases)
    finally:
        for case in cases:
            if case.cleanup is not None:
                case.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

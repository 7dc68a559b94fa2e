"""Shared fixtures. Every API test runs against a real database: SQLite always, PostgreSQL too
when PERILUNE_TEST_POSTGRES_URL is set (each test in a schema of its own, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.db import migrate
from perilune.db.engine import create_engine
from perilune.metering import credits
from perilune.metering.plans import resolve_plan
from perilune.runtime import Runtime

POSTGRES_URL = os.environ.get("PERILUNE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PERILUNE_TEST_REDIS_URL")
SKIP_POSTGRES = "PostgreSQL tests skipped: PERILUNE_TEST_POSTGRES_URL is not set"
SKIP_REDIS = "Redis tests skipped: PERILUNE_TEST_REDIS_URL is not set"


@dataclass(frozen=True)
class Database:
    kind: str
    url: str
    schema: str | None = None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test: migrating once keeps the suite fast."""
    path = tmp_path_factory.mktemp("template") / "perilune.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _postgres_schema() -> Iterator[Database]:
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = Settings(database_url=POSTGRES_URL).resolved_database_url
    run_sql(url, f'CREATE SCHEMA "{schema}"')
    try:
        migrate.upgrade(url, schema)
        yield Database("postgres", url, schema)
    finally:
        run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def run_sql(url: str, statement: str, schema: str | None = None) -> None:
    """One statement in a transaction of its own, outside any event loop."""

    async def run() -> None:
        engine = create_engine(url, schema=schema)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "perilune.db"
        shutil.copy(sqlite_template, path)
        yield Database("sqlite", f"sqlite+aiosqlite:///{path}")
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    yield from _postgres_schema()


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        database_schema=database.schema,
        rate_limit_store="memory",
        log_level="WARNING",
        # Tests change keys and plans between requests and expect to see it at once;
        # tests/auth/test_auth_cache.py covers the cache.
        auth_cache_seconds=0,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    value: Runtime = app.state.runtime
    return value


@asynccontextmanager
async def asgi_client(app: FastAPI, *, raise_app_exceptions: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client speaking to ``app`` in process, through its real ASGI interface."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
        yield http


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@dataclass(frozen=True)
class Tenant:
    team_id: str
    user_id: str
    master_key: str


async def make_tenant(
    runtime: Runtime, clock: FrozenClock, *, name: str = "Acme", plan: str = "professional"
) -> Tenant:
    async with runtime.sessions() as session, session.begin():
        team = await admin.create_team(session, name, plan, clock.now())
        user = await admin.create_user(
            session,
            team,
            email=f"owner@{name.lower()}.test",
            first_name="Olive",
            last_name="Owner",
            role="admin",
            now=clock.now(),
        )
        issued = await admin.create_key(session, team, master=True, user=user, now=clock.now())
        return Tenant(team.id, user.id, issued.secret)


async def make_scoped_key(runtime: Runtime, clock: FrozenClock, tenant: Tenant, *scopes: str) -> str:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        issued = await admin.create_key(session, team, master=False, scopes=scopes, now=clock.now())
        return issued.secret


@pytest.fixture
async def tenant(runtime: Runtime, clock: FrozenClock) -> Tenant:
    return await make_tenant(runtime, clock)


async def spend_credits(
    runtime: Runtime,
    clock: FrozenClock,
    team_id: str,
    credit_type: str,
    amount: int,
    user_id: str | None = None,
    note: str | None = "test",
) -> None:
    """Charge a team through the ledger, as an enrichment endpoint would."""
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        plan = resolve_plan(team.plan, team.plan_overrides)
        await credits.spend(
            session,
            team,
            plan,
            clock.now(),
            credit_type=credit_type,
            amount=amount,
            user_id=user_id,
            endpoint="api/v1/people/match",
            note=note,
        )

"""The in-process cache of authenticated keys: repeat requests skip the database, and a revoked
key or a changed plan is seen once the cache's lifetime has passed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from tests.conftest import asgi_client, make_tenant

HEALTH = "/api/v1/auth/health"


@pytest.fixture
async def cached_app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"auth_cache_seconds": 5.0}), clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(cached_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(cached_app) as client:
        yield client


def count_key_lookups(runtime: Runtime) -> list[str]:
    seen: list[str] = []

    @event.listens_for(runtime.engine.sync_engine, "before_cursor_execute")
    def _record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM api_keys" in statement:
            seen.append(statement)

    return seen


async def test_repeat_requests_read_the_key_once(
    http: httpx.AsyncClient, cached_app: FastAPI, clock: FrozenClock
) -> None:
    runtime: Runtime = cached_app.state.runtime
    tenant = await make_tenant(runtime, clock)
    lookups = count_key_lookups(runtime)
    for _ in range(5):
        assert (await http.get(HEALTH, headers={"x-api-key": tenant.master_key})).status_code == 200
    assert len(lookups) == 1
    clock.advance(5)
    assert (await http.get(HEALTH, headers={"x-api-key": tenant.master_key})).status_code == 200
    assert len(lookups) == 2


async def test_revocation_and_plan_changes_take_effect_after_the_lifetime(
    http: httpx.AsyncClient, cached_app: FastAPI, clock: FrozenClock
) -> None:
    runtime: Runtime = cached_app.state.runtime
    tenant = await make_tenant(runtime, clock)
    headers = {"x-api-key": tenant.master_key}
    assert (await http.get("/api/v1/users/search", headers=headers)).status_code == 200
    async with runtime.sessions() as session, session.begin():
        await admin.set_plan(session, await admin.find_team(session, tenant.team_id), "free", None)
    assert (await http.get("/api/v1/users/search", headers=headers)).status_code == 200  # cached
    clock.advance(5)
    assert (await http.get("/api/v1/users/search", headers=headers)).status_code == 403  # free plan

    async with runtime.sessions() as session, session.begin():
        await admin.revoke_key(session, tenant.master_key, clock.now())
    assert (await http.get(HEALTH, headers=headers)).status_code == 200  # cached
    clock.advance(5)
    response = await http.get(HEALTH, headers=headers)
    assert response.status_code == 401


async def test_unknown_keys_are_never_cached(http: httpx.AsyncClient, cached_app: FastAPI) -> None:
    lookups = count_key_lookups(cached_app.state.runtime)
    for _ in range(3):
        assert (await http.get(HEALTH, headers={"x-api-key": "not-a-key"})).status_code == 401
    assert len(lookups) == 3

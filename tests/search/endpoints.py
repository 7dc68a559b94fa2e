"""A running app whose search index holds the hand-built repository of ``mixed_repository``,
for the search endpoints' tests: the repository is imported before the app starts, so the
index the app builds at startup already holds it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.models import CreditLedgerEntry
from perilune.runtime import Runtime
from perilune.search.follower import IndexService
from tests.conftest import Tenant, make_tenant

# Enough for any test's requests: rate limits have tests of their own.
UNLIMITED = dict.fromkeys(("minute", "hour", "day"), 10**9)


@asynccontextmanager
async def running_app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock)
    async with LifespanManager(application):
        service: IndexService = application.state.search_index
        deadline = time.monotonic() + 30
        while service.index is None:
            assert time.monotonic() < deadline, "the search index was not built"
            await asyncio.sleep(0.02)
        yield application


async def post(
    client: httpx.AsyncClient, path: str, key: str, body: Any = None, prefix: str = "/api/v1"
) -> httpx.Response:
    return await client.post(f"{prefix}{path}", headers={"x-api-key": key}, json=body)


async def spent(runtime: Runtime, team_id: str, credit_type: str) -> int:
    async with runtime.sessions() as session:
        total = await session.scalar(
            select(func.sum(CreditLedgerEntry.amount)).where(
                CreditLedgerEntry.team_id == team_id,
                CreditLedgerEntry.credit_type == credit_type,
                CreditLedgerEntry.amount < 0,
            )
        )
    return -int(total or 0)


async def unlimited_tenant(runtime: Runtime, clock: FrozenClock) -> Tenant:
    """A team on the custom plan without practical rate or credit limits."""
    tenant = await make_tenant(runtime, clock, name="Unlimited")
    overrides = {
        "limits": dict.fromkeys(("default", "search"), UNLIMITED),
        "credits": {"lead_credit": 10**9, "export_credit": 10**9},
    }
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", overrides)
    return tenant


def crumb(label: str, field: str, value: Any, display: str) -> dict[str, Any]:
    """A breadcrumb as Apollo's samples show one."""
    return {"label": label, "signal_field_name": field, "value": value, "display_name": display}

"""POST /usage_stats/credit_usage_stats and /usage_stats/api_usage_stats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.metering.plans import CREDIT_TYPES, PLANS
from perilune.resources.usage_stats.service import usage_key
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.conftest import spend_credits as spend

SERVED = (
    "api/v1/auth/health",
    "api/v1/users/search",
    "api/v1/users/api_profile",
    "api/v1/usage_stats/api_usage_stats",
    "api/v1/usage_stats/credit_usage_stats",
)
CREDIT_STATS = "/api/v1/usage_stats/credit_usage_stats"
API_STATS = "/api/v1/usage_stats/api_usage_stats"


async def post(client: httpx.AsyncClient, path: str, key: str) -> Any:
    response = await client.post(path, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def grant(runtime: Runtime, clock: FrozenClock, team_id: str, credit_type: str, amount: int) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        await admin.grant_credits(session, team, credit_type, amount, clock.now(), "test grant")


# ---------------------------------------------------------------------------------------------
# credit_usage_stats


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
async def test_credit_stats_of_a_fresh_team(client: httpx.AsyncClient, tenant: Tenant, prefix: str) -> None:
    body = await post(client, f"{prefix}/usage_stats/credit_usage_stats", tenant.master_key)
    assert set(body) == {"credit_usage_stats", "current_credit_cycle"}
    stats = body["credit_usage_stats"]
    assert list(stats) == list(CREDIT_TYPES)
    assert len(stats) == 10
    professional = PLANS["professional"]
    for credit_type, entry in stats.items():
        allowance = professional.credit_limit(credit_type)
        assert entry == {"limit": allowance, "consumed": 0, "left_over": allowance}, credit_type
    # The tenant was created at the clock's start, 2026-01-15 12:00 UTC: that is the anchor.
    assert body["current_credit_cycle"] == {
        "start_date": "2026-01-15T12:00:00.000Z",
        "end_date": "2026-02-15T12:00:00.000Z",
    }


async def test_credit_stats_on_the_free_plan_list_every_type(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    stats = (await post(client, CREDIT_STATS, free.master_key))["credit_usage_stats"]
    assert set(stats) == set(CREDIT_TYPES)
    assert stats["lead_credit"] == {"limit": 100, "consumed": 0, "left_over": 100}
    assert stats["dialer"] == {"limit": 0, "consumed": 0, "left_over": 0}
    assert stats["power_up_credit"] == {"limit": 0, "consumed": 0, "left_over": 0}


async def test_credit_stats_follow_grants_and_spends(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await grant(runtime, clock, tenant.team_id, "lead_credit", 250)
    await grant(runtime, clock, tenant.team_id, "lead_credit", 50)
    await grant(runtime, clock, tenant.team_id, "dialer", 10)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 40, tenant.user_id)
    await spend(runtime, clock, tenant.team_id, "lead_credit", 2)  # a spend with no user still counts
    await spend(runtime, clock, tenant.team_id, "export_credit", 5000, tenant.user_id)  # all of it
    await spend(runtime, clock, tenant.team_id, "dialer", 510, tenant.user_id)  # allowance + grant

    stats = (await post(client, CREDIT_STATS, tenant.master_key))["credit_usage_stats"]
    assert stats["lead_credit"] == {"limit": 10300, "consumed": 42, "left_over": 10258}
    assert stats["export_credit"] == {"limit": 5000, "consumed": 5000, "left_over": 0}
    assert stats["dialer"] == {"limit": 510, "consumed": 510, "left_over": 0}
    assert stats["ai_credit"] == {"limit": 2000, "consumed": 0, "left_over": 2000}
    for entry in stats.values():
        assert entry["left_over"] == entry["limit"] - entry["consumed"]


async def test_credit_stats_are_team_isolated(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Beta")
    await grant(runtime, clock, other.team_id, "lead_credit", 1000)
    await spend(runtime, clock, other.team_id, "lead_credit", 700, other.user_id)
    stats = (await post(client, CREDIT_STATS, tenant.master_key))["credit_usage_stats"]
    assert stats["lead_credit"] == {"limit": 10000, "consumed": 0, "left_over": 10000}
    theirs = (await post(client, CREDIT_STATS, other.master_key))["credit_usage_stats"]
    assert theirs["lead_credit"] == {"limit": 11000, "consumed": 700, "left_over": 10300}


async def test_credit_cycle_rolls_over_and_consumption_resets(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await grant(runtime, clock, tenant.team_id, "ai_credit", 100)
    await spend(runtime, clock, tenant.team_id, "ai_credit", 60, tenant.user_id)
    clock.set(datetime(2026, 2, 15, 11, 59, 59, tzinfo=UTC))  # the last second of the first cycle
    body = await post(client, CREDIT_STATS, tenant.master_key)
    assert body["credit_usage_stats"]["ai_credit"] == {"limit": 2100, "consumed": 60, "left_over": 2040}
    assert body["current_credit_cycle"]["end_date"] == "2026-02-15T12:00:00.000Z"

    clock.advance(1)  # exactly the cycle's end: the next cycle begins
    body = await post(client, CREDIT_STATS, tenant.master_key)
    assert body["credit_usage_stats"]["ai_credit"] == {"limit": 2000, "consumed": 0, "left_over": 2000}
    assert body["current_credit_cycle"] == {
        "start_date": "2026-02-15T12:00:00.000Z",
        "end_date": "2026-03-15T12:00:00.000Z",
    }

    # Spends in the new cycle count in the new cycle only.
    await spend(runtime, clock, tenant.team_id, "ai_credit", 5, tenant.user_id)
    body = await post(client, CREDIT_STATS, tenant.master_key)
    assert body["credit_usage_stats"]["ai_credit"]["consumed"] == 5
    clock.set(datetime(2026, 7, 1, tzinfo=UTC))
    body = await post(client, CREDIT_STATS, tenant.master_key)
    assert body["credit_usage_stats"]["ai_credit"]["consumed"] == 0
    assert body["current_credit_cycle"] == {
        "start_date": "2026-06-15T12:00:00.000Z",
        "end_date": "2026-07-15T12:00:00.000Z",
    }


async def test_credit_cycle_anchored_on_the_31st(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 1, 31, 9, 30, tzinfo=UTC))
    month_end = await make_tenant(runtime, clock, name="MonthEnd")
    expected = [
        (datetime(2026, 2, 10, tzinfo=UTC), "2026-01-31T09:30:00.000Z", "2026-02-28T09:30:00.000Z"),
        (datetime(2026, 3, 1, tzinfo=UTC), "2026-02-28T09:30:00.000Z", "2026-03-31T09:30:00.000Z"),
        (datetime(2026, 3, 31, 9, 30, tzinfo=UTC), "2026-03-31T09:30:00.000Z", "2026-04-30T09:30:00.000Z"),
        (datetime(2026, 5, 30, tzinfo=UTC), "2026-04-30T09:30:00.000Z", "2026-05-31T09:30:00.000Z"),
    ]
    for now, start, end in expected:
        clock.set(now)
        body = await post(client, CREDIT_STATS, month_end.master_key)
        assert body["current_credit_cycle"] == {"start_date": start, "end_date": end}, now


async def test_credit_stats_need_a_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(CREDIT_STATS)
    assert response.status_code == 401


# ---------------------------------------------------------------------------------------------
# api_usage_stats


def test_usage_key_is_apollos_controller_action_pair() -> None:
    assert usage_key("api/v1/users/search") == '["api/v1/users", "search"]'
    assert usage_key("api/v1/usage_stats/api_usage_stats") == '["api/v1/usage_stats", "api_usage_stats"]'
    assert json.loads(usage_key("api/v1/mixed_people/api_search")) == ["api/v1/mixed_people", "api_search"]


async def test_api_stats_list_every_served_endpoint(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    assert set(SERVED) <= set(runtime.endpoints)
    body = await post(client, API_STATS, tenant.master_key)
    assert set(body) == {json.dumps(list(e.rsplit("/", 1))) for e in runtime.endpoints}
    assert '["api/v1/users", "search"]' in body
    assert '["api/v1/auth", "health"]' in body
    plan = PLANS["professional"]
    for endpoint in runtime.endpoints:
        entry = body[usage_key(endpoint)]
        assert list(entry) == ["day", "hour", "minute"]
        limits = plan.limits_for(endpoint)
        for window in ("day", "hour", "minute"):
            assert set(entry[window]) == {"limit", "consumed", "left_over"}
            assert entry[window]["limit"] == limits.for_window(window)
    # Only the report itself has been called so far.
    for endpoint in runtime.endpoints:
        entry = body[usage_key(endpoint)]
        expected = 1 if endpoint == "api/v1/usage_stats/api_usage_stats" else 0
        for window in ("day", "hour", "minute"):
            assert entry[window]["consumed"] == expected, (endpoint, window)
            limit = entry[window]["limit"]  # None: no limit in this window (left over: None)
            assert entry[window]["left_over"] == (None if limit is None else limit - expected)


async def test_api_stats_count_calls(client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant) -> None:
    headers = {"x-api-key": tenant.master_key}
    for _ in range(3):
        assert (await client.get("/api/v1/users/search", headers=headers)).status_code == 200
    # Both prefixes are the same endpoint.
    assert (await client.get("/v1/users/search", headers=headers)).status_code == 200
    assert (await client.get("/v1/auth/health", headers=headers)).status_code == 200

    body = await post(client, API_STATS, tenant.master_key)
    search = body['["api/v1/users", "search"]']
    assert search == {
        "day": {"limit": 6000, "consumed": 4, "left_over": 5996},
        "hour": {"limit": 600, "consumed": 4, "left_over": 596},
        "minute": {"limit": 200, "consumed": 4, "left_over": 196},
    }
    assert body['["api/v1/auth", "health"]']["minute"]["consumed"] == 1
    assert body['["api/v1/users", "api_profile"]']["minute"]["consumed"] == 0

    body = await post(client, API_STATS, tenant.master_key)
    assert body['["api/v1/usage_stats", "api_usage_stats"]']["day"]["consumed"] == 2

    # A minute later the minute window has closed; the hour and day still count.
    clock.advance(61)
    body = await post(client, API_STATS, tenant.master_key)
    search = body['["api/v1/users", "search"]']
    assert search["minute"] == {"limit": 200, "consumed": 0, "left_over": 200}
    assert search["hour"]["consumed"] == 4
    assert search["day"]["consumed"] == 4
    clock.advance(3600)
    search = (await post(client, API_STATS, tenant.master_key))['["api/v1/users", "search"]']
    assert search["hour"]["consumed"] == 0
    assert search["day"]["consumed"] == 4


async def test_api_stats_are_team_isolated(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Beta")
    for _ in range(5):
        await client.get("/api/v1/users/search", headers={"x-api-key": other.master_key})
    mine = await post(client, API_STATS, tenant.master_key)
    assert mine['["api/v1/users", "search"]']["day"]["consumed"] == 0
    theirs = await post(client, API_STATS, other.master_key)
    assert theirs['["api/v1/users", "search"]']["day"]["consumed"] == 5


async def test_api_stats_use_the_teams_plan(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    body = await post(client, API_STATS, free.master_key)
    assert body['["api/v1/users", "search"]'] == {
        "day": {"limit": 600, "consumed": 0, "left_over": 600},
        "hour": {"limit": 200, "consumed": 0, "left_over": 200},
        "minute": {"limit": 50, "consumed": 0, "left_over": 50},
    }


async def test_api_stats_with_a_scoped_key(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/usage_stats/api_usage_stats")
    body = await post(client, API_STATS, scoped)
    assert '["api/v1/users", "search"]' in body
    response = await client.post(CREDIT_STATS, headers={"x-api-key": scoped})
    assert response.status_code == 403


async def test_api_stats_with_the_database_rate_limit_store(settings: Settings, clock: FrozenClock) -> None:
    """The report reads whichever store counts the requests: here the shared database one."""
    application = create_app(settings.model_copy(update={"rate_limit_store": "database"}), clock)
    async with LifespanManager(application):
        runtime: Runtime = application.state.runtime
        tenant = await make_tenant(runtime, clock)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
            for _ in range(2):
                response = await http.get("/api/v1/users/search", headers={"x-api-key": tenant.master_key})
                assert response.status_code == 200
            body = await post(http, API_STATS, tenant.master_key)
            assert body['["api/v1/users", "search"]']["minute"] == {
                "limit": 200,
                "consumed": 2,
                "left_over": 198,
            }
            assert body['["api/v1/usage_stats", "api_usage_stats"]']["day"]["consumed"] == 1
            clock.advance(61)
            body = await post(http, API_STATS, tenant.master_key)
            assert body['["api/v1/users", "search"]']["minute"]["consumed"] == 0
            assert body['["api/v1/users", "search"]']["hour"]["consumed"] == 2

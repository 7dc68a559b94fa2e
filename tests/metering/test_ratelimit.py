"""Apollo's rate limits: the pure rule (``decide``), the headers, every store against one
behavioural suite, and the whole path over HTTP (429 body, Retry-After, headers, usage stats)."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.db.engine import create_engine
from perilune.metering import plans
from perilune.metering.plans import Limits
from perilune.metering.ratelimit import (
    Decision,
    MemoryRateLimitStore,
    RateLimitStore,
    WindowState,
    decide,
    window_specs,
)
from perilune.metering.stores import DatabaseRateLimitStore, RedisRateLimitStore
from perilune.runtime import Runtime
from tests.conftest import (
    POSTGRES_URL,
    REDIS_URL,
    SKIP_POSTGRES,
    SKIP_REDIS,
    Tenant,
    _postgres_schema,
    asgi_client,
    make_scoped_key,
    make_tenant,
)

HEALTH = "/api/v1/auth/health"
UPGRADE = "https://app.apollo.io/#/settings/plans/upgrade"
# The FrozenClock's start (2026-01-15T12:00:00Z): well behind Redis's own clock, which catches
# a store that lets Redis expire counters by its wall clock instead of Perilune's.
T0 = FrozenClock().now().timestamp()


def limit_message(endpoint: str, limit: int, window: str) -> bytes:
    return (
        f'{{"message":"The maximum number of api calls allowed for {endpoint} is {limit} times '
        f'per {window}. Please upgrade your plan from {UPGRADE}."}}'
    ).encode()


# --- decide(): the rule every store applies --------------------------------------------------

SPECS = window_specs(Limits(minute=2, hour=3, day=None))


def test_decide_opens_every_window_on_the_first_request() -> None:
    allowed, states = decide([None, None, None], SPECS, 100.0)
    assert allowed
    assert states == [
        WindowState("minute", 60, 2, 1, 100.0),
        WindowState("hour", 3600, 3, 1, 100.0),
        WindowState("day", 86400, None, 1, 100.0),
    ]


def test_decide_counts_in_open_windows_and_keeps_their_start() -> None:
    current = [("minute", 60, 2, 1, 100.0), ("hour", 3600, 3, 1, 100.0), ("day", 86400, None, 7, 50.0)]
    allowed, states = decide(current, SPECS, 159.5)
    assert allowed
    assert [(s.count, s.started_at) for s in states] == [(2, 100.0), (2, 100.0), (8, 50.0)]


def test_decide_refuses_a_full_window_and_counts_nothing() -> None:
    current = [("minute", 60, 2, 2, 100.0), ("hour", 3600, 3, 2, 100.0), ("day", 86400, None, 9, 100.0)]
    allowed, states = decide(current, SPECS, 159.999)
    assert not allowed
    assert [s.count for s in states] == [2, 2, 9]


def test_decide_reopens_a_window_exactly_its_length_after_its_first_request() -> None:
    current = [("minute", 60, 2, 2, 100.0), ("hour", 3600, 3, 2, 100.0), ("day", 86400, None, 9, 100.0)]
    allowed, states = decide(current, SPECS, 160.0)
    assert allowed
    assert states[0] == WindowState("minute", 60, 2, 1, 160.0)
    assert states[1] == WindowState("hour", 3600, 3, 3, 100.0)


def test_decide_refused_by_a_longer_window_reopens_expired_ones_empty() -> None:
    current = [("minute", 60, 2, 1, 100.0), ("hour", 3600, 3, 3, 100.0), ("day", 86400, None, 3, 100.0)]
    allowed, states = decide(current, SPECS, 200.0)
    assert not allowed
    assert states[0] == WindowState("minute", 60, 2, 0, 200.0)
    assert [s.count for s in states[1:]] == [3, 3]


def test_decide_never_refuses_unlimited_windows() -> None:
    specs = window_specs(Limits())
    current = [(w, ln, None, 10**9, 0.0) for w, ln, _ in specs]
    allowed, states = decide(current, specs, 1.0)
    assert allowed
    assert all(s.count == 10**9 + 1 for s in states)


def test_decide_needs_one_current_entry_per_window() -> None:
    with pytest.raises(ValueError, match="zip"):
        decide([None], SPECS, 0.0)


# --- Decision: headers, the window that refused, Retry-After -----------------------------------


def decision(*states: WindowState, allowed: bool = True, now: float = 0.0) -> Decision:
    return Decision("api/v1/auth/health", states, allowed, now)


def test_headers_for_three_limited_windows() -> None:
    d = decision(
        WindowState("minute", 60, 50, 7, 0.0),
        WindowState("hour", 3600, 200, 30, 0.0),
        WindowState("day", 86400, 600, 120, 0.0),
    )
    assert d.headers() == {
        "x-rate-limit-minute": "50",
        "x-minute-usage": "7",
        "x-minute-requests-left": "43",
        "x-rate-limit-hourly": "200",
        "x-hourly-usage": "30",
        "x-hourly-requests-left": "170",
        "x-rate-limit-daily": "600",
        "x-daily-usage": "120",
        "x-daily-requests-left": "480",
        "x-rate-limit-24-hour": "600",
        "x-24-hour-usage": "120",
        "x-24-hour-requests-left": "480",
    }


def test_headers_of_windows_without_a_limit_are_empty_and_have_no_usage() -> None:
    limits = plans.PLANS["professional"].limits_for("api/v1/people/match")
    assert limits == Limits(minute=1000)
    allowed, states = decide([None, None, None], window_specs(limits), 0.0)
    assert allowed
    assert decision(*states).headers() == {
        "x-rate-limit-minute": "1000",
        "x-minute-usage": "1",
        "x-minute-requests-left": "999",
        "x-rate-limit-hourly": "",
        "x-rate-limit-daily": "",
        "x-rate-limit-24-hour": "",
    }


def test_requests_left_never_goes_negative() -> None:
    # A team moved to a smaller plan mid-window can be over its new limit.
    d = decision(WindowState("minute", 60, 5, 9, 0.0), allowed=False)
    assert d.headers()["x-minute-requests-left"] == "0"
    assert d.headers()["x-minute-usage"] == "9"


def test_exhausted_is_the_full_window_with_the_longest_wait() -> None:
    minute = WindowState("minute", 60, 2, 2, 100.0)
    hour = WindowState("hour", 3600, 3, 3, 0.0)
    assert decision(minute, hour, allowed=False, now=120.0).exhausted == hour
    assert (
        decision(minute, WindowState("hour", 3600, 3, 1, 0.0), allowed=False, now=120.0).exhausted == minute
    )
    assert decision(WindowState("minute", 60, 2, 1, 0.0)).exhausted is None
    assert decision(WindowState("minute", 60, None, 10**6, 0.0)).exhausted is None


def test_resets_in_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    state = WindowState("minute", 60, 1, 1, 1000.0)
    assert state.resets_in(1020.0) == 40
    assert state.resets_in(1020.5) == 40
    assert state.resets_in(1059.99) == 1
    assert state.resets_in(1060.0) == 1


# --- The stores: one behavioural suite for all of them -----------------------------------------


@dataclass(frozen=True)
class StoreSpec:
    kind: str
    url: str | None = None
    schema: str | None = None
    namespace: str | None = None


def _redis_cleanup(url: str, namespace: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A key namespace of this test's own in the test Redis, removed afterwards."""
    if not REDIS_URL:
        pytest.skip(SKIP_REDIS)
    namespace = f"perilune-test-{uuid.uuid4().hex}"
    try:
        yield namespace
    finally:
        _redis_cleanup(REDIS_URL, namespace)


@pytest.fixture(params=["memory", "database-sqlite", "database-postgres", "redis"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSpec]:
    kind: str = request.param
    if kind == "memory":
        yield StoreSpec("memory")
    elif kind == "database-sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "perilune.db"
        shutil.copy(template, path)
        yield StoreSpec("database", f"sqlite+aiosqlite:///{path}")
    elif kind == "database-postgres":
        if not POSTGRES_URL:
            pytest.skip(SKIP_POSTGRES)
        for database in _postgres_schema():
            yield StoreSpec("database", database.url, database.schema)
    else:
        namespace: str = request.getfixturevalue("redis_namespace")
        yield StoreSpec("redis", REDIS_URL, namespace=namespace)


@pytest.fixture
async def store(store_spec: StoreSpec) -> AsyncIterator[RateLimitStore]:
    if store_spec.kind == "memory":
        yield MemoryRateLimitStore()
    elif store_spec.kind == "database":
        assert store_spec.url is not None
        engine = create_engine(store_spec.url, schema=store_spec.schema)
        try:
            yield DatabaseRateLimitStore(engine)
        finally:
            await engine.dispose()
    else:
        assert store_spec.url is not None and store_spec.namespace is not None
        redis_store = RedisRateLimitStore(store_spec.url, namespace=store_spec.namespace)
        try:
            yield redis_store
        finally:
            await redis_store.close()


TEAM = "team000000000000000000a1"
OTHER_TEAM = "team000000000000000000b2"
ENDPOINT = "api/v1/auth/health"
OTHER_ENDPOINT = "api/v1/users/search"


def counts(d: Decision) -> dict[str, int]:
    return {s.window: s.count for s in d.windows}


async def test_store_counts_each_request_in_every_window(store: RateLimitStore) -> None:
    limits = Limits(minute=10, hour=20, day=None)
    for n in range(1, 4):
        d = await store.hit(TEAM, ENDPOINT, limits, T0 + n)
        assert d.allowed
        assert d.endpoint == ENDPOINT
        assert d.now == T0 + n
        assert counts(d) == {"minute": n, "hour": n, "day": n}
        assert all(s.started_at == T0 + 1 for s in d.windows)
        assert [s.limit for s in d.windows] == [10, 20, None]
    assert d.headers()["x-minute-requests-left"] == "7"
    assert d.headers()["x-rate-limit-daily"] == ""


async def test_store_refuses_at_the_limit_without_counting(store: RateLimitStore) -> None:
    limits = Limits(minute=3, hour=100, day=1000)
    for _ in range(3):
        assert (await store.hit(TEAM, ENDPOINT, limits, T0)).allowed
    for seconds in (1, 2, 30):
        refused = await store.hit(TEAM, ENDPOINT, limits, T0 + seconds)
        assert not refused.allowed
        assert counts(refused) == {"minute": 3, "hour": 3, "day": 3}
        exhausted = refused.exhausted
        assert exhausted is not None and exhausted.window == "minute"
        assert exhausted.resets_in(refused.now) == 60 - seconds
    headers = refused.headers()
    assert (headers["x-minute-usage"], headers["x-minute-requests-left"]) == ("3", "0")
    assert (headers["x-hourly-usage"], headers["x-hourly-requests-left"]) == ("3", "97")


async def test_store_window_resets_its_length_after_the_first_request(store: RateLimitStore) -> None:
    limits = Limits(minute=2)
    assert (await store.hit(TEAM, ENDPOINT, limits, T0)).allowed
    assert (await store.hit(TEAM, ENDPOINT, limits, T0 + 30)).allowed  # does not move the start
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0 + 59)).allowed
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0 + 59.999)).allowed
    reopened = await store.hit(TEAM, ENDPOINT, limits, T0 + 60)
    assert reopened.allowed
    assert reopened.windows[0] == WindowState("minute", 60, 2, 1, T0 + 60)
    # The new window runs from the request that opened it, not from a clock boundary.
    assert (await store.hit(TEAM, ENDPOINT, limits, T0 + 100)).allowed
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0 + 119)).allowed
    assert (await store.hit(TEAM, ENDPOINT, limits, T0 + 120)).allowed


async def test_store_fractional_times_keep_their_precision(store: RateLimitStore) -> None:
    start = 1_768_478_400.123456  # 16 significant digits
    limits = Limits(minute=1)
    first = await store.hit(TEAM, ENDPOINT, limits, start)
    assert first.windows[0].started_at == start
    refused = await store.hit(TEAM, ENDPOINT, limits, start + 20)
    assert not refused.allowed
    assert refused.windows[0].started_at == start
    assert refused.exhausted is not None and refused.exhausted.resets_in(refused.now) == 40
    assert (await store.hit(TEAM, ENDPOINT, limits, start + 60)).allowed


async def test_store_hour_and_day_keep_counting_across_minutes(store: RateLimitStore) -> None:
    limits = Limits(minute=2, hour=5, day=7)
    for minute in range(2):
        for _ in range(2):
            assert (await store.hit(TEAM, ENDPOINT, limits, T0 + 60 * minute)).allowed
        assert not (await store.hit(TEAM, ENDPOINT, limits, T0 + 60 * minute + 1)).allowed
    d = await store.hit(TEAM, ENDPOINT, limits, T0 + 120)
    assert d.allowed
    assert counts(d) == {"minute": 1, "hour": 5, "day": 5}
    refused = await store.hit(TEAM, ENDPOINT, limits, T0 + 130)
    assert not refused.allowed
    assert counts(refused) == {"minute": 1, "hour": 5, "day": 5}
    assert refused.exhausted is not None and refused.exhausted.window == "hour"
    assert refused.exhausted.resets_in(refused.now) == 3600 - 130
    # The next hour opens; the day goes on counting to its own limit.
    assert counts(await store.hit(TEAM, ENDPOINT, limits, T0 + 3600)) == {"minute": 1, "hour": 1, "day": 6}
    assert counts(await store.hit(TEAM, ENDPOINT, limits, T0 + 3601)) == {"minute": 2, "hour": 2, "day": 7}
    refused = await store.hit(TEAM, ENDPOINT, limits, T0 + 3700)
    assert not refused.allowed
    assert refused.exhausted is not None and refused.exhausted.window == "day"
    assert refused.exhausted.resets_in(refused.now) == 86400 - 3700
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0 + 86399)).allowed
    assert counts(await store.hit(TEAM, ENDPOINT, limits, T0 + 86400)) == {"minute": 1, "hour": 1, "day": 1}


async def test_store_teams_and_endpoints_are_counted_apart(store: RateLimitStore) -> None:
    limits = Limits(minute=2)
    for _ in range(2):
        await store.hit(TEAM, ENDPOINT, limits, T0)
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0)).allowed
    other_team = await store.hit(OTHER_TEAM, ENDPOINT, limits, T0)
    other_endpoint = await store.hit(TEAM, OTHER_ENDPOINT, limits, T0)
    assert other_team.allowed and counts(other_team)["minute"] == 1
    assert other_endpoint.allowed and counts(other_endpoint)["minute"] == 1
    assert not (await store.hit(TEAM, ENDPOINT, limits, T0)).allowed


async def test_store_usage_reports_open_windows_only(store: RateLimitStore) -> None:
    limits = Limits(minute=100, hour=100, day=100)
    assert await store.usage(TEAM, T0) == {}
    for _ in range(3):
        await store.hit(TEAM, ENDPOINT, limits, T0)
    await store.hit(TEAM, OTHER_ENDPOINT, limits, T0 + 30)
    await store.hit(OTHER_TEAM, ENDPOINT, limits, T0)
    assert await store.usage(TEAM, T0 + 30) == {
        ENDPOINT: {"minute": (3, T0), "hour": (3, T0), "day": (3, T0)},
        OTHER_ENDPOINT: {"minute": (1, T0 + 30), "hour": (1, T0 + 30), "day": (1, T0 + 30)},
    }
    assert await store.usage(TEAM, T0 + 60) == {
        ENDPOINT: {"hour": (3, T0), "day": (3, T0)},
        OTHER_ENDPOINT: {"minute": (1, T0 + 30), "hour": (1, T0 + 30), "day": (1, T0 + 30)},
    }
    assert await store.usage(TEAM, T0 + 3600) == {
        ENDPOINT: {"day": (3, T0)},
        OTHER_ENDPOINT: {"hour": (1, T0 + 30), "day": (1, T0 + 30)},
    }
    assert await store.usage(TEAM, T0 + 86430) == {}
    assert await store.usage(OTHER_TEAM, T0) == {
        ENDPOINT: {"minute": (1, T0), "hour": (1, T0), "day": (1, T0)}
    }


async def test_store_concurrent_hits_never_exceed_the_limit(store: RateLimitStore) -> None:
    limits = Limits(minute=10, hour=1000)
    decisions = await asyncio.gather(*(store.hit(TEAM, ENDPOINT, limits, T0) for _ in range(25)))
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 10
    assert sorted(counts(d)["minute"] for d in allowed) == list(range(1, 11))
    assert all(counts(d) == {"minute": 10, "hour": 10, "day": 10} for d in decisions if not d.allowed)
    assert (await store.usage(TEAM, T0))[ENDPOINT]["hour"] == (10, T0)


async def test_redis_counters_expire_by_perilune_time_not_redis_time(redis_namespace: str) -> None:
    assert REDIS_URL is not None
    store = RedisRateLimitStore(REDIS_URL, namespace=redis_namespace)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        # Far in the past for Redis's clock: the counters must still live a window's length.
        await store.hit(TEAM, ENDPOINT, Limits(minute=5), 1_000.0)
        await store.hit(TEAM, ENDPOINT, Limits(minute=5), 1_030.0)
        minute_ttl = client.pttl(f"{redis_namespace}:rl:{TEAM}:{ENDPOINT}:minute")
        day_ttl = client.pttl(f"{redis_namespace}:rl:{TEAM}:{ENDPOINT}:day")
        endpoints_ttl = client.pttl(f"{redis_namespace}:rl:{TEAM}:endpoints")
        assert isinstance(minute_ttl, int) and isinstance(day_ttl, int) and isinstance(endpoints_ttl, int)
        assert 30_000 < minute_ttl <= 31_000
        assert 86_340_000 < day_ttl <= 86_371_000
        assert 86_340_000 < endpoints_ttl <= 86_401_000
    finally:
        client.close()
        await store.close()


# --- Over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "database", "redis"])
async def limited_app(
    request: pytest.FixtureRequest, settings: Settings, clock: FrozenClock
) -> AsyncIterator[FastAPI]:
    """The app with each rate-limit store (the database one on the test's database)."""
    kind: str = request.param
    if kind == "redis":
        namespace: str = request.getfixturevalue("redis_namespace")
        assert REDIS_URL is not None
        application = create_app(settings, clock, rate_limits=RedisRateLimitStore(REDIS_URL, namespace))
    else:
        application = create_app(settings.model_copy(update={"rate_limit_store": kind}), clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def limited_runtime(limited_app: FastAPI) -> Runtime:
    value: Runtime = limited_app.state.runtime
    return value


@pytest.fixture
async def http(limited_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(limited_app) as client:
        yield client


async def free_tenant(runtime: Runtime, clock: FrozenClock, name: str = "Acme") -> Tenant:
    return await make_tenant(runtime, clock, name=name, plan="free")


async def set_custom_plan(runtime: Runtime, tenant: Tenant, limits: dict[str, int | None]) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", {"limits": {"default": limits}})


RATE_HEADER_PREFIXES = ("x-rate-limit-", "x-minute-", "x-hourly-", "x-daily-", "x-24-hour-")


def rate_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith(RATE_HEADER_PREFIXES)}


async def test_minute_limit_over_http(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    tenant = await free_tenant(limited_runtime, clock)
    key = {"x-api-key": tenant.master_key}
    for n in range(1, 51):
        response = await http.get(HEALTH, headers=key)
        assert response.status_code == 200, response.text
        assert response.headers["x-minute-usage"] == str(n)
        assert response.headers["x-minute-requests-left"] == str(50 - n)
    clock.advance(20)
    refused = await http.get(HEALTH, headers=key)
    assert refused.status_code == 429
    assert refused.content == limit_message("api/v1/auth/health", 50, "minute")
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.headers["retry-after"] == "40"
    assert rate_headers(refused) == {
        "x-rate-limit-minute": "50",
        "x-minute-usage": "50",
        "x-minute-requests-left": "0",
        "x-rate-limit-hourly": "200",
        "x-hourly-usage": "50",
        "x-hourly-requests-left": "150",
        "x-rate-limit-daily": "600",
        "x-daily-usage": "50",
        "x-daily-requests-left": "550",
        "x-rate-limit-24-hour": "600",
        "x-24-hour-usage": "50",
        "x-24-hour-requests-left": "550",
    }
    clock.advance(39.5)
    again = await http.get(HEALTH, headers=key)
    assert again.status_code == 429
    assert again.headers["retry-after"] == "1"
    assert again.headers["x-hourly-usage"] == "50"  # refused requests are not counted
    clock.advance(0.5)  # 60 s after the window's first request
    reopened = await http.get(HEALTH, headers=key)
    assert reopened.status_code == 200
    assert reopened.content == b'{"is_logged_in":true}'
    assert "retry-after" not in reopened.headers
    assert reopened.headers["x-minute-usage"] == "1"
    assert reopened.headers["x-minute-requests-left"] == "49"
    assert reopened.headers["x-hourly-usage"] == "51"
    assert reopened.headers["x-24-hour-requests-left"] == "549"


async def test_limits_are_per_team(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    limited = await free_tenant(limited_runtime, clock, "Limited")
    other = await free_tenant(limited_runtime, clock, "Other")
    await set_custom_plan(limited_runtime, limited, {"minute": 3})
    for _ in range(3):
        assert (await http.get(HEALTH, headers={"x-api-key": limited.master_key})).status_code == 200
    assert (await http.get(HEALTH, headers={"x-api-key": limited.master_key})).status_code == 429
    response = await http.get(HEALTH, headers={"x-api-key": other.master_key})
    assert response.status_code == 200
    assert (response.headers["x-rate-limit-minute"], response.headers["x-minute-usage"]) == ("50", "1")
    # Another key of the limited team shares its team's counter.
    second_key = await make_scoped_key(limited_runtime, clock, limited, "api/v1/auth/health")
    refused = await http.get(HEALTH, headers={"x-api-key": second_key})
    assert refused.status_code == 429
    assert refused.content == limit_message("api/v1/auth/health", 3, "minute")


async def test_day_limit_over_http(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    tenant = await free_tenant(limited_runtime, clock)
    await set_custom_plan(limited_runtime, tenant, {"minute": 1000, "hour": 1000, "day": 5})
    key = {"x-api-key": tenant.master_key}
    for _ in range(5):
        clock.advance(61)  # a fresh minute each time: only the day counts up
        response = await http.get(HEALTH, headers=key)
        assert response.status_code == 200
        assert response.headers["x-minute-usage"] == "1"
    assert response.headers["x-daily-requests-left"] == "0"
    clock.advance(3600)
    refused = await http.get(HEALTH, headers=key)
    assert refused.status_code == 429
    assert refused.content == limit_message("api/v1/auth/health", 5, "day")
    assert refused.headers["retry-after"] == str(86400 - 3600 - 4 * 61)
    assert refused.headers["x-minute-usage"] == "0"
    assert refused.headers["x-minute-requests-left"] == "1000"
    assert (refused.headers["x-rate-limit-24-hour"], refused.headers["x-24-hour-usage"]) == ("5", "5")
    clock.advance(86400 - 3600 - 4 * 61 - 1)
    assert (await http.get(HEALTH, headers=key)).status_code == 429
    clock.advance(1)
    response = await http.get(HEALTH, headers=key)
    assert response.status_code == 200
    assert (response.headers["x-daily-usage"], response.headers["x-daily-requests-left"]) == ("1", "4")


async def test_windows_without_a_limit_over_http(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    tenant = await free_tenant(limited_runtime, clock)
    await set_custom_plan(limited_runtime, tenant, {"minute": 2, "hour": None, "day": None})
    response = await http.get(HEALTH, headers={"x-api-key": tenant.master_key})
    assert response.status_code == 200
    assert rate_headers(response) == {
        "x-rate-limit-minute": "2",
        "x-minute-usage": "1",
        "x-minute-requests-left": "1",
        "x-rate-limit-hourly": "",
        "x-rate-limit-daily": "",
        "x-rate-limit-24-hour": "",
    }


async def test_every_authorised_answer_carries_the_headers(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    tenant = await free_tenant(limited_runtime, clock)
    key = {"x-api-key": tenant.master_key}
    invalid = await http.get(
        "/api/v1/users/api_profile", params={"include_credit_usage": "maybe"}, headers=key
    )
    assert invalid.status_code == 422
    assert invalid.headers["x-minute-usage"] == "1"
    assert invalid.headers["x-rate-limit-24-hour"] == "600"
    # A master key with no user behind it, in a team without users: the profile is a 404 record.
    async with limited_runtime.sessions() as session, session.begin():
        team = await admin.create_team(session, "Empty", "free", clock.now())
        lonely = (await admin.create_key(session, team, master=True, now=clock.now())).secret
    missing = await http.get("/api/v1/users/api_profile", headers={"x-api-key": lonely})
    assert missing.status_code == 404
    assert (missing.headers["x-rate-limit-minute"], missing.headers["x-minute-usage"]) == ("50", "1")
    # Unauthenticated (401) and unauthorised (403) answers carry none and are not counted.
    unauthenticated = await http.get(HEALTH, headers={"x-api-key": "not-a-key"})
    scoped = await make_scoped_key(limited_runtime, clock, tenant, "api/v1/auth/health")
    forbidden = await http.get("/api/v1/users/api_profile", headers={"x-api-key": scoped})
    assert (unauthenticated.status_code, forbidden.status_code) == (401, 403)
    assert not rate_headers(unauthenticated)
    assert not rate_headers(forbidden)
    after = await http.get("/api/v1/users/api_profile", headers=key)
    assert after.status_code == 200
    assert after.headers["x-minute-usage"] == "2"


async def test_usage_stats_reflect_consumption(
    http: httpx.AsyncClient, limited_runtime: Runtime, clock: FrozenClock
) -> None:
    tenant = await free_tenant(limited_runtime, clock)
    key = {"x-api-key": tenant.master_key}
    for _ in range(3):
        assert (await http.get(HEALTH, headers=key)).status_code == 200
    response = await http.post("/api/v1/usage_stats/api_usage_stats", headers=key)
    assert response.status_code == 200
    report = response.json()
    health = '["api/v1/auth", "health"]'
    assert report[health] == {
        "day": {"limit": 600, "consumed": 3, "left_over": 597},
        "hour": {"limit": 200, "consumed": 3, "left_over": 197},
        "minute": {"limit": 50, "consumed": 3, "left_over": 47},
    }
    # The report's own request is counted before it is made.
    assert report['["api/v1/usage_stats", "api_usage_stats"]']["minute"] == {
        "limit": 50,
        "consumed": 1,
        "left_over": 49,
    }
    assert report['["api/v1/users", "api_profile"]']["day"] == {"limit": 600, "consumed": 0, "left_over": 600}
    assert list(report[health]) == ["day", "hour", "minute"]
    clock.advance(61)
    later = (await http.post("/api/v1/usage_stats/api_usage_stats", headers=key)).json()
    assert later[health] == {
        "day": {"limit": 600, "consumed": 3, "left_over": 597},
        "hour": {"limit": 200, "consumed": 3, "left_over": 197},
        "minute": {"limit": 50, "consumed": 0, "left_over": 50},
    }
    assert json.loads(health) == ["api/v1/auth", "health"]

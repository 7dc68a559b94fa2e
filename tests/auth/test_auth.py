"""Authentication and authorisation as Apollo answers them: where the key may come from, which keys
are refused, scopes and plans, rate-limit headers only on authorised answers, both URL prefixes,
team isolation and hashed key storage."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import select, text

from perilune.api.errors import ApiInaccessible, PaidPlanRequired
from perilune.app import create_app
from perilune.auth import admin
from perilune.auth.context import Caller
from perilune.auth.keys import generate_key, hash_key
from perilune.auth.service import authenticate, authorize
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.metering.plans import resolve_plan
from perilune.models import ApiKey, Team, User
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant

INVALID_KEY = b"Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
PAID_ONLY = b'{"message":"This endpoint is only available to Apollo users on paid plans."}'
ROUTE_NOT_FOUND = b'{"status":404,"error":"Not Found"}'
RATE_LIMIT_HEADERS = (
    "x-rate-limit-minute",
    "x-rate-limit-hourly",
    "x-rate-limit-daily",
    "x-minute-usage",
    "x-hourly-usage",
    "x-daily-usage",
    "x-minute-requests-left",
    "x-hourly-requests-left",
    "x-daily-requests-left",
    "x-rate-limit-24-hour",
    "x-24-hour-usage",
    "x-24-hour-requests-left",
)
HEALTH = "/api/v1/auth/health"
API_USAGE = "/api/v1/usage_stats/api_usage_stats"
SEARCH = "/api/v1/users/search"
# Every Apollo route this foundation serves, with its method and endpoint name.
KNOWN_ROUTES = (
    ("GET", "auth/health"),
    ("GET", "users/search"),
    ("GET", "users/api_profile"),
    ("POST", "usage_stats/api_usage_stats"),
    ("POST", "usage_stats/credit_usage_stats"),
)


def scope_403(endpoint: str) -> bytes:
    return (
        b'{"error":"This API key is not authorized to access '
        + endpoint.encode()
        + b". Request an API key from your administrator that includes this endpoint in its "
        b'configured scope.","error_code":"API_INACCESSIBLE"}'
    )


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.content == INVALID_KEY
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_no_rate_limit_headers(response)


def assert_no_rate_limit_headers(response: httpx.Response) -> None:
    present = [name for name in RATE_LIMIT_HEADERS if name in response.headers]
    assert present == []
    assert not [name for name in response.headers if name.startswith("x-rate-limit")]


def is_logged_in(response: httpx.Response) -> bool:
    assert response.status_code == 200, response.content
    return bool(orjson.loads(response.content)["is_logged_in"])


# --- where the key comes from ----------------------------------------------------------------------


async def test_key_in_header(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert is_logged_in(await client.get(HEALTH, headers={"x-api-key": tenant.master_key}))


async def test_key_in_header_is_case_insensitive(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert is_logged_in(await client.get(HEALTH, headers={"X-Api-Key": tenant.master_key}))


async def test_key_in_query_on_get(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert is_logged_in(await client.get(HEALTH, params={"api_key": tenant.master_key}))


async def test_key_in_query_on_post(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(API_USAGE, params={"api_key": tenant.master_key})
    assert response.status_code == 200


async def test_key_in_json_body_on_post(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(API_USAGE, json={"api_key": tenant.master_key})
    assert response.status_code == 200


async def test_key_in_json_body_on_get(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.request(
        "GET",
        HEALTH,
        content=orjson.dumps({"api_key": tenant.master_key}),
        headers={"Content-Type": "application/json"},
    )
    assert is_logged_in(response)


async def test_key_in_form_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(API_USAGE, data={"api_key": tenant.master_key})
    assert response.status_code == 200


async def test_header_key_is_used_before_parameters(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # A wrong header is not rescued by a right query parameter: the header is the key.
    response = await client.get(HEALTH, params={"api_key": tenant.master_key}, headers={"x-api-key": "wrong"})
    assert_401(response)


async def test_empty_header_falls_back_to_parameters(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(HEALTH, params={"api_key": tenant.master_key}, headers={"x-api-key": ""})
    assert is_logged_in(response)


# --- refused keys ----------------------------------------------------------------------------------


async def test_no_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_401(await client.get(HEALTH))
    assert_401(await client.post(API_USAGE))
    assert_401(await client.get(HEALTH, params={"api_key": ""}))


@pytest.mark.parametrize(
    "transform", [lambda k: k + "x", lambda k: k[:-1], str.upper, lambda k: generate_key()]
)
async def test_wrong_key(client: httpx.AsyncClient, tenant: Tenant, transform: Any) -> None:
    wrong = transform(tenant.master_key)
    assert wrong != tenant.master_key
    assert_401(await client.get(HEALTH, headers={"x-api-key": wrong}))
    assert_401(await client.get(HEALTH, params={"api_key": wrong}))
    assert_401(await client.post(API_USAGE, json={"api_key": wrong}))


async def test_key_hash_is_not_a_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_401(await client.get(HEALTH, headers={"x-api-key": hash_key(tenant.master_key)}))


async def test_revoked_key(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    assert is_logged_in(await client.get(HEALTH, headers={"x-api-key": tenant.master_key}))
    async with runtime.sessions() as session, session.begin():
        await admin.revoke_key(session, tenant.master_key, clock.now())
    assert_401(await client.get(HEALTH, headers={"x-api-key": tenant.master_key}))
    assert_401(await client.get(SEARCH, params={"api_key": tenant.master_key}))


async def test_revoking_one_key_leaves_the_others(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    async with runtime.sessions() as session, session.begin():
        key_id = await session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(scoped)))
        assert key_id is not None
        await admin.revoke_key(session, key_id, clock.now())
    assert_401(await client.get(HEALTH, headers={"x-api-key": scoped}))
    assert is_logged_in(await client.get(HEALTH, headers={"x-api-key": tenant.master_key}))


async def test_bearer_token_alone_is_401(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # Even a valid key: Apollo reads Bearer tokens as OAuth tokens, which API keys are not.
    response = await client.get(HEALTH, headers={"Authorization": f"Bearer {tenant.master_key}"})
    assert_401(response)
    response = await client.post(API_USAGE, headers={"Authorization": f"Bearer {tenant.master_key}"})
    assert_401(response)


async def test_bearer_token_does_not_spoil_a_valid_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        HEALTH, headers={"Authorization": "Bearer junk", "x-api-key": tenant.master_key}
    )
    assert is_logged_in(response)


# --- scopes and plans ------------------------------------------------------------------------------


async def test_scoped_key_inside_scope(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/users/search", "api/v1/auth/health")
    assert is_logged_in(await client.get(HEALTH, headers={"x-api-key": key}))
    response = await client.get(SEARCH, headers={"x-api-key": key})
    assert response.status_code == 200
    assert [u["id"] for u in orjson.loads(response.content)["users"]] == [tenant.user_id]


@pytest.mark.parametrize(("method", "endpoint"), KNOWN_ROUTES[1:])
async def test_scoped_key_outside_scope_names_the_endpoint(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    method: str,
    endpoint: str,
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    for prefix in ("/api/v1/", "/v1/"):
        response = await client.request(method, prefix + endpoint, headers={"x-api-key": key})
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.content == scope_403(f"api/v1/{endpoint}")
        assert_no_rate_limit_headers(response)


async def test_scoped_key_acts_as_the_team_admin(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/users/api_profile")
    response = await client.get("/api/v1/users/api_profile", headers={"x-api-key": key})
    assert response.status_code == 200
    assert orjson.loads(response.content)["id"] == tenant.user_id


async def test_free_plan_on_paid_only_endpoint(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    response = await client.get(SEARCH, headers={"x-api-key": free.master_key})
    assert response.status_code == 403
    assert response.content == PAID_ONLY
    assert_no_rate_limit_headers(response)
    # ... while endpoints free plans may use answer, with the free plan's limits.
    health = await client.get(HEALTH, headers={"x-api-key": free.master_key})
    assert is_logged_in(health)
    assert health.headers["x-rate-limit-minute"] == "50"
    assert health.headers["x-rate-limit-daily"] == "600"


async def test_scope_is_checked_before_plan(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    outside = await make_scoped_key(runtime, clock, free, "api/v1/auth/health")
    inside = await make_scoped_key(runtime, clock, free, "api/v1/users/search")
    assert (await client.get(SEARCH, headers={"x-api-key": outside})).content == scope_403(
        "api/v1/users/search"
    )
    assert (await client.get(SEARCH, headers={"x-api-key": inside})).content == PAID_ONLY


async def test_refused_requests_are_not_counted(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    for _ in range(3):
        await client.get(SEARCH, headers={"x-api-key": key})
        await client.get(SEARCH, headers={"x-api-key": "wrong"})
    response = await client.get(SEARCH, headers={"x-api-key": tenant.master_key})
    assert response.headers["x-minute-usage"] == "1"


# --- authorize(), unit level -----------------------------------------------------------------------


def make_caller(*, master: bool, scopes: list[str], plan: str = "professional") -> Caller:
    team = Team(id="team1", name="T", plan=plan, plan_overrides={})
    key = ApiKey(id="key1", team_id="team1", is_master=master, scopes=scopes, key_hash="h", key_prefix="p")
    return Caller(key=key, team=team, user=None, plan=resolve_plan(plan))


def test_authorize_master_key_anywhere() -> None:
    caller = make_caller(master=True, scopes=[])
    authorize(caller, "api/v1/anything")
    authorize(caller, "api/v1/anything", master_only=True)
    authorize(caller, "api/v1/anything", paid_only=True)


def test_authorize_scoped_key_in_scope() -> None:
    authorize(make_caller(master=False, scopes=["api/v1/contacts/search"]), "api/v1/contacts/search")


def test_authorize_scoped_key_out_of_scope() -> None:
    with pytest.raises(ApiInaccessible) as caught:
        authorize(make_caller(master=False, scopes=["api/v1/contacts/search"]), "api/v1/contacts/create")
    assert caught.value.endpoint == "api/v1/contacts/create"


def test_authorize_scopes_match_whole_names() -> None:
    caller = make_caller(master=False, scopes=["api/v1/contacts/search"])
    for near_miss in (
        "api/v1/contacts",
        "api/v1/contacts/search/",
        "api/v1/contacts/searc",
        "contacts/search",
    ):
        with pytest.raises(ApiInaccessible):
            authorize(caller, near_miss)


def test_authorize_master_only_rejects_scoped_keys_even_in_scope() -> None:
    caller = make_caller(master=False, scopes=["api/v1/users/search", "api/v1/keys/create"])
    with pytest.raises(ApiInaccessible) as caught:
        authorize(caller, "api/v1/keys/create", master_only=True)
    assert caught.value.render().body == scope_403("api/v1/keys/create")


def test_authorize_paid_only() -> None:
    with pytest.raises(PaidPlanRequired):
        authorize(make_caller(master=True, scopes=[], plan="free"), "api/v1/users/search", paid_only=True)
    authorize(make_caller(master=True, scopes=[], plan="free"), "api/v1/auth/health")
    for plan in ("basic", "professional", "custom"):
        authorize(make_caller(master=True, scopes=[], plan=plan), "api/v1/users/search", paid_only=True)


def test_authorize_scope_before_plan() -> None:
    caller = make_caller(master=False, scopes=["api/v1/auth/health"], plan="free")
    with pytest.raises(ApiInaccessible):
        authorize(caller, "api/v1/users/search", paid_only=True)


# --- authenticate(), against the database ----------------------------------------------------------


async def test_authenticate_records_last_use_once_a_minute(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async def use_at(when: datetime) -> datetime | None:
        caller = await authenticate(runtime.sessions, tenant.master_key, when)
        assert caller.team_id == tenant.team_id
        assert caller.user is not None
        assert caller.user.id == tenant.user_id
        async with runtime.sessions() as session:
            stored = await session.scalar(
                select(ApiKey).where(ApiKey.key_hash == hash_key(tenant.master_key))
            )
            assert stored is not None
            return stored.last_used_at

    start = clock.now()
    assert await use_at(start) == start
    assert await use_at(start + timedelta(seconds=59)) == start
    assert await use_at(start + timedelta(seconds=60)) == start + timedelta(seconds=60)


async def test_authenticate_falls_back_to_an_admin_when_the_keys_user_is_deleted(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        member = await admin.create_user(
            session, team, email="member@acme.test", first_name="M", last_name="Ember", now=clock.now()
        )
        issued = await admin.create_key(session, team, master=True, user=member, now=clock.now())
        member.deleted = True
    caller = await authenticate(runtime.sessions, issued.secret, clock.now())
    assert caller.user is not None
    assert caller.user.id == tenant.user_id


async def test_authenticate_is_case_sensitive(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    from perilune.api.errors import InvalidApiKey

    with pytest.raises(InvalidApiKey):
        await authenticate(runtime.sessions, tenant.master_key.swapcase(), clock.now())
    with pytest.raises(InvalidApiKey):
        await authenticate(runtime.sessions, None, clock.now())


# --- rate-limit headers ----------------------------------------------------------------------------


async def test_200_carries_all_twelve_rate_limit_headers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await client.get(HEALTH, headers={"x-api-key": tenant.master_key})
    assert {name: first.headers.get(name) for name in RATE_LIMIT_HEADERS} == {
        "x-rate-limit-minute": "200",
        "x-rate-limit-hourly": "600",
        "x-rate-limit-daily": "6000",
        "x-minute-usage": "1",
        "x-hourly-usage": "1",
        "x-daily-usage": "1",
        "x-minute-requests-left": "199",
        "x-hourly-requests-left": "599",
        "x-daily-requests-left": "5999",
        "x-rate-limit-24-hour": "6000",
        "x-24-hour-usage": "1",
        "x-24-hour-requests-left": "5999",
    }
    second = await client.get(HEALTH, headers={"x-api-key": tenant.master_key})
    assert second.headers["x-minute-usage"] == "2"
    assert second.headers["x-24-hour-requests-left"] == "5998"


@pytest.mark.parametrize(("method", "endpoint"), KNOWN_ROUTES)
async def test_every_200_carries_the_headers(
    client: httpx.AsyncClient, tenant: Tenant, method: str, endpoint: str
) -> None:
    response = await client.request(method, f"/api/v1/{endpoint}", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 200
    assert [name for name in RATE_LIMIT_HEADERS if name not in response.headers] == []


async def test_401_and_403_carry_no_rate_limit_headers(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    # Warm the counters first, so there would be something to leak.
    assert (await client.get(SEARCH, headers={"x-api-key": tenant.master_key})).status_code == 200
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    for response in (
        await client.get(SEARCH),
        await client.get(SEARCH, headers={"x-api-key": "nope"}),
        await client.get(SEARCH, headers={"x-api-key": scoped}),
        await client.get(SEARCH, headers={"x-api-key": free.master_key}),
    ):
        assert response.status_code in (401, 403)
        assert_no_rate_limit_headers(response)


# --- both prefixes ---------------------------------------------------------------------------------


def apollo_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app documents under /api/v1 (the /v1 copies stay out of the
    schema), path without the prefix."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return sorted(
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    )


def test_known_routes_are_documented(app: FastAPI) -> None:
    assert {(m, f"/{e}") for m, e in KNOWN_ROUTES} <= set(apollo_routes(app))


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
@pytest.mark.parametrize(("method", "endpoint"), KNOWN_ROUTES)
async def test_known_routes_answer_under_both_prefixes(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str, method: str, endpoint: str
) -> None:
    response = await client.request(method, f"{prefix}/{endpoint}", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_every_route_is_served_under_both_prefixes(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Whatever routes exist (other resources' included): neither prefix answers "no such route"."""
    routes = apollo_routes(app)
    assert len(routes) >= len(KNOWN_ROUTES)
    for method, path in routes:
        concrete = re.sub(r"\{[^}]+\}", "0", path)
        for prefix in ("/api/v1", "/v1"):
            response = await client.request(
                method, prefix + concrete, headers={"x-api-key": tenant.master_key}
            )
            assert response.content != ROUTE_NOT_FOUND, (method, prefix + concrete)
            assert response.status_code != 500, (method, prefix + concrete)


# --- team isolation --------------------------------------------------------------------------------


async def test_users_search_never_lists_another_teams_users(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, other.team_id)
        for n in range(3):
            await admin.create_user(
                session, team, email=f"g{n}@globex.test", first_name="G", last_name=str(n), now=clock.now()
            )

    mine = orjson.loads((await client.get(SEARCH, headers={"x-api-key": tenant.master_key})).content)
    assert [u["id"] for u in mine["users"]] == [tenant.user_id]
    assert {u["team_id"] for u in mine["users"]} == {tenant.team_id}
    assert mine["pagination"]["total_entries"] == 1

    theirs = orjson.loads(
        (await client.get(SEARCH, params={"api_key": other.master_key, "per_page": 100})).content
    )
    assert len(theirs["users"]) == 4
    assert {u["team_id"] for u in theirs["users"]} == {other.team_id}
    assert tenant.user_id not in {u["id"] for u in theirs["users"]}
    assert theirs["pagination"]["total_entries"] == 4


async def test_profile_is_the_keys_own_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    for who in (tenant, other):
        body = orjson.loads(
            (await client.get("/api/v1/users/api_profile", headers={"x-api-key": who.master_key})).content
        )
        assert (body["id"], body["team_id"]) == (who.user_id, who.team_id)


async def test_rate_limits_are_per_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    for _ in range(3):
        await client.get(HEALTH, headers={"x-api-key": tenant.master_key})
    response = await client.get(HEALTH, headers={"x-api-key": other.master_key})
    assert response.headers["x-minute-usage"] == "1"


# --- key storage -----------------------------------------------------------------------------------


async def test_keys_are_stored_hashed(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> None:
    scoped = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    async with runtime.sessions() as session:
        rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
        keys = (await session.execute(select(ApiKey).where(ApiKey.team_id == tenant.team_id))).scalars().all()
    assert len(rows) == 2
    for secret in (tenant.master_key, scoped):
        for row in rows:
            assert all(secret not in str(value) for value in row.values())
    by_hash = {key.key_hash: key for key in keys}
    for secret in (tenant.master_key, scoped):
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert digest in by_hash
        assert by_hash[digest].key_prefix == secret[:6]
    assert by_hash[hashlib.sha256(scoped.encode()).hexdigest()].scopes == ["api/v1/auth/health"]


def test_generated_keys_are_apollo_length_and_distinct() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", key) for key in keys)
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_key_ids_and_users_do_not_authenticate(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.sessions() as session:
        key = await session.scalar(select(ApiKey).where(ApiKey.team_id == tenant.team_id))
        user = await session.get(User, tenant.user_id)
    assert key is not None
    assert user is not None
    for not_a_key in (key.id, key.key_prefix, tenant.team_id, user.email):
        assert_401(await client.get(HEALTH, headers={"x-api-key": not_a_key}))


# --- authentication next to the database rate-limit store -----------------------------------------


@pytest.fixture
async def database_store_client(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """Counters in the same database as the keys (the store ``auto`` picks for several workers)."""
    application = create_app(settings.model_copy(update={"rate_limit_store": "database"}), clock)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
            yield http, application.state.runtime


async def test_authentication_writes_survive_the_database_rate_limit_store(
    database_store_client: tuple[httpx.AsyncClient, Runtime], clock: FrozenClock
) -> None:
    # The store commits its counters mid-request; the request's own session (which recorded the
    # key's last use) must still be able to write afterwards, on SQLite too.
    client, runtime = database_store_client
    tenant = await make_tenant(runtime, clock)
    for step in range(3):
        response = await client.get("/api/v1/users/api_profile", headers={"x-api-key": tenant.master_key})
        assert response.status_code == 200
        assert response.headers["x-hourly-usage"] == str(step + 1)
        async with runtime.sessions() as session:
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(tenant.master_key)))
        assert key is not None
        assert key.last_used_at == clock.now()
        clock.advance(61)
    assert is_logged_in(await client.get(HEALTH, headers={"x-api-key": tenant.master_key}))

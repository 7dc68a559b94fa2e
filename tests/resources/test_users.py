"""GET /users/search and GET /users/api_profile against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.metering import credits
from perilune.metering.plans import CREDIT_TYPES, resolve_plan
from perilune.models import User
from perilune.resources.users.service import PROFILE_CREDITS
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant

PREFIXES = ("/api/v1", "/v1")
APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
IDENTITY_KEYS = {"id", "team_id", "first_name", "last_name", "title", "email"}
CREDIT_USAGE_KEYS = {
    "num_credits_remaining",
    "effective_num_lead_credits",
    "num_lead_credits_used",
    "effective_num_direct_dial_credits",
    "num_direct_dial_credits_used",
    "effective_num_export_credits",
    "num_export_credits_used",
    "effective_num_ai_credits",
    "num_ai_credits_used",
    "effective_num_power_up_credits",
    "num_power_up_credits_used",
    "total_unified_credits_used",
}
# Fields Apollo always sends as objects or arrays: never null, even when empty.
OBJECT_FIELDS = ("default_finder_view_ids", "typed_custom_fields", "assistant_setting")
LIST_FIELDS = (
    "user_roles",
    "subteam_ids",
    "prospect_territory_ids",
    "toggled_on_territory_ids",
    "triggered_referral_campaigns",
)


async def add_users(
    runtime: Runtime, clock: FrozenClock, team_id: str, count: int, *, prefix: str = "member"
) -> list[str]:
    """``count`` plain users, each created a second after the previous one (so order is known)."""
    ids: list[str] = []
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        for number in range(count):
            clock.advance(1)
            user = await admin.create_user(
                session,
                team,
                email=f"{prefix}{number}@example.test",
                first_name=f"First{number}",
                last_name=f"Last{number}",
                title="Account Executive",
                now=clock.now(),
            )
            ids.append(user.id)
    return ids


async def search(client: httpx.AsyncClient, key: str, prefix: str = "/api/v1", **params: Any) -> Any:
    response = await client.get(f"{prefix}/users/search", params=params, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def profile(client: httpx.AsyncClient, key: str, prefix: str = "/api/v1", **params: Any) -> Any:
    response = await client.get(f"{prefix}/users/api_profile", params=params, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------------------------
# /users/search


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_search_shape(client: httpx.AsyncClient, tenant: Tenant, prefix: str) -> None:
    body = await search(client, tenant.master_key, prefix)
    assert body["pagination"] == {"page": 1, "per_page": 25, "total_entries": 1, "total_pages": 1}
    assert len(body["users"]) == 1
    user = body["users"][0]
    assert user["id"] == tenant.user_id
    assert user["team_id"] == tenant.team_id
    assert user["first_name"] == "Olive"
    assert user["last_name"] == "Owner"
    assert user["name"] == "Olive Owner"
    assert user["title"] is None
    assert user["email"] == "owner@acme.test"
    assert user["created_at"] == "2026-01-15T12:00:00.000Z"
    assert user["deleted"] is False
    assert user["user_roles"] == ["admin"]
    assert user["typed_custom_fields"] == {}
    for field in OBJECT_FIELDS:
        assert isinstance(user[field], dict), field
    for field in LIST_FIELDS:
        assert isinstance(user[field], list), field
    setting = user["assistant_setting"]
    assert setting["user_id"] == tenant.user_id
    assert setting["team_id"] == tenant.team_id
    for field, value in setting.items():
        if field.endswith(("_ids", "_titles", "_locations", "_uids", "_ranges")):
            assert isinstance(value, list), field


async def test_search_user_fields_for_a_plain_user(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    created = datetime(2024, 8, 23, 18, 56, 24, 67891, tzinfo=UTC)
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        user = await admin.create_user(
            session,
            team,
            email="  Pat.Plain@Example.TEST ",
            first_name="Pat",
            last_name=None,
            title="SDR",
            now=created,
        )
        plain_id = user.id
    body = await search(client, tenant.master_key)
    assert body["pagination"]["total_entries"] == 2
    by_id = {u["id"]: u for u in body["users"]}
    plain = by_id[plain_id]
    # Milliseconds, truncated, with a Z: Apollo's format exactly.
    assert plain["created_at"] == "2024-08-23T18:56:24.067Z"
    assert APOLLO_TIMESTAMP.match(by_id[tenant.user_id]["created_at"])
    assert plain["email"] == "pat.plain@example.test"
    assert plain["name"] == "Pat"
    assert plain["last_name"] is None
    assert plain["title"] == "SDR"
    assert plain["user_roles"] == []
    assert plain["typed_custom_fields"] == {}
    # Ordered by creation: the 2024 user comes before the owner created in 2026.
    assert [u["id"] for u in body["users"]] == [plain_id, tenant.user_id]


async def test_search_pages(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    member_ids = await add_users(runtime, clock, tenant.team_id, 7)
    everyone = [tenant.user_id, *member_ids]

    seen: list[str] = []
    for page, size in ((1, 3), (2, 3), (3, 2)):
        body = await search(client, tenant.master_key, page=page, per_page=3)
        assert body["pagination"] == {"page": page, "per_page": 3, "total_entries": 8, "total_pages": 3}
        assert len(body["users"]) == size
        seen.extend(u["id"] for u in body["users"])
    assert seen == everyone

    beyond = await search(client, tenant.master_key, page=4, per_page=3)
    assert beyond["users"] == []
    assert beyond["pagination"] == {"page": 4, "per_page": 3, "total_entries": 8, "total_pages": 3}

    default = await search(client, tenant.master_key)
    assert [u["id"] for u in default["users"]] == everyone
    assert default["pagination"]["per_page"] == 25


async def test_search_parameters_in_a_json_body_and_as_strings(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await add_users(runtime, clock, tenant.team_id, 4)
    response = await client.request(
        "GET",
        "/v1/users/search",
        headers={"x-api-key": tenant.master_key, "content-type": "application/json"},
        content=b'{"page": "2", "per_page": "2"}',
    )
    assert response.status_code == 200, response.text
    assert response.json()["pagination"] == {"page": 2, "per_page": 2, "total_entries": 5, "total_pages": 3}


async def test_search_per_page_is_capped_at_100(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await add_users(runtime, clock, tenant.team_id, 104)
    body = await search(client, tenant.master_key, per_page=500)
    assert body["pagination"] == {"page": 1, "per_page": 100, "total_entries": 105, "total_pages": 2}
    assert len(body["users"]) == 100
    second = await search(client, tenant.master_key, per_page=500, page=2)
    assert len(second["users"]) == 5
    assert {u["id"] for u in body["users"]}.isdisjoint(u["id"] for u in second["users"])


@pytest.mark.parametrize(
    "params", [{"per_page": 0}, {"page": 0}, {"page": -1}, {"per_page": "many"}, {"page": "x"}]
)
async def test_search_rejects_bad_paging(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
) -> None:
    response = await client.get(
        "/api/v1/users/search", params=params, headers={"x-api-key": tenant.master_key}
    )
    assert response.status_code == 422
    assert response.json()["error"].startswith("Invalid parameters.")


async def test_search_is_team_isolated(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Beta")
    other_members = await add_users(runtime, clock, other.team_id, 3, prefix="beta")
    mine = await add_users(runtime, clock, tenant.team_id, 2)

    body = await search(client, tenant.master_key, per_page=100)
    ids = {u["id"] for u in body["users"]}
    assert ids == {tenant.user_id, *mine}
    assert body["pagination"]["total_entries"] == 3
    assert all(u["team_id"] == tenant.team_id for u in body["users"])

    theirs = await search(client, other.master_key, per_page=100)
    assert {u["id"] for u in theirs["users"]} == {other.user_id, *other_members}
    assert theirs["pagination"]["total_entries"] == 4


async def test_search_needs_a_paid_plan(
    runtime: Runtime, clock: FrozenClock, client: httpx.AsyncClient
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    response = await client.get("/api/v1/users/search", headers={"x-api-key": free.master_key})
    assert response.status_code == 403
    assert response.json() == {"message": "This endpoint is only available to Apollo users on paid plans."}


async def test_search_without_a_key_is_401(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/api/v1/users/search")
    assert response.status_code == 401
    assert response.text.startswith("Invalid API key.")


async def test_search_with_scoped_keys(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    allowed = await make_scoped_key(runtime, clock, tenant, "api/v1/users/search")
    body = await search(client, allowed)
    assert body["pagination"]["total_entries"] == 1

    other_scope = await make_scoped_key(runtime, clock, tenant, "api/v1/users/api_profile")
    response = await client.get("/api/v1/users/search", headers={"x-api-key": other_scope})
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE"


# ---------------------------------------------------------------------------------------------
# /users/api_profile


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("params", [{}, {"include_credit_usage": "false"}, {"include_credit_usage": ""}])
async def test_profile_identity_only(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str, params: dict[str, str]
) -> None:
    body = await profile(client, tenant.master_key, prefix, **params)
    assert body == {
        "id": tenant.user_id,
        "team_id": tenant.team_id,
        "first_name": "Olive",
        "last_name": "Owner",
        "title": None,
        "email": "owner@acme.test",
    }


async def test_profile_is_the_keys_own_user(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        user = await admin.create_user(
            session,
            team,
            email="rep@acme.test",
            first_name="Ray",
            last_name="Rep",
            title="AE",
            now=clock.now(),
        )
        issued = await admin.create_key(session, team, master=True, user=user, now=clock.now())
        rep_id, rep_key = user.id, issued.secret
    body = await profile(client, rep_key)
    assert body == {
        "id": rep_id,
        "team_id": tenant.team_id,
        "first_name": "Ray",
        "last_name": "Rep",
        "title": "AE",
        "email": "rep@acme.test",
    }


async def test_profile_of_a_key_without_user_is_the_team_admin(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.create_team(session, "Gamma", "professional", clock.now())
        # A plain user created first: the fallback still prefers the admin.
        await admin.create_user(
            session, team, email="first@gamma.test", first_name="Fay", last_name="First", now=clock.now()
        )
        clock.advance(5)
        boss = await admin.create_user(
            session,
            team,
            email="boss@gamma.test",
            first_name="Bo",
            last_name="Boss",
            role="admin",
            now=clock.now(),
        )
        operator_key = await admin.create_key(session, team, master=True, now=clock.now())
        scoped = await admin.create_key(
            session, team, master=False, scopes=["api/v1/users/api_profile"], now=clock.now()
        )
        team_id, boss_id = team.id, boss.id
    for key in (operator_key.secret, scoped.secret):
        body = await profile(client, key)
        assert body["id"] == boss_id
        assert body["team_id"] == team_id
        assert body["email"] == "boss@gamma.test"


async def test_profile_of_a_deleted_users_key_falls_back_to_the_admin(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        leaver = await admin.create_user(
            session, team, email="leaver@acme.test", first_name="Lee", last_name="Ver", now=clock.now()
        )
        issued = await admin.create_key(session, team, master=True, user=leaver, now=clock.now())
        leaver_id = leaver.id
    assert (await profile(client, issued.secret))["id"] == leaver_id
    async with runtime.sessions() as session, session.begin():
        found = await session.get(User, leaver_id)
        assert found is not None
        found.deleted = True
    assert (await profile(client, issued.secret))["id"] == tenant.user_id
    # The search still lists the user, marked deleted.
    listed = {u["id"]: u for u in (await search(client, tenant.master_key))["users"]}
    assert listed[leaver_id]["deleted"] is True
    assert listed[tenant.user_id]["deleted"] is False


async def test_profile_of_a_team_without_users_is_404(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.create_team(session, "Empty", "professional", clock.now())
        issued = await admin.create_key(session, team, master=True, now=clock.now())
    response = await client.get("/api/v1/users/api_profile", headers={"x-api-key": issued.secret})
    assert response.status_code == 404
    assert response.json() == {"error": "No user is associated with this API key."}


async def test_profile_credit_usage_of_a_fresh_team(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await profile(client, tenant.master_key, include_credit_usage="true")
    assert set(body) == IDENTITY_KEYS | CREDIT_USAGE_KEYS
    professional = resolve_plan("professional")
    assert body["num_credits_remaining"] == professional.credit_limit("lead_credit") == 10000
    assert body["effective_num_lead_credits"] == 10000
    assert body["effective_num_direct_dial_credits"] == 1000
    assert body["effective_num_export_credits"] == 5000
    assert body["effective_num_ai_credits"] == 2000
    assert body["effective_num_power_up_credits"] == 1000
    for field in CREDIT_USAGE_KEYS:
        if field.endswith("_used"):
            assert body[field] == 0, field


async def test_profile_credit_usage_follows_the_ledger(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Beta")
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        colleague = await admin.create_user(
            session, team, email="colleague@acme.test", first_name="Cy", last_name="Col", now=clock.now()
        )
        await admin.grant_credits(session, team, "lead_credit", 500, clock.now(), "top-up")
        await admin.grant_credits(session, team, "ai_credit", 7, clock.now(), None)
        plan = resolve_plan(team.plan, team.plan_overrides)
        mine = {
            "lead_credit": 30,
            "direct_dial_credit": 4,
            "export_credit": 2,
            "ai_credit": 1,
            "power_up_credit": 3,
            "dialer": 5,
        }
        for credit_type, amount in mine.items():
            await credits.spend(
                session,
                team,
                plan,
                clock.now(),
                credit_type=credit_type,
                amount=amount,
                user_id=tenant.user_id,
            )
        # A colleague's spend counts against the team, not against this user's usage.
        await credits.spend(
            session, team, plan, clock.now(), credit_type="lead_credit", amount=100, user_id=colleague.id
        )
        # Another team's ledger never shows.
        beta = await admin.find_team(session, other.team_id)
        await admin.grant_credits(session, beta, "lead_credit", 999, clock.now(), None)
        await credits.spend(
            session, beta, plan, clock.now(), credit_type="lead_credit", amount=50, user_id=other.user_id
        )

    body = await profile(client, tenant.master_key, include_credit_usage="true")
    assert set(body) == IDENTITY_KEYS | CREDIT_USAGE_KEYS
    assert body["id"] == tenant.user_id
    assert body["effective_num_lead_credits"] == 10500
    assert body["num_credits_remaining"] == 10500 - 30 - 100
    assert body["num_lead_credits_used"] == 30
    assert body["effective_num_direct_dial_credits"] == 1000
    assert body["num_direct_dial_credits_used"] == 4
    assert body["effective_num_export_credits"] == 5000
    assert body["num_export_credits_used"] == 2
    assert body["effective_num_ai_credits"] == 2007
    assert body["num_ai_credits_used"] == 1
    assert body["effective_num_power_up_credits"] == 1000
    assert body["num_power_up_credits_used"] == 3
    assert body["total_unified_credits_used"] == sum(mine.values())

    # The credit usage report agrees with the profile.
    stats = await client.post(
        "/api/v1/usage_stats/credit_usage_stats", headers={"x-api-key": tenant.master_key}
    )
    assert stats.status_code == 200
    lead = stats.json()["credit_usage_stats"]["lead_credit"]
    assert lead == {"limit": 10500, "consumed": 130, "left_over": body["num_credits_remaining"]}


async def test_profile_credit_usage_on_the_free_plan(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    body = await profile(client, free.master_key, include_credit_usage="1")
    assert body["effective_num_lead_credits"] == 100
    assert body["num_credits_remaining"] == 100
    assert body["effective_num_power_up_credits"] == 0
    assert body["effective_num_export_credits"] == 10


async def test_profile_credit_usage_resets_with_the_cycle(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        plan = resolve_plan(team.plan)
        await credits.spend(
            session, team, plan, clock.now(), credit_type="lead_credit", amount=12, user_id=tenant.user_id
        )
    assert (await profile(client, tenant.master_key, include_credit_usage="true"))[
        "num_lead_credits_used"
    ] == 12
    clock.set(datetime(2026, 2, 15, 12, 0, tzinfo=UTC))  # the anchor's next cycle starts now
    after = await profile(client, tenant.master_key, include_credit_usage="true")
    assert after["num_lead_credits_used"] == 0
    assert after["total_unified_credits_used"] == 0
    assert after["num_credits_remaining"] == 10000


def test_every_profile_credit_type_is_a_known_credit_type() -> None:
    assert {kind for kind, _, _ in PROFILE_CREDITS} <= set(CREDIT_TYPES)

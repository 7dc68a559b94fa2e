"""Plans as data: rate-limit tables, credit allowances and custom overrides."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.auth import admin
from perilune.auth.admin import AdminError
from perilune.clock import FrozenClock
from perilune.metering.plans import (
    BULK_ENRICHMENT_ENDPOINTS,
    CREDIT_TYPES,
    ENRICHMENT_ENDPOINTS,
    PLAN_NAMES,
    PLANS,
    REPORT_ENDPOINTS,
    SEARCH_ENDPOINTS,
    EndpointClass,
    Limits,
    PlanError,
    endpoint_class,
    resolve_plan,
    validate_overrides,
)
from perilune.runtime import Runtime
from tests.conftest import Tenant


def test_plan_names() -> None:
    assert PLAN_NAMES == ("free", "basic", "professional", "custom")


@pytest.mark.parametrize(
    ("name", "paid", "default", "search"),
    [
        ("free", False, Limits(50, 200, 600), Limits(50, 200, 600)),
        ("basic", True, Limits(200, 400, 2000), Limits(200, 6000, 50000)),
        ("professional", True, Limits(200, 600, 6000), Limits(200, 6000, 50000)),
        ("custom", True, Limits(200, 600, 6000), Limits(200, 6000, 50000)),
    ],
)
def test_resolve_each_plan(name: str, paid: bool, default: Limits, search: Limits) -> None:
    plan = resolve_plan(name)
    assert plan.name == name
    assert plan.paid is paid
    assert set(plan.limits) == set(EndpointClass)
    assert plan.limits_for("api/v1/contacts/search") == default
    assert plan.limits_for("api/v1/auth/health") == default
    assert plan.limits_for("api/v1/mixed_people/api_search") == search
    assert plan.limits_for("api/v1/reports/sync_report") == Limits(hour=5)


def test_resolve_plan_returns_the_published_tables() -> None:
    for name in ("free", "basic", "professional"):
        assert resolve_plan(name) is PLANS[name]
        # Overrides mean nothing outside the custom plan.
        assert resolve_plan(name, {"credits": {"lead_credit": 1}}) is PLANS[name]


def test_unknown_plan() -> None:
    with pytest.raises(PlanError, match="unknown plan 'platinum'"):
        resolve_plan("platinum")


def test_enrichment_limits() -> None:
    assert resolve_plan("free").limits_for("api/v1/people/match") == Limits(50, 200, 600)
    for name in ("basic", "professional", "custom"):
        assert resolve_plan(name).limits_for("api/v1/people/match") == Limits(minute=1000)
        assert resolve_plan(name).limits_for("api/v1/organizations/enrich") == Limits(minute=1000)


@pytest.mark.parametrize("name", ["basic", "professional", "custom"])
def test_bulk_enrichment_is_a_tenth_of_single(name: str) -> None:
    plan = resolve_plan(name)
    single = plan.limits[EndpointClass.enrichment]
    for endpoint in BULK_ENRICHMENT_ENDPOINTS:
        assert plan.limits_for(endpoint) == single.tenth() == Limits(minute=100)


def test_free_bulk_enrichment_has_explicit_figures() -> None:
    free = resolve_plan("free")
    assert free.limits_for("api/v1/people/bulk_match") == Limits(20, 100, 60)
    assert free.limits_for("api/v1/organizations/bulk_enrich") == Limits(20, 100, 60)
    assert free.limits[EndpointClass.bulk_enrichment] != free.limits[EndpointClass.enrichment].tenth()


def test_tenth() -> None:
    assert Limits(1000, 6000, None).tenth() == Limits(100, 600, None)
    assert Limits(5, 19, 25).tenth() == Limits(1, 1, 2)  # never below one request
    assert Limits().tenth() == Limits()


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_sync_report_is_five_an_hour(name: str) -> None:
    limits = resolve_plan(name).limits_for("api/v1/reports/sync_report")
    assert limits == Limits(minute=None, hour=5, day=None)
    assert limits.as_dict() == {"minute": None, "hour": 5, "day": None}


def test_endpoint_classes() -> None:
    for endpoint in ENRICHMENT_ENDPOINTS:
        assert endpoint_class(endpoint) is EndpointClass.enrichment
    for endpoint in BULK_ENRICHMENT_ENDPOINTS:
        assert endpoint_class(endpoint) is EndpointClass.bulk_enrichment
    for endpoint in SEARCH_ENDPOINTS:
        assert endpoint_class(endpoint) is EndpointClass.search
    for endpoint in REPORT_ENDPOINTS:
        assert endpoint_class(endpoint) is EndpointClass.report
    assert endpoint_class("api/v1/contacts") is EndpointClass.default
    assert endpoint_class("api/v1/mixed_people/search") is EndpointClass.default


def test_limits_for_window() -> None:
    limits = Limits(1, 2, 3)
    assert [limits.for_window(w) for w in ("minute", "hour", "day")] == [1, 2, 3]


def test_credit_allowances() -> None:
    assert PLANS["free"].credits == {
        "lead_credit": 100,
        "export_credit": 10,
        "direct_dial_credit": 5,
        "ai_credit": 100,
    }
    assert PLANS["free"].credit_limit("dialer") == 0
    assert PLANS["basic"].credit_limit("lead_credit") == 1000
    professional = PLANS["professional"]
    assert set(professional.credits) == set(CREDIT_TYPES)
    assert professional.credit_limit("lead_credit") == 10000
    assert professional.credit_limit("no_such_credit") == 0
    for plan in PLANS.values():
        assert set(plan.credits) <= set(CREDIT_TYPES)


# ---------------------------------------------------------------------------------------------
# custom plans


def test_custom_without_overrides_is_professional() -> None:
    custom = resolve_plan("custom")
    professional = PLANS["professional"]
    assert custom.name == "custom"
    assert custom.paid is True
    assert custom.limits == professional.limits
    assert custom.credits == professional.credits
    assert resolve_plan("custom", {}) == custom
    assert resolve_plan("custom", {"limits": None, "credits": None}) == custom


def test_custom_overrides_merge_over_professional() -> None:
    overrides = {
        "limits": {"default": {"minute": 500}, "search": {"day": None, "hour": 10}},
        "credits": {"lead_credit": 50000, "dialer": 0},
    }
    custom = resolve_plan("custom", validate_overrides(overrides))
    assert custom.limits_for("api/v1/contacts/search") == Limits(500, 600, 6000)
    assert custom.limits_for("api/v1/mixed_companies/search") == Limits(200, 10, None)
    # Classes not overridden keep professional's figures.
    assert custom.limits_for("api/v1/people/match") == Limits(minute=1000)
    assert custom.limits_for("api/v1/reports/sync_report") == Limits(hour=5)
    assert custom.credit_limit("lead_credit") == 50000
    assert custom.credit_limit("dialer") == 0
    assert custom.credit_limit("export_credit") == 5000
    # The shared professional table is untouched.
    assert PLANS["professional"].limits_for("api/v1/contacts/search") == Limits(200, 600, 6000)
    assert PLANS["professional"].credit_limit("lead_credit") == 10000


def test_custom_report_and_bulk_overrides() -> None:
    custom = resolve_plan(
        "custom", {"limits": {"report": {"hour": 50, "day": 100}, "bulk_enrichment": {"minute": 7}}}
    )
    assert custom.limits_for("api/v1/reports/sync_report") == Limits(None, 50, 100)
    assert custom.limits_for("api/v1/people/bulk_match") == Limits(minute=7)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"limits": {}},
        {"credits": {}},
        {"limits": {"default": {"minute": 1, "hour": None, "day": 100000}}},
        {"limits": {klass.value: {"hour": 3} for klass in EndpointClass}},
        {"credits": dict.fromkeys(CREDIT_TYPES, 0)},
        {"limits": None, "credits": None},
    ],
)
def test_valid_overrides(overrides: dict[str, Any]) -> None:
    assert validate_overrides(overrides) == overrides
    resolve_plan("custom", overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"limit": {}},
        {"limits": {}, "extra": 1},
        {"limits": {"enterprise": {"minute": 5}}},
        {"limits": {"default": {"second": 5}}},
        {"limits": {"default": {"minute": 0}}},
        {"limits": {"default": {"minute": -1}}},
        {"limits": {"default": {"minute": "5"}}},
        {"limits": {"default": {"minute": 2.5}}},
        {"limits": {"default": {"minute": True}}},
        {"limits": {"default": 5}},
        {"limits": {"default": None}},
        {"limits": {"default": ["minute"]}},
        {"limits": ["default"]},
        {"limits": "default"},
        {"credits": {"gold_coins": 5}},
        {"credits": {"lead_credit": -1}},
        {"credits": {"lead_credit": 1.5}},
        {"credits": {"lead_credit": "100"}},
        {"credits": {"lead_credit": None}},
        {"credits": {"lead_credit": False}},
        {"credits": ["lead_credit"]},
        {"credits": 100},
    ],
)
def test_invalid_overrides(overrides: dict[str, Any]) -> None:
    with pytest.raises(PlanError):
        validate_overrides(overrides)


@pytest.mark.parametrize("overrides", [["limits"], [["limits"]], "limits", 5])
def test_overrides_must_be_an_object(overrides: Any) -> None:
    with pytest.raises(PlanError):
        validate_overrides(overrides)


# ---------------------------------------------------------------------------------------------
# admin.set_plan (on SQLite and PostgreSQL)


async def test_set_plan_rejects_overrides_for_published_plans(runtime: Runtime, tenant: Tenant) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        for name in ("free", "basic", "professional"):
            with pytest.raises(AdminError, match="custom plan only"):
                await admin.set_plan(session, team, name, {"credits": {"lead_credit": 5}})
        assert team.plan == "professional"
        assert team.plan_overrides == {}


async def test_set_plan_rejects_unknown_plans_and_bad_overrides(runtime: Runtime, tenant: Tenant) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        with pytest.raises(AdminError, match="unknown plan"):
            await admin.set_plan(session, team, "platinum", None)
        with pytest.raises(AdminError, match="unknown endpoint class"):
            await admin.set_plan(session, team, "custom", {"limits": {"turbo": {"minute": 1}}})
        with pytest.raises(AdminError):
            await admin.set_plan(session, team, "custom", {"limits": {"default": 5}})
        assert team.plan == "professional"
        assert team.plan_overrides == {}


async def test_set_plan_custom_then_back(runtime: Runtime, tenant: Tenant) -> None:
    overrides = {"limits": {"default": {"minute": 3}}, "credits": {"ai_credit": 9}}
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", overrides)
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        assert (team.plan, team.plan_overrides) == ("custom", overrides)
        plan = resolve_plan(team.plan, team.plan_overrides)
        assert plan.limits_for("api/v1/auth/health") == Limits(3, 600, 6000)
        assert plan.credit_limit("ai_credit") == 9
        await admin.set_plan(session, team, "basic", None)
    async with runtime.sessions() as session:
        team = await admin.find_team(session, tenant.team_id)
        assert (team.plan, team.plan_overrides) == ("basic", {})


async def test_a_custom_plan_governs_requests(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", {"limits": {"default": {"minute": 2, "day": None}}})
    headers = {"x-api-key": tenant.master_key}
    first = await client.get("/api/v1/auth/health", headers=headers)
    assert first.status_code == 200
    assert first.headers["x-rate-limit-minute"] == "2"
    assert first.headers["x-rate-limit-hourly"] == "600"
    assert first.headers["x-rate-limit-daily"] == ""
    assert (await client.get("/api/v1/auth/health", headers=headers)).status_code == 200
    third = await client.get("/api/v1/auth/health", headers=headers)
    assert third.status_code == 429
    assert "2 times per minute" in third.json()["message"]
    clock.advance(60)
    assert (await client.get("/api/v1/auth/health", headers=headers)).status_code == 200


async def test_a_free_team_moved_to_basic_may_search_users(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.create_team(session, "Upgrader", "free", clock.now())
        issued = await admin.create_key(session, team, master=True, now=clock.now())
        team_id = team.id
    headers = {"x-api-key": issued.secret}
    assert (await client.get("/api/v1/users/search", headers=headers)).status_code == 403
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        await admin.set_plan(session, team, "basic", None)
    response = await client.get("/api/v1/users/search", headers=headers)
    assert response.status_code == 200
    assert response.headers["x-rate-limit-hourly"] == "400"

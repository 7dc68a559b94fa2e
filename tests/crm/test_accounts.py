"""POST /accounts, GET/PUT/PATCH /accounts/{id} and GET /account_stages against a real database
(SQLite and PostgreSQL): the documented requests in each dialect, the documented fields, raw
address resolution, Apollo's errors, events, Idempotency-Key and team isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.clock import FrozenClock
from perilune.models import Account, AccountStage, User
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok

APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LEGACY_ACCOUNT_FIELDS = {
    "id", "domain", "name", "team_id", "typed_custom_fields", "organization_id", "account_stage_id",
    "source", "original_source", "owner_id", "created_at", "phone", "phone_status", "test_predictive_score",
    "hubspot_id", "salesforce_id", "crm_owner_id", "parent_account_id", "account_playbook_statuses",
    "existence_level", "label_ids", "modality", "persona_counts",
}  # fmt: skip
SPEC_ACCOUNT_FIELDS = {
    "creator_id", "linkedin_url", "sanitized_phone", "account_rule_config_statuses", "custom_field_errors",
    "source_display_name", "crm_record_url", "show_intent", "has_intent_signal_account",
    "intent_signal_account",
    "contact_emailer_campaign_ids", "contact_campaign_status_tally", "num_contacts", "last_activity_date",
}  # fmt: skip
GOOGLE = {
    "name": "Google",
    "domain": "google.com",
    "phone_number": "1-866-246-6453",
    "raw_address": "1600 Amphitheatre Parkway",
}


async def stage_ids(runtime: Runtime, team_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(AccountStage.name, AccountStage.id).where(AccountStage.team_id == team_id)
        )
        return {str(name): str(stage_id) for name, stage_id in rows}


async def team_accounts(runtime: Runtime, team_id: str) -> list[Account]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Account).where(Account.team_id == team_id))).scalars())


async def create(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/accounts", key, params))
    account: dict[str, Any] = body["account"]
    return account


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_legacy_create_example_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str, dialect: str
) -> None:
    body = await ok(
        await call(client, "POST", f"{prefix}/accounts", tenant.master_key, GOOGLE, dialect=dialect)
    )
    assert set(body) == {"account", "labels", "team"}
    assert body["team"] == {"id": tenant.team_id, "accounts_finder_empty": False}
    account = body["account"]
    assert set(account) >= LEGACY_ACCOUNT_FIELDS | SPEC_ACCOUNT_FIELDS
    assert (account["name"], account["domain"], account["team_id"]) == (
        "Google",
        "google.com",
        tenant.team_id,
    )
    assert (account["phone"], account["sanitized_phone"], account["phone_status"]) == (
        "1-866-246-6453",
        "+18662466453",
        "no_status",
    )
    assert (account["source"], account["original_source"], account["modality"]) == ("api", "api", "account")
    assert account["owner_id"] == account["creator_id"] == tenant.user_id
    assert account["account_stage_id"] == (await stage_ids(runtime, tenant.team_id))["Cold"]
    assert APOLLO_TIMESTAMP.match(account["created_at"])
    for name in ("account_playbook_statuses", "label_ids", "account_rule_config_statuses"):
        assert account[name] == []
    assert account["typed_custom_fields"] == {} and account["persona_counts"] == {}
    assert [a.id for a in await team_accounts(runtime, tenant.team_id)] == [account["id"]]
    [event] = await events(runtime, tenant.team_id, "account.created")
    assert event.payload == account


async def test_the_spec_create_fields(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    stage = (await stage_ids(runtime, tenant.team_id))["Active Opportunity"]
    async with runtime.sessions() as session, session.begin():
        colleague = User(
            team_id=tenant.team_id, email="sam@acme.test", first_name="Sam", created_at=clock.now()
        )
        session.add(colleague)
    account = await create(
        client,
        tenant.master_key,
        name="The Irish Copywriters",
        domain="www.irishcopywriters.ie",
        owner_id=colleague.id,
        account_stage_id=stage,
        phone="555-555-0108",
        raw_address="Dallas, United States",
        label_names=["book of business"],
    )
    assert (account["domain"], account["owner_id"], account["account_stage_id"]) == (
        "irishcopywriters.ie",
        colleague.id,
        stage,
    )
    assert (account["city"], account["state"], account["country"], account["time_zone"]) == (
        "Dallas",
        "Texas",
        "United States",
        "America/Chicago",
    )
    assert account["raw_address"] == "Dallas, United States"
    assert len(account["label_ids"]) == 1


async def test_a_name_or_a_domain_is_required(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    for params in ({}, {"phone": "555-555-0108"}, {"name": "", "domain": ""}):
        response = await call(client, "POST", "/api/v1/accounts", tenant.master_key, params)
        assert response.status_code == 422
        assert response.json() == {"error": "Please specify at least a name or domain."}
    assert await team_accounts(runtime, tenant.team_id) == []


@pytest.mark.parametrize("field", ["account_stage_id", "owner_id"])
async def test_ids_that_are_not_the_teams_are_apollos_422(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, field: str
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    foreign = (
        (await stage_ids(runtime, other.team_id))["Cold"] if field == "account_stage_id" else other.user_id
    )
    for value in (foreign, "23423423"):
        response = await call(
            client, "POST", "/api/v1/accounts", tenant.master_key, {"name": "X", field: value}
        )
        assert response.status_code == 422
        assert response.json() == {"error": f"Parameters misconfigured. {value} is not a valid ID"}


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_view_an_account(client: httpx.AsyncClient, tenant: Tenant, prefix: str) -> None:
    created = await create(client, tenant.master_key, **GOOGLE)
    body = await ok(
        await client.get(f"{prefix}/accounts/{created['id']}", params={"api_key": tenant.master_key})
    )
    assert body == {"account": created}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_update_example(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, method: str, dialect: str
) -> None:
    created = await create(client, tenant.master_key, **GOOGLE)
    clock.advance(30)
    body = await ok(
        await call(
            client,
            method,
            f"/v1/accounts/{created['id']}",
            tenant.master_key,
            {"name": "new name "},
            dialect=dialect,
        )
    )
    assert set(body) == {"account", "labels"}
    account = body["account"]
    assert (account["id"], account["name"], account["domain"]) == (created["id"], "new name", "google.com")
    assert account["updated_at"] != created["updated_at"] and account["created_at"] == created["created_at"]
    [event] = await events(runtime, tenant.team_id, "account.updated")
    assert event.payload == account


async def test_update_fields_clear_and_relink(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create(client, tenant.master_key, **GOOGLE, label_names=["a"])
    body = await ok(
        await call(
            client, "PATCH", f"/api/v1/accounts/{created['id']}", tenant.master_key,
            {"phone": "", "raw_address": "Paris, France", "label_names": ["b"]},
        )
    )  # fmt: skip
    account = body["account"]
    assert (account["phone"], account["sanitized_phone"]) == (None, None)
    assert (account["city"], account["country"], account["time_zone"]) == ("Paris", "France", "Europe/Paris")
    assert [label["name"] for label in body["labels"]] == ["b"]


async def test_an_unknown_account_is_apollos_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for method in ("GET", "PUT", "PATCH"):
        response = await call(
            client, method, "/api/v1/accounts/66e9abf95ac32901b20d1a0d", tenant.master_key, {"name": "x"}
        )
        assert response.status_code == 422
        assert response.json() == {
            "error": "Parameters misconfigured. 66e9abf95ac32901b20d1a0d is not a valid ID"
        }


async def test_another_teams_key_sees_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    mine = await create(client, tenant.master_key, **GOOGLE)
    other = await make_tenant(runtime, clock, name="Other")
    for method in ("GET", "PUT", "PATCH"):
        response = await call(
            client, method, f"/api/v1/accounts/{mine['id']}", other.master_key, {"name": "Mine now"}
        )
        assert response.status_code == 422
        assert "Google" not in response.text
    [stored] = await team_accounts(runtime, tenant.team_id)
    assert stored.name == "Google"
    assert await events(runtime, other.team_id) == []


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_account_stages_are_apollos_defaults(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str
) -> None:
    body = await ok(await client.get(f"{prefix}/account_stages", headers={"x-api-key": tenant.master_key}))
    stages = body["account_stages"]
    assert [(s["name"], s["category"], s["default_exclude_for_leadgen"]) for s in stages] == [
        ("Cold", "in_progress", False),
        ("Current Client", "succeeded", True),
        ("Active Opportunity", "succeeded", True),
        ("Dead Opportunity", "failed", False),
        ("Do Not Prospect", "failed", True),
    ]
    assert set(stages[0]) == {
        "id", "team_id", "display_name", "name", "display_order", "default_exclude_for_leadgen", "category",
        "is_meeting_set",
    }  # fmt: skip
    assert all(s["team_id"] == tenant.team_id for s in stages)


async def test_idempotent_account_creation(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "google-1"}
    first = await ok(
        await call(client, "POST", "/api/v1/accounts", tenant.master_key, GOOGLE, headers=headers)
    )
    again = await ok(
        await call(
            client, "POST", "/api/v1/accounts", tenant.master_key, GOOGLE, headers=headers, dialect="query"
        )
    )
    assert first == again
    assert len(await team_accounts(runtime, tenant.team_id)) == 1

"""Deals against a real database (SQLite and PostgreSQL): POST /opportunities, GET and PATCH
/opportunities/{id}, GET /opportunity_stages and POST /contacts/{id}/opportunities: the documented
requests in each dialect, the documented fields, Apollo's error answers, custom fields, events,
Idempotency-Key and team isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.models import Account, Contact, CustomField, Opportunity, OpportunityStage
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok

APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ACTIVITY_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
# The legacy docs' deal fields and the current spec's, on every deal object.
LEGACY_FIELDS = {
    "id", "team_id", "owner_id", "salesforce_owner_id", "amount", "closed_date", "account_id",
    "description", "is_closed", "is_won", "name", "stage_name", "opportunity_stage_id",
    "salesforce_id", "created_at", "existence_level", "opportunity_contact_roles",
}  # fmt: skip
SPEC_FIELDS = {
    "source", "actual_close_date", "next_step", "next_step_date", "closed_lost_reason",
    "closed_won_reason", "forecast_category", "deal_probability", "created_by_id", "current_solutions",
    "deal_source", "manually_updated_probability", "manually_updated_forecast", "crm_id",
    "crm_record_url", "crm_owner_id", "probability", "opportunity_pipeline_id", "stage_updated_at",
    "next_step_last_updated_at", "exchange_rate_code", "exchange_rate_value", "amount_in_team_currency",
    "forecasted_revenue", "last_activity_date", "typed_custom_fields", "opportunity_rule_config_statuses",
    "currency",
}  # fmt: skip
STAGE_FIELDS = {
    "id", "team_id", "name", "display_order", "forecast_category_cd", "is_won", "is_closed", "probability",
    "description", "salesforce_id", "is_meeting_set", "opportunity_pipeline_id", "is_editable", "type",
}  # fmt: skip
DEFAULT_STAGES = [
    "Qualify", "Educate", "Validate", "Proposal", "Commit", "Closed Won", "Closed Lost", "Omitted",
]  # fmt: skip


# -- seeding ----------------------------------------------------------------------------------


async def stage_ids(runtime: Runtime, team_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(OpportunityStage.name, OpportunityStage.id).where(OpportunityStage.team_id == team_id)
        )
        return {str(name): str(stage_id) for name, stage_id in rows}


async def add_account(runtime: Runtime, clock: FrozenClock, team_id: str, name: str = "Apollo Inc") -> str:
    async with runtime.sessions() as session, session.begin():
        account = Account(
            id=new_id(clock.now().timestamp()),
            team_id=team_id,
            name=name,
            domain=f"{name.split()[0].lower()}.io",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(account)
        return account.id


async def add_contact(
    runtime: Runtime, clock: FrozenClock, team_id: str, first: str = "Tim", last: str = "Zheng"
) -> str:
    async with runtime.sessions() as session, session.begin():
        contact = Contact(
            id=new_id(clock.now().timestamp()),
            team_id=team_id,
            first_name=first,
            last_name=last,
            name=f"{first} {last}",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(contact)
        return contact.id


async def add_field(
    runtime: Runtime, team_id: str, name: str, kind: str, modality: str = "opportunity", **extra: Any
) -> str:
    async with runtime.sessions() as session, session.begin():
        field = CustomField(team_id=team_id, modality=modality, name=name, type=kind, **extra)
        session.add(field)
        await session.flush()
        return field.id


async def stored(runtime: Runtime, deal_id: str) -> Opportunity | None:
    async with runtime.sessions() as session:
        return await session.get(Opportunity, deal_id)


async def create(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    deal: dict[str, Any] = (await ok(await call(client, "POST", "/api/v1/opportunities", key, params)))[
        "opportunity"
    ]
    return deal


@pytest.fixture
async def other(runtime: Runtime, clock: FrozenClock) -> Tenant:
    return await make_tenant(runtime, clock, name="Globex")


# -- POST /opportunities ----------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_legacy_create_example_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, prefix: str, dialect: str
) -> None:
    stages = await stage_ids(runtime, tenant.team_id)
    account_id = await add_account(runtime, clock, tenant.team_id)
    params = {
        "owner_id": tenant.user_id,
        "name": "Opportunity Name",
        "amount": "200",
        "opportunity_stage_id": stages["Proposal"],
        "closed_date": "2020-12-18",
        "account_id": account_id,
    }
    body = await ok(
        await call(client, "POST", f"{prefix}/opportunities", tenant.master_key, params, dialect=dialect)
    )
    assert set(body) == {"opportunity"}
    deal = body["opportunity"]
    assert set(deal) >= LEGACY_FIELDS | SPEC_FIELDS
    assert (deal["name"], deal["amount"], deal["owner_id"], deal["account_id"]) == (
        "Opportunity Name",
        200,
        tenant.user_id,
        account_id,
    )
    assert deal["closed_date"] == "2020-12-18T00:00:00.000+00:00"
    assert (deal["opportunity_stage_id"], deal["stage_name"]) == (stages["Proposal"], "Proposal")
    assert (deal["is_closed"], deal["is_won"], deal["actual_close_date"]) == (False, False, None)
    # The stage's forecast: Proposal is "Best Case" at 70%.
    assert (deal["forecast_category"], deal["deal_probability"], deal["forecasted_revenue"]) == (
        "best_case",
        70,
        140,
    )
    assert (deal["source"], deal["team_id"], deal["created_by_id"]) == ("api", tenant.team_id, tenant.user_id)
    assert deal["currency"] == {"name": "US Dollar", "iso_code": "USD", "symbol": "$"}
    assert deal["opportunity_contact_roles"] == [] and deal["typed_custom_fields"] == {}
    assert APOLLO_TIMESTAMP.match(deal["created_at"]) and ACTIVITY_TIMESTAMP.match(deal["stage_updated_at"])
    row = await stored(runtime, deal["id"])
    assert row is not None and row.team_id == tenant.team_id and row.amount == 200.0
    [event] = await events(runtime, tenant.team_id, "opportunity.")
    assert (event.type, event.entity_id, event.payload) == ("opportunity.created", deal["id"], deal)


async def test_a_deal_named_only_gets_the_default_stage_and_the_caller_as_owner(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    deal = await create(client, tenant.master_key, name="Massive Q3 Deal")
    stages = await stage_ids(runtime, tenant.team_id)
    assert deal["opportunity_stage_id"] == stages["Qualify"]
    assert deal["owner_id"] == tenant.user_id
    assert deal["amount"] is None and deal["forecasted_revenue"] is None and deal["closed_date"] is None
    assert deal["opportunity_pipeline_id"] is not None


async def test_amounts_with_commas_or_symbols_are_left_blank_as_apollo_does(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await create(client, tenant.master_key, name="a", amount="55123478"))["amount"] == 55123478
    assert (await create(client, tenant.master_key, name="b", amount=1250.5))["amount"] == 1250.5
    assert (await create(client, tenant.master_key, name="c", amount="1,000"))["amount"] is None
    assert (await create(client, tenant.master_key, name="d", amount="$500"))["amount"] is None


@pytest.mark.parametrize("params", [{}, {"name": ""}, {"name": "   ", "amount": "5"}])
async def test_a_deal_without_a_name_is_apollos_422(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any]
) -> None:
    response = await call(client, "POST", "/api/v1/opportunities", tenant.master_key, params)
    assert (response.status_code, response.json()) == (422, {"error": "Name is required"})
    assert await events(runtime, tenant.team_id, "opportunity.") == []


async def test_another_teams_owner_stage_or_account_is_not_a_valid_id(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, other: Tenant
) -> None:
    their_stage = (await stage_ids(runtime, other.team_id))["Commit"]
    their_account = await add_account(runtime, clock, other.team_id, "Globex Corp")
    for name, value in (
        ("owner_id", other.user_id),
        ("opportunity_stage_id", their_stage),
        ("account_id", their_account),
        ("account_id", "12345"),
    ):
        response = await call(
            client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "x", name: value}
        )
        assert response.status_code == 422, name
        assert response.json() == {"error": f"Parameters misconfigured. {value} is not a valid ID"}
    async with runtime.sessions() as session:
        assert (await session.execute(select(Opportunity.id))).all() == []


async def test_an_owner_may_be_any_user_of_the_team(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        user = await admin.create_user(
            session, team, email="rep@acme.test", first_name="Rita", last_name="Rep", now=clock.now()
        )
        rep_id = user.id
    assert (await create(client, tenant.master_key, name="x", owner_id=rep_id))["owner_id"] == rep_id


async def test_a_badly_written_close_date_is_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await call(
        client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "x", "closed_date": "18/12/2020"}
    )
    assert response.status_code == 422 and "closed_date" in response.json()["error"]


async def test_typed_custom_fields_are_checked_by_type(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other: Tenant
) -> None:
    size = await add_field(runtime, tenant.team_id, "Seats", "number")
    close = await add_field(runtime, tenant.team_id, "Signed", "date")
    tier = await add_field(
        runtime, tenant.team_id, "Tier", "picklist", picklist_values=[{"id": "p1", "name": "Gold"}]
    )
    contact_field = await add_field(runtime, tenant.team_id, "Seats", "number", modality="contact")
    theirs = await add_field(runtime, other.team_id, "Seats", "number")
    deal = await create(
        client,
        tenant.master_key,
        name="x",
        typed_custom_fields={size: "12", close: "2025-08-07", tier: "gold"},
    )
    assert deal["typed_custom_fields"] == {size: 12, close: "2025-08-07", tier: "p1"}
    for fields, field_name in (({size: "twelve"}, "Seats"), ({tier: "Platinum"}, "Tier")):
        params = {"name": "y", "typed_custom_fields": fields}
        response = await call(client, "POST", "/api/v1/opportunities", tenant.master_key, params)
        assert response.status_code == 422 and field_name in response.json()["error"]
    for field_id in (contact_field, theirs):
        response = await call(
            client,
            "POST",
            "/api/v1/opportunities",
            tenant.master_key,
            {"name": "z", "typed_custom_fields": {field_id: "1"}},
        )
        assert response.json() == {"error": f"Parameters misconfigured. {field_id} is not a valid ID"}
    # An update merges: given fields change, null removes, others stay.
    response = await call(
        client, "PATCH", f"/api/v1/opportunities/{deal['id']}", tenant.master_key,
        {"typed_custom_fields": {size: 20, close: None}},
    )  # fmt: skip
    assert (await ok(response))["opportunity"]["typed_custom_fields"] == {size: 20, tier: "p1"}


async def test_idempotency_key_answers_a_repeat_without_a_second_deal(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "deal-1"}
    first = await ok(
        await call(client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "x"}, headers=headers)
    )
    again = await ok(
        await call(
            client,
            "POST",
            "/v1/opportunities",
            tenant.master_key,
            {"name": "x"},
            dialect="form",
            headers=headers,
        )
    )
    assert again == first
    changed = await call(
        client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "y"}, headers=headers
    )
    assert changed.status_code == 422
    async with runtime.sessions() as session:
        assert len((await session.execute(select(Opportunity.id))).all()) == 1


# -- GET /opportunities/{id} ------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_view_shows_the_deal_with_its_account_and_contacts(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, prefix: str
) -> None:
    account_id = await add_account(runtime, clock, tenant.team_id)
    contact_id = await add_contact(runtime, clock, tenant.team_id)
    created = await create(
        client, tenant.master_key, name="Grand SLA", account_id=account_id, contact_ids=[contact_id]
    )
    response = await call(
        client, "GET", f"{prefix}/opportunities/{created['id']}", tenant.master_key, dialect="query"
    )
    deal = (await ok(response))["opportunity"]
    assert set(deal) >= LEGACY_FIELDS | SPEC_FIELDS | {"num_contacts", "account"}
    assert {key: deal[key] for key in created} == created
    assert deal["num_contacts"] == 1
    assert (deal["account"]["id"], deal["account"]["name"], deal["account"]["modality"]) == (
        account_id,
        "Apollo Inc",
        "account",
    )
    [role] = deal["opportunity_contact_roles"]
    assert role["contact_id"] == contact_id and role["is_primary"] is True
    assert role["contact"] == {
        "id": contact_id,
        "name": "Tim Zheng",
        "first_name": "Tim",
        "last_name": "Zheng",
    }


async def test_view_of_a_deal_the_team_does_not_have(
    client: httpx.AsyncClient, tenant: Tenant, other: Tenant
) -> None:
    theirs = await create(client, other.master_key, name="Secret", amount="999")
    for deal_id in (theirs["id"], new_id()):
        response = await call(
            client, "GET", f"/api/v1/opportunities/{deal_id}", tenant.master_key, dialect="query"
        )
        assert (response.status_code, response.json()) == (404, {"status": 404, "error": "Not Found"})
        assert "x-daily-usage" in response.headers
    response = await call(
        client, "GET", "/api/v1/opportunities/opportunity_id", tenant.master_key, dialect="query"
    )
    assert response.json() == {"error": "Parameters misconfigured. opportunity_id is not a valid ID"}


# -- PATCH /opportunities/{id} ----------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_update_example_changes_only_what_was_sent(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    created = await create(
        client, tenant.master_key, name="Opportunity Name", amount="90000", closed_date="2018-08-27"
    )
    clock.advance(60)
    response = await call(
        client, "PATCH", f"/v1/opportunities/{created['id']}", tenant.master_key,
        {"name": "Opportunity Name Updated"}, dialect=dialect,
    )  # fmt: skip
    deal = (await ok(response))["opportunity"]
    assert deal["name"] == "Opportunity Name Updated"
    unchanged = {
        "amount",
        "closed_date",
        "opportunity_stage_id",
        "stage_updated_at",
        "owner_id",
        "created_at",
    }
    assert {key: deal[key] for key in unchanged} == {key: created[key] for key in unchanged}
    assert deal["updated_at"] != created["updated_at"]
    kinds = [event.type for event in await events(runtime, tenant.team_id, "opportunity.")]
    assert kinds == ["opportunity.created", "opportunity.updated"]


async def test_moving_a_deal_to_a_closed_won_stage_closes_and_wins_it(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    stages = await stage_ids(runtime, tenant.team_id)
    created = await create(client, tenant.master_key, name="x", amount="1000")
    clock.advance(3600)
    response = await call(
        client, "PATCH", f"/api/v1/opportunities/{created['id']}", tenant.master_key,
        {"opportunity_stage_id": stages["Closed Won"]},
    )  # fmt: skip
    deal = (await ok(response))["opportunity"]
    assert (deal["is_closed"], deal["is_won"], deal["stage_name"]) == (True, True, "Closed Won")
    assert (deal["forecast_category"], deal["deal_probability"], deal["forecasted_revenue"]) == (
        "closed",
        100,
        1000,
    )
    assert deal["stage_updated_at"] != created["stage_updated_at"]
    assert deal["actual_close_date"] == deal["stage_updated_at"]
    response = await call(
        client, "PATCH", f"/api/v1/opportunities/{created['id']}", tenant.master_key,
        {"opportunity_stage_id": stages["Closed Lost"]},
    )  # fmt: skip
    lost = (await ok(response))["opportunity"]
    assert (lost["is_closed"], lost["is_won"], lost["forecasted_revenue"]) == (True, False, 0)


async def test_update_of_a_deal_the_team_does_not_have_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other: Tenant
) -> None:
    theirs = await create(client, other.master_key, name="Secret")
    for deal_id in (theirs["id"], new_id(), "nope"):
        response = await call(
            client, "PATCH", f"/api/v1/opportunities/{deal_id}", tenant.master_key, {"name": "Mine"}
        )
        assert (response.status_code, response.json()) == (422, {"error": "Opportunity does not exist."})
    row = await stored(runtime, theirs["id"])
    assert row is not None and row.name == "Secret"
    assert await events(runtime, tenant.team_id) == []


async def test_update_checks_what_it_is_given(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other: Tenant
) -> None:
    created = await create(client, tenant.master_key, name="x")
    path = f"/api/v1/opportunities/{created['id']}"
    their_stage = (await stage_ids(runtime, other.team_id))["Commit"]
    assert (await call(client, "PATCH", path, tenant.master_key, {"name": ""})).json() == {
        "error": "Name is required"
    }
    response = await call(client, "PATCH", path, tenant.master_key, {"opportunity_stage_id": their_stage})
    assert response.json() == {"error": f"Parameters misconfigured. {their_stage} is not a valid ID"}
    response = await call(client, "PATCH", path, tenant.master_key, {"owner_id": other.user_id})
    assert response.json() == {"error": f"Parameters misconfigured. {other.user_id} is not a valid ID"}
    row = await stored(runtime, created["id"])
    assert row is not None and (row.name, row.opportunity_stage_id, row.owner_id) == (
        "x",
        created["opportunity_stage_id"],
        tenant.user_id,
    )


# -- contacts on deals ------------------------------------------------------------------------


async def test_the_deals_of_a_contact(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, other: Tenant
) -> None:
    tim = await add_contact(runtime, clock, tenant.team_id)
    ann = await add_contact(runtime, clock, tenant.team_id, "Ann", "Lee")
    first = await create(client, tenant.master_key, name="First", contact_ids=[tim, ann])
    clock.advance(10)
    second = await create(client, tenant.master_key, name="Second", contact_ids=[tim])
    await create(client, tenant.master_key, name="Nobody's")
    body = await ok(
        await call(client, "POST", f"/api/v1/contacts/{tim}/opportunities", tenant.master_key, {})
    )
    assert [deal["id"] for deal in body["opportunities"]] == [second["id"], first["id"]]
    assert [deal["num_contacts"] for deal in body["opportunities"]] == [1, 2]
    # Replacing the deal's contacts drops Tim from the first deal.
    await ok(
        await call(
            client, "PATCH", f"/api/v1/opportunities/{first['id']}", tenant.master_key, {"contact_ids": [ann]}
        )
    )
    body = await ok(await call(client, "POST", f"/v1/contacts/{tim}/opportunities", tenant.master_key, {}))
    assert [deal["id"] for deal in body["opportunities"]] == [second["id"]]
    # Unknown contacts and other teams' contacts have no deals.
    for contact_id in (new_id(), "nope", tim):
        key = tenant.master_key if contact_id != tim else other.master_key
        response = await call(client, "POST", f"/api/v1/contacts/{contact_id}/opportunities", key, {})
        assert await ok(response) == {"opportunities": []}


async def test_a_deal_names_only_the_teams_contacts(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, other: Tenant
) -> None:
    theirs = await add_contact(runtime, clock, other.team_id)
    response = await call(
        client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "x", "contact_ids": [theirs]}
    )
    assert response.json() == {"error": f"Parameters misconfigured. {theirs} is not a valid ID"}


# -- GET /opportunity_stages ------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_deal_stages_are_apollos_defaults_in_order(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, other: Tenant, prefix: str
) -> None:
    body = await ok(
        await call(client, "GET", f"{prefix}/opportunity_stages", tenant.master_key, dialect="query")
    )
    stages = body["opportunity_stages"]
    assert [stage["name"] for stage in stages] == DEFAULT_STAGES
    assert all(set(stage) == STAGE_FIELDS and stage["team_id"] == tenant.team_id for stage in stages)
    won = stages[5]
    assert (won["type"], won["is_won"], won["is_closed"], won["probability"]) == (
        "Closed/Won",
        True,
        True,
        100,
    )
    assert {stage["id"] for stage in stages} == set((await stage_ids(runtime, tenant.team_id)).values())
    theirs = set((await stage_ids(runtime, other.team_id)).values())
    assert theirs.isdisjoint(stage["id"] for stage in stages)


async def test_a_team_older_than_the_crm_gets_its_stages_on_first_use(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        for stage in (
            await session.execute(select(OpportunityStage).where(OpportunityStage.team_id == tenant.team_id))
        ).scalars():
            await session.delete(stage)
    body = await ok(
        await call(client, "GET", "/api/v1/opportunity_stages", tenant.master_key, dialect="query")
    )
    assert [stage["name"] for stage in body["opportunity_stages"]] == DEFAULT_STAGES


# -- scopes -----------------------------------------------------------------------------------


async def test_scoped_keys_reach_only_their_deal_endpoints(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "deals/api/v1/opportunities/create")
    await ok(await call(client, "POST", "/api/v1/opportunities", key, {"name": "x"}))
    response = await call(client, "GET", "/api/v1/opportunity_stages", key, dialect="query")
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE"
    assert "deals/api/v1/opportunity_stages/index" in response.json()["error"]

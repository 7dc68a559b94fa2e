"""Notes against a real database (SQLite and PostgreSQL): writing notes on contacts, accounts and
deals (POST /notes) and GET /notes with its relation filters, sorting, skip/limit, Apollo's 400
answers and team isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok
from tests.crm.test_tasks import add_contact

NOTE_FIELDS = {
    "id", "user_id", "content", "updated_at", "created_at", "contact_id", "conversation_id", "account_id",
    "pinned_to_top", "system", "opportunity_id", "account_ids", "contact_ids", "opportunity_ids",
    "calendar_event_ids", "conversation_ids", "is_org_chart_note", "crm_notes",
}  # fmt: skip


async def write(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    note: dict[str, Any] = (await ok(await call(client, "POST", "/api/v1/notes", key, params)))["note"]
    return note


async def listed(client: httpx.AsyncClient, key: str, params: dict[str, Any]) -> list[str]:
    body = await ok(await call(client, "GET", "/api/v1/notes", key, params, dialect="query"))
    assert set(body) == {"notes"}
    return [note["content"] for note in body["notes"]]


@pytest.fixture
async def john(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> str:
    return await add_contact(runtime, clock, tenant.team_id, account="Example Corp")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_a_note_on_a_contact_is_on_its_account_too(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, prefix: str, dialect: str
) -> None:
    params = {"contact_id": john, "content": "Had a productive call. Interested in the enterprise plan."}
    body = await ok(await call(client, "POST", f"{prefix}/notes", tenant.master_key, params, dialect=dialect))
    note = body["note"]
    assert set(note) == NOTE_FIELDS
    assert (note["contact_id"], note["contact_ids"], note["user_id"]) == (john, [john], tenant.user_id)
    assert note["account_id"] is not None and note["account_ids"] == []
    assert (note["pinned_to_top"], note["system"], note["opportunity_ids"], note["crm_notes"]) == (
        False,
        False,
        [],
        [],
    )
    [event] = await events(runtime, tenant.team_id, "note.")
    assert (event.type, event.entity_id, event.payload) == ("note.created", note["id"], note)
    assert await listed(client, tenant.master_key, {"account_id": note["account_id"]}) == [params["content"]]


async def test_notes_on_deals_and_accounts(client: httpx.AsyncClient, tenant: Tenant, john: str) -> None:
    deal = (
        await ok(await call(client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "Big"}))
    )["opportunity"]
    note = await write(
        client, tenant.master_key, opportunity_ids=[deal["id"]], content="Deal note", pinned_to_top=True
    )
    assert (note["opportunity_id"], note["opportunity_ids"], note["pinned_to_top"]) == (
        deal["id"],
        [deal["id"]],
        True,
    )
    john_note = await write(client, tenant.master_key, contact_id=john, content="John note")
    both = await write(
        client, tenant.master_key, contact_id=john, account_id=john_note["account_id"], content="Explicit"
    )
    assert both["account_ids"] == [john_note["account_id"]]
    assert await listed(client, tenant.master_key, {"opportunity_id": deal["id"]}) == ["Deal note"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"content": ""}, "content can not be blank"),
        ({}, "A note needs a contact_id, an account_id or an opportunity_id."),
        (
            {"contact_ids": ["a" * 24, "b" * 24]},
            "A note belongs to at most one contact, one account and one deal.",
        ),
    ],
)
async def test_write_errors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/notes", tenant.master_key, {"content": "x", **params})
    assert (response.status_code, response.json()) == (422, {"error": error})
    assert await events(runtime, tenant.team_id, "note.") == []


async def test_a_note_only_on_the_teams_records(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    theirs = await add_contact(runtime, clock, other.team_id)
    response = await call(
        client, "POST", "/api/v1/notes", tenant.master_key, {"contact_id": theirs, "content": "x"}
    )
    assert response.json() == {"error": f"Parameters misconfigured. {theirs} is not a valid ID"}
    await write(client, other.master_key, contact_id=theirs, content="Theirs")
    # Their contact's notes are not listed for us, nor ours for them.
    assert await listed(client, tenant.master_key, {"contact_id": theirs}) == []
    assert await listed(client, other.master_key, {"contact_id": theirs}) == ["Theirs"]


async def test_list_sorting_paging_and_dates(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    jane = await add_contact(runtime, clock, tenant.team_id, "Jane Doe")
    for index, contact in enumerate((john, jane, john, jane)):
        await write(client, tenant.master_key, contact_id=contact, content=f"n{index}")
        clock.advance(86400)
    key = tenant.master_key
    assert await listed(client, key, {"contact_id": john}) == ["n2", "n0"]
    assert await listed(client, key, {"contact_ids": [john, jane]}) == ["n3", "n2", "n1", "n0"]
    assert await listed(client, key, {"contact_ids": [john, jane], "sort_direction": "asc"}) == [
        "n0",
        "n1",
        "n2",
        "n3",
    ]
    assert await listed(client, key, {"contact_ids": [john, jane], "skip": 1, "limit": 2}) == ["n2", "n1"]
    # Created 2026-01-15 and a day apart: from the 17th on, n2 and n3.
    assert await listed(client, key, {"contact_ids": [john, jane], "start_date": "2026-01-17"}) == [
        "n3",
        "n2",
    ]
    assert await listed(client, key, {"contact_id": john, "sort_by_field": "updated_at", "limit": 500}) == [
        "n2",
        "n0",
    ]
    assert await listed(client, key, {"calendar_event_id": new_id()}) == []


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "At least one argument is required"),
        ({"contact_id": "a" * 24, "sort_direction": "up"}, 'sort_direction must be "asc" or "desc"'),
        (
            {"contact_id": "a" * 24, "sort_by_field": "content"},
            "sort_by_field must be one of: created_at, updated_at",
        ),
        ({"contact_id": "a" * 24, "skip": -1}, "skip must be a non-negative integer"),
        ({"contact_id": "a" * 24, "limit": "many"}, "limit must be a positive integer"),
        (
            {"contact_id": "a" * 24, "start_date": "yesterday"},
            "start_date must be a valid date string, e.g. 2024-01-01",
        ),
    ],
)
async def test_list_errors_are_apollos_400s(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "GET", "/v1/notes", tenant.master_key, params, dialect="query")
    assert (response.status_code, response.json()) == (400, {"error": error})

"""Tasks against a real database (SQLite and PostgreSQL): POST /tasks/bulk_create (the legacy
``true`` and the spec's object), POST /tasks, GET and PATCH /tasks/{id}, complete and skip: the
documented requests in each dialect, the documented fields, Apollo's error answers and update
rules, events, Idempotency-Key and team isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.models import Account, Contact, Task
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok

ACTIVITY_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
# Every field of the legacy docs' task and of the spec's.
TASK_FIELDS = {
    "emailer_campaign_id", "id", "user_id", "created_at", "completed_at", "note", "skipped_at", "due_at",
    "type", "priority", "status", "answered", "contact_id", "person_id", "account_id", "organization_id",
    "persona_ids", "subject", "created_from", "salesforce_type", "playbook_step_ids", "playbook_id",
    "needs_playbook_autoprospecting", "starred_by_user_ids", "salesforce_id", "hubspot_id",
    "opportunity_id", "title", "rule_config_id", "creator_id", "completed_by_user_id", "call_script",
    "relevant_fields", "pending_send", "ai_variables_status", "recommended", "recommendation_reasons",
    "note_text",
}  # fmt: skip
LEGACY_BULK = {
    "priority": "medium",
    "due_at": "2020-12-21T16:16:48.311Z",
    "type": "call",
    "note": "Note to be attached to the task",
    "status": "scheduled",
}


async def add_contact(
    runtime: Runtime,
    clock: FrozenClock,
    team_id: str,
    name: str = "John Smith",
    *,
    account: str | None = None,
) -> str:
    first, last = name.split()
    async with runtime.sessions() as session, session.begin():
        account_id = None
        if account is not None:
            row = Account(
                id=new_id(), team_id=team_id, name=account, created_at=clock.now(), updated_at=clock.now()
            )
            session.add(row)
            account_id = row.id
        contact = Contact(
            id=new_id(),
            team_id=team_id,
            first_name=first,
            last_name=last,
            name=name,
            account_id=account_id,
            keywords=f" {first.lower()} {last.lower()}",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(contact)
        return contact.id


async def stored(runtime: Runtime, task_id: str) -> Task:
    async with runtime.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        return task


async def team_tasks(runtime: Runtime, team_id: str) -> list[Task]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(Task).where(Task.team_id == team_id).order_by(Task.created_at))
        return list(rows.scalars())


async def create(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    task: dict[str, Any] = (await ok(await call(client, "POST", "/api/v1/tasks", key, params)))["task"]
    return task


@pytest.fixture
async def john(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> str:
    return await add_contact(runtime, clock, tenant.team_id, account="Example Corp")


@pytest.fixture
async def other(runtime: Runtime, clock: FrozenClock) -> Tenant:
    return await make_tenant(runtime, clock, name="Globex")


def task_params(tenant: Tenant, contact_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "user_id": tenant.user_id,
        "contact_id": contact_id,
        "type": "call",
        "status": "scheduled",
        "due_at": "2025-02-15T10:00:00Z",
        **extra,
    }


# -- POST /tasks/bulk_create ------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_legacy_bulk_create_example_answers_true(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    contacts = [
        await add_contact(runtime, clock, tenant.team_id, name) for name in ("Jon Snow", "Arya Stark")
    ]
    params = {**LEGACY_BULK, "user_id": tenant.user_id, "contact_ids": contacts}
    response = await call(client, "POST", "/v1/tasks/bulk_create", tenant.master_key, params, dialect=dialect)
    assert (response.status_code, response.content) == (200, b"true")
    tasks = await team_tasks(runtime, tenant.team_id)
    assert sorted(task.contact_id or "" for task in tasks) == sorted(contacts)
    for task in tasks:
        assert (task.type, task.priority, task.status, task.note, task.user_id) == (
            "call",
            "medium",
            "scheduled",
            "Note to be attached to the task",
            tenant.user_id,
        )
        assert task.due_at is not None and task.due_at.isoformat() == "2020-12-21T16:16:48.311000+00:00"
    assert len(await events(runtime, tenant.team_id, "task.created")) == 2


async def test_the_spec_bulk_create_answers_the_tasks(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    jane = await add_contact(runtime, clock, tenant.team_id, "Jane Doe")
    params = {**LEGACY_BULK, "user_id": tenant.user_id, "contact_ids": [john, jane, john]}
    body = await ok(await call(client, "POST", "/api/v1/tasks/bulk_create", tenant.master_key, params))
    assert body["success"] is True
    assert [task["contact_id"] for task in body["tasks"]] == [john, jane]
    assert all(set(task) >= TASK_FIELDS | {"contact"} for task in body["tasks"])
    assert body["tasks"][0]["account"]["name"] == "Example Corp"
    assert "account" not in body["tasks"][1]
    assert [task["title"] for task in body["tasks"]] == ["Call John Smith", "Call Jane Doe"]


async def test_bulk_create_refuses_the_lot_for_one_contact_the_team_lacks(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str, other: Tenant
) -> None:
    theirs = await add_contact(runtime, clock, other.team_id)
    params = {**LEGACY_BULK, "user_id": tenant.user_id, "contact_ids": [john, theirs]}
    response = await call(client, "POST", "/api/v1/tasks/bulk_create", tenant.master_key, params)
    assert (response.status_code, response.json()) == (
        422,
        {"error": f"Parameters misconfigured. {theirs} is not a valid ID"},
    )
    assert await team_tasks(runtime, tenant.team_id) == []
    for missing in ({"type": ""}, {"user_id": None}):
        response = await call(
            client,
            "POST",
            "/v1/tasks/bulk_create",
            tenant.master_key,
            {**params, "contact_ids": [john], **missing},
        )
        assert (response.status_code, response.json()) == (422, {"error": "type and user can not be blank"})
    response = await call(
        client,
        "POST",
        "/api/v1/tasks/bulk_create",
        tenant.master_key,
        {**LEGACY_BULK, "user_id": tenant.user_id},
    )
    assert (response.status_code, response.json()) == (422, {"error": "contact_ids can not be blank"})


# -- POST /tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_create_a_task_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, prefix: str, dialect: str
) -> None:
    params = task_params(
        tenant,
        john,
        priority="high",
        title="Follow-up call with John Smith",
        note="Discuss product demo results and next steps.",
        due_at="2025-03-25T10:15:30+05:00",
    )
    body = await ok(await call(client, "POST", f"{prefix}/tasks", tenant.master_key, params, dialect=dialect))
    task = body["task"]
    assert set(task) >= TASK_FIELDS | {"contact", "account"}
    assert (task["type"], task["priority"], task["status"], task["title"]) == (
        "call",
        "high",
        "scheduled",
        "Follow-up call with John Smith",
    )
    assert task["due_at"] == "2025-03-25T05:15:30.000+00:00"
    assert task["note"] == task["note_text"] == "Discuss product demo results and next steps."
    assert (task["user_id"], task["creator_id"], task["created_from"]) == (
        tenant.user_id,
        tenant.user_id,
        "api",
    )
    assert (task["completed_at"], task["skipped_at"]) == (None, None)
    assert task["contact"]["id"] == john and task["contact"]["name"] == "John Smith"
    assert task["account_id"] == task["account"]["id"] and task["account"]["name"] == "Example Corp"
    [event] = await events(runtime, tenant.team_id, "task.")
    assert (event.type, event.entity_id, event.payload) == ("task.created", task["id"], task)


async def test_a_task_created_done_is_stamped(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    done = await create(client, tenant.master_key, **task_params(tenant, john, status="completed"))
    assert (done["status"], done["completed_by_user_id"]) == ("completed", tenant.user_id)
    assert done["completed_at"] is not None and ACTIVITY_TIMESTAMP.match(done["completed_at"])
    skipped = await create(client, tenant.master_key, **task_params(tenant, john, status="skipped"))
    assert skipped["skipped_at"] is not None and skipped["completed_at"] is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"type": None}, "type and user can not be blank"),
        ({"user_id": ""}, "type and user can not be blank"),
        ({"contact_id": None}, "contact_id can not be blank"),
        ({"type": "fax"}, "type must be one of: call, outreach_manual_email"),
        ({"priority": "urgent"}, "priority must be one of: high, medium, low"),
        ({"status": "done"}, "status must be one of: scheduled, completed, skipped"),
        ({"due_at": "next tuesday"}, "due_at must be an ISO 8601 date-time"),
    ],
)
async def test_create_errors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, change: dict[str, Any], error: str
) -> None:
    params = {
        name: value for name, value in {**task_params(tenant, john), **change}.items() if value is not None
    }
    response = await call(client, "POST", "/api/v1/tasks", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json()["error"].startswith(error)
    assert await team_tasks(runtime, tenant.team_id) == []


async def test_another_teams_contact_or_user_is_not_a_valid_id(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str, other: Tenant
) -> None:
    theirs = await add_contact(runtime, clock, other.team_id)
    for params, bad in (
        (task_params(tenant, theirs), theirs),
        (task_params(tenant, john, user_id=other.user_id), other.user_id),
    ):
        response = await call(client, "POST", "/api/v1/tasks", tenant.master_key, params)
        assert response.json() == {"error": f"Parameters misconfigured. {bad} is not a valid ID"}
    assert await team_tasks(runtime, tenant.team_id) == []


async def test_a_task_about_a_deal(client: httpx.AsyncClient, tenant: Tenant, john: str) -> None:
    deal = (
        await ok(await call(client, "POST", "/api/v1/opportunities", tenant.master_key, {"name": "5 Seats"}))
    )["opportunity"]
    task = await create(
        client, tenant.master_key, **task_params(tenant, john, type="action_item", opportunity_id=deal["id"])
    )
    assert task["opportunity_id"] == deal["id"] and task["opportunity"]["name"] == "5 Seats"
    assert task["title"] == "Action item for John Smith"


async def test_idempotency_key_creates_one_task(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str
) -> None:
    headers = {"Idempotency-Key": "task-1"}
    first = await ok(
        await call(
            client, "POST", "/api/v1/tasks", tenant.master_key, task_params(tenant, john), headers=headers
        )
    )
    again = await ok(
        await call(
            client,
            "POST",
            "/api/v1/tasks",
            tenant.master_key,
            task_params(tenant, john),
            dialect="query",
            headers=headers,
        )
    )
    assert again == first and len(await team_tasks(runtime, tenant.team_id)) == 1


# -- GET /tasks/{id} --------------------------------------------------------------------------


async def test_get_a_task(client: httpx.AsyncClient, tenant: Tenant, john: str, other: Tenant) -> None:
    created = await create(client, tenant.master_key, **task_params(tenant, john))
    for prefix in PREFIXES:
        body = await ok(
            await call(client, "GET", f"{prefix}/tasks/{created['id']}", tenant.master_key, dialect="query")
        )
        assert body == {"task": created}
    for key, task_id in (
        (other.master_key, created["id"]),
        (tenant.master_key, new_id()),
        (tenant.master_key, "x"),
    ):
        response = await call(client, "GET", f"/api/v1/tasks/{task_id}", key, dialect="query")
        assert (response.status_code, response.json()) == (
            422,
            {"error": "This task or emailer message has been deleted. Please refresh your page."},
        )


# -- PATCH /tasks/{id} ------------------------------------------------------------------------


async def test_updating_a_scheduled_task_resets_priority_and_creator_unless_given(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    """The spec's warning: omitting priority resets it to medium, omitting creator_id makes the
    key's user the creator."""
    created = await create(client, tenant.master_key, **task_params(tenant, john, priority="high"))
    async with runtime.sessions() as session, session.begin():
        task = await session.get(Task, created["id"])
        assert task is not None
        task.creator_id = None
    path = f"/api/v1/tasks/{created['id']}"
    body = await ok(await call(client, "PATCH", path, tenant.master_key, {"note": "New note"}))
    assert (body["task"]["note"], body["task"]["priority"], body["task"]["creator_id"]) == (
        "New note",
        "medium",
        tenant.user_id,
    )
    body = await ok(
        await call(
            client,
            "PATCH",
            path,
            tenant.master_key,
            {"priority": "low", "due_at": "2026-01-01"},
            dialect="form",
        )
    )
    assert (body["task"]["priority"], body["task"]["due_at"]) == ("low", "2026-01-01T00:00:00.000+00:00")
    assert [event.type for event in await events(runtime, tenant.team_id, "task.")] == [
        "task.created",
        "task.updated",
        "task.updated",
    ]


async def test_a_done_task_changes_only_note_priority_and_contact(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    jane = await add_contact(runtime, clock, tenant.team_id, "Jane Doe")
    created = await create(
        client, tenant.master_key, **task_params(tenant, john, status="completed", priority="low")
    )
    change = {
        "note": "Left a voicemail",
        "priority_cd": "high",
        "contact_id": jane,
        "due_at": "2030-01-01",
        "type": "action_item",
    }
    body = await ok(await call(client, "PATCH", f"/api/v1/tasks/{created['id']}", tenant.master_key, change))
    task = body["task"]
    assert (task["note"], task["priority"], task["contact_id"]) == ("Left a voicemail", "high", jane)
    assert (task["due_at"], task["type"], task["status"]) == (created["due_at"], "call", "completed")
    assert task["account_id"] is None and "account" not in task


async def test_update_errors_and_isolation(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, other: Tenant
) -> None:
    created = await create(client, tenant.master_key, **task_params(tenant, john))
    for key, task_id in ((other.master_key, created["id"]), (tenant.master_key, new_id())):
        response = await call(client, "PATCH", f"/api/v1/tasks/{task_id}", key, {"note": "hijacked"})
        assert (response.status_code, response.json()) == (
            422,
            {"error": "This task has been deleted. Please refresh your page."},
        )
    response = await call(
        client, "PATCH", f"/api/v1/tasks/{created['id']}", tenant.master_key, {"user_id": other.user_id}
    )
    assert response.json() == {"error": f"Parameters misconfigured. {other.user_id} is not a valid ID"}
    response = await call(client, "PATCH", f"/api/v1/tasks/{created['id']}", tenant.master_key, {"type": ""})
    assert response.json() == {"error": "type and user can not be blank"}
    task = await stored(runtime, created["id"])
    assert (task.note, task.user_id, task.type) == (None, tenant.user_id, "call")


# -- complete and skip ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [("complete", "completed", "task.completed"), ("skip", "skipped", "task.skipped")],
)
async def test_complete_and_skip(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    john: str,
    action: str,
    status: str,
    event: str,
) -> None:
    created = await create(client, tenant.master_key, **task_params(tenant, john))
    clock.advance(300)
    path = f"/api/v1/tasks/{created['id']}/{action}"
    body = await ok(await call(client, "POST", path, tenant.master_key, {"note": "Done by phone"}))
    task = body["task"]
    assert (task["id"], task["status"], task["note"], task["completed"]) == (
        created["id"],
        status,
        "Done by phone",
        status == "completed",
    )
    stamp = task["completed_at"] if status == "completed" else task["skipped_at"]
    assert stamp == "2026-01-15T12:05:00.000+00:00"
    assert [e.type for e in await events(runtime, tenant.team_id, "task.")] == ["task.created", event]
    for again in ("complete", "skip"):
        response = await call(client, "POST", f"/v1/tasks/{created['id']}/{again}", tenant.master_key, {})
        assert (response.status_code, response.json()) == (
            422,
            {"error": "This task is already completed / skipped.", "allow_moving_to_next_task": True},
        )


async def test_finishing_a_task_the_team_lacks_answers_deleted(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, other: Tenant
) -> None:
    created = await create(client, tenant.master_key, **task_params(tenant, john))
    for action in ("complete", "skip"):
        for key, task_id in ((other.master_key, created["id"]), (tenant.master_key, new_id())):
            body = await ok(await call(client, "POST", f"/api/v1/tasks/{task_id}/{action}", key, {}))
            assert body == {"task": {"id": task_id, "deleted": True}}
    assert (await stored(runtime, created["id"])).status == "scheduled"
    assert await events(runtime, other.team_id) == []


async def test_scoped_keys_reach_only_their_task_endpoints(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/tasks/create")
    created = await create(client, key, **task_params(tenant, john))
    response = await call(client, "POST", f"/api/v1/tasks/{created['id']}/complete", key, {})
    assert response.status_code == 403 and "api/v1/tasks/complete" in response.json()["error"]

"""Tasks search (GET and POST /tasks/search) on tasks whose right answers are known: each sort,
the task_types facet, the filters, pagination, the legacy GET-with-a-body request, plan and team
isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.models import Account, Task
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, call, ok
from tests.crm.test_tasks import add_contact

# title -> (type, priority, due date, status, contact): created in this order, a minute apart.
BOOK: dict[str, tuple[str, str, str, str, str]] = {
    "call john": ("call", "high", "2026-02-01T09:00:00Z", "scheduled", "john"),
    "email jane": ("outreach_manual_email", "low", "2026-03-01T09:00:00Z", "scheduled", "jane"),
    "act john": ("action_item", "medium", "2026-01-20T09:00:00Z", "completed", "john"),
    "connect jane": ("linkedin_step_connect", "medium", "2026-02-15T09:00:00Z", "scheduled", "jane"),
    "message john": ("linkedin_step_message", "high", "2026-01-25T09:00:00Z", "skipped", "john"),
}
# And last, an action item on an account with no contact (due 2026-04-01, low, scheduled).
ACCOUNT_TASK = "act account"
DUE_LATEST_FIRST = ["act account", "email jane", "connect jane", "call john", "message john", "act john"]


@pytest.fixture
async def book(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> dict[str, str]:
    contacts = {
        "john": await add_contact(runtime, clock, tenant.team_id, "John Smith", account="Example Corp"),
        "jane": await add_contact(runtime, clock, tenant.team_id, "Jane Doe"),
    }
    ids = {}
    for title, (kind, priority, due, status, who) in BOOK.items():
        params = {
            "user_id": tenant.user_id,
            "contact_id": contacts[who],
            "type": kind,
            "priority": priority,
            "due_at": due,
            "status": status,
            "title": title,
        }
        ids[title] = (await ok(await call(client, "POST", "/api/v1/tasks", tenant.master_key, params)))[
            "task"
        ]["id"]
        clock.advance(60)
    async with runtime.sessions() as session, session.begin():
        account = Account(
            id=new_id(),
            team_id=tenant.team_id,
            name="Initech",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        task = Task(
            id=new_id(),
            team_id=tenant.team_id,
            user_id=tenant.user_id,
            account_id=account.id,
            type="action_item",
            priority="low",
            status="scheduled",
            title=ACCOUNT_TASK,
            note="Renewal paperwork",
            due_at=datetime(2026, 4, 1, 9, tzinfo=UTC),
            data={},
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add_all([account, task])
        ids[ACCOUNT_TASK] = task.id
    return {**ids, **contacts}


async def search(
    client: httpx.AsyncClient,
    key: str,
    params: dict[str, Any],
    *,
    method: str = "POST",
    dialect: str = "json",
) -> dict[str, Any]:
    body: dict[str, Any] = await ok(
        await call(client, method, "/api/v1/tasks/search", key, params, dialect=dialect)
    )
    return body


async def titles(client: httpx.AsyncClient, key: str, params: dict[str, Any]) -> list[str]:
    return [task["title"] for task in (await search(client, key, params))["tasks"]]


async def test_the_legacy_request_a_get_with_a_json_body(
    client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str]
) -> None:
    params = {"sort_by_field": "task_created_at", "per_page": 200, "open_factor_names": ["task_types"]}
    response = await call(client, "GET", "/v1/tasks/search", tenant.master_key, params)
    body = await ok(response)
    assert set(body) == {
        "tasks",
        "breadcrumbs",
        "pagination",
        "faceting",
        "pipeline_total",
        "num_fetch_result",
    }
    assert [task["title"] for task in body["tasks"]] == [
        "act account", "message john", "connect jane", "act john", "email jane", "call john",
    ]  # fmt: skip
    assert body["pagination"] == {"page": 1, "per_page": 100, "total_entries": 6, "total_pages": 1}
    assert body["pipeline_total"] == 6 and body["breadcrumbs"] == []
    faceting = body["faceting"]
    assert faceting["task_types"] == [
        {"value": "contact_call", "display_name": "Call Contact", "count": 1},
        {"value": "outreach_manual_email", "display_name": "Email Contact", "count": 1},
        {"value": "contact_action_item", "display_name": "Contact Action Item", "count": 1},
        {"value": "account_action_item", "display_name": "Account Action Item", "count": 1},
        {"value": "linkedin_actions", "display_name": "Linkedin Actions", "count": 2},
        {"value": "linkedin_step_connect", "display_name": "LI: Send connection request", "count": 1},
        {"value": "linkedin_step_message", "display_name": "LI: Send message", "count": 1},
    ]
    assert faceting["total_facets"] == [{"value": "pipeline_total", "display_name": "Total", "count": 6}]
    assert faceting["person_city_facets"] == [] and faceting["contact_stage_facets"] == []
    embedded = {task["title"]: task for task in body["tasks"]}
    assert embedded["call john"]["contact"]["name"] == "John Smith"
    assert embedded["call john"]["account"]["name"] == "Example Corp"
    assert (
        "contact" not in embedded["act account"] and embedded["act account"]["account"]["name"] == "Initech"
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_spec_request_in_each_dialect(
    client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str], dialect: str
) -> None:
    params = {"sort_by_field": "task_due_at", "open_factor_names": ["task_types"], "page": 1, "per_page": 10}
    body = await search(client, tenant.master_key, params, dialect=dialect)
    assert [task["title"] for task in body["tasks"]] == DUE_LATEST_FIRST
    assert sum(bucket["count"] for bucket in body["faceting"]["task_types"][:5]) == 6
    plain = await search(
        client, tenant.master_key, {"sort_by_field": "task_due_at"}, method="GET", dialect=dialect
    )
    assert "task_types" not in plain["faceting"] and plain["pipeline_total"] == 6


async def test_each_sort(client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str]) -> None:
    key = tenant.master_key
    assert await titles(client, key, {}) == DUE_LATEST_FIRST
    assert (
        await titles(client, key, {"sort_by_field": "task_due_at", "sort_ascending": True})
        == DUE_LATEST_FIRST[::-1]
    )
    # Highest priority first; among equals, the newest first.
    assert await titles(client, key, {"sort_by_field": "task_priority"}) == [
        "message john", "call john", "connect jane", "act john", "act account", "email jane",
    ]  # fmt: skip
    response = await call(client, "POST", "/api/v1/tasks/search", key, {"sort_by_field": "task_title"})
    assert (response.status_code, response.json()) == (422, {"error": "Invalid sort criteria"})


async def test_filters(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, book: dict[str, str]
) -> None:
    key = tenant.master_key
    assert await titles(client, key, {"task_statuses": ["scheduled"]}) == [
        "act account", "email jane", "connect jane", "call john",
    ]  # fmt: skip
    assert await titles(client, key, {"task_priorities": ["high"]}) == ["call john", "message john"]
    assert await titles(client, key, {"contact_ids": [book["jane"]]}) == ["email jane", "connect jane"]
    assert await titles(client, key, {"task_user_ids": [tenant.user_id], "task_statuses": ["skipped"]}) == [
        "message john"
    ]
    due = {"task_due_date_range": {"min": "2026-02-01", "max": "2026-02-28"}}
    assert await titles(client, key, due) == ["connect jane", "call john"]
    assert await titles(client, key, {"q_keywords": "jane"}) == ["email jane", "connect jane"]
    assert await titles(client, key, {"q_keywords": "renewal"}) == ["act account"]
    # The task_types facet counts every type of the other filters' tasks; the total, the matches.
    body = await search(
        client, key, {"task_types": ["call", "action_item"], "open_factor_names": ["task_types"]}
    )
    assert [task["title"] for task in body["tasks"]] == ["act account", "call john", "act john"]
    assert body["pipeline_total"] == 3
    assert sum(bucket["count"] for bucket in body["faceting"]["task_types"][:5]) == 6
    for bad in ({"task_types": ["fax"]}, {"task_statuses": ["done"]}, {"contact_ids": ["nope"]}):
        response = await call(client, "POST", "/api/v1/tasks/search", key, bad)
        assert response.status_code == 422, bad


async def test_pagination(client: httpx.AsyncClient, tenant: Tenant, book: dict[str, str]) -> None:
    seen = []
    for page in (1, 2, 3):
        body = await search(client, tenant.master_key, {"page": page, "per_page": 2})
        assert body["pagination"] == {"page": page, "per_page": 2, "total_entries": 6, "total_pages": 3}
        seen += [task["title"] for task in body["tasks"]]
    assert seen == DUE_LATEST_FIRST
    response = await call(client, "POST", "/api/v1/tasks/search", tenant.master_key, {"per_page": 0})
    assert (response.status_code, response.json()) == (422, {"error": "Per page not supported"})


async def test_another_team_sees_none_of_the_tasks(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, book: dict[str, str]
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    body = await search(
        client, other.master_key, {"open_factor_names": ["task_types"], "contact_ids": [book["john"]]}
    )
    assert (body["tasks"], body["pipeline_total"], body["faceting"]["task_types"]) == ([], 0, [])
    body = await search(client, other.master_key, {})
    assert body["tasks"] == [] and body["pagination"]["total_entries"] == 0


async def test_tasks_search_is_for_paid_plans(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    response = await call(client, "POST", "/api/v1/tasks/search", free.master_key, {})
    assert (response.status_code, response.json()) == (
        403,
        {"message": "This endpoint is only available to Apollo users on paid plans."},
    )

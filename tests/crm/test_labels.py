"""GET/POST /labels, PATCH /labels/{id}, /labels/add_entity_ids_to_label_names and
/labels/remove_entity_ids_from_label_names against a real database (SQLite and PostgreSQL): the
documented requests in each dialect, the documented fields, Apollo's error answers, the
background run (``async``), events, team isolation and Idempotency-Key."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.app import job_handlers
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.crm.labels import label_ids_of
from perilune.db.ids import new_id
from perilune.jobs.worker import Worker
from perilune.models import Account, Contact, Label
from perilune.models.jobs import DONE
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, jobs_of, ok

APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# The fields of each list in the legacy docs' and the spec's GET /labels answer.
INDEX_FIELDS = {
    "_id", "cached_count", "concurrency_locks", "created_at", "modality", "name",
    "need_cached_count_update", "needs_count_update_at", "rule_config_template_id", "team_id",
    "updated_at", "user_id", "id", "key",
}  # fmt: skip
# The spec's fields of the list in the create, update, add and remove answers.
WRITE_FIELDS = {
    "id",
    "modality",
    "cached_count",
    "name",
    "created_at",
    "updated_at",
    "user_id",
    "book_of_business",
}
ADD = "/api/v1/labels/add_entity_ids_to_label_names"
REMOVE = "/api/v1/labels/remove_entity_ids_from_label_names"
MEMBERS_JOB = "crm.labels.members"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests run the worker themselves, with the test clock."""
    return settings.model_copy(update={"run_worker": False})


async def make_records(
    runtime: Runtime, clock: FrozenClock, team_id: str, model: Any, count: int
) -> list[str]:
    """Contacts or accounts stored directly (the contacts and accounts endpoints have tests of
    their own); returns their ids."""
    now = clock.now()
    ids = [new_id(now.timestamp()) for _ in range(count)]
    async with runtime.sessions() as session, session.begin():
        for number, record_id in enumerate(ids):
            extra = {"first_name": f"First{number}", "keywords": ""} if model is Contact else {}
            session.add(
                model(
                    id=record_id,
                    team_id=team_id,
                    name=f"Record {number}",
                    created_at=now,
                    updated_at=now,
                    **extra,
                )
            )
    return ids


async def create_label(
    client: httpx.AsyncClient, key: str, name: str, modality: str = "contacts"
) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/labels", key, {"name": name, "modality": modality}))
    label: dict[str, Any] = body["label"]
    return label


async def memberships(runtime: Runtime, team_id: str, ids: list[str]) -> dict[str, set[str]]:
    """Each record's lists (records on none left out)."""
    async with runtime.sessions() as session:
        return {record: set(lists) for record, lists in (await label_ids_of(session, team_id, ids)).items()}


async def team_labels(runtime: Runtime, team_id: str) -> list[Label]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(Label).where(Label.team_id == team_id).order_by(Label.name))
        return list(rows.scalars())


# ---------------------------------------------------------------------------------------------
# GET /labels


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_documented_list_request_answers_a_bare_array(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, prefix: str, dialect: str
) -> None:
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 3)
    await ok(
        await call(
            client,
            "POST",
            ADD,
            tenant.master_key,
            {"entity_ids": contacts, "label_names": ["Hot"], "modality": "contacts"},
        )
    )
    clock.advance(1)  # lists come oldest first
    await create_label(client, tenant.master_key, "Target accounts", "accounts")

    body = await ok(await call(client, "GET", f"{prefix}/labels", tenant.master_key, dialect=dialect))

    assert isinstance(body, list)
    assert [(label["name"], label["modality"], label["cached_count"]) for label in body] == [
        ("Hot", "contacts", 3),
        ("Target accounts", "accounts", 0),
    ]
    for label in body:
        assert set(label) == INDEX_FIELDS
        assert label["id"] == label["_id"] == label["key"] and len(label["id"]) == 24
        assert (label["team_id"], label["user_id"]) == (tenant.team_id, tenant.user_id)
        assert APOLLO_TIMESTAMP.match(label["created_at"]) and APOLLO_TIMESTAMP.match(label["updated_at"])
        assert label["needs_count_update_at"].endswith("+00:00")
        assert (label["concurrency_locks"], label["need_cached_count_update"]) == ({}, False)


async def test_a_team_without_lists_gets_an_empty_array(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert await ok(await client.get("/v1/labels", params={"api_key": tenant.master_key})) == []


# ---------------------------------------------------------------------------------------------
# POST /labels


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_create_a_list_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    params = {"name": "Conference 2024 - Maui", "modality": "contacts"}
    body = await ok(await call(client, "POST", "/api/v1/labels", tenant.master_key, params, dialect=dialect))

    assert set(body) == {"label"}
    label = body["label"]
    assert set(label) >= WRITE_FIELDS
    assert (label["name"], label["modality"], label["cached_count"]) == (
        "Conference 2024 - Maui",
        "contacts",
        0,
    )
    assert (label["user_id"], label["book_of_business"]) == (tenant.user_id, None)
    assert label["created_at"] == label["updated_at"] and APOLLO_TIMESTAMP.match(label["created_at"])
    [stored] = await team_labels(runtime, tenant.team_id)
    assert (stored.id, stored.name, stored.modality) == (label["id"], "Conference 2024 - Maui", "contacts")


async def test_book_of_business_applies_to_account_lists_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    accounts = await ok(
        await call(
            client,
            "POST",
            "/api/v1/labels",
            tenant.master_key,
            {"name": "BoB", "modality": "accounts", "book_of_business": True},
        )
    )
    contacts = await ok(
        await call(
            client,
            "POST",
            "/api/v1/labels",
            tenant.master_key,
            {"name": "BoB", "modality": "contacts", "book_of_business": True},
        )
    )
    assert accounts["label"]["book_of_business"] is True
    assert contacts["label"]["book_of_business"] is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"modality": "contacts"}, "Please enter a non-empty name!"),
        ({"name": "   ", "modality": "contacts"}, "Please enter a non-empty name!"),
        ({"name": "Leads"}, "Please enter a non-empty modality!"),
        ({"name": "Leads", "modality": "leads"}, "Please enter a valid modality!"),
    ],
)
async def test_create_refuses_what_apollo_refuses(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/labels", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == {"error": error}
    assert await team_labels(runtime, tenant.team_id) == []


async def test_a_name_is_unique_within_its_modality(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await create_label(client, tenant.master_key, "Conference 2024 - Maui")
    again = await call(
        client,
        "POST",
        "/api/v1/labels",
        tenant.master_key,
        {"name": "Conference 2024 - Maui", "modality": "contacts"},
    )
    assert again.status_code == 422
    assert again.json() == {"error": "Conference 2024 - Maui already exists", "skip_alert_dialog": True}
    # The same name for another modality is another list.
    await create_label(client, tenant.master_key, "Conference 2024 - Maui", "accounts")
    assert len(await team_labels(runtime, tenant.team_id)) == 2


# ---------------------------------------------------------------------------------------------
# PATCH /labels/{id}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_rename_a_list(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    label = await create_label(client, tenant.master_key, "Conference 2024 - Maui")
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 2)
    await ok(
        await call(
            client,
            "POST",
            ADD,
            tenant.master_key,
            {"entity_ids": contacts, "label_names": ["Conference 2024 - Maui"], "modality": "contacts"},
        )
    )
    clock.advance(60)

    params = {"name": "Conference 2024 - Maui (West)"}
    body = await ok(
        await call(
            client, "PATCH", f"/api/v1/labels/{label['id']}", tenant.master_key, params, dialect=dialect
        )
    )

    renamed = body["label"]
    assert set(renamed) >= WRITE_FIELDS
    assert (renamed["id"], renamed["name"], renamed["cached_count"]) == (
        label["id"],
        "Conference 2024 - Maui (West)",
        2,
    )
    assert renamed["created_at"] == label["created_at"] and renamed["updated_at"] > label["updated_at"]
    [stored] = await team_labels(runtime, tenant.team_id)
    assert stored.name == "Conference 2024 - Maui (West)"


async def test_update_toggles_book_of_business_and_keeps_the_modality(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    label = await create_label(client, tenant.master_key, "Territory", "accounts")
    path = f"/api/v1/labels/{label['id']}"
    body = await ok(
        await call(
            client,
            "PATCH",
            path,
            tenant.master_key,
            {"name": "Territory", "book_of_business": True, "modality": "contacts"},
        )
    )
    assert (body["label"]["book_of_business"], body["label"]["modality"]) == (True, "accounts")
    body = await ok(
        await call(client, "PATCH", path, tenant.master_key, {"name": "Territory", "book_of_business": False})
    )
    assert body["label"]["book_of_business"] is False


async def test_update_answers_apollos_errors(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    first = await create_label(client, tenant.master_key, "First")
    await create_label(client, tenant.master_key, "Second")
    path = f"/api/v1/labels/{first['id']}"

    empty = await call(client, "PATCH", path, tenant.master_key, {"name": ""})
    assert (empty.status_code, empty.json()) == (422, {"error": "Please enter a non-empty name!"})
    taken = await call(client, "PATCH", path, tenant.master_key, {"name": "Second"})
    assert (taken.status_code, taken.json()) == (
        422,
        {"error": "Second already exists", "skip_alert_dialog": True},
    )

    other = await make_tenant(runtime, clock, name="Other")
    for key, label_id in (
        (tenant.master_key, "6612a4b7c8d9e0f123456789"),
        (tenant.master_key, "nonsense"),
        (other.master_key, first["id"]),
    ):
        missing = await call(client, "PATCH", f"/api/v1/labels/{label_id}", key, {"name": "Mine now"})
        assert missing.status_code == 404
        assert missing.json() == {
            "message": f"Could not find label with id {label_id}",
            "error": "Record not found.",
        }
    assert [label.name for label in await team_labels(runtime, tenant.team_id)] == ["First", "Second"]


# ---------------------------------------------------------------------------------------------
# POST /labels/add_entity_ids_to_label_names and /labels/remove_entity_ids_from_label_names


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_add_records_creating_the_missing_lists(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    existing = await create_label(client, tenant.master_key, "Conference 2024 - Maui")
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 2)
    params = {
        "entity_ids": [*contacts, "66e34b81740c50074e3d1bd4", "not-an-id"],
        "label_names": ["Conference 2024 - Maui", "Follow up"],
        "modality": "contacts",
    }
    body = await ok(await call(client, "POST", ADD, tenant.master_key, params, dialect=dialect))

    assert set(body) == {"labels"}
    assert [(label["name"], label["cached_count"]) for label in body["labels"]] == [
        ("Conference 2024 - Maui", 2),
        ("Follow up", 2),
    ]
    assert body["labels"][0]["id"] == existing["id"]
    assert all(set(label) >= WRITE_FIELDS for label in body["labels"])
    ids = [label["id"] for label in body["labels"]]
    assert await memberships(runtime, tenant.team_id, contacts) == {contact: set(ids) for contact in contacts}
    # Adding again changes nothing: a record is on a list once.
    again = await ok(await call(client, "POST", ADD, tenant.master_key, params))
    assert [label["cached_count"] for label in again["labels"]] == [2, 2]


async def test_a_contact_shows_the_lists_it_was_added_to(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    created = await ok(
        await call(
            client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon", "last_name": "Snow"}
        )
    )
    contact_id = created["contact"]["id"]
    body = await ok(
        await call(
            client,
            "POST",
            ADD,
            tenant.master_key,
            {"entity_ids": [contact_id], "label_names": ["Night's Watch"], "modality": "contacts"},
        )
    )
    shown = await ok(await call(client, "GET", f"/api/v1/contacts/{contact_id}", tenant.master_key))
    assert shown["contact"]["label_ids"] == [body["labels"][0]["id"]]
    assert [label["name"] for label in shown["labels"]] == ["Night's Watch"]


async def test_changed_records_are_touched_and_recorded_as_updated(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    accounts = await make_records(runtime, clock, tenant.team_id, Account, 2)
    clock.advance(60)
    params = {"entity_ids": accounts[:1], "label_names": ["Tier 1"], "modality": "accounts"}
    body = await ok(await call(client, "POST", ADD, tenant.master_key, params))
    label_id = body["labels"][0]["id"]

    [event] = await events(runtime, tenant.team_id)
    assert (event.type, event.entity_id) == ("account.updated", accounts[0])
    assert event.payload["label_ids"] == [label_id] and event.payload["id"] == accounts[0]
    async with runtime.sessions() as session:
        touched = await session.get(Account, accounts[0])
        untouched = await session.get(Account, accounts[1])
    assert touched is not None and untouched is not None
    assert touched.updated_at == clock.now() and untouched.updated_at < clock.now()
    # Nothing changes the second time, so nothing more is recorded.
    await ok(await call(client, "POST", ADD, tenant.master_key, params))
    assert len(await events(runtime, tenant.team_id)) == 1


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_remove_records_from_lists(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 3)
    added = await ok(
        await call(
            client,
            "POST",
            ADD,
            tenant.master_key,
            {"entity_ids": contacts, "label_names": ["A", "B"], "modality": "contacts"},
        )
    )
    first, second = (label["id"] for label in added["labels"])

    params = {"entity_ids": contacts[:2], "label_names": ["A", "No such list"], "modality": "contacts"}
    body = await ok(await call(client, "POST", REMOVE, tenant.master_key, params, dialect=dialect))

    assert [(label["name"], label["cached_count"]) for label in body["labels"]] == [("A", 1)]
    assert all(set(label) >= WRITE_FIELDS for label in body["labels"])
    assert await memberships(runtime, tenant.team_id, contacts) == {
        contacts[0]: {second},
        contacts[1]: {second},
        contacts[2]: {first, second},
    }
    # Records are taken off lists, never deleted; no list was created for the unknown name.
    assert len(await team_labels(runtime, tenant.team_id)) == 2
    async with runtime.sessions() as session:
        assert (
            len((await session.execute(select(Contact.id).where(Contact.team_id == tenant.team_id))).all())
            == 3
        )


@pytest.mark.parametrize("path", [ADD, REMOVE])
async def test_nothing_to_change_and_bad_modalities(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, path: str
) -> None:
    [contact] = await make_records(runtime, clock, tenant.team_id, Contact, 1)
    for params in (
        {"entity_ids": [], "label_names": ["Hot"], "modality": "contacts"},
        {"entity_ids": ["66e34b81740c50074e3d1bd4"], "label_names": ["Hot"], "modality": "contacts"},
        {"entity_ids": [contact], "label_names": [], "modality": "contacts"},
        {"entity_ids": [contact], "label_names": ["  "], "modality": "contacts"},
        # A contact's id is no account's.
        {"entity_ids": [contact], "label_names": ["Hot"], "modality": "accounts"},
    ):
        assert await ok(await call(client, "POST", path, tenant.master_key, params)) == {
            "message": "No Models or Lists provided"
        }
    for modality, shown in (("leads", "leads"), ("", "")):
        params = {"entity_ids": [contact], "label_names": ["Hot"], "modality": modality}
        response = await call(client, "POST", path, tenant.master_key, params)
        assert (response.status_code, response.json()) == (422, {"error": f"Invalid modality: {shown}."})
    assert await team_labels(runtime, tenant.team_id) == []


@pytest.mark.parametrize("path", [ADD, REMOVE])
async def test_too_many_ids_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, path: str
) -> None:
    params = {
        "entity_ids": [f"{n:024x}" for n in range(10_001)],
        "label_names": ["Hot"],
        "modality": "contacts",
    }
    response = await call(client, "POST", path, tenant.master_key, params)
    assert (response.status_code, response.json()) == (
        422,
        {"error": "Please send at most 10,000 entity_ids per request."},
    )
    assert await team_labels(runtime, tenant.team_id) == []


@pytest.mark.parametrize(
    ("path", "job_type"), [(ADD, "add_entities_to_labels"), (REMOVE, "remove_entities_from_labels")]
)
async def test_async_runs_in_the_background(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    settings: Settings,
    tenant: Tenant,
    path: str,
    job_type: str,
) -> None:
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 2)
    if path == REMOVE:
        await ok(
            await call(
                client,
                "POST",
                ADD,
                tenant.master_key,
                {"entity_ids": contacts, "label_names": ["Later"], "modality": "contacts"},
            )
        )
    before = await memberships(runtime, tenant.team_id, contacts)
    params = {"entity_ids": contacts, "label_names": ["Later"], "modality": "contacts", "async": True}

    body = await ok(await call(client, "POST", path, tenant.master_key, params, dialect="query"))

    job = body["entity_progress_job"]
    assert (job["job_type"], job["user_id"], job["entity_ids"]) == (job_type, tenant.user_id, contacts)
    assert (job["params"], job["progress"], job["batch_size"]) == (
        {"modality": "contacts", "label_names": ["Later"]},
        -1,
        None,
    )
    assert await memberships(runtime, tenant.team_id, contacts) == before  # nothing yet

    worker = Worker(runtime.engine, clock, job_handlers(settings), worker_id="test", poll_interval=0.01)
    assert await worker.run_once() >= 1
    [queued] = await jobs_of(runtime, MEMBERS_JOB)
    assert (queued.id, queued.status) == (job["id"], DONE)
    after = await memberships(runtime, tenant.team_id, contacts)
    if path == ADD:
        [label] = await team_labels(runtime, tenant.team_id)
        assert after == {contact: {label.id} for contact in contacts}
    else:
        assert after == {}


# ---------------------------------------------------------------------------------------------
# Isolation, scopes, Idempotency-Key


async def test_another_team_sees_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    contacts = await make_records(runtime, clock, tenant.team_id, Contact, 2)
    mine = await ok(
        await call(
            client,
            "POST",
            ADD,
            tenant.master_key,
            {"entity_ids": contacts, "label_names": ["Hot"], "modality": "contacts"},
        )
    )
    other = await make_tenant(runtime, clock, name="Other")
    key = other.master_key

    assert await ok(await call(client, "GET", "/api/v1/labels", key)) == []
    # Their records are not ours to list, nor to take off lists.
    for path in (ADD, REMOVE):
        params = {"entity_ids": contacts, "label_names": ["Hot"], "modality": "contacts"}
        assert await ok(await call(client, "POST", path, key, params)) == {
            "message": "No Models or Lists provided"
        }
    # A list of the same name is a list of our own.
    theirs = await create_label(client, key, "Hot")
    assert theirs["id"] != mine["labels"][0]["id"] and theirs["cached_count"] == 0
    patched = await call(
        client, "PATCH", f"/api/v1/labels/{mine['labels'][0]['id']}", key, {"name": "Stolen"}
    )
    assert patched.status_code == 404

    [label] = await team_labels(runtime, tenant.team_id)
    assert (label.name, label.id) == ("Hot", mine["labels"][0]["id"])
    assert await memberships(runtime, tenant.team_id, contacts) == {
        contact: {label.id} for contact in contacts
    }
    assert await events(runtime, other.team_id) == []


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("GET", "/api/v1/labels", "api/v1/labels/index"),
        ("POST", "/api/v1/labels", "api/v1/labels/create"),
        ("PATCH", "/api/v1/labels/6612a4b7c8d9e0f123456789", "api/v1/labels/update"),
        ("POST", ADD, "api/v1/labels/add_entity_ids_to_label_names"),
        ("POST", REMOVE, "api/v1/labels/remove_entity_ids_from_label_names"),
    ],
)
async def test_a_scoped_key_needs_the_endpoint_in_its_scope(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    method: str,
    path: str,
    endpoint: str,
) -> None:
    outside = await make_scoped_key(runtime, clock, tenant, "api/v1/contacts/show")
    refused = await call(client, method, path, outside, {"name": "X", "modality": "contacts"})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": f"This API key is not authorized to access {endpoint}. Request an API key from your "
        "administrator that includes this endpoint in its configured scope.",
        "error_code": "API_INACCESSIBLE",
    }
    inside = await make_scoped_key(runtime, clock, tenant, endpoint)
    allowed = await call(client, method, path, inside, {"name": "X", "modality": "contacts"})
    assert allowed.status_code != 403


async def test_idempotency_key_replays_a_create(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "list-1"}
    params = {"name": "Hot", "modality": "contacts"}
    first = await ok(await call(client, "POST", "/api/v1/labels", tenant.master_key, params, headers=headers))
    again = await ok(
        await call(client, "POST", "/v1/labels", tenant.master_key, params, headers=headers, dialect="form")
    )
    assert again == first  # not "Hot already exists"
    assert len(await team_labels(runtime, tenant.team_id)) == 1

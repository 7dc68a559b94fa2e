"""POST /contacts/bulk_create and /contacts/bulk_update: created and existing contacts, dedupe,
the limits and Apollo's answers to them, the background run of a large update, isolation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.app import job_handlers
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.jobs.worker import Worker
from perilune.models import Contact, Label
from perilune.models.jobs import DONE
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import DIALECTS, call, events, jobs_of, ok, team_contacts

BULK_UPDATE_JOB = "crm.contacts.bulk_update"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests run the worker themselves, with the test clock."""
    return settings.model_copy(update={"run_worker": False})


def person(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "first_name": f"First{number}",
        "last_name": f"Last{number}",
        "email": f"person{number}@example.com",
        "title": "Engineer",
        "organization_name": "Example Corp",
        **extra,
    }


async def bulk_create(
    client: httpx.AsyncClient, key: str, dialect: str = "json", **params: Any
) -> httpx.Response:
    return await call(client, "POST", "/api/v1/contacts/bulk_create", key, params, dialect=dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_bulk_create_the_spec_example(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, dialect: str
) -> None:
    contacts = [
        person(1, title="Senior Manager", organization_name="Acme Corporation"),
        person(
            2, linkedin_url="https://www.linkedin.com/in/jane-smith-4c8e21a9", primary_title="VP of Sales"
        ),
    ]
    response = await bulk_create(
        client, tenant.master_key, dialect, contacts=contacts, append_label_names=["imported"]
    )
    body = await ok(response)
    assert set(body) == {"created_contacts", "existing_contacts"}
    assert body["existing_contacts"] == []
    first, second = body["created_contacts"]
    assert (first["email"], first["title"], first["organization_name"]) == (
        "person1@example.com",
        "Senior Manager",
        "Acme Corporation",
    )
    assert second["title"] == "VP of Sales"  # primary_title wins
    assert second["linkedin_url"] == "https://www.linkedin.com/in/jane-smith-4c8e21a9"
    assert all(
        c["owner_id"] == tenant.user_id and c["team_id"] == tenant.team_id for c in body["created_contacts"]
    )
    assert first["label_ids"] == second["label_ids"] and len(first["label_ids"]) == 1
    assert len(await team_contacts(runtime, tenant.team_id)) == 2
    assert len(await events(runtime, tenant.team_id, "contact.created")) == 2


async def test_bulk_create_with_run_dedupe_returns_matches_unchanged(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    existing = await ok(await bulk_create(client, tenant.master_key, contacts=[person(1)]))
    [original] = existing["created_contacts"]
    body = await ok(
        await bulk_create(
            client,
            tenant.master_key,
            contacts=[person(1, title="Changed"), person(2), person(2)],
            run_dedupe=True,
        )
    )
    assert [c["id"] for c in body["existing_contacts"]] == [original["id"], body["created_contacts"][0]["id"]]
    assert body["existing_contacts"][0]["title"] == "Engineer"  # never modified
    assert [c["email"] for c in body["created_contacts"]] == ["person2@example.com"]
    # Without run_dedupe, duplicates are created.
    body = await ok(await bulk_create(client, tenant.master_key, contacts=[person(1)]))
    assert len(body["created_contacts"]) == 1 and body["existing_contacts"] == []
    assert len(await team_contacts(runtime, tenant.team_id)) == 3


async def test_bulk_create_owner_must_be_the_teams(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    response = await bulk_create(client, tenant.master_key, contacts=[person(1)], owner_id=other.user_id)
    assert response.status_code == 422
    assert response.json() == {"error": f"Parameters misconfigured. {other.user_id} is not a valid ID"}
    assert await team_contacts(runtime, tenant.team_id) == []


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, 'Please provide an array of contact attributes in the "contact_attributes" parameter.'),
        (
            {"contacts": []},
            'Please provide an array of contact attributes in the "contact_attributes" parameter.',
        ),
        (
            {"contacts": ["not an object"]},
            'Please provide an array of contact attributes in the "contact_attributes" parameter.',
        ),
        ({"contacts": [person(n) for n in range(101)]}, "Please limit your array to 100 contacts or fewer."),
    ],
)
async def test_bulk_create_errors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await bulk_create(client, tenant.master_key, **params)
    assert response.status_code == 422
    assert response.json() == {"error": error}
    assert await team_contacts(runtime, tenant.team_id) == []


async def test_bulk_create_of_100_is_allowed(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    body = await ok(await bulk_create(client, tenant.master_key, contacts=[person(n) for n in range(100)]))
    assert len(body["created_contacts"]) == 100
    assert len({c["id"] for c in body["created_contacts"]}) == 100


# ---------------------------------------------------------------------------------------------
# bulk_update


async def make_contacts(client: httpx.AsyncClient, key: str, count: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, 100):
        batch = [person(n) for n in range(start, min(count, start + 100))]
        body = await ok(await bulk_create(client, key, contacts=batch))
        ids += [c["id"] for c in body["created_contacts"]]
    return ids


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_bulk_update_with_contact_ids_applies_the_same_values(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, dialect: str
) -> None:
    ids = await make_contacts(client, tenant.master_key, 3)
    params = {"contact_ids": ids[:2], "title": "Senior Manager", "present_raw_address": "Berlin, Germany"}
    body = await ok(
        await call(client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key, params, dialect=dialect)
    )
    assert [c["id"] for c in body["contacts"]] == ids[:2]
    assert {(c["title"], c["city"], c["country"]) for c in body["contacts"]} == {
        ("Senior Manager", "Berlin", "Germany")
    }
    stored = {c.id: c.title for c in await team_contacts(runtime, tenant.team_id)}
    assert stored[ids[2]] == "Engineer"


async def test_bulk_update_with_contact_attributes_applies_each(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    ids = await make_contacts(client, tenant.master_key, 2)
    attributes = [
        {"id": ids[0], "first_name": "John", "email": "john.doe@example.com"},
        {"id": ids[1], "title": "CTO"},
    ]
    body = await ok(
        await call(
            client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key,
            {"contact_attributes": attributes, "visible_entity_ids": [ids[1]]},
        )
    )  # fmt: skip
    assert [(c["id"], c["title"]) for c in body["contacts"]] == [(ids[1], "CTO")]
    stored = {c.id: c for c in await team_contacts(runtime, tenant.team_id)}
    assert (stored[ids[0]].first_name, stored[ids[0]].name, stored[ids[0]].email) == (
        "John",
        "John Last0",
        "john.doe@example.com",
    )


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, {"error": "Please provide either contact_ids or contact_attributes"}),
        (
            {"contact_ids": [f"{n:024x}" for n in range(1001)]},
            {"error": "Please limit your array to fewer than 1000."},
        ),
    ],
)
async def test_bulk_update_errors(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], error: dict[str, Any]
) -> None:
    response = await call(client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == error


async def test_bulk_update_refuses_an_invalid_email(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    [contact_id] = await make_contacts(client, tenant.master_key, 1)
    params = {"contact_attributes": [{"id": contact_id, "email": "nope"}]}
    response = await call(client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json() == {
        "error": "Validation failed",
        "error_details": {"contact_id": contact_id, "field": "email", "message": "Invalid email format"},
    }


async def test_more_than_100_contacts_update_in_the_background(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant
) -> None:
    ids = await make_contacts(client, tenant.master_key, 150)
    other = await make_tenant(runtime, clock, name="Other")
    [theirs] = await make_contacts(client, other.master_key, 1)
    params = {"contact_ids": [*ids, theirs], "title": "Director", "label_names": ["q3 push"]}
    body = await ok(await call(client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key, params))
    job = body["entity_progress_job"]
    assert (job["job_type"], job["status"]) == ("contact_bulk_update", "pending")
    assert job["entity_ids"] == ids  # the other team's contact is not this team's to update
    assert {c.title for c in await team_contacts(runtime, tenant.team_id)} == {"Engineer"}

    worker = Worker(runtime.engine, clock, job_handlers(settings), worker_id="test", poll_interval=0.01)
    assert await worker.run_once() >= 1
    [queued] = await jobs_of(runtime, BULK_UPDATE_JOB)
    assert queued.status == DONE and queued.id == job["id"]
    assert {c.title for c in await team_contacts(runtime, tenant.team_id)} == {"Director"}
    assert [c.title for c in await team_contacts(runtime, other.team_id)] == ["Engineer"]
    async with runtime.sessions() as session:
        [label] = (
            (await session.execute(select(Label).where(Label.team_id == tenant.team_id))).scalars().all()
        )
    assert label.name == "q3 push"
    assert len(await events(runtime, tenant.team_id, "contact.updated")) == 150


async def test_async_forces_the_background_for_few_contacts(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    ids = await make_contacts(client, tenant.master_key, 2)
    params = {"contact_ids": ids, "title": "Director", "async": True}
    body = await ok(
        await call(client, "POST", "/api/v1/contacts/bulk_update", tenant.master_key, params, dialect="form")
    )
    assert body["entity_progress_job"]["entity_ids"] == ids
    assert len(await jobs_of(runtime, BULK_UPDATE_JOB)) == 1


async def test_bulk_update_leaves_other_teams_alone(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    ids = await make_contacts(client, tenant.master_key, 2)
    other = await make_tenant(runtime, clock, name="Other")
    attributes = [{"id": contact_id, "title": "Hijacked"} for contact_id in ids]
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts/bulk_update",
            other.master_key,
            {"contact_attributes": attributes},
        )
    )
    assert body == {"contacts": []}
    async with runtime.sessions() as session:
        titles = (await session.execute(select(Contact.title).where(Contact.id.in_(ids)))).scalars().all()
    assert set(titles) == {"Engineer"}

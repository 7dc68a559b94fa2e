"""POST/GET /event_webhooks and GET/PATCH/DELETE /event_webhooks/{id} (a Perilune extension)
against a real database (SQLite and PostgreSQL), with deliveries to a real HTTP receiver on
127.0.0.1 run by the job worker: registration in each dialect, the address policy, signed
deliveries of changes made through the API, retries, isolation and the master-key rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import select

from perilune.app import create_app, job_handlers
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.jobs.worker import Worker
from perilune.models import EventDelivery, EventWebhookSubscription
from perilune.runtime import Runtime
from perilune.webhooks import verify_signature
from tests.conftest import Tenant, asgi_client, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, ok
from tests.webhooks.conftest import SIGNING_KEY, Receiver

SUBSCRIPTION_FIELDS = {
    "id",
    "url",
    "event_types",
    "active",
    "description",
    "created_at",
    "updated_at",
    "deliveries",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receiver is on loopback; the tests run the worker themselves, with the test clock."""
    return settings.model_copy(
        update={
            "webhook_allow_private_networks": True,
            "webhook_signing_key": SecretStr(SIGNING_KEY),
            "webhook_timeout_seconds": 2.0,
            "run_worker": False,
        }
    )


def worker(runtime: Runtime, clock: FrozenClock) -> Worker:
    return Worker(runtime.engine, clock, job_handlers(runtime.settings), worker_id="test", poll_interval=0.01)


async def register(
    client: httpx.AsyncClient, key: str, url: str, *event_types: str, **extra: Any
) -> dict[str, Any]:
    params = {"url": url, "event_types": list(event_types), **extra} if event_types else {"url": url, **extra}
    body = await ok(await call(client, "POST", "/api/v1/event_webhooks", key, params))
    subscription: dict[str, Any] = body["event_webhook"]
    return subscription


async def signing_secret(client: httpx.AsyncClient, key: str) -> str:
    body = await ok(await client.get("/api/v1/webhooks/signing_secret", headers={"x-api-key": key}))
    secret: str = body["signing_secret"]
    return secret


async def stored(runtime: Runtime, team_id: str) -> list[EventWebhookSubscription]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(EventWebhookSubscription).where(EventWebhookSubscription.team_id == team_id)
        )
        return list(rows.scalars())


async def deliveries(runtime: Runtime, team_id: str) -> list[EventDelivery]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(EventDelivery).where(EventDelivery.team_id == team_id))
        return list(rows.scalars())


# ---------------------------------------------------------------------------------------------
# registering, listing, updating, deleting


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_register_an_event_webhook_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver, prefix: str, dialect: str
) -> None:
    params = {"url": receiver.url, "event_types": ["contact.created", "account.*"], "description": "CRM sync"}
    body = await ok(
        await call(client, "POST", f"{prefix}/event_webhooks", tenant.master_key, params, dialect=dialect)
    )

    subscription = body["event_webhook"]
    assert set(subscription) == SUBSCRIPTION_FIELDS
    assert (subscription["url"], subscription["event_types"], subscription["active"]) == (
        receiver.url,
        ["contact.created", "account.*"],
        True,
    )
    assert subscription["description"] == "CRM sync"
    assert subscription["deliveries"] == {"pending": 0, "success": 0, "failed": 0}
    assert body["signature_header"] == "X-Perilune-Signature"
    assert body["signing_secret"] == await signing_secret(client, tenant.master_key)
    [row] = await stored(runtime, tenant.team_id)
    assert (row.id, row.url, row.event_types) == (
        subscription["id"],
        receiver.url,
        ["contact.created", "account.*"],
    )


async def test_without_event_types_a_webhook_gets_every_event(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver
) -> None:
    assert (await register(client, tenant.master_key, receiver.url))["event_types"] == ["*"]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "Please add a valid 'url' parameter: the address event deliveries are POSTed to."),
        ({"url": "ftp://example.com/hook"}, "webhook_url must be an http:// or https:// URL"),
        (
            {"url": "http://127.0.0.1:9/hook", "event_types": ["contact.deleted"]},
            "Unknown event type: contact.deleted.",
        ),
        ({"url": "http://127.0.0.1:9/hook", "event_types": [""]}, "Please name at least one event type"),
        (
            {"url": "http://127.0.0.1:9/hook", "description": "x" * 501},
            "description is at most 500 characters.",
        ),
    ],
)
async def test_register_refuses_bad_parameters(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/event_webhooks", tenant.master_key, params)
    assert response.status_code == 422
    assert response.json()["error"].startswith(error)
    assert await stored(runtime, tenant.team_id) == []


async def test_private_addresses_are_refused_under_the_default_policy(
    settings: Settings, clock: FrozenClock
) -> None:
    """Without PERILUNE_WEBHOOK_ALLOW_PRIVATE_NETWORKS no event webhook may point into the
    server's own network (the same policy as webhook_url)."""
    app = create_app(settings.model_copy(update={"webhook_allow_private_networks": False}), clock)
    async with LifespanManager(app), asgi_client(app) as http:
        tenant = await make_tenant(app.state.runtime, clock)
        for url in ("http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "http://[::1]/hook"):
            response = await call(http, "POST", "/api/v1/event_webhooks", tenant.master_key, {"url": url})
            assert response.status_code == 422, url
            assert "non-public address" in response.json()["error"]
        assert await stored(app.state.runtime, tenant.team_id) == []


async def test_list_show_update_and_delete(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    first = await register(client, tenant.master_key, receiver.url, "contact.*")
    clock.advance(1)
    second = await register(client, tenant.master_key, receiver.url, "*")

    listed = await ok(await call(client, "GET", "/api/v1/event_webhooks", tenant.master_key, dialect="query"))
    assert [item["id"] for item in listed["event_webhooks"]] == [first["id"], second["id"]]

    clock.advance(60)
    other_url = receiver.url.replace("/hooks/phones", "/hooks/crm")
    params = {"url": other_url, "event_types": ["opportunity.*", "task.completed"], "active": False}
    updated = await ok(
        await call(client, "PATCH", f"/api/v1/event_webhooks/{first['id']}", tenant.master_key, params)
    )
    changed = updated["event_webhook"]
    assert (changed["url"], changed["event_types"], changed["active"]) == (
        other_url,
        ["opportunity.*", "task.completed"],
        False,
    )
    assert changed["description"] is None and changed["updated_at"] > first["updated_at"]
    # Only what is sent changes.
    again = await ok(
        await call(
            client, "PATCH", f"/api/v1/event_webhooks/{first['id']}", tenant.master_key, {"active": True}
        )
    )
    assert (again["event_webhook"]["active"], again["event_webhook"]["url"]) == (True, other_url)

    shown = await ok(await call(client, "GET", f"/api/v1/event_webhooks/{first['id']}", tenant.master_key))
    assert shown["event_webhook"]["recent_deliveries"] == []

    deleted = await ok(
        await call(client, "DELETE", f"/api/v1/event_webhooks/{first['id']}", tenant.master_key)
    )
    assert deleted == {"id": first["id"], "deleted": True}
    assert [row.id for row in await stored(runtime, tenant.team_id)] == [second["id"]]
    for method in ("GET", "PATCH", "DELETE"):
        gone = await call(
            client, method, f"/api/v1/event_webhooks/{first['id']}", tenant.master_key, {"active": False}
        )
        assert (gone.status_code, gone.json()) == (404, {"error": "Record not found."})


async def test_update_checks_what_it_changes(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    subscription = await register(client, tenant.master_key, receiver.url, "contact.*")
    path = f"/api/v1/event_webhooks/{subscription['id']}"
    for params in ({"url": "mailto:someone@example.com"}, {"event_types": ["everything"]}, {"url": ""}):
        assert (await call(client, "PATCH", path, tenant.master_key, params)).status_code == 422
    [row] = await stored(runtime, tenant.team_id)
    assert (row.url, row.event_types) == (receiver.url, ["contact.*"])


async def test_a_team_has_at_most_25_event_webhooks(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    for _ in range(25):
        await register(client, tenant.master_key, receiver.url)
    response = await call(client, "POST", "/api/v1/event_webhooks", tenant.master_key, {"url": receiver.url})
    assert (response.status_code, response.json()) == (
        422,
        {"error": "A team can have at most 25 event webhooks; delete one first."},
    )


# ---------------------------------------------------------------------------------------------
# deliveries, end to end


async def test_changes_made_through_the_api_are_delivered_signed(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    contacts_hook = await register(client, tenant.master_key, receiver.url, "contact.*")
    await register(client, tenant.master_key, receiver.url.replace("phones", "accounts"), "account.created")
    created = await ok(
        await call(
            client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon", "last_name": "Snow"}
        )
    )
    added = await ok(
        await call(
            client,
            "POST",
            "/api/v1/labels/add_entity_ids_to_label_names",
            tenant.master_key,
            {
                "entity_ids": [created["contact"]["id"]],
                "label_names": ["Night's Watch"],
                "modality": "contacts",
            },
        )
    )

    assert await worker(runtime, clock).run_once() == 2

    secret = await signing_secret(client, tenant.master_key)
    bodies = []
    for received in receiver.received:
        assert received.path == "/hooks/phones"  # the account webhook saw no contact event
        header = received.headers["x-perilune-signature"]
        assert verify_signature(secret, header, received.body, now=clock.now().timestamp())
        body = orjson.loads(received.body)
        assert set(body) == {"id", "type", "created_at", "team_id", "entity_type", "entity_id", "data"}
        assert received.headers["x-perilune-event-id"] == body["id"]
        assert received.headers["x-perilune-event-type"] == body["type"]
        assert received.headers["x-perilune-delivery-attempt"] == "1"
        bodies.append(body)
    by_type = {body["type"]: body for body in bodies}
    assert set(by_type) == {"contact.created", "contact.updated"}
    assert by_type["contact.created"]["data"] == created["contact"]
    assert by_type["contact.updated"]["data"]["label_ids"] == [added["labels"][0]["id"]]
    assert {body["entity_id"] for body in bodies} == {created["contact"]["id"]}

    shown = await ok(
        await call(client, "GET", f"/api/v1/event_webhooks/{contacts_hook['id']}", tenant.master_key)
    )
    assert shown["event_webhook"]["deliveries"] == {"pending": 0, "success": 2, "failed": 0}
    recent = shown["event_webhook"]["recent_deliveries"]
    assert [item["event_type"] for item in recent] == ["contact.updated", "contact.created"]
    assert all(item["status"] == "success" and item["attempts"] == 1 for item in recent)


async def test_a_failing_receiver_is_retried_and_the_api_shows_it(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(500)
    hook = await register(client, tenant.master_key, receiver.url, "account.*")
    await ok(
        await call(
            client,
            "POST",
            "/api/v1/accounts",
            tenant.master_key,
            {"name": "Westeros", "domain": "westeros.com"},
        )
    )
    work = worker(runtime, clock)

    assert await work.run_once() == 1
    shown = await ok(await call(client, "GET", f"/api/v1/event_webhooks/{hook['id']}", tenant.master_key))
    [pending] = shown["event_webhook"]["recent_deliveries"]
    assert (pending["status"], pending["attempts"], pending["failure_reason"]) == (
        "pending",
        1,
        "the webhook URL answered HTTP 500",
    )

    clock.advance(timedelta(seconds=10).total_seconds())
    assert await work.run_once() == 1
    assert [r.headers["x-perilune-delivery-attempt"] for r in receiver.received] == ["1", "2"]
    assert len({r.body for r in receiver.received}) == 1  # the same event, signed again
    [row] = await deliveries(runtime, tenant.team_id)
    assert (row.status, row.attempts, row.delivered_at) == ("success", 2, clock.now())


async def test_deleted_and_inactive_webhooks_get_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    doomed = await register(client, tenant.master_key, receiver.url)
    await register(client, tenant.master_key, receiver.url, active=False)
    await ok(await call(client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon"}))
    assert len(await deliveries(runtime, tenant.team_id)) == 1  # none for the inactive one
    await ok(await call(client, "DELETE", f"/api/v1/event_webhooks/{doomed['id']}", tenant.master_key))
    assert await deliveries(runtime, tenant.team_id) == []
    await worker(runtime, clock).run_once()
    assert receiver.received == []


# ---------------------------------------------------------------------------------------------
# isolation and keys


async def test_another_team_sees_changes_and_gets_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    mine = await register(client, tenant.master_key, receiver.url)
    other = await make_tenant(runtime, clock, name="Other")
    key = other.master_key
    assert await ok(await call(client, "GET", "/api/v1/event_webhooks", key)) == {"event_webhooks": []}
    for method in ("GET", "PATCH", "DELETE"):
        response = await call(client, method, f"/api/v1/event_webhooks/{mine['id']}", key, {"active": False})
        assert response.status_code == 404, method
    [row] = await stored(runtime, tenant.team_id)
    assert row.active is True
    # The other team's changes are not delivered to this team's webhook.
    await ok(await call(client, "POST", "/api/v1/contacts", key, {"first_name": "Arya"}))
    assert await deliveries(runtime, tenant.team_id) == []
    await worker(runtime, clock).run_once()
    assert receiver.received == []


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("POST", "/api/v1/event_webhooks", "api/v1/event_webhooks/create"),
        ("GET", "/api/v1/event_webhooks", "api/v1/event_webhooks/index"),
        ("GET", "/api/v1/event_webhooks/6612a4b7c8d9e0f123456789", "api/v1/event_webhooks/show"),
        ("PATCH", "/api/v1/event_webhooks/6612a4b7c8d9e0f123456789", "api/v1/event_webhooks/update"),
        ("DELETE", "/api/v1/event_webhooks/6612a4b7c8d9e0f123456789", "api/v1/event_webhooks/delete"),
    ],
)
async def test_a_master_key_is_needed(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    method: str,
    path: str,
    endpoint: str,
) -> None:
    scoped = await make_scoped_key(runtime, clock, tenant, endpoint)
    response = await call(client, method, path, scoped, {"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE" and endpoint in response.json()["error"]
    assert await stored(runtime, tenant.team_id) == []


async def test_idempotency_key_replays_a_registration(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    headers = {"Idempotency-Key": "hook-1"}
    params = {"url": receiver.url, "event_types": ["contact.*"]}
    first = await ok(
        await call(client, "POST", "/api/v1/event_webhooks", tenant.master_key, params, headers=headers)
    )
    again = await ok(
        await call(
            client, "POST", "/v1/event_webhooks", tenant.master_key, params, headers=headers, dialect="form"
        )
    )
    assert again == first
    assert len(await stored(runtime, tenant.team_id)) == 1

"""The CRM's shared pieces: default stages (new teams, and teams older than the CRM), the event
log and its signed event webhooks (delivered to a real HTTP receiver by the job queue),
Idempotency-Key, typed custom field values and owner checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy import delete, func, select

from perilune import crm
from perilune.api.errors import Unprocessable
from perilune.app import job_handlers
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.crm.events import DELIVER_JOB
from perilune.jobs.worker import Worker
from perilune.models import (
    AccountStage,
    ContactStage,
    CustomField,
    EventDelivery,
    EventWebhookSubscription,
    OpportunityPipeline,
    OpportunityStage,
    Team,
    User,
)
from perilune.models.jobs import DONE, FAILED, QUEUED
from perilune.runtime import Runtime
from perilune.webhooks import team_signing_secret, verify_signature
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import call, jobs_of, ok, team_contacts
from tests.webhooks.conftest import SIGNING_KEY, Receiver

STAGE_MODELS = (ContactStage, AccountStage, OpportunityStage)


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


async def stage_counts(runtime: Runtime, team_id: str) -> list[int]:
    async with runtime.sessions() as session:
        return [
            int(
                await session.scalar(select(func.count()).select_from(model).where(model.team_id == team_id))
                or 0
            )
            for model in STAGE_MODELS
        ]


# ---------------------------------------------------------------------------------------------
# stages


async def test_a_new_team_has_apollos_default_stages(runtime: Runtime, tenant: Tenant) -> None:
    assert await stage_counts(runtime, tenant.team_id) == [9, 5, 8]
    async with runtime.sessions() as session:
        [pipeline] = (
            await session.execute(
                select(OpportunityPipeline).where(OpportunityPipeline.team_id == tenant.team_id)
            )
        ).scalars()
        deals = (
            await session.execute(
                select(OpportunityStage)
                .where(OpportunityStage.team_id == tenant.team_id)
                .order_by(OpportunityStage.display_order)
            )
        ).scalars()
        summary = [
            (s.name, s.probability, s.type, s.is_won, s.is_closed, s.opportunity_pipeline_id) for s in deals
        ]
    assert pipeline.is_default
    assert summary[0] == ("Qualify", 10.0, "Open", False, False, pipeline.id)
    assert ("Closed Won", 100.0, "Closed/Won", True, True, pipeline.id) in summary
    assert ("Closed Lost", 0.0, "Closed/Lost", False, True, pipeline.id) in summary


async def test_a_team_from_before_the_crm_gets_its_stages_on_first_use(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        for model in (*STAGE_MODELS, OpportunityPipeline):
            await session.execute(delete(model).where(model.team_id == tenant.team_id))
    assert await stage_counts(runtime, tenant.team_id) == [0, 0, 0]
    body = await ok(await client.get("/api/v1/account_stages", headers={"x-api-key": tenant.master_key}))
    assert len(body["account_stages"]) == 5
    assert await stage_counts(runtime, tenant.team_id) == [9, 5, 8]
    # Once there, they are not made again.
    async with runtime.sessions() as session, session.begin():
        await crm.ensure_default_stages(session, tenant.team_id)
    assert await stage_counts(runtime, tenant.team_id) == [9, 5, 8]


async def test_ensure_default_stages_on_a_team_made_without_admin(
    runtime: Runtime, clock: FrozenClock
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = Team(name="Raw", plan="professional", plan_overrides={}, credit_cycle_anchor=clock.now())
        session.add(team)
        await session.flush()
        assert await crm.default_stage_id(session, ContactStage, team.id) is not None
    assert await stage_counts(runtime, team.id) == [9, 5, 8]


# ---------------------------------------------------------------------------------------------
# owners


async def test_owners_must_be_current_users_of_the_team(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    async with runtime.sessions() as session, session.begin():
        gone = User(team_id=tenant.team_id, email="gone@acme.test", deleted=True, created_at=clock.now())
        session.add(gone)
        await session.flush()
        assert await crm.validate_owner(session, tenant.team_id, tenant.user_id) == tenant.user_id
        assert await crm.validate_owner(session, tenant.team_id, None) is None
        for bad in (other.user_id, gone.id, "not-an-id"):
            with pytest.raises(Unprocessable) as raised:
                await crm.validate_owner(session, tenant.team_id, bad)
            assert raised.value.error == f"Parameters misconfigured. {bad} is not a valid ID"


# ---------------------------------------------------------------------------------------------
# events and event webhooks


async def subscribe(
    runtime: Runtime, clock: FrozenClock, team_id: str, url: str, *types: str, active: bool = True
) -> str:
    async with runtime.sessions() as session, session.begin():
        row = EventWebhookSubscription(
            team_id=team_id,
            url=url,
            event_types=list(types),
            active=active,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(row)
        await session.flush()
        return row.id


async def deliveries(runtime: Runtime, team_id: str) -> list[EventDelivery]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(EventDelivery).where(EventDelivery.team_id == team_id))
        return list(rows.scalars())


def test_subscription_patterns() -> None:
    assert crm.subscribes_to(["contact.created"], "contact.created")
    assert crm.subscribes_to(["account.*"], "account.updated")
    assert crm.subscribes_to(["*"], "task.completed")
    assert not crm.subscribes_to(["contact.created"], "contact.updated")
    assert not crm.subscribes_to(["account.*"], "contact.created")
    assert not crm.subscribes_to([], "contact.created")


async def test_events_are_queued_for_matching_active_subscriptions_only(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    url = "http://127.0.0.1:9/hook"
    wanted = {
        await subscribe(runtime, clock, tenant.team_id, url, "contact.created"),
        await subscribe(runtime, clock, tenant.team_id, url, "contact.*", "account.*"),
        await subscribe(runtime, clock, tenant.team_id, url, "*"),
    }
    await subscribe(runtime, clock, tenant.team_id, url, "account.*")
    await subscribe(runtime, clock, tenant.team_id, url, "*", active=False)
    await subscribe(runtime, clock, other.team_id, url, "*")
    async with runtime.sessions() as session, session.begin():
        event = await crm.record_event(
            session, tenant.team_id, "contact.created", "0" * 24, {"id": "0" * 24}, clock.now()
        )
    rows = await deliveries(runtime, tenant.team_id)
    assert {row.subscription_id for row in rows} == wanted
    assert {row.event_id for row in rows} == {event.id}
    assert len(await jobs_of(runtime, DELIVER_JOB)) == 3
    assert await deliveries(runtime, other.team_id) == []


async def test_a_contact_change_is_delivered_signed_to_the_teams_webhook(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    settings: Settings,
    tenant: Tenant,
    receiver: Receiver,
) -> None:
    await subscribe(runtime, clock, tenant.team_id, receiver.url, "contact.*")
    created = await ok(
        await call(client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon"})
    )
    assert await worker(runtime, clock).run_once() == 1
    [received] = receiver.received
    secret = team_signing_secret(settings, tenant.team_id)
    assert verify_signature(
        secret, received.headers["x-perilune-signature"], received.body, now=clock.now().timestamp()
    )
    body = orjson.loads(received.body)
    assert (body["type"], body["entity_type"], body["entity_id"], body["team_id"]) == (
        "contact.created",
        "contact",
        created["contact"]["id"],
        tenant.team_id,
    )
    assert body["data"] == created["contact"]
    assert received.headers["x-perilune-event-type"] == "contact.created"
    assert received.headers["x-perilune-event-id"] == body["id"]
    [row] = await deliveries(runtime, tenant.team_id)
    assert (row.status, row.attempts, row.delivered_at) == ("success", 1, clock.now())
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == DONE


async def test_a_failing_receiver_is_retried_with_the_queues_backoff(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(503)
    await subscribe(runtime, clock, tenant.team_id, receiver.url, "*")
    async with runtime.sessions() as session, session.begin():
        await crm.record_event(
            session, tenant.team_id, "account.updated", "1" * 24, {"name": "Acme"}, clock.now()
        )
    work = worker(runtime, clock)
    assert await work.run_once() == 1
    [row] = await deliveries(runtime, tenant.team_id)
    assert (row.status, row.attempts, row.failure_reason) == (
        "pending",
        1,
        "the webhook URL answered HTTP 503",
    )
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert (job.status, job.run_at) == (QUEUED, clock.now() + timedelta(seconds=10))
    clock.advance(10)
    assert await work.run_once() == 1
    [row] = await deliveries(runtime, tenant.team_id)
    assert (row.status, row.attempts) == ("success", 2)
    assert [r.headers["x-perilune-delivery-attempt"] for r in receiver.received] == ["1", "2"]


async def test_a_refusing_receiver_fails_at_once_and_a_deactivated_one_gets_nothing(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(410)
    refusing = await subscribe(runtime, clock, tenant.team_id, receiver.url, "*")
    later_off = await subscribe(runtime, clock, tenant.team_id, receiver.url, "*")
    async with runtime.sessions() as session, session.begin():
        await crm.record_event(session, tenant.team_id, "task.created", "2" * 24, {}, clock.now())
        row = await session.get(EventWebhookSubscription, later_off)
        assert row is not None
        row.active = False
    await worker(runtime, clock).run_once()
    by_subscription = {row.subscription_id: row for row in await deliveries(runtime, tenant.team_id)}
    assert by_subscription[refusing].status == "failed"
    assert by_subscription[later_off].failure_reason == "the subscription was deactivated"
    assert len(receiver.received) == 1
    assert {job.status for job in await jobs_of(runtime, DELIVER_JOB)} == {FAILED, DONE}


async def test_a_rolled_back_change_leaves_no_event_and_no_delivery(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await subscribe(runtime, clock, tenant.team_id, "http://127.0.0.1:9/hook", "*")
    response = await call(
        client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon", "owner_id": "nope"}
    )
    assert response.status_code == 422
    assert await deliveries(runtime, tenant.team_id) == []
    assert await jobs_of(runtime, DELIVER_JOB) == []


# ---------------------------------------------------------------------------------------------
# Idempotency-Key


async def test_a_failed_first_request_leaves_the_key_free(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    failed = await call(
        client,
        "POST",
        "/api/v1/contacts",
        tenant.master_key,
        {"first_name": "Jon", "owner_id": "x"},
        headers=headers,
    )
    assert failed.status_code == 422
    fixed = await call(
        client, "POST", "/api/v1/contacts", tenant.master_key, {"first_name": "Jon"}, headers=headers
    )
    assert fixed.status_code == 200
    assert len(await team_contacts(runtime, tenant.team_id)) == 1


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
async def test_unusable_keys_are_a_422(client: httpx.AsyncClient, tenant: Tenant, key: str) -> None:
    response = await call(
        client,
        "POST",
        "/api/v1/contacts",
        tenant.master_key,
        {"first_name": "Jon"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]


async def test_a_key_reused_on_another_endpoint_is_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "shared"}
    await ok(
        await call(client, "POST", "/api/v1/contacts", tenant.master_key, {"name": "Jon"}, headers=headers)
    )
    response = await call(
        client, "POST", "/api/v1/accounts", tenant.master_key, {"name": "Jon"}, headers=headers
    )
    assert response.status_code == 422


def test_the_fingerprint_ignores_the_key_the_prefix_and_the_order() -> None:
    fingerprint = crm.idempotency.fingerprint
    first = fingerprint("post", "/api/v1/contacts", {"api_key": "a", "x": 1, "y": [1, 2]})
    assert first == fingerprint("POST", "/v1/contacts", {"y": [1, 2], "x": 1, "api_key": "b"})
    assert first != fingerprint("POST", "/v1/contacts", {"x": 1, "y": [2, 1]})
    assert first != fingerprint("PATCH", "/v1/contacts", {"x": 1, "y": [1, 2]})


# ---------------------------------------------------------------------------------------------
# typed custom fields


async def add_field(
    runtime: Runtime, clock: FrozenClock, team_id: str, name: str, kind: str, **extra: Any
) -> str:
    async with runtime.sessions() as session, session.begin():
        options = extra.pop("options", [])
        field = CustomField(
            team_id=team_id, modality="contact", name=name, type=kind, picklist_values=options, data=extra,
            created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        session.add(field)
        await session.flush()
        return field.id


async def test_custom_field_values_are_checked_and_normalised_by_type(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    launch = await add_field(runtime, clock, tenant.team_id, "Launch", "datetime")
    seats = await add_field(runtime, clock, tenant.team_id, "Seats", "number")
    active = await add_field(runtime, clock, tenant.team_id, "Active", "boolean")
    age = await add_field(
        runtime, clock, tenant.team_id, "Age", "picklist", options=[{"id": "a" * 24, "name": "New Customer"}]
    )
    values = {launch: "2025-08-07", seats: "12", active: "true", age: "new customer"}
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts",
            tenant.master_key,
            {"first_name": "Jon", "typed_custom_fields": values},
        )
    )
    assert body["contact"]["typed_custom_fields"] == {
        launch: "2025-08-07T00:00:00.000Z",
        seats: 12,
        active: True,
        age: "a" * 24,
    }
    contact_id = body["contact"]["id"]
    # An update changes the fields it names; null clears one.
    patched = await ok(
        await call(
            client,
            "PATCH",
            f"/api/v1/contacts/{contact_id}",
            tenant.master_key,
            {"typed_custom_fields": {seats: None}},
        )
    )
    assert seats not in patched["contact"]["typed_custom_fields"]
    assert patched["contact"]["typed_custom_fields"][active] is True


@pytest.mark.parametrize(
    ("kind", "value"), [("number", "twelve"), ("boolean", "maybe"), ("date", "08/07/2025")]
)
async def test_wrong_types_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, kind: str, value: str
) -> None:
    field_id = await add_field(runtime, clock, tenant.team_id, "Field", kind)
    response = await call(
        client, "POST", "/api/v1/contacts", tenant.master_key, {"typed_custom_fields": {field_id: value}}
    )
    assert response.status_code == 422
    assert "custom field 'Field'" in response.json()["error"]
    assert await team_contacts(runtime, tenant.team_id) == []


async def test_another_teams_field_is_not_a_valid_id(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    theirs = await add_field(runtime, clock, other.team_id, "Theirs", "string")
    response = await call(
        client, "POST", "/api/v1/contacts", tenant.master_key, {"typed_custom_fields": {theirs: "x"}}
    )
    assert (response.status_code, response.json()) == (
        422,
        {"error": f"Parameters misconfigured. {theirs} is not a valid ID"},
    )

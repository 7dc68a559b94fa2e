"""Delivery to a real receiver: signed POSTs, retries with backoff on the test clock, final
failures, the delivery-time address check, and durability with the caller's transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.models import Job, WebhookRequest
from perilune.models.jobs import DONE, FAILED, QUEUED
from perilune.runtime import Runtime
from perilune.webhooks import (
    RETENTION,
    UnknownWebhookRequest,
    open_request,
    publish_result,
    schedule_delivery,
    validate_webhook_url,
    verify_signature,
)
from perilune.webhooks.service import DELIVER_JOB, EXPIRE_JOB
from tests.conftest import Tenant, make_tenant
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import PERSON_ID, jobs_of, load_request, phone_payload, schedule, worker
from tests.webhooks.test_addresses import fake_dns


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def signing_secret(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.get("/api/v1/webhooks/signing_secret", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 200, response.text
    secret: str = response.json()["signing_secret"]
    return secret


async def test_a_signed_delivery_reaches_the_receiver(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    assert receiver.received == []

    assert await worker(runtime, clock).run_once() == 1

    [delivery] = receiver.received
    assert delivery.path == "/hooks/phones"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-perilune-request-id"] == str(request_id)
    assert delivery.headers["x-perilune-delivery-attempt"] == "1"
    assert delivery.headers["user-agent"].startswith("Perilune-Webhooks/")
    body = json.loads(delivery.body)
    assert body == phone_payload()
    assert body["people"][0]["id"] == PERSON_ID
    assert [p["sanitized_number"] for p in body["people"][0]["phone_numbers"]] == [
        "+15555550164",
        "+14155550117",
    ]

    # The receiver checks the signature with the secret the team reads from the API.
    secret = await signing_secret(client, tenant)
    fields = dict(part.split("=", 1) for part in delivery.headers["x-perilune-signature"].split(","))
    assert fields["t"] == str(int(clock.now().timestamp()))
    assert fields["v1"] == expected_signature(secret, fields["t"], delivery.body)
    assert verify_signature(
        secret, delivery.headers["x-perilune-signature"], delivery.body, now=clock.now().timestamp()
    )

    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts, row.failure_reason) == ("success", 1, None)
    assert row.delivered_at == clock.now()
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == DONE


async def test_another_team_signs_with_another_secret(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    await schedule(runtime, clock, other.team_id, receiver.url)
    await worker(runtime, clock).run_once()
    [delivery] = receiver.received
    header = delivery.headers["x-perilune-signature"]
    now = clock.now().timestamp()
    assert verify_signature(await signing_secret(client, other), header, delivery.body, now=now)
    assert not verify_signature(await signing_secret(client, tenant), header, delivery.body, now=now)


async def test_a_failing_receiver_is_retried_with_backoff_until_it_succeeds(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(503, 429)
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock)
    started = clock.now()

    assert await work.run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts) == ("in_progress", 1)
    assert row.failure_reason == "the webhook URL answered HTTP 503"
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert (job.status, job.run_at) == (QUEUED, started + timedelta(seconds=10))

    # Not due yet: nothing is sent.
    clock.advance(9)
    assert await work.run_once() == 0
    assert len(receiver.received) == 1

    clock.advance(1)
    assert await work.run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts, row.failure_reason) == (
        "in_progress",
        2,
        "the webhook URL answered HTTP 429",
    )
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.run_at == clock.now() + timedelta(seconds=20)

    clock.advance(20)
    assert await work.run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts, row.failure_reason) == ("success", 3, None)
    assert row.last_dispatched_at == started + timedelta(seconds=30)
    assert [r.headers["x-perilune-delivery-attempt"] for r in receiver.received] == ["1", "2", "3"]
    # The same body each time, each signed at its own dispatch time.
    assert len({r.body for r in receiver.received}) == 1
    stamps = [r.headers["x-perilune-signature"].split(",")[0] for r in receiver.received]
    assert stamps == [f"t={int((started + timedelta(seconds=s)).timestamp())}" for s in (0, 10, 30)]
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == DONE


async def test_delivery_gives_up_after_the_attempt_limit(
    runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(500, 502, 504, 500)
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock, settings.model_copy(update={"webhook_max_attempts": 3}))
    for wait in (0, 10, 20):
        clock.advance(wait)
        assert await work.run_once() == 1
    clock.advance(3600)
    assert await work.run_once() == 0
    assert len(receiver.received) == 3
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.failure_reason == "the webhook URL answered HTTP 504"
    assert row.delivered_at is None
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == FAILED
    assert job.last_error is not None and "failed after 3 attempt(s)" in job.last_error


@pytest.mark.parametrize(
    ("status", "reason"), [(400, "HTTP 400"), (410, "HTTP 410"), (302, "redirects are not followed")]
)
async def test_a_refusal_or_redirect_fails_at_once(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver, status: int, reason: str
) -> None:
    receiver.answer(status)
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock)
    assert await work.run_once() == 1
    clock.advance(3600)
    assert await work.run_once() == 0
    # Exactly one request: a redirect is not followed to /elsewhere.
    assert [r.path for r in receiver.received] == ["/hooks/phones"]
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.failure_reason is not None and reason in row.failure_reason
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == FAILED


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_receiver_is_retried(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, f"http://127.0.0.1:{closed_port()}/hook")
    assert await worker(runtime, clock).run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts) == ("in_progress", 1)
    assert row.failure_reason == "could not reach the webhook URL (ConnectError)"
    [job] = await jobs_of(runtime, DELIVER_JOB)
    assert job.status == QUEUED


async def test_a_slow_receiver_times_out_and_is_retried(
    runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.delay = 1.5
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock, settings.model_copy(update={"webhook_timeout_seconds": 0.3}))
    assert await work.run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.failure_reason) == ("in_progress", "no answer from the webhook URL within 0.3 s")


async def test_delivery_rechecks_the_address_and_refuses_private_ones(
    runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant, receiver: Receiver
) -> None:
    """Accepted when private networks were allowed; the worker of an operator who no longer
    allows them (or a name that now resolves to loopback) sends nothing."""
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    strict = settings.model_copy(update={"webhook_allow_private_networks": False})
    assert await worker(runtime, clock, strict).run_once() == 1
    assert receiver.received == []
    row = await load_request(runtime, request_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.failure_reason is not None and "127.0.0.1" in row.failure_reason


async def test_dns_rebinding_to_loopback_is_caught_at_delivery(
    runtime: Runtime,
    clock: FrozenClock,
    settings: Settings,
    tenant: Tenant,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    target = await validate_webhook_url(
        f"http://rebind.example.com:{receiver.port}/in", allow_private_networks=False
    )
    async with runtime.sessions() as session, session.begin():
        request_id = await schedule_delivery(
            session, team_id=tenant.team_id, target=target, payload=phone_payload(), now=clock.now()
        )
    strict = settings.model_copy(update={"webhook_allow_private_networks": False})
    assert await worker(runtime, clock, strict).run_once() == 1
    assert receiver.received == []
    row = await load_request(runtime, request_id)
    assert row.status == "failed"
    assert row.failure_reason is not None and "resolves to 127.0.0.1" in row.failure_reason


async def test_delivery_connects_to_the_checked_address_under_the_urls_name(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hooks.example.com exists only in this test's DNS: the POST reaches the address it
    resolved to (IPv6 loopback first, where nothing listens, then IPv4) with the name as Host."""
    fake_dns(monkeypatch, {"hooks.example.com": [["::1", "127.0.0.1"]]})
    request_id = await schedule(
        runtime, clock, tenant.team_id, f"http://hooks.example.com:{receiver.port}/in"
    )
    assert await worker(runtime, clock).run_once() == 1
    [delivery] = receiver.received
    assert delivery.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert (await load_request(runtime, request_id)).status == "success"


async def test_a_request_past_its_retention_is_not_delivered_and_is_forgotten(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    clock.advance(RETENTION.total_seconds())
    assert await worker(runtime, clock).run_once() == 2
    assert receiver.received == []
    row = await load_request(runtime, request_id)
    assert (row.status, row.payload, row.url) == ("failed", None, None)
    assert row.failure_reason == "the request expired before it was delivered"
    assert [job.status for job in await jobs_of(runtime, EXPIRE_JOB)] == [DONE]


async def test_the_result_is_forgotten_after_thirty_days(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock)
    assert await work.run_once() == 1
    clock.advance(RETENTION.total_seconds() - 1)
    assert await work.run_once() == 0
    assert (await load_request(runtime, request_id)).payload == phone_payload()
    clock.advance(1)
    assert await work.run_once() == 1
    row = await load_request(runtime, request_id)
    assert (row.status, row.payload, row.url, row.attempts) == ("success", None, None, 1)


async def test_a_rolled_back_request_leaves_no_row_and_no_job(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    target = await validate_webhook_url(receiver.url, allow_private_networks=True)
    with pytest.raises(RuntimeError, match="enrichment failed"):
        async with runtime.sessions() as session, session.begin():
            await schedule_delivery(
                session, team_id=tenant.team_id, target=target, payload={}, now=clock.now()
            )
            raise RuntimeError("enrichment failed")
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookRequest)) == 0
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
    assert await worker(runtime, clock).run_once() == 0
    assert receiver.received == []


async def test_a_result_published_later_is_delivered_then(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    target = await validate_webhook_url(receiver.url, allow_private_networks=True)
    async with runtime.sessions() as session, session.begin():
        request_id = await open_request(session, team_id=tenant.team_id, target=target, now=clock.now())
    work = worker(runtime, clock)
    assert await work.run_once() == 0
    assert (await load_request(runtime, request_id)).status == "pending"

    clock.advance(60)
    async with runtime.sessions() as session, session.begin():
        await publish_result(
            session, team_id=tenant.team_id, request_id=request_id, payload=phone_payload(), now=clock.now()
        )
    assert await work.run_once() == 1
    assert [json.loads(r.body) for r in receiver.received] == [phone_payload()]
    assert (await load_request(runtime, request_id)).status == "success"


async def test_only_the_owning_team_can_publish_and_only_once(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    other = await make_tenant(runtime, clock, name="Initech")
    target = await validate_webhook_url(receiver.url, allow_private_networks=True)
    async with runtime.sessions() as session, session.begin():
        request_id = await open_request(session, team_id=tenant.team_id, target=target, now=clock.now())
    with pytest.raises(UnknownWebhookRequest):
        async with runtime.sessions() as session, session.begin():
            await publish_result(
                session, team_id=other.team_id, request_id=request_id, payload={}, now=clock.now()
            )
    async with runtime.sessions() as session, session.begin():
        await publish_result(
            session, team_id=tenant.team_id, request_id=request_id, payload={}, now=clock.now()
        )
    with pytest.raises(UnknownWebhookRequest):
        async with runtime.sessions() as session, session.begin():
            await publish_result(
                session, team_id=tenant.team_id, request_id=request_id, payload={}, now=clock.now()
            )
    assert len(await jobs_of(runtime, DELIVER_JOB)) == 1


async def test_a_job_that_runs_again_after_success_sends_nothing(
    runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    """At-least-once jobs: a second run (a worker that died before recording the job done)
    finds the request delivered and does nothing."""
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    work = worker(runtime, clock)
    assert await work.run_once() == 1
    async with runtime.sessions() as session, session.begin():
        job = (await session.execute(select(Job).where(Job.kind == DELIVER_JOB))).scalar_one()
        job.status = QUEUED
    assert await work.run_once() == 1
    assert len(receiver.received) == 1
    assert (await load_request(runtime, request_id)).attempts == 1

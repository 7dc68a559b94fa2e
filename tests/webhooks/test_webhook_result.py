"""GET /webhook_result/{request_id}: Apollo's states (invalid id, unknown, pending, in progress,
delivered, failed, expired), team isolation and auth; and the signing-secret extension."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from perilune.webhooks import RETENTION, open_request, phone_enrichment_status, validate_webhook_url
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import phone_payload, schedule, worker

SHOW_SCOPE = "api/v1/webhook_result/show"


async def poll(
    client: httpx.AsyncClient, key: str, request_id: object, prefix: str = "/api/v1"
) -> httpx.Response:
    return await client.get(f"{prefix}/webhook_result/{request_id}", headers={"x-api-key": key})


def body_of(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("prefix", ["/api/v1", "/v1"])
async def test_a_delivered_result(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    receiver: Receiver,
    prefix: str,
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    clock.advance(5.75)
    await worker(runtime, clock).run_once()
    assert body_of(await poll(client, tenant.master_key, request_id, prefix), 200) == {
        "request_id": str(request_id),
        "webhook_status": "success",
        "request_type": "phone",
        "last_dispatched_at": "2026-01-15T12:00:05Z",
        "failure_reason": None,
        "webhook_result": phone_payload(),
    }


async def test_a_result_not_yet_dispatched_is_in_progress(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    body = body_of(await poll(client, tenant.master_key, request_id), 200)
    assert (body["webhook_status"], body["last_dispatched_at"], body["failure_reason"]) == (
        "in_progress",
        None,
        None,
    )
    assert body["webhook_result"] == phone_payload()


async def test_a_result_being_retried_shows_the_last_failure(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(503)
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    await worker(runtime, clock).run_once()
    body = body_of(await poll(client, tenant.master_key, request_id), 200)
    assert body["webhook_status"] == "in_progress"
    assert body["last_dispatched_at"] == "2026-01-15T12:00:00Z"
    assert body["failure_reason"] == "the webhook URL answered HTTP 503"


async def test_a_failed_delivery_keeps_its_result_pollable(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.answer(404)
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    await worker(runtime, clock).run_once()
    body = body_of(await poll(client, tenant.master_key, request_id), 200)
    assert (body["webhook_status"], body["failure_reason"]) == ("failed", "the webhook URL answered HTTP 404")
    assert body["webhook_result"] == phone_payload()


async def test_a_pending_result_says_when_to_poll_again(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    target = await validate_webhook_url(receiver.url, allow_private_networks=True)
    async with runtime.sessions() as session, session.begin():
        request_id = await open_request(session, team_id=tenant.team_id, target=target, now=clock.now())
    assert body_of(await poll(client, tenant.master_key, request_id), 404) == {
        "error_code": "result_pending",
        "retry_after_seconds": 10,
    }
    # The enrichment response's phone_enrichment object points at this poll.
    status = phone_enrichment_status(request_id)
    assert (status["request_id"], status["status"]) == (str(request_id), "pending")


async def test_an_expired_result(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    await worker(runtime, clock).run_once()
    clock.advance(RETENTION.total_seconds() - 1)
    assert body_of(await poll(client, tenant.master_key, request_id), 200)["webhook_status"] == "success"
    clock.advance(1)
    assert body_of(await poll(client, tenant.master_key, request_id), 410) == {
        "error_code": "request_id_expired"
    }
    # Once the expiry job has dropped the result, the answer stays the same.
    assert await worker(runtime, clock).run_once() == 1
    assert body_of(await poll(client, tenant.master_key, request_id), 410) == {
        "error_code": "request_id_expired"
    }


@pytest.mark.parametrize(
    "request_id",
    ["1039995589705121900", "-1039995589705121900", "0", "9223372036854775807", "-9223372036854775808"],
)
async def test_an_id_never_issued_is_unknown(
    client: httpx.AsyncClient, tenant: Tenant, request_id: str
) -> None:
    assert body_of(await poll(client, tenant.master_key, request_id), 404) == {
        "error_code": "request_id_unknown"
    }


@pytest.mark.parametrize(
    "request_id",
    [
        "abc",
        "12.5",
        "1e5",
        "0x10",
        "+12",
        "--1",
        " 12",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "64a7ff0cc4dfae00013df1a5",
    ],
)
async def test_an_id_that_is_not_a_signed_64_bit_integer_is_invalid(
    client: httpx.AsyncClient, tenant: Tenant, request_id: str
) -> None:
    assert body_of(await poll(client, tenant.master_key, request_id), 400) == {
        "error_code": "invalid_request_id"
    }


async def test_another_teams_request_answers_as_unknown(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    other = await make_tenant(runtime, clock, name="Umbrella")
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    mine = await poll(client, tenant.master_key, request_id)
    theirs = await poll(client, other.master_key, request_id)
    assert body_of(mine, 200)["request_id"] == str(request_id)
    assert body_of(theirs, 404) == {"error_code": "request_id_unknown"}
    # Even after expiry, another team learns nothing (not 410).
    clock.advance(RETENTION.total_seconds())
    assert body_of(await poll(client, other.master_key, request_id), 404) == {
        "error_code": "request_id_unknown"
    }


async def test_auth_scope_and_rate_limit_headers(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    unauthenticated = await client.get(f"/api/v1/webhook_result/{request_id}")
    assert unauthenticated.status_code == 401
    assert unauthenticated.text.startswith("Invalid API key.")

    other_scope = await make_scoped_key(runtime, clock, tenant, "api/v1/people/match")
    refused = body_of(await poll(client, other_scope, request_id), 403)
    assert refused["error_code"] == "API_INACCESSIBLE"
    assert SHOW_SCOPE in refused["error"]

    scoped = await make_scoped_key(runtime, clock, tenant, SHOW_SCOPE)
    allowed = await poll(client, scoped, request_id)
    assert body_of(allowed, 200)["webhook_status"] == "in_progress"
    assert "x-rate-limit-24-hour" in allowed.headers
    # Answers in Apollo's error states are authenticated answers too.
    assert "x-rate-limit-24-hour" in (await poll(client, scoped, "nope")).headers


async def test_the_api_key_may_come_in_the_query_string(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    request_id = await schedule(runtime, clock, tenant.team_id, receiver.url)
    response = await client.get(f"/v1/webhook_result/{request_id}", params={"api_key": tenant.master_key})
    assert body_of(response, 200)["request_id"] == str(request_id)


async def test_the_signing_secret_is_per_team_and_master_only(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, settings: Settings, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Hooli")
    mine = body_of(
        await client.get("/api/v1/webhooks/signing_secret", headers={"x-api-key": tenant.master_key}), 200
    )
    theirs = body_of(
        await client.get("/v1/webhooks/signing_secret", headers={"x-api-key": other.master_key}), 200
    )
    assert mine["signature_header"] == "X-Perilune-Signature"
    assert mine["signing_secret"].startswith("whsec_")
    assert mine["signing_secret"] != theirs["signing_secret"]
    scoped = await make_scoped_key(runtime, clock, tenant, SHOW_SCOPE, "api/v1/webhooks/signing_secret")
    refused = await client.get("/api/v1/webhooks/signing_secret", headers={"x-api-key": scoped})
    assert body_of(refused, 403)["error_code"] == "API_INACCESSIBLE"

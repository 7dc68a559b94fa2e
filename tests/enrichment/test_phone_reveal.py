"""reveal_phone_number end to end: the webhook_url checked before any work, the phone numbers
delivered later by a signed POST to a real receiver on loopback, and the same result at
GET /webhook_result/{request_id}."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from perilune.app import create_app
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.runtime import Runtime
from perilune.webhooks import MISSING_WEBHOOK_URL, verify_signature
from tests.conftest import Tenant, asgi_client
from tests.enrichment.conftest import ROBERT, TIM, TIM_MOBILE
from tests.enrichment.support import answer, call, ledger, reveals, webhook_requests
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import worker

pytestmark = pytest.mark.usefixtures("repository")


async def signing_secret(client: httpx.AsyncClient, key: str) -> str:
    secret: str = (await answer(client, key, "/webhooks/signing_secret", method="GET"))["signing_secret"]
    return secret


async def test_a_phone_reveal_is_delivered_signed_and_pollable(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    params = {"email": "tim@apollo.io", "reveal_phone_number": True, "webhook_url": receiver.url}
    body = await answer(client, tenant.master_key, "/people/match", params)
    request_id = body["request_id"]
    assert isinstance(request_id, int)
    assert body["phone_enrichment"]["request_id"] == str(request_id)
    assert body["phone_enrichment"]["status"] == "pending"
    # The answer itself shows the switchboard only; the mobile goes to the webhook.
    assert [p["type"] for p in body["person"]["phone_numbers"]] == ["work_hq"]
    assert receiver.received == []

    assert await worker(runtime, clock).run_once() == 1

    [delivery] = receiver.received
    secret = await signing_secret(client, tenant.master_key)
    header = delivery.headers["x-perilune-signature"]
    assert verify_signature(secret, header, delivery.body, now=clock.now().timestamp())
    assert delivery.headers["x-perilune-request-id"] == str(request_id)
    sent = json.loads(delivery.body)
    assert (sent["status"], sent["total_requested_enrichments"], sent["missing_records"]) == ("success", 1, 0)
    assert (sent["unique_enriched_records"], sent["credits_consumed"]) == (1, 9)
    [person] = sent["people"]
    assert person["id"] == TIM
    assert [(p["raw_number"], p["type_cd"]) for p in person["phone_numbers"]] == [
        ("+1 415-640-9303", "work_hq"),
        (TIM_MOBILE, "mobile"),
    ]

    polled = await answer(client, tenant.master_key, f"/webhook_result/{request_id}", method="GET")
    assert (polled["request_id"], polled["webhook_status"], polled["request_type"]) == (
        str(request_id),
        "success",
        "phone",
    )
    assert polled["webhook_result"] == sent


async def test_a_bulk_phone_reveal_sends_one_webhook_for_everyone_found(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    details: list[dict[str, Any]] = [
        {"email": "tim@apollo.io"},
        {"email": "nobody@nowhere.example"},
        {"email": "robert.mueller@stonebridge-logistics.de"},
        {"email": "roy@apollo.io"},  # no phone: found, but no mobile credit
    ]
    params = {"details": details, "reveal_phone_number": "true", "webhook_url": receiver.url}
    body = await answer(client, tenant.master_key, "/people/bulk_match", params)
    assert body["credits_consumed"] == 3 + 2 * 8
    assert body["phone_enrichment"]["request_id"] == str(body["request_id"])

    await worker(runtime, clock).run_once()
    [delivery] = receiver.received
    sent = json.loads(delivery.body)
    assert [p["id"] for p in sent["people"]] == [TIM, ROBERT, "611c931f1b404b00014e884c"]
    assert [len(p["phone_numbers"]) for p in sent["people"]] == [2, 1, 0]
    assert (sent["total_requested_enrichments"], sent["missing_records"], sent["credits_consumed"]) == (
        4,
        1,
        19,
    )
    assert sent["unique_enriched_records"] == 2  # the people with numbers


async def test_nobody_found_means_no_webhook(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    params = {"email": "nobody@nowhere.example", "reveal_phone_number": True, "webhook_url": receiver.url}
    assert await answer(client, tenant.master_key, "/people/match", params) == {"person": {}}
    assert await webhook_requests(runtime, tenant.team_id) == []


@pytest.mark.parametrize("webhook_url", [None, "", "   "], ids=["absent", "empty", "blank"])
async def test_a_phone_reveal_needs_a_webhook_url(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, webhook_url: str | None
) -> None:
    params: dict[str, Any] = {"email": "tim@apollo.io", "reveal_phone_number": True}
    if webhook_url is not None:
        params["webhook_url"] = webhook_url
    for path, body in (("/people/match", params), ("/people/bulk_match", {**params, "details": [params]})):
        response = await call(client, tenant.master_key, path, body)
        assert response.status_code == 422, path
        assert response.json() == {"error": MISSING_WEBHOOK_URL}
    assert (
        MISSING_WEBHOOK_URL == "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
    )
    assert await ledger(runtime, tenant.team_id) == []
    assert await reveals(runtime, tenant.team_id) == set()


async def test_a_webhook_url_is_ignored_without_a_phone_reveal(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    params = {"email": "tim@apollo.io", "webhook_url": "not a url"}
    body = await answer(client, tenant.master_key, "/people/match", params)
    assert body["person"]["id"] == TIM
    assert "request_id" not in body and "phone_enrichment" not in body
    assert await webhook_requests(runtime, tenant.team_id) == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://[::1]/hook", "http://169.254.169.254/latest", "ftp://example.com/x"],
)
async def test_a_refused_webhook_url_costs_nothing(
    settings: Settings, clock: FrozenClock, tenant: Tenant, url: str
) -> None:
    # A second app on the same database (the repository and the tenant are there), whose
    # operator has not allowed private networks (the other tests' settings do).
    app = create_app(settings.model_copy(update={"webhook_allow_private_networks": False}), clock)
    async with LifespanManager(app), asgi_client(app) as client:
        runtime: Runtime = app.state.runtime
        params = {"email": "tim@apollo.io", "reveal_phone_number": True, "webhook_url": url}
        response = await call(client, tenant.master_key, "/people/match", params)
        assert response.status_code == 422
        assert response.json()["error"].startswith("webhook_url")
        assert await ledger(runtime, tenant.team_id) == []
        assert await reveals(runtime, tenant.team_id) == set()
        assert await webhook_requests(runtime, tenant.team_id) == []

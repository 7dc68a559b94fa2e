"""What people and organization enrichment cost: 1 lead credit per person or organization
found, 8 direct-dial (mobile) credits more per person with a number beyond the switchboard when
phones are revealed, nothing for a miss; the ledger and credit_usage_stats agree; a team short
of credits gets Apollo's answer and nothing else changes."""

from __future__ import annotations

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant, spend_credits
from tests.enrichment.conftest import CATHERINE, TIM
from tests.enrichment.support import answer, call, consumed, ledger, reveals, webhook_requests
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.usefixtures("repository")

INSUFFICIENT = {"error": "Insufficient credits. Please upgrade your plan."}
MATCH = "api/v1/people/match"
BULK_MATCH = "api/v1/people/bulk_match"


async def test_a_match_costs_one_lead_credit(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    await answer(client, tenant.master_key, "/people/match", {"email": "tim@apollo.io"})
    assert await ledger(runtime, tenant.team_id) == [("lead_credit", 1, MATCH)]
    stats = await consumed(client, tenant.master_key)
    assert (stats["lead_credit"], stats["direct_dial_credit"]) == (1, 0)
    assert sum(stats.values()) == 1


async def test_a_phone_reveal_costs_eight_mobile_credits_only_for_a_number(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    reveal = {"reveal_phone_number": True, "webhook_url": receiver.url}
    await answer(client, tenant.master_key, "/people/match", {"email": "tim@apollo.io", **reveal})
    # Catherine has no phone number at all: the reveal finds nothing to charge for.
    await answer(client, tenant.master_key, "/people/match", {"email": "catherine@apollo.io", **reveal})
    assert sorted(await ledger(runtime, tenant.team_id)) == [
        ("direct_dial_credit", 8, MATCH),
        ("lead_credit", 1, MATCH),
        ("lead_credit", 1, MATCH),
    ]
    stats = await consumed(client, tenant.master_key)
    assert (stats["lead_credit"], stats["direct_dial_credit"]) == (2, 8)


async def test_bulk_credits_consumed_agrees_with_the_ledger(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    details = [
        {"email": "tim@apollo.io"},
        {"first_name": "Bob", "last_name": "Mueller", "domain": "stonebridge-logistics.de"},
        {"email": "catherine@apollo.io"},
        {"email": "nobody@nowhere.example"},
    ]
    params = {"details": details, "reveal_phone_number": True, "webhook_url": receiver.url}
    body = await answer(client, tenant.master_key, "/people/bulk_match", params)
    assert (body["unique_enriched_records"], body["missing_records"], body["credits_consumed"]) == (3, 1, 19)
    assert sorted(await ledger(runtime, tenant.team_id)) == [
        ("direct_dial_credit", 16, BULK_MATCH),
        ("lead_credit", 3, BULK_MATCH),
    ]
    stats = await consumed(client, tenant.master_key)
    assert stats["lead_credit"] + stats["direct_dial_credit"] == body["credits_consumed"]


async def test_out_of_lead_credits_gets_apollos_answer_and_no_data(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await spend_credits(runtime, clock, tenant.team_id, "lead_credit", 10_000)
    spent = await ledger(runtime, tenant.team_id)
    for path, body in (
        ("/people/match", {"email": "tim@apollo.io"}),
        ("/people/bulk_match", {"details": [{"email": "tim@apollo.io"}]}),
    ):
        response = await call(client, tenant.master_key, path, body)
        assert response.status_code == 422, path
        assert response.json() == INSUFFICIENT
        assert "tim@apollo.io" not in response.text
    assert await ledger(runtime, tenant.team_id) == spent
    assert await reveals(runtime, tenant.team_id) == set()
    # A miss costs nothing, so it is still answered.
    assert await answer(client, tenant.master_key, "/people/match", {"email": "no@nowhere.example"}) == {
        "person": {}
    }


async def test_out_of_mobile_credits_reveals_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, receiver: Receiver
) -> None:
    # The free plan has 5 direct-dial credits a month: fewer than one mobile costs.
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    params = {"email": "tim@apollo.io", "reveal_phone_number": True, "webhook_url": receiver.url}
    response = await call(client, free.master_key, "/people/match", params)
    assert response.status_code == 422
    assert response.json() == INSUFFICIENT
    assert await ledger(runtime, free.team_id) == []
    assert await reveals(runtime, free.team_id) == set()
    assert await webhook_requests(runtime, free.team_id) == []

    # Without the phones the same person costs the one lead credit the team has.
    person = (await answer(client, free.master_key, "/people/match", {"email": "tim@apollo.io"}))["person"]
    assert person["email"] == "tim@apollo.io"
    assert await ledger(runtime, free.team_id) == [("lead_credit", 1, MATCH)]
    assert await reveals(runtime, free.team_id) == {TIM}


async def test_a_bulk_request_is_charged_whole_or_not_at_all(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    # Two credits left, three people found: nobody is revealed, nothing is spent.
    await spend_credits(runtime, clock, tenant.team_id, "lead_credit", 9_998)
    spent = await ledger(runtime, tenant.team_id)
    details = [{"email": "tim@apollo.io"}, {"email": "catherine@apollo.io"}, {"email": "roy@apollo.io"}]
    response = await call(client, tenant.master_key, "/people/bulk_match", {"details": details})
    assert (response.status_code, response.json()) == (422, INSUFFICIENT)
    assert await ledger(runtime, tenant.team_id) == spent
    assert await reveals(runtime, tenant.team_id) == set()
    two = await answer(client, tenant.master_key, "/people/bulk_match", {"details": details[:2]})
    assert [m["id"] for m in two["matches"]] == [TIM, CATHERINE]
    assert (await consumed(client, tenant.master_key))["lead_credit"] == 10_000


async def test_organization_enrichment_out_of_credits(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    await spend_credits(runtime, clock, tenant.team_id, "lead_credit", 10_000)
    spent = await ledger(runtime, tenant.team_id)
    found = await client.get(
        "/api/v1/organizations/enrich?domain=apollo.io", headers={"x-api-key": tenant.master_key}
    )
    assert (found.status_code, found.json()) == (422, INSUFFICIENT)
    bulk = await call(client, tenant.master_key, "/organizations/bulk_enrich", {"domains": ["apollo.io"]})
    assert (bulk.status_code, bulk.json()) == (422, INSUFFICIENT)
    # Nothing found costs nothing, so it is still answered.
    assert (
        await answer(client, tenant.master_key, "/organizations/enrich", {"domain": "nowhere.example"}) == {}
    )
    assert await ledger(runtime, tenant.team_id) == spent

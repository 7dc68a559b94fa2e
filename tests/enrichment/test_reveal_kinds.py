"""What a match reveals, kind by kind, and what GET /people/{id} shows afterwards (SQLite and
PostgreSQL): the work email with every match, the direct numbers only after a charged phone
reveal, the personal emails only after asking for them outside GDPR regions; later matches only
ever add kinds."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.runtime import Runtime
from tests.conftest import Tenant
from tests.enrichment.conftest import CATHERINE, MARIA, ROBERT, ROY, TIM, TIM_MOBILE
from tests.enrichment.support import answer, matched, reveal_kinds
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import worker

pytestmark = pytest.mark.usefixtures("repository")

SWITCHBOARD = "+1 415-640-9303"
# The fields of a person object that depend on what the team revealed.
REVEALED_FIELDS = ("email", "email_status", "hashed_email", "revealed_for_current_team", "personal_emails")


async def shown(client: httpx.AsyncClient, key: str, person_id: str) -> dict[str, Any]:
    person: dict[str, Any] = (await answer(client, key, f"/people/{person_id}", method="GET"))["person"]
    return person


def numbers(person: dict[str, Any]) -> list[str]:
    return [phone["raw_number"] for phone in person["phone_numbers"]]


def revealed_fields(person: dict[str, Any]) -> dict[str, Any]:
    return {name: person[name] for name in REVEALED_FIELDS}


async def test_an_email_match_shows_the_email_but_no_mobile_and_no_personal_emails(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    answered = await matched(client, tenant.master_key, {"email": "tim@apollo.io"})
    after = await shown(client, tenant.master_key, TIM)
    assert (after["email"], after["revealed_for_current_team"]) == ("tim@apollo.io", True)
    assert numbers(after) == [SWITCHBOARD]
    assert after["personal_emails"] == []
    assert TIM_MOBILE not in json.dumps(after) and "tim.zheng@gmail.com" not in json.dumps(after)
    # The match's answer and GET /people/{id} agree on everything the reveal decides.
    assert revealed_fields(after) == revealed_fields(answered)
    assert after["phone_numbers"] == answered["phone_numbers"]
    assert await reveal_kinds(runtime, tenant.team_id) == {TIM: (False, False)}


async def test_a_phone_reveal_shows_the_numbers_from_then_on(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, receiver: Receiver
) -> None:
    params = {"email": "tim@apollo.io", "reveal_phone_number": True, "webhook_url": receiver.url}
    answered = (await answer(client, tenant.master_key, "/people/match", params))["person"]
    # The answer keeps the switchboard only: the numbers paid for go to the webhook...
    assert numbers(answered) == [SWITCHBOARD]
    after = await shown(client, tenant.master_key, TIM)
    # ...and GET /people/{id} shows the same numbers the webhook carries.
    assert numbers(after) == [SWITCHBOARD, TIM_MOBILE]
    assert after["personal_emails"] == []  # not asked for
    assert revealed_fields(after) == revealed_fields(answered)
    await worker(runtime, clock).run_once()
    [delivery] = receiver.received
    [sent] = json.loads(delivery.body)["people"]
    assert [phone["raw_number"] for phone in sent["phone_numbers"]] == numbers(after)
    assert await reveal_kinds(runtime, tenant.team_id) == {TIM: (True, False)}


async def test_a_phone_reveal_without_a_number_to_charge_for_reveals_no_phones(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    params = {"email": "catherine@apollo.io", "reveal_phone_number": True, "webhook_url": receiver.url}
    body = await answer(client, tenant.master_key, "/people/match", params)
    assert body["person"]["id"] == CATHERINE
    # No direct number, no mobile credit charged: the reveal is the email's alone.
    assert await reveal_kinds(runtime, tenant.team_id) == {CATHERINE: (False, False)}


PERSONAL = {
    "outside a GDPR region": ("tim@apollo.io", TIM, ["tim.zheng@gmail.com"], True),
    "in Germany": ("robert.mueller@stonebridge-logistics.de", ROBERT, [], False),
    "country unknown": ("maria@braingenie.com", MARIA, [], False),
}


@pytest.mark.parametrize("case", PERSONAL.values(), ids=PERSONAL.keys())
async def test_a_personal_email_reveal_shows_them_outside_gdpr_regions_only(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, case: tuple[str, str, list[str], bool]
) -> None:
    email, person_id, expected, flagged = case
    answered = await matched(client, tenant.master_key, {"email": email, "reveal_personal_emails": True})
    after = await shown(client, tenant.master_key, person_id)
    assert answered["personal_emails"] == after["personal_emails"] == expected
    assert revealed_fields(after) == revealed_fields(answered)
    assert after["phone_numbers"] == answered["phone_numbers"]
    # Robert's mobile was not paid for: a personal-email reveal does not show it.
    assert all(phone["type"] == "work_hq" for phone in after["phone_numbers"])
    assert await reveal_kinds(runtime, tenant.team_id) == {person_id: (False, flagged)}


async def test_a_later_email_match_never_clears_a_revealed_kind(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    everything = {
        "email": "tim@apollo.io",
        "reveal_phone_number": True,
        "reveal_personal_emails": True,
        "webhook_url": receiver.url,
    }
    await answer(client, tenant.master_key, "/people/match", everything)
    before = await shown(client, tenant.master_key, TIM)
    assert numbers(before) == [SWITCHBOARD, TIM_MOBILE]
    assert before["personal_emails"] == ["tim.zheng@gmail.com"]

    await matched(client, tenant.master_key, {"email": "tim@apollo.io"})
    await answer(client, tenant.master_key, "/people/bulk_match", {"details": [{"email": "tim@apollo.io"}]})

    after = await shown(client, tenant.master_key, TIM)
    assert numbers(after) == numbers(before)
    assert after["personal_emails"] == before["personal_emails"]
    assert await reveal_kinds(runtime, tenant.team_id) == {TIM: (True, True)}


async def test_kinds_add_up_over_requests(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    await matched(client, tenant.master_key, {"email": "tim@apollo.io", "reveal_personal_emails": True})
    phone = {"reveal_phone_number": True, "webhook_url": receiver.url}
    await answer(client, tenant.master_key, "/people/match", {"email": "tim@apollo.io", **phone})
    after = await shown(client, tenant.master_key, TIM)
    assert numbers(after) == [SWITCHBOARD, TIM_MOBILE]
    assert after["personal_emails"] == ["tim.zheng@gmail.com"]
    assert await reveal_kinds(runtime, tenant.team_id) == {TIM: (True, True)}


async def test_a_bulk_match_records_each_persons_kinds(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    # Roy revealed before, email only: the bulk request adds kinds to his row too.
    await matched(client, tenant.master_key, {"email": "roy@apollo.io"})
    details = [
        {"email": "tim@apollo.io"},
        {"email": "robert.mueller@stonebridge-logistics.de"},
        {"email": "roy@apollo.io"},
    ]
    params = {
        "details": details,
        "reveal_phone_number": True,
        "reveal_personal_emails": True,
        "webhook_url": receiver.url,
    }
    body = await answer(client, tenant.master_key, "/people/bulk_match", params)
    # Tim: a mobile and personal emails. Robert: a mobile, in Germany. Roy: no number at all.
    assert await reveal_kinds(runtime, tenant.team_id) == {
        TIM: (True, True),
        ROBERT: (True, False),
        ROY: (False, True),
    }
    for answered in body["matches"]:
        after = await shown(client, tenant.master_key, answered["id"])
        assert after["personal_emails"] == answered["personal_emails"]
    assert numbers(await shown(client, tenant.master_key, ROBERT)) == ["+49 40 5555 0123"]

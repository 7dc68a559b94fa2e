"""Call records against a real database (SQLite and PostgreSQL): POST /phone_calls, PUT
/phone_calls/{id} and GET /phone_calls/search (master keys only): the spec's query-string
requests and the other dialects, the documented fields, errors, search filters and facets on
calls whose right answers are known, and team isolation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.models import Contact, Label, LabelMembership, PhoneCall
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok
from tests.crm.test_tasks import add_contact

CALL_FIELDS = {
    "id", "user_id", "account_id", "contact_id", "voice_setting_id", "phone_call_outcome_id",
    "phone_call_purpose_id", "recording_url", "twilio_call_sid", "call_identifier", "agent_call_sid",
    "inbound", "from_number", "to_number", "start_time", "end_time", "transcription_too_long",
    "twilio_recording_sid", "need_recording_upload", "logged", "note", "status", "outreach_task_id",
    "salesforce_id", "hubspot_id", "conference_id", "opportunity_id", "voicemail_dropped",
    "parallel_dial_item_id", "transcribed", "transcribing", "transcription_progress", "note_text", "duration",
}  # fmt: skip
OUTCOME = "6095a710bd01d100a506d4c5"
PURPOSE = "6095a710bd01d100a506d4cd"


async def log_call(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/phone_calls", key, params))
    phone_call: dict[str, Any] = body["phone_call"]
    return phone_call


async def stored(runtime: Runtime, call_id: str) -> PhoneCall:
    async with runtime.sessions() as session:
        found = await session.get(PhoneCall, call_id)
        assert found is not None
        return found


@pytest.fixture
async def john(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> str:
    return await add_contact(runtime, clock, tenant.team_id, account="Apollo.io")


# -- POST /phone_calls ------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_log_a_call_as_the_spec_does(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, prefix: str, dialect: str
) -> None:
    params = {
        "logged": True,
        "user_id": [tenant.user_id],
        "contact_id": john,
        "to_number": "5555550164",
        "status": "completed",
        "start_time": "2025-06-23T19:50:57Z",
        "duration": 45,
        "phone_call_purpose_id": PURPOSE,
        "phone_call_outcome_id": OUTCOME,
        "note": "Interested in the new product line.",
    }
    body = await ok(
        await call(client, "POST", f"{prefix}/phone_calls", tenant.master_key, params, dialect=dialect)
    )
    assert set(body) == {"phone_call", "contact", "team"}
    assert body["team"] == {"id": tenant.team_id, "phone_calls_finder_empty": False}
    phone_call = body["phone_call"]
    assert set(phone_call) == CALL_FIELDS | {"contact", "account"}
    assert (
        phone_call["user_id"],
        phone_call["contact_id"],
        phone_call["status"],
        phone_call["duration"],
    ) == (
        tenant.user_id,
        john,
        "completed",
        45,
    )
    assert (phone_call["start_time"], phone_call["end_time"]) == (
        "2025-06-23T19:50:57.000+00:00",
        "2025-06-23T19:51:42.000+00:00",
    )
    assert (phone_call["phone_call_outcome_id"], phone_call["phone_call_purpose_id"]) == (OUTCOME, PURPOSE)
    assert (phone_call["logged"], phone_call["inbound"], phone_call["to_number"]) == (
        True,
        False,
        "5555550164",
    )
    assert phone_call["note_text"] == "Interested in the new product line."
    assert body["contact"] == phone_call["contact"] and body["contact"]["id"] == john
    assert (
        phone_call["account"]["name"] == "Apollo.io"
        and phone_call["account_id"] == phone_call["account"]["id"]
    )
    # The call is the contact's latest activity.
    async with runtime.sessions() as session:
        contact = await session.get(Contact, john)
        assert contact is not None and contact.last_activity_date == datetime(
            2025, 6, 23, 19, 50, 57, tzinfo=UTC
        )
    [event] = await events(runtime, tenant.team_id, "phone_call.")
    assert (event.type, event.entity_id, event.payload) == (
        "phone_call.created",
        phone_call["id"],
        phone_call,
    )


async def test_a_bare_call_gets_the_caller_and_now(client: httpx.AsyncClient, tenant: Tenant) -> None:
    phone_call = await log_call(client, tenant.master_key)
    assert (phone_call["user_id"], phone_call["status"], phone_call["logged"]) == (
        tenant.user_id,
        "completed",
        True,
    )
    assert phone_call["start_time"] == phone_call["end_time"] == "2026-01-15T12:00:00.000+00:00"
    assert "contact" not in phone_call and phone_call["contact_id"] is None


async def test_a_call_given_start_and_end_lasted_between_them(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    phone_call = await log_call(
        client, tenant.master_key, start_time="2025-03-25T10:15:30+05:00Z", end_time="2025-03-25T05:17:00Z"
    )
    assert (phone_call["start_time"], phone_call["duration"]) == ("2025-03-25T05:15:30.000+00:00", 90)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"status": "hung-up"}, "status must be one of: queued, ringing"),
        ({"start_time": "noonish"}, "start_time must be an ISO 8601 date-time"),
        ({"duration": "two minutes"}, "duration must be a whole number of seconds"),
        ({"duration": -5}, "duration must be a whole number of seconds"),
        (
            {"phone_call_outcome_id": "left-voicemail"},
            "Parameters misconfigured. left-voicemail is not a valid ID",
        ),
    ],
)
async def test_create_errors(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/phone_calls", tenant.master_key, params)
    assert response.status_code == 422 and response.json()["error"].startswith(error)
    assert await events(runtime, tenant.team_id, "phone_call.") == []


async def test_only_the_teams_users_contacts_and_accounts(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    theirs = await add_contact(runtime, clock, other.team_id)
    for params, bad in (({"contact_id": theirs}, theirs), ({"user_id": [other.user_id]}, other.user_id)):
        response = await call(client, "POST", "/api/v1/phone_calls", tenant.master_key, params)
        assert response.json() == {"error": f"Parameters misconfigured. {bad} is not a valid ID"}


async def test_call_records_need_a_master_key(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(
        runtime,
        clock,
        tenant,
        "api/v1/phone_calls/create",
        "api/v1/phone_calls/update",
        "api/v1/phone_calls/search",
    )
    for method, path in (("POST", "/api/v1/phone_calls"), ("GET", "/api/v1/phone_calls/search")):
        response = await call(client, method, path, key, dialect="query")
        assert response.status_code == 403 and response.json()["error_code"] == "API_INACCESSIBLE"


# -- PUT /phone_calls/{id} --------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_update_a_call(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, john: str, dialect: str
) -> None:
    created = await log_call(client, tenant.master_key, status="ringing", duration=0)
    params = {"status": "completed", "duration": 120, "note": "Booked a demo", "contact_id": john}
    body = await ok(
        await call(
            client, "PUT", f"/v1/phone_calls/{created['id']}", tenant.master_key, params, dialect=dialect
        )
    )
    assert set(body) == {"phone_call", "contact"}
    phone_call = body["phone_call"]
    assert (phone_call["status"], phone_call["duration"], phone_call["note"], phone_call["contact_id"]) == (
        "completed",
        120,
        "Booked a demo",
        john,
    )
    assert phone_call["start_time"] == created["start_time"] and phone_call["account"]["name"] == "Apollo.io"
    assert [e.type for e in await events(runtime, tenant.team_id, "phone_call.")] == [
        "phone_call.created",
        "phone_call.updated",
    ]


async def test_update_of_a_call_the_team_lacks_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Globex")
    theirs = await log_call(client, other.master_key, note="Private")
    for call_id in (theirs["id"], new_id()):
        response = await call(
            client, "PUT", f"/api/v1/phone_calls/{call_id}", tenant.master_key, {"note": "Mine"}
        )
        assert response.json() == {"error": f"Parameters misconfigured. {call_id} is not a valid ID"}
    assert (await stored(runtime, theirs["id"])).note == "Private"


# -- GET /phone_calls/search ------------------------------------------------------------------


@pytest.fixture
async def calls(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, john: str
) -> dict[str, Any]:
    """Five calls with known dates, durations, directions, outcomes and contacts."""
    jane = await add_contact(runtime, clock, tenant.team_id, "Jane Doe")
    book = {
        "a": {
            "start_time": "2025-04-02T10:00:00Z",
            "duration": 30,
            "contact_id": john,
            "phone_call_outcome_id": OUTCOME,
        },
        "b": {"start_time": "2025-05-10T10:00:00Z", "duration": 200, "contact_id": jane, "inbound": True},
        "c": {"start_time": "2025-06-12T22:35:29Z", "duration": 0, "status": "no-answer"},
        "d": {"start_time": "2025-03-01T10:00:00Z", "duration": 90, "contact_id": john, "inbound": True},
        "e": {
            "start_time": "2025-06-20T10:00:00Z",
            "duration": 10,
            "status": "in-progress",
            "to_number": "+14155550181",
        },
    }
    ids = {
        name: (await log_call(client, tenant.master_key, note=name, **params))["id"]
        for name, params in book.items()
    }
    async with runtime.sessions() as session, session.begin():
        label = Label(
            id=new_id(),
            team_id=tenant.team_id,
            name="Hot",
            modality="contacts",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(label)
        await session.flush()
        session.add(
            LabelMembership(label_id=label.id, entity_id=jane, team_id=tenant.team_id, entity_type="contact")
        )
    return {"ids": ids, "label": label.id, "john": john, "jane": jane}


async def found(client: httpx.AsyncClient, key: str, params: dict[str, Any]) -> list[str | None]:
    body = await ok(await call(client, "GET", "/api/v1/phone_calls/search", key, params, dialect="query"))
    return [phone_call["note"] for phone_call in body["phone_calls"]]


async def test_the_spec_search_with_a_date_range(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, calls: dict[str, Any]
) -> None:
    clock.set(datetime(2025, 6, 12, 18, tzinfo=UTC))
    params = {"date_range": {"min": "2025-04-01", "max": "2025-06-12"}, "page": 1, "per_page": 5}
    body = await ok(
        await call(client, "GET", "/api/v1/phone_calls/search", tenant.master_key, params, dialect="query")
    )
    assert set(body) == {
        "pagination",
        "breadcrumbs",
        "phone_calls",
        "faceting",
        "pipeline_total",
        "num_fetch_result",
    }
    assert [phone_call["note"] for phone_call in body["phone_calls"]] == ["c", "b", "a"]
    assert body["pagination"] == {"page": 1, "per_page": 5, "total_entries": 3, "total_pages": 1}
    assert body["breadcrumbs"] == [
        {
            "label": "Date",
            "signal_field_name": "date_range",
            "value": "2025-04-01",
            "display_name": "After Tue, Apr 01",
        },
        {
            "label": "Date",
            "signal_field_name": "date_range",
            "value": "2025-06-12",
            "display_name": "Before Today",
        },
    ]
    assert body["faceting"] == {
        "phone_call_stats_facets": [
            {"value": "active", "display_name": "Active Calls", "count": 0},
            {"value": OUTCOME, "display_name": OUTCOME, "count": 1},
            {"value": "other", "display_name": "No Disposition", "count": 2},
        ]
    }
    assert body["pipeline_total"] == 3
    # The spec spells the keys as query names; a JSON body may too.
    response = await call(
        client, "GET", "/api/v1/phone_calls/search", tenant.master_key,
        {"date_range[min]": "2025-04-01", "date_range[max]": "2025-06-12"},
    )  # fmt: skip
    assert [phone_call["note"] for phone_call in (await ok(response))["phone_calls"]] == ["c", "b", "a"]


async def test_search_filters(client: httpx.AsyncClient, tenant: Tenant, calls: dict[str, Any]) -> None:
    key = tenant.master_key
    assert await found(client, key, {}) == ["e", "c", "b", "a", "d"]
    assert await found(client, key, {"duration": {"min": 30, "max": 100}}) == ["a", "d"]
    assert await found(client, key, {"inbound": "incoming"}) == ["b", "d"]
    assert await found(client, key, {"inbound": "outgoing"}) == ["e", "c", "a"]
    assert await found(client, key, {"user_ids": [tenant.user_id]}) == ["e", "c", "b", "a", "d"]
    assert await found(client, key, {"user_ids": [new_id()]}) == []
    assert await found(client, key, {"phone_call_outcome_ids": [OUTCOME]}) == ["a"]
    assert await found(client, key, {"contact_label_ids": [calls["label"]]}) == ["b"]
    assert await found(client, key, {"contact_ids": [calls["john"]]}) == ["a", "d"]
    assert await found(client, key, {"q_keywords": "smith"}) == ["a", "d"]
    assert await found(client, key, {"q_keywords": "4155550181"}) == ["e"]
    body = await ok(
        await call(client, "GET", "/api/v1/phone_calls/search", key, {"status": "x"}, dialect="query")
    )
    assert body["faceting"]["phone_call_stats_facets"][0] == {
        "value": "active",
        "display_name": "Active Calls",
        "count": 1,
    }
    for bad in ({"inbound": "sideways"}, {"user_ids": ["nope"]}):
        response = await call(client, "GET", "/api/v1/phone_calls/search", key, bad, dialect="query")
        assert response.status_code == 422


async def test_pagination_and_isolation(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, calls: dict[str, Any]
) -> None:
    seen: list[str | None] = []
    for page in (1, 2, 3):
        seen += await found(client, tenant.master_key, {"page": page, "per_page": 2})
    assert seen == ["e", "c", "b", "a", "d"]
    other = await make_tenant(runtime, clock, name="Globex")
    assert await found(client, other.master_key, {}) == []
    assert await found(client, other.master_key, {"contact_ids": [calls["john"]]}) == []

"""POST /contacts, GET/PUT/PATCH /contacts/{id} and GET /contact_stages against a real database
(SQLite and PostgreSQL): the documented requests in each dialect, the documented fields, Apollo's
error answers, the phone rule, run_dedupe, lists, events and Idempotency-Key."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from perilune.clock import FrozenClock
from perilune.models import Contact, ContactStage, Label, User
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, events, ok, team_contacts

APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Every field of the legacy docs' create answer (and of the spec's), present on each contact.
LEGACY_CONTACT_FIELDS = {
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "contact_stage_id", "owner_id",
    "person_id", "email_needs_tickling", "organization_name", "source", "original_source",
    "organization_id", "headline", "photo_url", "present_raw_address", "linkedin_uid",
    "extrapolated_email_confidence", "salesforce_id", "salesforce_lead_id", "salesforce_contact_id",
    "salesforce_account_id", "salesforce_owner_id", "created_at", "lead_request_id",
    "test_predictive_score", "emailer_campaign_ids", "email_manually_changed", "direct_dial_status",
    "direct_dial_enrichment_failed_at", "email_status", "account_id", "last_activity_date",
    "hubspot_vid", "hubspot_company_id", "sanitized_phone", "merged_crm_ids", "typed_custom_fields",
    "updated_at", "queued_for_crm_push", "starred_by_user_ids", "suggested_from_rule_engine_config_id",
    "label_ids", "has_pending_email_arcgate_request", "has_email_arcgate_request", "existence_level",
    "email", "contact_campaign_statuses", "next_contact_id", "time_zone", "city", "state", "country",
    "phone_numbers", "account_phone_note",
}  # fmt: skip
SPEC_CONTACT_FIELDS = {
    "contact_roles", "creator_id", "crm_owner_id", "email_source", "crm_id", "email_unsubscribed",
    "email_from_customer", "custom_field_errors", "crm_record_url", "email_status_unavailable_reason",
    "email_true_status", "updated_email_true_status", "contact_rule_config_statuses",
    "source_display_name", "twitter_url", "contact_emails", "show_intent", "free_domain",
    "is_likely_to_engage", "email_domain_catchall",
}  # fmt: skip
LIST_FIELDS = ("emailer_campaign_ids", "merged_crm_ids", "label_ids", "phone_numbers", "contact_emails")
JON = {"first_name": "Jon", "last_name": "Snow", "title": "Lord Commander", "organization_name": "Westeros"}


async def create(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/contacts", key, params))
    contact: dict[str, Any] = body["contact"]
    return contact


async def stage_ids(runtime: Runtime, team_id: str) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(ContactStage.name, ContactStage.id).where(ContactStage.team_id == team_id)
        )
        return {str(key): str(value) for key, value in rows}


# ---------------------------------------------------------------------------------------------
# POST /contacts


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_legacy_create_example_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, prefix: str, dialect: str
) -> None:
    response = await call(client, "POST", f"{prefix}/contacts", tenant.master_key, JON, dialect=dialect)
    body = await ok(response)
    assert set(body) == {"contact", "labels", "team"}
    assert body["labels"] == []
    assert body["team"] == {"id": tenant.team_id, "contacts_finder_empty": False}
    contact = body["contact"]
    assert set(contact) >= LEGACY_CONTACT_FIELDS | SPEC_CONTACT_FIELDS
    assert (contact["first_name"], contact["last_name"], contact["name"]) == ("Jon", "Snow", "Jon Snow")
    assert (contact["title"], contact["organization_name"]) == ("Lord Commander", "Westeros")
    assert (contact["source"], contact["original_source"], contact["source_display_name"]) == (
        "api",
        "api",
        "Created from API",
    )
    assert contact["owner_id"] == contact["creator_id"] == tenant.user_id
    assert contact["contact_stage_id"] == (await stage_ids(runtime, tenant.team_id))["New"]
    assert len(contact["id"]) == 24
    assert APOLLO_TIMESTAMP.match(contact["created_at"]) and contact["created_at"] == contact["updated_at"]
    assert contact["email"] is None and contact["email_status"] is None
    for name in LIST_FIELDS:
        assert contact[name] == [], name
    assert contact["typed_custom_fields"] == {} and contact["custom_field_errors"] == {}
    [stored] = await team_contacts(runtime, tenant.team_id)
    assert stored.id == contact["id"]


async def test_create_with_every_legacy_field(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    contact = await create(
        client,
        tenant.master_key,
        **JON,
        email="Jon.Snow@Westeros.com",
        website_url="http://www.westeros.com",
        label_names=["inbound contact", "smb clients"],
        present_raw_address="San Francisco",
        direct_phone="415-555-0101",
        corporate_phone="415-555-0102",
        mobile_phone="415-555-0103",
        home_phone="415-555-0104",
        other_phone="415-555-0105",
    )
    assert contact["email"] == "jon.snow@westeros.com"
    assert (contact["email_status"], contact["email_true_status"], contact["email_from_customer"]) == (
        "verified",
        "User Managed",
        True,
    )
    assert (contact["city"], contact["state"], contact["country"], contact["time_zone"]) == (
        "San Francisco",
        "California",
        "United States",
        "America/Los_Angeles",
    )
    assert contact["present_raw_address"] == "San Francisco"
    phones = contact["phone_numbers"]
    assert [(p["type"], p["raw_number"], p["sanitized_number"], p["position"]) for p in phones] == [
        ("work_direct", "415-555-0101", "+14155550101", 0),
        ("work_hq", "415-555-0102", "+14155550102", 1),
        ("mobile", "415-555-0103", "+14155550103", 2),
        ("home", "415-555-0104", "+14155550104", 3),
        ("other", "415-555-0105", "+14155550105", 4),
    ]
    assert contact["sanitized_phone"] == "+14155550101"
    assert all(p["status"] == "no_status" for p in phones)
    async with runtime.sessions() as session:
        lists = (await session.execute(select(Label).where(Label.team_id == tenant.team_id))).scalars().all()
    assert sorted((label.name, label.modality) for label in lists) == [
        ("inbound contact", "contacts"),
        ("smb clients", "contacts"),
    ]
    assert sorted(contact["label_ids"]) == sorted(label.id for label in lists)


async def test_label_names_create_lists_once_and_are_answered(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    first = await ok(
        await call(
            client, "POST", "/v1/contacts", tenant.master_key, {**JON, "label_names": ["writers", "fiction"]}
        )
    )
    assert sorted(label["name"] for label in first["labels"]) == ["fiction", "writers"]
    assert all(label["cached_count"] == 1 and label["modality"] == "contacts" for label in first["labels"])
    second = await ok(
        await call(
            client,
            "POST",
            "/v1/contacts",
            tenant.master_key,
            {"first_name": "Arya", "label_names": "writers"},
            dialect="form",
        )
    )
    [writers] = second["labels"]
    assert writers["id"] in {label["id"] for label in first["labels"] if label["name"] == "writers"}
    assert writers["cached_count"] == 2
    async with runtime.sessions() as session:
        count = len(
            (await session.execute(select(Label).where(Label.team_id == tenant.team_id))).scalars().all()
        )
    assert count == 2


async def test_an_invalid_email_is_ignored(client: httpx.AsyncClient, tenant: Tenant) -> None:
    contact = await create(client, tenant.master_key, first_name="Jon", email="not an email")
    assert contact["email"] is None and contact["email_status"] is None


@pytest.mark.parametrize("field", ["contact_stage_id", "account_id", "owner_id"])
async def test_ids_that_are_not_the_teams_are_apollos_422(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, field: str
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    foreign = {
        "contact_stage_id": (await stage_ids(runtime, other.team_id))["New"],
        "owner_id": other.user_id,
        "account_id": (await create_account(client, other.master_key))["id"],
    }[field]
    for value in (foreign, "2342432"):
        response = await call(client, "POST", "/api/v1/contacts", tenant.master_key, {**JON, field: value})
        assert response.status_code == 422
        assert response.json() == {"error": f"Parameters misconfigured. {value} is not a valid ID"}
    assert await team_contacts(runtime, tenant.team_id) == []


async def create_account(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/accounts", key, {"name": "Winterfell", **params}))
    account: dict[str, Any] = body["account"]
    return account


async def test_named_stage_account_and_owner_are_kept(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    stage = (await stage_ids(runtime, tenant.team_id))["Interested"]
    account = await create_account(client, tenant.master_key)
    async with runtime.sessions() as session, session.begin():
        colleague = User(
            team_id=tenant.team_id, email="sam@acme.test", first_name="Sam", created_at=clock.now()
        )
        session.add(colleague)
    contact = await create(
        client,
        tenant.master_key,
        **JON,
        contact_stage_id=stage,
        account_id=account["id"],
        owner_id=colleague.id,
    )
    assert (contact["contact_stage_id"], contact["account_id"], contact["owner_id"]) == (
        stage,
        account["id"],
        colleague.id,
    )
    assert contact["creator_id"] == tenant.user_id


# ---------------------------------------------------------------------------------------------
# run_dedupe


async def test_without_run_dedupe_a_duplicate_is_created(client: httpx.AsyncClient, tenant: Tenant) -> None:
    first = await create(client, tenant.master_key, **JON, email="jon@westeros.com")
    second = await create(client, tenant.master_key, **JON, email="jon@westeros.com")
    assert first["id"] != second["id"]


async def test_run_dedupe_matches_on_email_and_updates_in_place(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    first = await create(client, tenant.master_key, **JON, email="jon@westeros.com", mobile_phone="555-0100")
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts",
            tenant.master_key,
            {
                "email": "JON@westeros.com",
                "title": "King in the North",
                "organization_name": "",
                "run_dedupe": True,
            },
        )
    )
    assert body["dedupe_result"] == {
        "found_existing": True,
        "match_reason": "email_match",
        "existing_contact_id": first["id"],
    }
    contact = body["contact"]
    assert contact["id"] == first["id"]
    # Sent fields overwrite, an empty value clears, omitted fields stay.
    assert contact["title"] == "King in the North"
    assert contact["organization_name"] is None
    assert (contact["first_name"], contact["last_name"]) == ("Jon", "Snow")
    assert [p["raw_number"] for p in contact["phone_numbers"]] == ["555-0100"]
    assert len(await team_contacts(runtime, tenant.team_id)) == 1
    assert [e.type for e in await events(runtime, tenant.team_id)] == ["contact.created", "contact.updated"]


async def test_run_dedupe_matches_name_plus_company_even_with_another_email(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    first = await create(client, tenant.master_key, **JON, email="jon@westeros.com")
    params = {
        "first_name": "jon",
        "last_name": "SNOW",
        "organization_name": "westeros",
        "email": "lord@wall.org",
    }
    body = await ok(
        await call(client, "POST", "/api/v1/contacts", tenant.master_key, {**params, "run_dedupe": True})
    )
    assert body["dedupe_result"]["match_reason"] == "name_and_company_match"
    assert body["contact"]["id"] == first["id"]
    # The match came from name and company, so the email is overwritten.
    assert body["contact"]["email"] == "lord@wall.org"
    # Same name, another company: a new contact.
    other = {**params, "organization_name": "Dragonstone", "email": "jon@dragonstone.org", "run_dedupe": True}
    created = await ok(await call(client, "POST", "/api/v1/contacts", tenant.master_key, other))
    assert created["dedupe_result"] == {
        "found_existing": False,
        "match_reason": None,
        "existing_contact_id": None,
    }
    assert len(await team_contacts(runtime, tenant.team_id)) == 2


async def test_run_dedupe_never_matches_another_teams_contact(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    theirs = await create(client, other.master_key, **JON, email="jon@westeros.com")
    body = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts",
            tenant.master_key,
            {"id": theirs["id"], "email": "jon@westeros.com", "title": "Hijacked", "run_dedupe": True},
        )
    )
    assert body["dedupe_result"]["found_existing"] is False
    assert body["contact"]["id"] != theirs["id"]
    [untouched] = await team_contacts(runtime, other.team_id)
    assert untouched.title == "Lord Commander"


# ---------------------------------------------------------------------------------------------
# GET, PUT, PATCH /contacts/{id}


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_view_a_contact(client: httpx.AsyncClient, tenant: Tenant, prefix: str) -> None:
    created = await create(client, tenant.master_key, **JON, label_names=["north"])
    response = await client.get(
        f"{prefix}/contacts/{created['id']}", headers={"x-api-key": tenant.master_key}
    )
    body = await ok(response)
    assert set(body) == {"contact", "labels"}
    assert body["contact"] == created
    assert [label["name"] for label in body["labels"]] == ["north"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_the_update_example(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, method: str, dialect: str
) -> None:
    created = await create(client, tenant.master_key, first_name="Jonny")
    update = {**JON, "email": "jon.snow@westeros.com"}
    body = await ok(
        await call(
            client, method, f"/v1/contacts/{created['id']}", tenant.master_key, update, dialect=dialect
        )
    )
    assert set(body) == {"contact", "labels"}
    contact = body["contact"]
    assert contact["id"] == created["id"]
    assert (contact["name"], contact["email"], contact["email_status"]) == (
        "Jon Snow",
        "jon.snow@westeros.com",
        "verified",
    )
    assert contact["created_at"] == created["created_at"]
    [event] = await events(runtime, tenant.team_id, "contact.updated")
    assert event.entity_id == created["id"] and event.payload == contact


async def test_the_phone_rule_overwrites_a_type_or_adds_it(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create(
        client, tenant.master_key, first_name="Jon", mobile_phone="415-555-0103", home_phone="415-555-0104"
    )
    path = f"/api/v1/contacts/{created['id']}"
    body = await ok(
        await call(
            client,
            "PATCH",
            path,
            tenant.master_key,
            {"mobile_phone": "415-555-0199", "direct_phone": "415-555-0101"},
        )
    )
    phones = body["contact"]["phone_numbers"]
    assert [(p["type"], p["raw_number"], p["position"]) for p in phones] == [
        ("mobile", "415-555-0199", 0),
        ("home", "415-555-0104", 1),
        ("work_direct", "415-555-0101", 2),
    ]
    body = await ok(await call(client, "PUT", path, tenant.master_key, {"home_phone": ""}))
    assert [p["type"] for p in body["contact"]["phone_numbers"]] == ["mobile", "work_direct"]


async def test_label_names_on_update_replace_the_contacts_lists(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await create(client, tenant.master_key, first_name="Jon", label_names=["a", "b"])
    body = await ok(
        await call(
            client,
            "PATCH",
            f"/api/v1/contacts/{created['id']}",
            tenant.master_key,
            {"label_names": ["b", "c"]},
        )
    )
    assert sorted(label["name"] for label in body["labels"]) == ["b", "c"]
    assert len(body["contact"]["label_ids"]) == 2
    # Omitted: the lists stay.
    body = await ok(
        await call(client, "PATCH", f"/api/v1/contacts/{created['id']}", tenant.master_key, {"title": "x"})
    )
    assert sorted(label["name"] for label in body["labels"]) == ["b", "c"]


async def test_an_unknown_contact_is_apollos_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for method in ("GET", "PUT", "PATCH"):
        for contact_id in ("66e34b81740c50074e3d1bd4", "nope"):
            response = await call(
                client, method, f"/api/v1/contacts/{contact_id}", tenant.master_key, {"title": "x"}
            )
            assert response.status_code == 422, (method, contact_id)
            assert response.json() == {"error": "Oops! This contact does not exist in Apollo."}


async def test_another_teams_key_sees_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    mine = await create(client, tenant.master_key, **JON)
    other = await make_tenant(runtime, clock, name="Other")
    for method in ("GET", "PUT", "PATCH"):
        response = await call(
            client, method, f"/api/v1/contacts/{mine['id']}", other.master_key, {"title": "Mine now"}
        )
        assert response.status_code == 422
        assert "Jon" not in response.text
    [stored] = await team_contacts(runtime, tenant.team_id)
    assert stored.title == "Lord Commander"
    assert await events(runtime, other.team_id) == []


async def test_a_scoped_key_needs_the_endpoint_in_its_scope(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/contacts/show")
    response = await call(client, "POST", "/api/v1/contacts", key, JON)
    assert response.status_code == 403
    assert response.json()["error_code"] == "API_INACCESSIBLE"
    assert "api/v1/contacts/create" in response.json()["error"]


# ---------------------------------------------------------------------------------------------
# GET /contact_stages


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_contact_stages_are_apollos_defaults(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str
) -> None:
    body = await ok(await client.get(f"{prefix}/contact_stages", params={"api_key": tenant.master_key}))
    stages = body["contact_stages"]
    assert [s["name"] for s in stages] == [
        "New", "Approaching", "Replied", "Interested", "Not Interested", "Unresponsive",
        "Do Not Contact", "Bad Data", "Changed Job",
    ]  # fmt: skip
    assert [s["display_order"] for s in stages] == list(range(9))
    assert all(s["team_id"] == tenant.team_id and s["display_name"] == s["name"] for s in stages)
    assert set(stages[0]) == {
        "id", "team_id", "display_name", "name", "display_order", "ignore_trigger_override", "category",
        "is_meeting_set",
    }  # fmt: skip
    assert [s["category"] for s in stages][3:5] == ["succeeded", "failed"]


async def test_each_team_has_its_own_stages(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    mine = await ok(await client.get("/api/v1/contact_stages", headers={"x-api-key": tenant.master_key}))
    theirs = await ok(await client.get("/api/v1/contact_stages", headers={"x-api-key": other.master_key}))
    assert not {s["id"] for s in mine["contact_stages"]} & {s["id"] for s in theirs["contact_stages"]}


# ---------------------------------------------------------------------------------------------
# Idempotency-Key


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    headers = {"Idempotency-Key": "create-jon-1"}
    first = await call(client, "POST", "/api/v1/contacts", tenant.master_key, JON, headers=headers)
    # The same parameters in another dialect and under the other prefix are the same request.
    again = await call(
        client, "POST", "/v1/contacts", tenant.master_key, JON, headers=headers, dialect="form"
    )
    assert (await ok(again)) == (await ok(first))
    assert len(await team_contacts(runtime, tenant.team_id)) == 1
    assert len(await events(runtime, tenant.team_id)) == 1
    changed = await call(
        client, "POST", "/api/v1/contacts", tenant.master_key, {**JON, "title": "King"}, headers=headers
    )
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["error"]
    assert len(await team_contacts(runtime, tenant.team_id)) == 1


async def test_idempotency_keys_are_per_team_and_expire_after_a_day(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    other = await make_tenant(runtime, clock, name="Other")
    headers = {"Idempotency-Key": "k"}
    mine = await ok(await call(client, "POST", "/api/v1/contacts", tenant.master_key, JON, headers=headers))
    theirs = await ok(await call(client, "POST", "/api/v1/contacts", other.master_key, JON, headers=headers))
    assert mine["contact"]["id"] != theirs["contact"]["id"]
    clock.advance(24 * 3600 + 1)
    later = await ok(await call(client, "POST", "/api/v1/contacts", tenant.master_key, JON, headers=headers))
    assert later["contact"]["id"] != mine["contact"]["id"]
    assert len(await team_contacts(runtime, tenant.team_id)) == 2


async def test_without_a_key_every_request_creates(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    for _ in range(2):
        await create(client, tenant.master_key, **JON)
    assert len(await team_contacts(runtime, tenant.team_id)) == 2
    async with runtime.sessions() as session:
        stored = (
            await session.execute(select(Contact.keywords).where(Contact.team_id == tenant.team_id))
        ).scalars()
        assert set(stored) == {" jon snow lord commander westeros "}

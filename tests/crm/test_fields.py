"""GET/POST/PATCH /fields and GET /typed_custom_fields against a real database (SQLite and
PostgreSQL): the documented requests in each dialect, the documented fields, the errors, what
happens to stored values when picklist options go or merge, isolation and Idempotency-Key."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from perilune.clock import FrozenClock
from perilune.db.ids import new_id
from perilune.models import Contact, CustomField, Opportunity
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant
from tests.crm.crm_client import DIALECTS, PREFIXES, call, ok

APOLLO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# The legacy docs' and the spec's fields of a typed custom field.
TYPED_FIELDS = {
    "id", "modality", "name", "type", "picklist_options", "mapped_crm_field", "additional_mapped_crm_field",
    "is_readonly_mapped_crm_field", "picklist_options_last_synced_at", "picklist_value_set_id", "mirrored",
    "system_name", "text_field_max_length", "finder_view_ids", "is_local",
}  # fmt: skip
# The spec's fields of a field in GET /fields (custom fields add created_at and meta).
FIELD_FIELDS = {
    "id", "category", "context", "description", "editable", "example", "field_name", "group",
    "icon_class", "label", "modality", "parent", "source", "type", "finder_view_ids",
    "project_workspace_id", "finder_views", "is_local",
}  # fmt: skip
OPTION_FIELDS = {"_id", "mapped_crm_values", "name", "id", "key"}
RESERVED = "Field name with prefix 'powerup_' is not allowed. Please use another name."
NO_OPTIONS = "Picklist fields must have at least one option"
NOT_FOUND = "Some fields could not be found"
USE_MODALITIES = "Use contact, account or opportunity."
TWICE = [{"name": "A"}, {"name": "a"}]


async def create_field(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    body = await ok(await call(client, "POST", "/api/v1/fields", key, params))
    [field] = body["typed_custom_fields"]
    assert isinstance(field, dict)
    return field


async def patch(client: httpx.AsyncClient, key: str, *fields: dict[str, Any]) -> httpx.Response:
    return await call(client, "PATCH", "/api/v1/fields", key, {"fields": list(fields)})


async def stored_field(runtime: Runtime, field_id: str) -> CustomField:
    async with runtime.sessions() as session:
        field = await session.get(CustomField, field_id)
        assert field is not None
        return field


async def contact_with(runtime: Runtime, clock: FrozenClock, team_id: str, values: dict[str, Any]) -> str:
    now = clock.now()
    contact_id = new_id(now.timestamp())
    async with runtime.sessions() as session, session.begin():
        session.add(
            Contact(
                id=contact_id,
                team_id=team_id,
                name="Jon Snow",
                keywords="",
                typed_custom_fields=values,
                created_at=now,
                updated_at=now,
            )
        )
    return contact_id


async def values_of(runtime: Runtime, model: Any, record_id: str) -> dict[str, Any]:
    async with runtime.sessions() as session:
        record = await session.get(model, record_id)
        assert record is not None
        return dict(record.typed_custom_fields)


# ---------------------------------------------------------------------------------------------
# POST /fields


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_create_the_spec_example_in_each_dialect(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, dialect: str
) -> None:
    params = {"label": "Test Name", "modality": "contact", "type": "textarea", "meta": {"max_length": 120}}
    body = await ok(await call(client, "POST", "/api/v1/fields", tenant.master_key, params, dialect=dialect))

    [field] = body["typed_custom_fields"]
    assert set(field) >= {"id", "name", "modality", "text_field_max_length"} | TYPED_FIELDS
    assert (field["name"], field["modality"], field["type"], field["text_field_max_length"]) == (
        "Test Name",
        "contact",
        "textarea",
        120,
    )
    stored = await stored_field(runtime, field["id"])
    assert (stored.team_id, stored.name, stored.type) == (tenant.team_id, "Test Name", "textarea")
    assert stored.data["text_field_max_length"] == 120


@pytest.mark.parametrize("kind", ["string", "textarea", "number", "date", "datetime", "boolean"])
async def test_every_documented_type_can_be_created(
    client: httpx.AsyncClient, tenant: Tenant, kind: str
) -> None:
    field = await create_field(client, tenant.master_key, label=f"A {kind}", modality="account", type=kind)
    assert (field["type"], field["modality"], field["text_field_max_length"]) == (kind, "account", None)
    assert "picklist_values" not in field


async def test_a_picklist_gets_option_ids(client: httpx.AsyncClient, tenant: Tenant) -> None:
    field = await create_field(
        client,
        tenant.master_key,
        label="Tier",
        modality="account",
        type="picklist",
        meta={"picklist_values": [{"name": "Gold"}, {"name": "Silver"}]},
    )
    options = field["picklist_values"]
    assert [option["name"] for option in options] == ["Gold", "Silver"]
    for option in options:
        assert set(option) == OPTION_FIELDS
        assert option["id"] == option["_id"] == option["key"] and len(option["id"]) == 24
    assert field["picklist_value_set_id"] is not None
    # Apollo's other spellings of the multi-select type are one type here.
    multi = await create_field(
        client,
        tenant.master_key,
        label="Regions",
        modality="account",
        type="multipicklist",
        meta={"picklist_values": ["EMEA", "AMER"]},
    )
    assert multi["type"] == "multi_picklist" and [o["name"] for o in multi["picklist_values"]] == [
        "EMEA",
        "AMER",
    ]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"modality": "contact", "type": "string"}, "Please enter a non-empty label!"),
        ({"label": "X", "modality": "lead", "type": "string"}, f"Invalid modality: lead. {USE_MODALITIES}"),
        ({"label": "X", "type": "string"}, f"Invalid modality: (none). {USE_MODALITIES}"),
        ({"label": "powerup_score", "modality": "contact", "type": "string"}, RESERVED),
        ({"label": "X", "modality": "contact", "type": "picklist"}, NO_OPTIONS),
        (
            {"label": "X", "modality": "contact", "type": "string", "meta": {"max_length": 0}},
            "meta.max_length must be a whole number of at least 1 (got 0).",
        ),
        (
            {"label": "X", "modality": "contact", "type": "picklist", "meta": {"picklist_values": TWICE}},
            "Picklist option names must be unique: a is given twice.",
        ),
    ],
)  # fmt: skip
async def test_create_refuses_bad_definitions(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, params: dict[str, Any], error: str
) -> None:
    response = await call(client, "POST", "/api/v1/fields", tenant.master_key, params)
    assert (response.status_code, response.json()) == (422, {"error": error})
    assert await ok(await call(client, "GET", "/api/v1/typed_custom_fields", tenant.master_key)) == {
        "typed_custom_fields": []
    }


async def test_create_refuses_unknown_types_and_taken_names(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await call(
        client,
        "POST",
        "/api/v1/fields",
        tenant.master_key,
        {"label": "X", "modality": "contact", "type": "json"},
    )
    assert response.status_code == 422 and response.json()["error"].startswith(
        "Invalid field type: json. Use one of string,"
    )
    await create_field(client, tenant.master_key, label="Renewal owner", modality="contact", type="string")
    again = await call(
        client,
        "POST",
        "/api/v1/fields",
        tenant.master_key,
        {"label": "Renewal owner", "modality": "contact", "type": "string"},
    )
    assert (again.status_code, again.json()) == (422, {"error": "Renewal owner already exists"})
    # The same name on another modality is another field.
    await create_field(
        client, tenant.master_key, label="Renewal owner", modality="opportunity", type="string"
    )


# ---------------------------------------------------------------------------------------------
# GET /typed_custom_fields and GET /fields


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_documented_custom_fields_request(
    client: httpx.AsyncClient, clock: FrozenClock, tenant: Tenant, prefix: str, dialect: str
) -> None:
    launch = await create_field(
        client, tenant.master_key, label="New Product Launch Date", modality="contact", type="datetime"
    )
    clock.advance(1)
    source = await create_field(
        client,
        tenant.master_key,
        label="Lead Source",
        modality="opportunity",
        type="picklist",
        meta={"picklist_values": [{"name": "Web"}]},
    )

    body = await ok(
        await call(client, "GET", f"{prefix}/typed_custom_fields", tenant.master_key, dialect=dialect)
    )

    fields = body["typed_custom_fields"]
    assert [field["id"] for field in fields] == [launch["id"], source["id"]]
    assert set(fields[0]) == TYPED_FIELDS
    assert set(fields[1]) == TYPED_FIELDS | {"picklist_values"}
    assert (fields[0]["name"], fields[0]["type"], fields[0]["modality"]) == (
        "New Product Launch Date",
        "datetime",
        "contact",
    )
    assert fields[0]["picklist_options_last_synced_at"].endswith("+00:00")
    assert (fields[0]["mirrored"], fields[0]["picklist_options"], fields[0]["finder_view_ids"]) == (
        False,
        [],
        [],
    )
    assert [option["name"] for option in fields[1]["picklist_values"]] == ["Web"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_the_fields_list_has_system_and_custom_fields(
    client: httpx.AsyncClient, tenant: Tenant, prefix: str
) -> None:
    custom = await create_field(
        client,
        tenant.master_key,
        label="Renewal owner",
        modality="account",
        type="string",
        meta={"max_length": 240},
    )

    body = await ok(await call(client, "GET", f"{prefix}/fields", tenant.master_key))

    fields = body["fields"]
    by_id = {field["id"]: field for field in fields}
    assert len(by_id) == len(fields)
    for field in fields:
        assert set(field) >= FIELD_FIELDS
    first_name = by_id["contact.first_name"]
    assert (first_name["source"], first_name["category"], first_name["label"], first_name["parent"]) == (
        "system",
        "person",
        "First name",
        "contact.name",
    )
    assert {"contact.id", "account.name", "opportunity.amount", "opportunity.closed_date"} <= set(by_id)
    mine = by_id[f"account.{custom['id']}"]
    assert (mine["source"], mine["label"], mine["field_name"], mine["type"], mine["editable"]) == (
        "custom",
        "Renewal owner",
        "Renewal owner",
        "string",
        True,
    )
    assert mine["meta"]["max_length"] == 240 and APOLLO_TIMESTAMP.match(mine["created_at"])

    only_custom = await ok(
        await call(client, "GET", "/api/v1/fields", tenant.master_key, {"source": "custom"}, dialect="query")
    )
    assert [field["id"] for field in only_custom["fields"]] == [f"account.{custom['id']}"]
    only_system = await ok(
        await call(client, "GET", "/api/v1/fields", tenant.master_key, {"source": "system"})
    )
    assert {field["source"] for field in only_system["fields"]} == {"system"}
    assert len(only_system["fields"]) == len(fields) - 1
    assert await ok(
        await call(client, "GET", "/api/v1/fields", tenant.master_key, {"source": "crm_synced"})
    ) == {"fields": []}
    bad = await call(client, "GET", "/api/v1/fields", tenant.master_key, {"source": "everything"})
    assert bad.status_code == 422 and "source" in bad.json()["error"]


# ---------------------------------------------------------------------------------------------
# PATCH /fields


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_rename_a_field_and_change_its_length(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant, dialect: str
) -> None:
    field = await create_field(
        client, tenant.master_key, label="Owner", modality="contact", type="string", meta={"max_length": 120}
    )
    clock.advance(5)
    params = {
        "fields": [{"id": f"contact.{field['id']}", "label": "Renewal owner", "meta": {"max_length": 240}}]
    }

    body = await ok(await call(client, "PATCH", "/api/v1/fields", tenant.master_key, params, dialect=dialect))

    [shown] = body["fields"]
    assert (shown["id"], shown["label"], shown["field_name"], shown["source"]) == (
        f"contact.{field['id']}",
        "Renewal owner",
        "Renewal owner",
        "custom",
    )
    assert shown["meta"]["max_length"] == 240
    [typed] = body["typed_custom_fields"]
    assert (typed["id"], typed["name"], typed["modality"], typed["text_field_max_length"]) == (
        field["id"],
        "Renewal owner",
        "contact",
        240,
    )
    stored = await stored_field(runtime, field["id"])
    assert (stored.name, stored.data["text_field_max_length"], stored.updated_at) == (
        "Renewal owner",
        240,
        clock.now(),
    )


async def test_a_bare_id_and_the_fields_own_type_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    field = await create_field(client, tenant.master_key, label="Score", modality="contact", type="number")
    body = await ok(
        await patch(
            client,
            tenant.master_key,
            {"id": field["id"], "type": "number", "modality": "account", "label": "Fit score"},
        )
    )
    # modality is read-only: sent, it is ignored.
    assert (body["typed_custom_fields"][0]["name"], body["typed_custom_fields"][0]["modality"]) == (
        "Fit score",
        "contact",
    )


async def test_update_answers_apollos_errors(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await create_field(client, tenant.master_key, label="Score", modality="contact", type="number")
    picklist = await create_field(
        client,
        tenant.master_key,
        label="Tier",
        modality="account",
        type="picklist",
        meta={"picklist_values": [{"name": "Gold"}]},
    )
    await create_field(client, tenant.master_key, label="Taken", modality="contact", type="string")
    other = await make_tenant(runtime, clock, name="Other")
    theirs = await create_field(client, other.master_key, label="Theirs", modality="contact", type="string")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"id": f"contact.{field['id']}", "type": "string"}, "Cannot change field type after creation"),
        ({"id": f"contact.{field['id']}", "label": "powerup_score"}, RESERVED),
        ({"id": f"contact.{field['id']}", "label": "Taken"}, "Taken already exists"),
        ({"id": f"account.{picklist['id']}", "label": "Level"}, NO_OPTIONS),
        ({"id": f"account.{field['id']}", "label": "Wrong modality"}, "Some fields could not be found"),
        ({"id": "contact.first_name", "label": "Given name"}, "Some fields could not be found"),
        ({"id": "contact.694095a80f1b6000110fc556", "label": "Nobody's"}, "Some fields could not be found"),
        ({"id": f"contact.{theirs['id']}", "label": "Not mine"}, "Some fields could not be found"),
    ]  # fmt: skip
    for item, error in cases:
        response = await patch(client, tenant.master_key, item)
        assert (response.status_code, response.json()) == (422, {"error": error}), item
    missing = await call(client, "PATCH", "/api/v1/fields", tenant.master_key, {})
    assert missing.status_code == 422 and "fields" in missing.json()["error"]
    assert (await stored_field(runtime, field["id"])).name == "Score"
    assert (await stored_field(runtime, theirs["id"])).name == "Theirs"


async def test_picklist_updates_keep_rename_and_drop_stored_values(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await create_field(
        client,
        tenant.master_key,
        label="Tier",
        modality="contact",
        type="picklist",
        meta={"picklist_values": [{"name": "Gold"}, {"name": "Silver"}, {"name": "Bronze"}]},
    )
    gold, silver, bronze = (option["id"] for option in field["picklist_values"])
    on_gold = await contact_with(runtime, clock, tenant.team_id, {field["id"]: gold})
    on_silver = await contact_with(runtime, clock, tenant.team_id, {field["id"]: silver, "other": "kept"})
    on_bronze = await contact_with(runtime, clock, tenant.team_id, {field["id"]: bronze})

    # Gold is renamed VIP (same id), Silver is dropped, Bronze merges into a new Platinum.
    body = await ok(
        await patch(
            client,
            tenant.master_key,
            {
                "id": f"contact.{field['id']}",
                "meta": {
                    "picklist_values": [
                        {"id": gold, "name": "VIP"},
                        {"name": "Platinum", "reassign_from": [bronze]},
                    ]
                },
            },
        )
    )

    options = body["typed_custom_fields"][0]["picklist_values"]
    assert [option["name"] for option in options] == ["VIP", "Platinum"]
    assert options[0]["id"] == gold
    platinum = options[1]["id"]
    assert platinum not in (gold, silver, bronze)
    assert body["fields"][0]["meta"]["picklist_values"] == [
        {"id": gold, "name": "VIP"},
        {"id": platinum, "name": "Platinum"},
    ]
    assert await values_of(runtime, Contact, on_gold) == {field["id"]: gold}
    assert await values_of(runtime, Contact, on_silver) == {"other": "kept"}
    assert await values_of(runtime, Contact, on_bronze) == {field["id"]: platinum}


async def test_multi_picklist_values_follow_their_options(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await create_field(
        client,
        tenant.master_key,
        label="Regions",
        modality="opportunity",
        type="multi_picklist",
        meta={"picklist_values": ["EMEA", "AMER", "APAC"]},
    )
    emea, amer, apac = (option["id"] for option in field["picklist_values"])
    now = clock.now()
    deal_id = new_id(now.timestamp())
    async with runtime.sessions() as session, session.begin():
        session.add(
            Opportunity(
                id=deal_id,
                team_id=tenant.team_id,
                name="Big deal",
                typed_custom_fields={field["id"]: [emea, amer, apac]},
                created_at=now,
                updated_at=now,
            )
        )
    # AMER is dropped, APAC merges into EMEA.
    await ok(
        await patch(
            client,
            tenant.master_key,
            {
                "id": field["id"],
                "meta": {"picklist_values": [{"id": emea, "name": "EMEA", "reassign_from": [apac]}]},
            },
        )
    )
    assert await values_of(runtime, Opportunity, deal_id) == {field["id"]: [emea]}


# ---------------------------------------------------------------------------------------------
# Values on records, isolation, scopes, Idempotency-Key


async def test_contacts_take_values_checked_by_the_fields_type(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await create_field(client, tenant.master_key, label="Launch", modality="contact", type="date")
    created = await ok(
        await call(
            client,
            "POST",
            "/api/v1/contacts",
            tenant.master_key,
            {"first_name": "Jon", "typed_custom_fields": {field["id"]: "2025-08-07"}},
        )
    )
    assert created["contact"]["typed_custom_fields"] == {field["id"]: "2025-08-07"}
    refused = await call(
        client,
        "POST",
        "/api/v1/contacts",
        tenant.master_key,
        {"first_name": "Jon", "typed_custom_fields": {field["id"]: "soon"}},
    )
    assert refused.status_code == 422 and "Launch" in refused.json()["error"]
    # Another team cannot use this team's field.
    other = await make_tenant(runtime, clock, name="Other")
    theirs = await call(
        client,
        "POST",
        "/api/v1/contacts",
        other.master_key,
        {"first_name": "Jon", "typed_custom_fields": {field["id"]: "2025-08-07"}},
    )
    assert (theirs.status_code, theirs.json()) == (
        422,
        {"error": f"Parameters misconfigured. {field['id']} is not a valid ID"},
    )


async def test_another_team_sees_none_of_the_fields(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await create_field(client, tenant.master_key, label="Score", modality="contact", type="number")
    other = await make_tenant(runtime, clock, name="Other")
    assert await ok(await call(client, "GET", "/api/v1/typed_custom_fields", other.master_key)) == {
        "typed_custom_fields": []
    }
    assert await ok(await call(client, "GET", "/api/v1/fields", other.master_key, {"source": "custom"})) == {
        "fields": []
    }
    # The name is free in the other team.
    await create_field(client, other.master_key, label="Score", modality="contact", type="number")
    assert (await stored_field(runtime, field["id"])).team_id == tenant.team_id


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("GET", "/api/v1/fields", "api/v1/fields/index"),
        ("POST", "/api/v1/fields", "api/v1/fields/create"),
        ("PATCH", "/api/v1/fields", "api/v1/fields/update"),
        ("GET", "/api/v1/typed_custom_fields", "api/v1/typed_custom_fields/index"),
    ],
)
async def test_a_scoped_key_needs_the_endpoint_in_its_scope(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    tenant: Tenant,
    method: str,
    path: str,
    endpoint: str,
) -> None:
    outside = await make_scoped_key(runtime, clock, tenant, "api/v1/labels/index")
    refused = await call(client, method, path, outside)
    assert refused.status_code == 403 and refused.json()["error_code"] == "API_INACCESSIBLE"
    assert endpoint in refused.json()["error"]
    inside = await make_scoped_key(runtime, clock, tenant, endpoint)
    assert (await call(client, method, path, inside)).status_code != 403


async def test_idempotency_key_replays_a_create(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "field-1"}
    params = {"label": "Score", "modality": "contact", "type": "number"}
    first = await ok(await call(client, "POST", "/api/v1/fields", tenant.master_key, params, headers=headers))
    again = await ok(
        await call(client, "POST", "/v1/fields", tenant.master_key, params, headers=headers, dialect="query")
    )
    assert again == first
    listed = await ok(await call(client, "GET", "/api/v1/typed_custom_fields", tenant.master_key))
    assert len(listed["typed_custom_fields"]) == 1

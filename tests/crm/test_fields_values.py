"""Typed custom field values checked by their field's type (perilune.crm.custom_fields, as the
contacts, accounts and deals endpoints call it), against fields made through POST /fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from perilune.api.errors import Unprocessable
from perilune.clock import FrozenClock
from perilune.crm.custom_fields import merge_values, validate_values
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant
from tests.crm.crm_client import call, ok

# (type, extra create parameters, value given, value stored)
ACCEPTED: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("string", {"meta": {"max_length": 5}}, "short", "short"),
    ("textarea", {}, "many\nlines", "many\nlines"),
    ("number", {}, "42", 42),
    ("number", {}, 7.5, 7.5),
    ("currency", {}, "1999.99", 1999.99),
    ("date", {}, "2025-08-07", "2025-08-07"),
    ("datetime", {}, "2025-08-07", "2025-08-07T00:00:00.000Z"),
    ("datetime", {}, "2025-08-07T10:30:00+02:00", "2025-08-07T08:30:00.000Z"),
    ("boolean", {}, "true", True),
    ("boolean", {}, False, False),
    ("url", {}, "https://example.com", "https://example.com"),
]
REFUSED: list[tuple[str, dict[str, Any], Any]] = [
    ("string", {"meta": {"max_length": 5}}, "too long"),
    ("number", {}, "forty-two"),
    ("number", {}, True),
    ("date", {}, "next week"),
    ("datetime", {}, "2025-13-45"),
    ("boolean", {}, "maybe"),
    ("string", {}, {"nested": "object"}),
]


async def make_field(client: httpx.AsyncClient, key: str, kind: str, **extra: Any) -> dict[str, Any]:
    params = {"label": f"Field {kind}", "modality": "contact", "type": kind, **extra}
    body = await ok(await call(client, "POST", "/api/v1/fields", key, params))
    field: dict[str, Any] = body["typed_custom_fields"][0]
    return field


@pytest.mark.parametrize(("kind", "extra", "given", "stored"), ACCEPTED)
async def test_values_are_stored_normalised(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    kind: str,
    extra: dict[str, Any],
    given: Any,
    stored: Any,
) -> None:
    field = await make_field(client, tenant.master_key, kind, **extra)
    async with runtime.sessions() as session:
        assert await validate_values(session, tenant.team_id, "contact", {field["id"]: given}) == {
            field["id"]: stored
        }


@pytest.mark.parametrize(("kind", "extra", "given"), REFUSED)
async def test_values_of_the_wrong_type_are_refused_naming_the_field(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, kind: str, extra: dict[str, Any], given: Any
) -> None:
    field = await make_field(client, tenant.master_key, kind, **extra)
    async with runtime.sessions() as session:
        with pytest.raises(Unprocessable) as refused:
            await validate_values(session, tenant.team_id, "contact", {field["id"]: given})
    assert f"Field {kind}" in refused.value.error


async def test_picklists_take_option_ids_or_names(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    single = await make_field(
        client, tenant.master_key, "picklist", meta={"picklist_values": ["Gold", "Silver"]}
    )
    multi = await make_field(
        client, tenant.master_key, "multipicklist", meta={"picklist_values": ["EMEA", "AMER"]}
    )
    gold = single["picklist_values"][0]["id"]
    emea, amer = (option["id"] for option in multi["picklist_values"])
    async with runtime.sessions() as session:
        values = await validate_values(
            session, tenant.team_id, "contact", {single["id"]: "gold", multi["id"]: [emea, "amer"]}
        )
        assert values == {single["id"]: gold, multi["id"]: [emea, amer]}
        with pytest.raises(Unprocessable):
            await validate_values(session, tenant.team_id, "contact", {single["id"]: "Platinum"})


async def test_user_lookups_take_the_teams_users_only(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await make_field(client, tenant.master_key, "lookup_user")
    other = await make_tenant(runtime, clock, name="Other")
    async with runtime.sessions() as session:
        mine = await validate_values(session, tenant.team_id, "contact", {field["id"]: tenant.user_id})
        assert mine == {field["id"]: tenant.user_id}
        with pytest.raises(Unprocessable) as refused:
            await validate_values(session, tenant.team_id, "contact", {field["id"]: other.user_id})
    assert refused.value.error == f"Parameters misconfigured. {other.user_id} is not a valid ID"


async def test_a_field_of_another_modality_or_team_is_not_a_valid_id(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    field = await make_field(client, tenant.master_key, "string")
    other = await make_tenant(runtime, clock, name="Other")
    async with runtime.sessions() as session:
        for team_id, modality in ((tenant.team_id, "account"), (other.team_id, "contact")):
            with pytest.raises(Unprocessable) as refused:
                await validate_values(session, team_id, modality, {field["id"]: "x"})
            assert refused.value.error == f"Parameters misconfigured. {field['id']} is not a valid ID"


async def test_empty_values_clear_and_merging_keeps_the_rest(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    field = await make_field(client, tenant.master_key, "string")
    async with runtime.sessions() as session:
        cleared = await validate_values(session, tenant.team_id, "contact", {field["id"]: ""})
    assert cleared == {field["id"]: None}
    assert merge_values({field["id"]: "old", "kept": 1}, cleared) == {"kept": 1}
    assert merge_values({"kept": 1}, {field["id"]: "new"}) == {"kept": 1, field["id"]: "new"}

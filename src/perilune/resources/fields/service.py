"""Custom field definitions: listing (with the system fields), creating and updating them. An
update that removes or merges picklist options rewrites the values records hold, so no record
keeps an option its field no longer has."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm import custom_fields
from perilune.crm.lookups import find_in_team
from perilune.db.ids import new_id
from perilune.models import CustomField
from perilune.models.crm import FIELD_MODALITIES
from perilune.resources.fields import repository
from perilune.resources.fields.catalog import SYSTEM_FIELDS, system_field_object
from perilune.resources.fields.schemas import (
    FIELD_NOT_FOUND,
    FIELDS_MISSING,
    LABEL_MISSING,
    TYPE_CHANGED,
    FieldCreateParams,
    FieldsIndexParams,
    FieldsUpdateParams,
    field_object,
    invalid_modality,
    typed_custom_field_object,
)


async def list_fields(session: AsyncSession, caller: Caller, params: FieldsIndexParams) -> dict[str, Any]:
    """System fields, then the team's custom fields, modality by modality; ``source`` keeps one
    kind (Perilune syncs with no CRM, so ``crm_synced`` is always empty)."""
    custom = await repository.team_fields(session, caller.team_id) if params.source != "system" else []
    fields: list[dict[str, Any]] = []
    for modality in FIELD_MODALITIES:
        if params.source in (None, "system"):
            fields.extend(system_field_object(f) for f in SYSTEM_FIELDS if f.modality == modality)
        if params.source in (None, "custom"):
            fields.extend(field_object(f) for f in custom if f.modality == modality)
    return {"fields": fields}


async def list_typed_custom_fields(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    fields = await repository.team_fields(session, caller.team_id)
    return {"typed_custom_fields": [typed_custom_field_object(field) for field in fields]}


async def create_field(
    session: AsyncSession, caller: Caller, params: FieldCreateParams, now: datetime
) -> dict[str, Any]:
    name = custom_fields.check_name(params.label or params.name, missing=LABEL_MISSING)
    modality = (params.modality or "").strip()
    if modality not in FIELD_MODALITIES:
        raise Unprocessable(invalid_modality(params.modality))
    kind = custom_fields.field_type(params.type)
    field = CustomField(
        id=new_id(now.timestamp()),
        team_id=caller.team_id,
        modality=modality,
        name=name,
        type=kind,
        picklist_values=[],
        data={},
        created_at=now,
        updated_at=now,
    )
    _configure(field, params.meta, now, creating=True)
    if await repository.named(session, caller.team_id, modality, name) is not None:
        raise Unprocessable(f"{name} already exists")
    try:
        async with session.begin_nested():
            session.add(field)
    except IntegrityError as exc:  # a concurrent request took the name since the check
        raise Unprocessable(f"{name} already exists") from exc
    return {"typed_custom_fields": [typed_custom_field_object(field)]}


def _configure(
    field: CustomField, meta: Mapping[str, Any], now: datetime, *, creating: bool
) -> dict[str, Any]:
    """Apply ``meta`` (max_length for text fields, picklist_values for picklists); returns the
    moves of stored picklist values (see custom_fields.OptionPlan)."""
    data = dict(field.data or {})
    if field.type in custom_fields.TEXT_LIMITED_TYPES and "max_length" in meta:
        limit = meta["max_length"]
        data["text_field_max_length"] = None if limit is None else custom_fields.max_length(limit)
    moves: dict[str, Any] = {}
    if field.type in custom_fields.PICKLIST_TYPES:
        plan = custom_fields.picklist_options(meta.get("picklist_values"), field.picklist_values, now)
        field.picklist_values = plan.options
        moves = plan.moves
        if creating:
            data["picklist_value_set_id"] = new_id(now.timestamp())
    field.data = data
    return moves


async def update_fields(
    session: AsyncSession, caller: Caller, params: FieldsUpdateParams, now: datetime
) -> dict[str, Any]:
    """Every field sent is updated, or none: any refusal rolls the request back."""
    if not params.fields:
        raise Unprocessable(FIELDS_MISSING)
    updated = [await _update_one(session, caller.team_id, item, now) for item in params.fields]
    return {
        "fields": [field_object(field) for field in updated],
        "typed_custom_fields": [typed_custom_field_object(field) for field in updated],
    }


async def _update_one(session: AsyncSession, team_id: str, item: Any, now: datetime) -> CustomField:
    if not isinstance(item, Mapping):
        raise Unprocessable(FIELD_NOT_FOUND)
    field = await _field_named(session, team_id, item.get("id"))
    if item.get("type") not in (None, "") and _same_type(item["type"]) != field.type:
        raise Unprocessable(TYPE_CHANGED)
    if "label" in item:
        name = custom_fields.check_name(item["label"], missing=LABEL_MISSING)
        if name != field.name and await repository.named(session, team_id, field.modality, name):
            raise Unprocessable(f"{name} already exists")
        field.name = name
    meta = item.get("meta")
    moves = _configure(field, meta if isinstance(meta, Mapping) else {}, now, creating=False)
    field.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent request took the name since the check
        raise Unprocessable(f"{field.name} already exists") from exc
    await custom_fields.remap_option_values(session, team_id, field, moves)
    return field


def _same_type(raw: Any) -> str | None:
    """The stored spelling of a type sent with an update (None if it is no type at all)."""
    try:
        return custom_fields.field_type(str(raw))
    except Unprocessable:
        return None


async def _field_named(session: AsyncSession, team_id: str, raw_id: Any) -> CustomField:
    """``<modality>.<id>`` (as ``GET /fields`` names it) or the bare id: the team's custom
    field, else Apollo's "Some fields could not be found" (system fields included)."""
    text = str(raw_id or "").strip()
    modality, dot, rest = text.partition(".")
    field_id = rest if dot else text
    field = await find_in_team(session, CustomField, team_id, field_id)
    if field is None or (dot and modality != field.modality):
        raise Unprocessable(FIELD_NOT_FOUND)
    return field

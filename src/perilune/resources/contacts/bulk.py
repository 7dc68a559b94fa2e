"""Bulk create (up to 100, dedupe into ``existing_contacts``) and bulk update (up to 1,000; more
than 100, or ``async``, runs in the background as a durable job)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.api.params import describe_validation_error
from perilune.auth.context import Caller
from perilune.crm import labels as crm_labels
from perilune.crm.bulk import queue_bulk_update
from perilune.crm.lookups import find_many_in_team, validate_owner
from perilune.crm.render import contact_objects
from perilune.crm.stages import ensure_default_stages
from perilune.crm.writer import Writer
from perilune.models import Contact
from perilune.resources.contacts import service
from perilune.resources.contacts.changes import ContactInput, check_input, contact_input
from perilune.resources.contacts.schemas import (
    BULK_CREATE_LIMIT,
    BULK_CREATE_MISSING,
    BULK_CREATE_TOO_MANY,
    BULK_UPDATE_LIMIT,
    BULK_UPDATE_MISSING,
    BULK_UPDATE_SYNC_LIMIT,
    BULK_UPDATE_TOO_MANY,
    BulkCreateParams,
    BulkUpdateParams,
    ContactFields,
)

BULK_UPDATE_JOB = "crm.contacts.bulk_update"
VALIDATION_FAILED = "Validation failed"


def parse_item(item: Any, position: int) -> ContactFields:
    """One array element as contact fields; a malformed one is a 422 naming its position."""
    if not isinstance(item, dict):
        raise Unprocessable(BULK_CREATE_MISSING)
    try:
        return ContactFields.model_validate(item)
    except ValidationError as exc:
        raise Unprocessable(f"Item {position}: {describe_validation_error(exc)}") from exc


async def bulk_create(
    session: AsyncSession, caller: Caller, params: BulkCreateParams, now: datetime
) -> dict[str, Any]:
    items = params.contacts if params.contacts is not None else params.contact_attributes
    if not items:
        raise Unprocessable(BULK_CREATE_MISSING)
    if len(items) > BULK_CREATE_LIMIT:
        raise Unprocessable(BULK_CREATE_TOO_MANY)
    writer = Writer.of(caller, now)
    await ensure_default_stages(session, writer.team_id, now)
    owner_id = await validate_owner(session, writer.team_id, params.owner_id) or writer.user_id
    parsed = [parse_item(item, position) for position, item in enumerate(items)]
    inputs = [await _checked(session, writer.team_id, fields) for fields in parsed]
    created: list[Contact] = []
    existing: list[Contact] = []
    for fields, given in zip(parsed, inputs, strict=True):
        match = (
            await service.find_duplicate(session, writer.team_id, fields, given)
            if params.run_dedupe
            else None
        )
        if match is not None:
            if match[0] not in existing:
                existing.append(match[0])
            continue
        given.values.setdefault("owner_id", owner_id)
        created.append(await service.new_contact(session, writer, given))
    await _append_labels(session, writer, created, params.append_label_names)
    return {
        "created_contacts": await service.emit(session, writer, service.CREATED, created),
        "existing_contacts": await contact_objects(session, writer.team_id, existing),
    }


async def _checked(session: AsyncSession, team_id: str, fields: ContactFields) -> ContactInput:
    given = contact_input(fields)
    await check_input(session, team_id, given)
    return given


async def _append_labels(
    session: AsyncSession, writer: Writer, contacts: list[Contact], names: list[str]
) -> None:
    if not contacts or not names:
        return
    lists = await crm_labels.labels_named(
        session, writer.team_id, service.LABEL_MODALITY, names, user_id=writer.user_id, now=writer.now
    )
    await crm_labels.add_members(
        session, writer.team_id, service.ENTITY, [c.id for c in contacts], lists, writer.now
    )


# -- bulk update ------------------------------------------------------------------------------


def _shared_fields(params: BulkUpdateParams) -> dict[str, Any]:
    """The fields applied to every contact_ids contact, as the caller sent them."""
    names = params.model_fields_set & set(ContactFields.model_fields)
    return params.model_dump(include=names)


def _updates(params: BulkUpdateParams) -> list[tuple[str, dict[str, Any]]]:
    """(contact id, fields) for every contact the request names."""
    shared = _shared_fields(params)
    updates = [(contact_id, shared) for contact_id in dict.fromkeys(params.contact_ids)]
    for position, item in enumerate(params.contact_attributes):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise Unprocessable(f"Item {position} of contact_attributes needs an id.")
        updates.append((item["id"], {k: v for k, v in item.items() if k != "id"}))
    return updates


async def _checked_update(
    session: AsyncSession, team_id: str, contact_id: str, fields: Mapping[str, Any]
) -> ContactInput:
    given = contact_input(parse_item(dict(fields), 0))
    if given.invalid_email is not None:
        raise Unprocessable(
            VALIDATION_FAILED,
            error_details={"contact_id": contact_id, "field": "email", "message": "Invalid email format"},
        )
    await check_input(session, team_id, given)
    return given


async def _checked_updates(
    session: AsyncSession,
    team_id: str,
    updates: Sequence[tuple[str, Mapping[str, Any]]],
    contacts: Mapping[str, Contact],
) -> list[tuple[str, ContactInput]]:
    """Each known contact's checked input; identical fields (every contact_ids contact shares
    them) are checked once."""
    checked: dict[bytes, ContactInput] = {}
    inputs = []
    for contact_id, fields in updates:
        if contact_id not in contacts:
            continue
        key = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
        if key not in checked:
            checked[key] = await _checked_update(session, team_id, contact_id, fields)
        inputs.append((contact_id, checked[key]))
    return inputs


async def bulk_update(
    session: AsyncSession, caller: Caller, params: BulkUpdateParams, now: datetime
) -> dict[str, Any]:
    if not params.contact_ids and not params.contact_attributes:
        raise Unprocessable(BULK_UPDATE_MISSING)
    updates = _updates(params)
    if len(updates) > BULK_UPDATE_LIMIT:
        raise Unprocessable(BULK_UPDATE_TOO_MANY)
    writer = Writer.of(caller, now)
    contacts = {
        c.id: c for c in await find_many_in_team(session, Contact, writer.team_id, [u[0] for u in updates])
    }
    # Everything is checked now, so that a background run has nothing left to refuse.
    inputs = await _checked_updates(session, writer.team_id, updates, contacts)
    if params.run_async or len(updates) > BULK_UPDATE_SYNC_LIMIT:
        known = [(cid, fields) for cid, fields in updates if cid in contacts]
        return queue_bulk_update(session, writer, BULK_UPDATE_JOB, "contact_bulk_update", known)
    changed = await apply_updates(session, writer, contacts, inputs)
    bodies = await service.emit(session, writer, service.UPDATED, changed)
    visible = set(params.visible_entity_ids)
    return {"contacts": [body for body in bodies if not visible or body["id"] in visible]}


async def apply_updates(
    session: AsyncSession,
    writer: Writer,
    contacts: Mapping[str, Contact],
    inputs: list[tuple[str, ContactInput]],
) -> list[Contact]:
    changed: list[Contact] = []
    for contact_id, given in inputs:
        contact = contacts[contact_id]
        await service.update_contact_in_place(session, writer, contact, given)
        if contact not in changed:
            changed.append(contact)
    return changed


async def run_bulk_update(session: AsyncSession, payload: Mapping[str, Any], now: datetime) -> int:
    """The background half: apply the updates a request checked and queued. Contacts removed
    meanwhile are passed over; an input no longer valid (a stage deleted since) raises."""
    writer = Writer(str(payload["team_id"]), payload.get("user_id"), now)
    updates = [(str(item["id"]), item["fields"]) for item in payload["updates"]]
    contacts = {
        c.id: c for c in await find_many_in_team(session, Contact, writer.team_id, [u[0] for u in updates])
    }
    inputs = await _checked_updates(session, writer.team_id, updates, contacts)
    changed = await apply_updates(session, writer, contacts, inputs)
    await service.emit(session, writer, service.UPDATED, changed)
    return len(changed)

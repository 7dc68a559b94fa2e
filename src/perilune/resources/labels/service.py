"""Lists: listing, creating and renaming them, and putting records on them or taking records off
by list name. A record whose lists change is touched (``updated_at``) and recorded as a
``contact.updated`` or ``account.updated`` event, since its ``label_ids`` changed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm import labels as crm_labels
from perilune.crm.events import record_event
from perilune.crm.lookups import find_in_team, find_many_in_team
from perilune.crm.render import account_objects, contact_objects
from perilune.crm.writer import Writer
from perilune.db.ids import new_id
from perilune.jobs.queue import enqueue
from perilune.models import Account, Contact, Label
from perilune.resources.labels import repository
from perilune.resources.labels.schemas import (
    ADD_JOB_TYPE,
    MAX_ENTITY_IDS,
    NOTHING_TO_CHANGE,
    REMOVE_JOB_TYPE,
    TOO_MANY_ENTITY_IDS,
    LabelCreateParams,
    LabelMembersParams,
    LabelNotFound,
    LabelUpdateParams,
    already_exists,
    checked_modality,
    checked_name,
    label_answer,
    member_modality,
)

MEMBERS_JOB = "crm.labels.members"
ADD = "add"
REMOVE = "remove"
RECORDS_OF: dict[str, Any] = {"contacts": Contact, "accounts": Account}


async def list_labels(session: AsyncSession, caller: Caller) -> list[dict[str, Any]]:
    labels = await repository.team_labels(session, caller.team_id)
    return await crm_labels.label_objects(session, caller.team_id, labels)


async def create_label(
    session: AsyncSession, caller: Caller, params: LabelCreateParams, now: datetime
) -> dict[str, Any]:
    name = checked_name(params.name)
    modality = checked_modality(params.modality)
    writer = Writer.of(caller, now)
    label = Label(
        id=new_id(now.timestamp()),
        team_id=writer.team_id,
        user_id=writer.user_id,
        name=name,
        modality=modality,
        data=_book_of_business({}, modality, params.book_of_business),
        created_at=now,
        updated_at=now,
    )
    if await repository.named(session, writer.team_id, modality, name) is not None:
        raise already_exists(name)
    try:
        async with session.begin_nested():
            session.add(label)
    except IntegrityError as exc:  # created by a concurrent request since the check
        raise already_exists(name) from exc
    return {"label": label_answer(label, 0)}


def _book_of_business(data: dict[str, Any], modality: str, value: bool | None) -> dict[str, Any]:
    """Only account lists can be a book of business (Apollo ignores the flag on others)."""
    if value is None or modality != "accounts":
        return data
    return {**data, "book_of_business": value}


async def update_label(
    session: AsyncSession, caller: Caller, label_id: str, params: LabelUpdateParams, now: datetime
) -> dict[str, Any]:
    label = await find_in_team(session, Label, caller.team_id, label_id)
    if label is None:
        raise LabelNotFound(label_id)
    name = checked_name(params.name)
    if name != label.name:
        if await repository.named(session, caller.team_id, label.modality, name) is not None:
            raise already_exists(name)
        label.name = name
    label.data = _book_of_business(dict(label.data or {}), label.modality, params.book_of_business)
    label.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise already_exists(name) from exc
    counts = await crm_labels.member_counts(session, caller.team_id, [label.id])
    return {"label": label_answer(label, counts[label.id])}


async def add_entities(
    session: AsyncSession, caller: Caller, params: LabelMembersParams, now: datetime
) -> dict[str, Any]:
    return await _change_members(session, Writer.of(caller, now), ADD, params)


async def remove_entities(
    session: AsyncSession, caller: Caller, params: LabelMembersParams, now: datetime
) -> dict[str, Any]:
    return await _change_members(session, Writer.of(caller, now), REMOVE, params)


async def _change_members(
    session: AsyncSession, writer: Writer, action: str, params: LabelMembersParams
) -> dict[str, Any]:
    modality = member_modality(params.modality)
    if len(params.entity_ids) > MAX_ENTITY_IDS:
        raise Unprocessable(TOO_MANY_ENTITY_IDS)
    records = await find_many_in_team(session, RECORDS_OF[modality], writer.team_id, params.entity_ids)
    names = crm_labels.clean_names(params.label_names)
    if not records or not names:
        return {"message": NOTHING_TO_CHANGE}
    entity_ids = [record.id for record in records]
    if params.run_async:
        return _enqueue(session, writer, action, modality, entity_ids, names)
    labels = await apply_members(session, writer, action, modality, entity_ids, names)
    return {"labels": await _answers(session, writer.team_id, labels)}


async def _answers(session: AsyncSession, team_id: str, labels: Sequence[Label]) -> list[dict[str, Any]]:
    counts = await crm_labels.member_counts(session, team_id, [label.id for label in labels])
    return [label_answer(label, counts[label.id]) for label in labels]


def _enqueue(
    session: AsyncSession,
    writer: Writer,
    action: str,
    modality: str,
    entity_ids: list[str],
    names: list[str],
) -> dict[str, Any]:
    payload = {
        "team_id": writer.team_id,
        "user_id": writer.user_id,
        "action": action,
        "modality": modality,
        "entity_ids": entity_ids,
        "label_names": names,
    }
    job = enqueue(session, MEMBERS_JOB, payload, now=writer.now)
    return {
        "entity_progress_job": {
            "id": job.id,
            "user_id": writer.user_id,
            "job_type": ADD_JOB_TYPE if action == ADD else REMOVE_JOB_TYPE,
            "entity_ids": entity_ids,
            "params": {"modality": modality, "label_names": names},
            "progress": -1,
            "batch_size": None,
            "created_at": timestamp(writer.now),
        }
    }


async def apply_members(
    session: AsyncSession,
    writer: Writer,
    action: str,
    modality: str,
    entity_ids: Collection[str],
    names: list[str],
) -> list[Label]:
    """Put the team's records on the named lists (creating missing lists) or take them off
    (lists that do not exist are passed over); returns the lists named that exist."""
    records = await find_many_in_team(session, RECORDS_OF[modality], writer.team_id, entity_ids)
    ids = [record.id for record in records]
    before = await crm_labels.label_ids_of(session, writer.team_id, ids)
    labels = await crm_labels.labels_named(
        session, writer.team_id, modality, names, user_id=writer.user_id, now=writer.now, create=action == ADD
    )
    if action == ADD:
        entity_type = crm_labels.ENTITY_OF[modality]
        await crm_labels.add_members(session, writer.team_id, entity_type, ids, labels, writer.now)
    else:
        label_ids = [label.id for label in labels]
        await crm_labels.remove_members(session, writer.team_id, ids, label_ids, writer.now)
    after = await crm_labels.label_ids_of(session, writer.team_id, ids)
    changed = [
        record for record in records if set(before.get(record.id, [])) != set(after.get(record.id, []))
    ]
    await _record_changes(session, writer, modality, changed)
    return labels


async def _record_changes(session: AsyncSession, writer: Writer, modality: str, records: list[Any]) -> None:
    if not records:
        return
    for record in records:
        record.updated_at = writer.now
    await session.flush()
    if modality == "contacts":
        bodies = await contact_objects(session, writer.team_id, records)
    else:
        bodies = await account_objects(session, writer.team_id, records)
    event = f"{crm_labels.ENTITY_OF[modality]}.updated"
    for record, body in zip(records, bodies, strict=True):
        await record_event(session, writer.team_id, event, record.id, body, writer.now)

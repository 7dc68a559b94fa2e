"""Notes on a team's contacts, accounts and deals: list them (``GET /notes``) and write them.
A new note is recorded as a ``note.created`` event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import BadRequest, Unprocessable
from perilune.auth.context import Caller
from perilune.crm.events import record_event
from perilune.crm.lookups import require_in_team
from perilune.crm.writer import Writer
from perilune.db.ids import new_id
from perilune.models import Account, Contact, Note, Opportunity
from perilune.resources.notes import repository
from perilune.resources.notes.schemas import (
    CONTENT_BLANK,
    DIRECTIONS,
    INVALID_SORT_DIRECTION,
    INVALID_SORT_FIELD,
    MISSING_NOTE_RELATION,
    MISSING_RELATION,
    ONE_OF_EACH,
    SORT_FIELDS,
    NoteCreateParams,
    NoteListParams,
    note_object,
)

CREATED = "note.created"


async def list_notes(session: AsyncSession, caller: Caller, params: NoteListParams) -> dict[str, Any]:
    if not params.has_relation():
        raise BadRequest(MISSING_RELATION)
    sort_by = params.sort_by_field or "created_at"
    if sort_by not in SORT_FIELDS:
        raise BadRequest(INVALID_SORT_FIELD)
    direction = params.sort_direction or "desc"
    if direction not in DIRECTIONS:
        raise BadRequest(INVALID_SORT_DIRECTION)
    where = repository.NoteFilter(
        team_id=caller.team_id,
        contact_ids=[value for value in (params.contact_id, *params.contact_ids) if value],
        account_ids=[params.account_id] if params.account_id else [],
        opportunity_ids=[params.opportunity_id] if params.opportunity_id else [],
        created_from=params.start(),
        sort_by=sort_by,
        ascending=direction == "asc",
    )
    found = await repository.notes(session, where, offset=params.offset(), limit=params.page_size())
    return {"notes": [note_object(note) for note in found]}


def _one(single: str | None, many: list[str]) -> str | None:
    """The one record of a kind a note is on (``x_id`` or a one-item ``x_ids``)."""
    ids = list(dict.fromkeys(value for value in (single, *many) if value))
    if len(ids) > 1:
        raise Unprocessable(ONE_OF_EACH)
    return ids[0] if ids else None


async def create_note(
    session: AsyncSession, caller: Caller, params: NoteCreateParams, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    if not (params.content or "").strip():
        raise Unprocessable(CONTENT_BLANK)
    contact_id = _one(params.contact_id, params.contact_ids)
    account_id = _one(params.account_id, params.account_ids)
    deal_id = _one(params.opportunity_id, params.opportunity_ids)
    if not (contact_id or account_id or deal_id):
        raise Unprocessable(MISSING_NOTE_RELATION)
    contact = await require_in_team(session, Contact, writer.team_id, contact_id) if contact_id else None
    account = await require_in_team(session, Account, writer.team_id, account_id) if account_id else None
    deal = await require_in_team(session, Opportunity, writer.team_id, deal_id) if deal_id else None
    note = Note(
        id=new_id(now.timestamp()),
        team_id=writer.team_id,
        user_id=writer.user_id,
        contact_id=contact.id if contact else None,
        # A note on a contact is on the contact's account too (and one on a deal, the deal's).
        account_id=account.id if account else _account_of(contact, deal),
        opportunity_id=deal.id if deal else None,
        content=params.content,
        pinned_to_top=params.pinned_to_top,
        data={"account_ids": [account.id] if account else []},
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    await session.flush()
    body = note_object(note)
    await record_event(session, writer.team_id, CREATED, note.id, body, now)
    return {"note": body}


def _account_of(contact: Contact | None, deal: Opportunity | None) -> str | None:
    if contact is not None and contact.account_id:
        return contact.account_id
    return deal.account_id if deal is not None else None

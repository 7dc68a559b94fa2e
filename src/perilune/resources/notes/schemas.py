"""Request parameters of the notes endpoints and the wire shape of Apollo's note object.

``GET /notes`` answers its own validation errors as 400s (Apollo's texts); creating a note (which
the spec does not document, though Apollo's app does it) answers the CRM writes' 422s."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import Field

from perilune.api.envelopes import timestamp
from perilune.api.errors import BadRequest
from perilune.api.params import ApolloParams
from perilune.models import Note

MISSING_RELATION = "At least one argument is required"
INVALID_SORT_FIELD = "sort_by_field must be one of: created_at, updated_at"
INVALID_SORT_DIRECTION = 'sort_direction must be "asc" or "desc"'
INVALID_START_DATE = "start_date must be a valid date string, e.g. 2024-01-01"
INVALID_SKIP = "skip must be a non-negative integer"
INVALID_LIMIT = "limit must be a positive integer"
CONTENT_BLANK = "content can not be blank"
ONE_OF_EACH = "A note belongs to at most one contact, one account and one deal."
MISSING_NOTE_RELATION = "A note needs a contact_id, an account_id or an opportunity_id."
SORT_FIELDS = ("created_at", "updated_at")
DIRECTIONS = ("asc", "desc")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class NoteListParams(ApolloParams):
    contact_id: str | None = None
    contact_ids: list[str] = Field(default_factory=list)
    account_id: str | None = None
    opportunity_id: str | None = None
    calendar_event_id: str | None = None
    conversation_id: str | None = None
    conversation_ids: list[str] = Field(default_factory=list)
    start_date: str | None = None
    sort_by_field: str | None = None
    sort_direction: str | None = None
    skip: int | str | None = None
    limit: int | str | None = None

    def has_relation(self) -> bool:
        singles = (
            self.contact_id,
            self.account_id,
            self.opportunity_id,
            self.calendar_event_id,
            self.conversation_id,
        )
        return any(singles) or bool(self.contact_ids or self.conversation_ids)

    def start(self) -> datetime | None:
        if not self.start_date:
            return None
        try:
            day = date.fromisoformat(self.start_date.strip()[:10])
        except ValueError as exc:
            raise BadRequest(INVALID_START_DATE) from exc
        return datetime.combine(day, time.min, tzinfo=UTC)

    def offset(self) -> int:
        value = _whole(self.skip, 0, INVALID_SKIP)
        if value < 0:
            raise BadRequest(INVALID_SKIP)
        return value

    def page_size(self) -> int:
        value = _whole(self.limit, DEFAULT_LIMIT, INVALID_LIMIT)
        if value < 1:
            raise BadRequest(INVALID_LIMIT)
        return min(value, MAX_LIMIT)


def _whole(value: int | str | None, default: int, error: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise BadRequest(error) from exc


class NoteCreateParams(ApolloParams):
    content: str | None = None
    contact_id: str | None = None
    contact_ids: list[str] = Field(default_factory=list)
    account_id: str | None = None
    account_ids: list[str] = Field(default_factory=list)
    opportunity_id: str | None = None
    opportunity_ids: list[str] = Field(default_factory=list)
    pinned_to_top: bool = False


def note_object(note: Note) -> dict[str, Any]:
    data = note.data or {}
    return {
        "id": note.id,
        "user_id": note.user_id,
        "content": note.content,
        "updated_at": timestamp(note.updated_at),
        "created_at": timestamp(note.created_at),
        "contact_id": note.contact_id,
        "conversation_id": None,
        "account_id": note.account_id,
        "pinned_to_top": note.pinned_to_top,
        "system": False,
        "opportunity_id": note.opportunity_id,
        # The records the note was written on (account_id may come from the contact's account).
        "account_ids": list(data.get("account_ids") or []),
        "contact_ids": [note.contact_id] if note.contact_id else [],
        "opportunity_ids": [note.opportunity_id] if note.opportunity_id else [],
        "calendar_event_ids": [],
        "conversation_ids": [],
        "is_org_chart_note": False,
        "crm_notes": [],
    }

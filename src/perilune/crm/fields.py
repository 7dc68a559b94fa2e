"""Typed custom field values: ``typed_custom_fields`` on contacts, accounts and deals is
``{field id: value}``, each value checked against its field's type and stored normalised."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.crm.lookups import invalid_id, team_user_ids
from perilune.models import CustomField

TEXT_TYPES = frozenset({"string", "textarea", "url", "email", "phone"})
FIELD_TYPES = (
    "string",
    "textarea",
    "number",
    "currency",
    "percent",
    "date",
    "datetime",
    "boolean",
    "picklist",
    "multi_picklist",
    "lookup_user",
    "url",
    "email",
    "phone",
)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class CustomFieldValueError(Unprocessable):
    def __init__(self, field: CustomField, value: object, expected: str) -> None:
        super().__init__(
            f"Invalid value {value!r} for custom field '{field.name}' ({field.id}): expected {expected}."
        )


async def team_fields(session: AsyncSession, team_id: str, modality: str) -> dict[str, CustomField]:
    rows = await session.execute(
        select(CustomField).where(CustomField.team_id == team_id, CustomField.modality == modality)
    )
    return {field.id: field for field in rows.scalars()}


async def validate_values(
    session: AsyncSession, team_id: str, modality: str, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Check ``{field id: value}`` against the team's fields of ``modality`` (contact, account,
    opportunity): an id that is not such a field is Apollo's "not a valid ID" 422, a value of
    the wrong type a 422 naming the field. Returns the values normalised; None (or "") clears."""
    if not values:
        return {}
    fields = await team_fields(session, team_id, modality)
    out: dict[str, Any] = {}
    for field_id, value in values.items():
        field = fields.get(field_id)
        if field is None:
            raise invalid_id(field_id)
        out[field_id] = None if value is None or value == "" else _coerce(field, value)
    for field_id, value in out.items():
        lookup = fields[field_id].type == "lookup_user" and value is not None
        if lookup and value not in await team_user_ids(session, team_id, [value]):
            raise invalid_id(value)
    return out


def merge_values(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The stored values after an update: given fields overwrite, None removes, others stay."""
    merged = dict(current)
    for field_id, value in changes.items():
        if value is None:
            merged.pop(field_id, None)
        else:
            merged[field_id] = value
    return merged


def _coerce(field: CustomField, value: Any) -> Any:
    kind = field.type
    if kind in TEXT_TYPES or kind not in FIELD_TYPES:
        return _text(field, value)
    if kind in ("number", "currency", "percent"):
        return _number(field, value)
    if kind == "boolean":
        return _boolean(field, value)
    if kind == "date":
        return _date(field, value).isoformat()
    if kind == "datetime":
        return _datetime(field, value)
    if kind == "picklist":
        return _option(field, value)
    if kind == "multi_picklist":
        items = value if isinstance(value, list) else [value]
        return [_option(field, item) for item in items]
    return _text(field, value)  # lookup_user: a user id, checked by validate_values


def _text(field: CustomField, value: Any) -> str:
    if isinstance(value, dict | list):
        raise CustomFieldValueError(field, value, "text")
    text = str(value)
    limit = field.data.get("text_field_max_length")
    if isinstance(limit, int) and len(text) > limit:
        raise CustomFieldValueError(field, value, f"at most {limit} characters")
    return text


def _number(field: CustomField, value: Any) -> int | float:
    if isinstance(value, bool):
        raise CustomFieldValueError(field, value, "a number")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value).strip())
    except ValueError as exc:
        raise CustomFieldValueError(field, value, "a number") from exc
    return int(number) if number.is_integer() and "." not in str(value) else number


def _boolean(field: CustomField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CustomFieldValueError(field, value, "true or false")


def _date(field: CustomField, value: Any) -> date:
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise CustomFieldValueError(field, value, "a date (YYYY-MM-DD)") from exc


def _datetime(field: CustomField, value: Any) -> str:
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CustomFieldValueError(field, value, "an ISO 8601 date or date-time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _option(field: CustomField, value: Any) -> str:
    """A picklist value's id; its name is accepted too (case-insensitively)."""
    text = str(value).strip()
    for option in field.picklist_values:
        if option.get("id") == text:
            return text
    for option in field.picklist_values:
        if str(option.get("name", "")).strip().lower() == text.lower():
            return str(option["id"])
    raise CustomFieldValueError(field, value, "one of the field's picklist values")

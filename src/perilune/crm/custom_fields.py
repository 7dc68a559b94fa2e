"""Typed custom fields: the definitions (``POST``/``PATCH /fields``) and the values records carry.

Values on contacts, accounts and deals
--------------------------------------
``typed_custom_fields`` is ``{field id: value}``. The checking is ``perilune.crm.fields``'s
(re-exported here so either import works)::

    values = await validate_values(session, team_id, modality, params.typed_custom_fields)
    # modality: "contact" | "account" | "opportunity"; returns {field id: normalised value}.
    # An id that is not one of the team's fields of that modality -> 422 "Parameters
    # misconfigured. <id> is not a valid ID"; a value of the wrong type -> 422 naming the field;
    # None or "" -> None (clears the value). By type: string/textarea/url/email/phone -> str
    # (text_field_max_length enforced), number/currency/percent -> int|float, date ->
    # "YYYY-MM-DD", datetime -> ISO 8601 UTC ("...Z"), boolean -> bool ("true"/"false" too),
    # picklist -> the option id (an option's name is accepted), multi_picklist -> [option id],
    # lookup_user -> a user id of the team.
    record.typed_custom_fields = merge_values(record.typed_custom_fields, values)  # None removes

Definitions
-----------
``field_type`` reads the type a caller names (Apollo's spellings included), ``check_name`` the
name, ``max_length`` the text limit, ``picklist_options`` the options of a picklist (kept ids,
new ids, merges), and ``remap_option_values`` rewrites the values records hold when options are
removed or merged, so that no record keeps an option id its field no longer has."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.crm.fields import FIELD_TYPES, merge_values, validate_values
from perilune.db.ids import new_id
from perilune.models import Account, Contact, CustomField, Opportunity
from perilune.models.crm import FIELD_MODALITIES

__all__ = [
    "FIELD_MODALITIES",
    "FIELD_TYPES",
    "MAX_NAME_LENGTH",
    "PICKLIST_TYPES",
    "TEXT_LIMITED_TYPES",
    "OptionPlan",
    "check_name",
    "field_type",
    "max_length",
    "merge_values",
    "picklist_options",
    "remap_option_values",
    "validate_values",
]

PICKLIST_TYPES = frozenset({"picklist", "multi_picklist"})
# The types whose values a maximum length applies to (Apollo's meta.max_length).
TEXT_LIMITED_TYPES = frozenset({"string", "textarea"})
# Other spellings of a type that Apollo's documents use.
TYPE_ALIASES = {"multipicklist": "multi_picklist", "multi_select": "multi_picklist", "text": "string"}
MAX_NAME_LENGTH = 500
RESERVED_PREFIX = "powerup_"
RESERVED_NAME = "Field name with prefix 'powerup_' is not allowed. Please use another name."
NO_OPTIONS = "Picklist fields must have at least one option"
RECORDS_OF = {"contact": Contact, "account": Account, "opportunity": Opportunity}


def field_type(raw: str | None) -> str:
    """The stored type for the type a caller names, or a 422 listing the types."""
    name = (raw or "").strip().lower()
    name = TYPE_ALIASES.get(name, name)
    if name not in FIELD_TYPES:
        shown = raw if raw not in (None, "") else "(none)"
        raise Unprocessable(f"Invalid field type: {shown}. Use one of {', '.join(FIELD_TYPES)}.")
    return name


def check_name(raw: str | None, *, missing: str) -> str:
    """A field's name, trimmed: ``missing`` when blank, Apollo's 422 for the reserved prefix."""
    name = (raw or "").strip()
    if not name:
        raise Unprocessable(missing)
    if name.lower().startswith(RESERVED_PREFIX):
        raise Unprocessable(RESERVED_NAME)
    if len(name) > MAX_NAME_LENGTH:
        raise Unprocessable(f"Field names are at most {MAX_NAME_LENGTH} characters.")
    return name


def max_length(raw: Any) -> int:
    """``meta.max_length``: a whole number of characters, at least 1."""
    if isinstance(raw, bool):
        raw = None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        number = 0.0
    if not number.is_integer() or number < 1:
        raise Unprocessable(f"meta.max_length must be a whole number of at least 1 (got {raw!r}).")
    return int(number)


@dataclass
class OptionPlan:
    """A picklist's options after an update, and what becomes of the values stored under the
    options that went away: ``moves`` maps an old option id to its new one (a merge, through
    ``reassign_from``) or to None (the option was removed: its values are dropped)."""

    options: list[dict[str, Any]]
    moves: dict[str, str | None] = field(default_factory=dict)


def picklist_options(
    given: Sequence[Any] | None, current: Sequence[Mapping[str, Any]], now: datetime
) -> OptionPlan:
    """The options sent (the complete set): an option naming one of ``current``'s ids keeps it
    (a rename keeps the values stored under it), any other gets a new id."""
    if not given:
        raise Unprocessable(NO_OPTIONS)
    known = {str(option["id"]) for option in current}
    options: list[dict[str, Any]] = []
    merges: dict[str, str] = {}
    for item in given:
        option = _option(item, known, now)
        options.append(option)
        merges.update({source: option["id"] for source in _sources(item) if source != option["id"]})
    _check_unique(options)
    kept = {option["id"] for option in options}
    moves: dict[str, str | None] = {old: merges.get(old) for old in known - kept}
    moves.update({old: new for old, new in merges.items() if old in known and old in kept})
    return OptionPlan(options, moves)


def _option(item: Any, known: set[str], now: datetime) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        item = {"name": item}
    name = str(item.get("name") or "").strip()
    if not name:
        raise Unprocessable("Every picklist option needs a name.")
    option_id = str(item.get("id") or "")
    option: dict[str, Any] = {
        "id": option_id if option_id in known else new_id(now.timestamp()),
        "name": name,
    }
    if item.get("mapped_crm_id"):
        option["mapped_crm_id"] = str(item["mapped_crm_id"])
    return option


def _sources(item: Any) -> list[str]:
    sources = item.get("reassign_from") if isinstance(item, Mapping) else None
    if isinstance(sources, str):
        sources = [sources]
    return [str(source) for source in sources or []]


def _check_unique(options: list[dict[str, Any]]) -> None:
    """Values may name an option by its name (case-insensitively), so names must differ."""
    seen: set[str] = set()
    for option in options:
        key = option["name"].lower()
        if key in seen:
            raise Unprocessable(f"Picklist option names must be unique: {option['name']} is given twice.")
        seen.add(key)


async def remap_option_values(
    session: AsyncSession, team_id: str, custom_field: CustomField, moves: Mapping[str, str | None]
) -> int:
    """Rewrite the values the team's records hold for a picklist field whose options moved (see
    OptionPlan); returns how many records changed."""
    if not moves or custom_field.type not in PICKLIST_TYPES:
        return 0
    model: Any = RECORDS_OF[custom_field.modality]
    rows = await session.execute(select(model.id, model.typed_custom_fields).where(model.team_id == team_id))
    changed = 0
    for record_id, values in rows.all():
        if not values or custom_field.id not in values:
            continue
        new_values = _moved(values, custom_field.id, moves)
        if new_values != values:
            await session.execute(
                update(model)
                .where(model.team_id == team_id, model.id == record_id)
                .values(typed_custom_fields=new_values)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


def _moved(values: Mapping[str, Any], field_id: str, moves: Mapping[str, str | None]) -> dict[str, Any]:
    out = dict(values)
    value = out[field_id]
    if isinstance(value, list):
        kept = [moves.get(item, item) for item in value]
        remaining = list(dict.fromkeys(item for item in kept if item is not None))
        if remaining:
            out[field_id] = remaining
        else:
            out.pop(field_id)
    elif isinstance(value, str) and value in moves:
        target = moves[value]
        if target is None:
            out.pop(field_id)
        else:
            out[field_id] = target
    return out

"""Request parameters, error texts and the wire shapes of custom fields: the ``typed_custom_field``
object (``GET /typed_custom_fields``, the create and update answers) and the field object of
``GET``/``PATCH /fields``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perilune.api.envelopes import timestamp
from perilune.api.params import ApolloParams
from perilune.crm.custom_fields import PICKLIST_TYPES
from perilune.models import CustomField
from perilune.resources.fields.catalog import CATEGORIES

LABEL_MISSING = "Please enter a non-empty label!"
FIELDS_MISSING = "Please send the field to update in the 'fields' parameter."
FIELD_NOT_FOUND = "Some fields could not be found"
TYPE_CHANGED = "Cannot change field type after creation"
CUSTOM_CONTEXT = ("csv_export", "finder", "prompt")


class FieldsIndexParams(ApolloParams):
    source: Literal["system", "custom", "crm_synced"] | None = None


class FieldCreateParams(ApolloParams):
    label: str | None = None
    # typed_custom_fields call the label "name"; either is taken.
    name: str | None = None
    modality: str | None = None
    type: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class FieldsUpdateParams(ApolloParams):
    fields: list[Any] = Field(default_factory=list)


def invalid_modality(raw: str | None) -> str:
    shown = raw if raw not in (None, "") else "(none)"
    return f"Invalid modality: {shown}. Use contact, account or opportunity."


def option_object(option: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": option["id"],
        "mapped_crm_values": {},
        "name": option["name"],
        "id": option["id"],
        "key": option["id"],
    }


def typed_custom_field_object(field: CustomField) -> dict[str, Any]:
    data = field.data or {}
    body: dict[str, Any] = {
        "id": field.id,
        "modality": field.modality,
        "name": field.name,
        "type": field.type,
        "picklist_options": [],
        "mapped_crm_field": None,
        "additional_mapped_crm_field": None,
        "is_readonly_mapped_crm_field": None,
        "picklist_options_last_synced_at": timestamp(field.updated_at, zone="+00:00"),
        "picklist_value_set_id": data.get("picklist_value_set_id"),
        "mirrored": False,
        "system_name": None,
        "text_field_max_length": data.get("text_field_max_length"),
        "finder_view_ids": [],
        "is_local": False,
    }
    if field.type in PICKLIST_TYPES:
        body["picklist_values"] = [option_object(option) for option in field.picklist_values]
    return body


def field_object(field: CustomField) -> dict[str, Any]:
    """A custom field as ``GET /fields`` shows it; its id is ``<modality>.<field id>``."""
    return {
        "id": f"{field.modality}.{field.id}",
        "category": CATEGORIES[field.modality],
        "context": list(CUSTOM_CONTEXT),
        "description": None,
        "editable": True,
        "example": None,
        "field_name": field.name,
        "group": None,
        "icon_class": None,
        "label": field.name,
        "modality": field.modality,
        "parent": None,
        "source": "custom",
        "type": field.type,
        "finder_view_ids": [],
        "project_workspace_id": None,
        "context_card_ids": [],
        "product_profile_ids": [],
        "is_system_field": False,
        "finder_views": [],
        "is_local": False,
        "created_at": timestamp(field.created_at),
        "updated_at": timestamp(field.updated_at),
        "meta": _meta(field),
    }


def _meta(field: CustomField) -> dict[str, Any]:
    meta: dict[str, Any] = {"computed_type": "manual", "visibility_status": "active"}
    limit = (field.data or {}).get("text_field_max_length")
    if limit is not None:
        meta["max_length"] = limit
    if field.type in PICKLIST_TYPES:
        meta["picklist_values"] = [{"id": o["id"], "name": o["name"]} for o in field.picklist_values]
    return meta

"""The system fields ``GET /fields`` lists: the attributes of Apollo's contact, account and deal
objects that Perilune stores, each as Apollo describes a field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The ``category`` Apollo gives each modality's fields.
CATEGORIES = {"contact": "person", "account": "company", "opportunity": "opportunity"}
SYSTEM_CONTEXT = ("finder", "csv_export")


@dataclass(frozen=True)
class SystemField:
    modality: str
    name: str
    label: str
    type: str
    group: str = "basic_info"
    icon_class: str | None = None
    example: str | None = None
    parent: str | None = None


def _contact(name: str, label: str, type: str = "string", **extra: Any) -> SystemField:
    return SystemField("contact", name, label, type, icon_class=extra.pop("icon_class", "user"), **extra)


def _account(name: str, label: str, type: str = "string", **extra: Any) -> SystemField:
    return SystemField("account", name, label, type, icon_class=extra.pop("icon_class", "company"), **extra)


def _deal(name: str, label: str, type: str = "string", **extra: Any) -> SystemField:
    return SystemField("opportunity", name, label, type, icon_class=extra.pop("icon_class", "deal"), **extra)


SYSTEM_FIELDS: tuple[SystemField, ...] = (
    _contact("id", "Identifier", example="673c929202c6025d8bc4e680"),
    _contact("name", "Name", example="John Smith"),
    _contact("first_name", "First name", example="John", parent="contact.name"),
    _contact("last_name", "Last name", example="Smith", parent="contact.name"),
    _contact("title", "Title", example="VP of Sales"),
    _contact("email", "Email", "email", example="john@example.com"),
    _contact("email_status", "Email status", "picklist", example="verified"),
    _contact("organization_name", "Company", icon_class="company", example="Test Corp"),
    _contact("linkedin_url", "LinkedIn URL", "url"),
    _contact("phone_numbers", "Phone numbers", "phone"),
    _contact("present_raw_address", "Location", group="location", example="San Francisco, California"),
    _contact("city", "City", group="location", parent="contact.present_raw_address"),
    _contact("state", "State", group="location", parent="contact.present_raw_address"),
    _contact("country", "Country", group="location", parent="contact.present_raw_address"),
    _contact("time_zone", "Time zone", group="location", example="America/Los_Angeles"),
    _contact("contact_stage_id", "Stage", "picklist", group="status"),
    _contact("owner_id", "Owner", "association", group="status"),
    _contact("account_id", "Account", "association", icon_class="company"),
    _contact("label_ids", "Lists", "multi_picklist", group="status"),
    _contact("source", "Source", group="status", example="api"),
    _contact("created_at", "Created at", "datetime", group="activity"),
    _contact("updated_at", "Updated at", "datetime", group="activity"),
    _contact("last_activity_date", "Last activity", "datetime", group="activity"),
    _account("id", "Identifier", example="66e34b81740c50074e3d1bd4"),
    _account("name", "Name", example="Test Corp"),
    _account("domain", "Website domain", "url", example="example.com"),
    _account("phone", "Phone", "phone"),
    _account("raw_address", "Location", group="location", example="San Francisco, California"),
    _account("city", "City", group="location", parent="account.raw_address"),
    _account("state", "State", group="location", parent="account.raw_address"),
    _account("country", "Country", group="location", parent="account.raw_address"),
    _account("account_stage_id", "Stage", "picklist", group="status"),
    _account("owner_id", "Owner", "association", group="status", icon_class="user"),
    _account("parent_account_id", "Parent account", "association"),
    _account("label_ids", "Lists", "multi_picklist", group="status"),
    _account("source", "Source", group="status", example="api"),
    _account("created_at", "Created at", "datetime", group="activity"),
    _account("updated_at", "Updated at", "datetime", group="activity"),
    _account("last_activity_date", "Last activity", "datetime", group="activity"),
    _deal("id", "Identifier", example="66e09ea8e3cfcf01b2208ec7"),
    _deal("name", "Deal name", example="Test Corp - Annual plan"),
    _deal("amount", "Amount", "currency", example="25000"),
    _deal("closed_date", "Close date", "date", example="2025-12-31"),
    _deal("opportunity_stage_id", "Stage", "picklist", group="status"),
    _deal("owner_id", "Owner", "association", group="status", icon_class="user"),
    _deal("account_id", "Account", "association", icon_class="company"),
    _deal("description", "Description", "textarea"),
    _deal("is_closed", "Closed", "boolean", group="status"),
    _deal("is_won", "Won", "boolean", group="status"),
    _deal("source", "Source", group="status", example="api"),
    _deal("created_at", "Created at", "datetime", group="activity"),
    _deal("updated_at", "Updated at", "datetime", group="activity"),
    _deal("last_activity_date", "Last activity", "datetime", group="activity"),
)


def system_field_object(field: SystemField) -> dict[str, Any]:
    field_id = f"{field.modality}.{field.name}"
    return {
        "id": field_id,
        "category": CATEGORIES[field.modality],
        "context": list(SYSTEM_CONTEXT),
        "description": None,
        "editable": False,
        "example": field.example,
        "field_name": field_id,
        "group": field.group,
        "icon_class": field.icon_class,
        "label": field.label,
        "modality": field.modality,
        "parent": field.parent,
        "source": "system",
        "type": field.type,
        "finder_view_ids": [],
        "project_workspace_id": None,
        "finder_views": [],
        "is_local": False,
    }

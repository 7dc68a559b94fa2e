"""One contact write, whatever endpoint it comes from (create, update, dedupe, bulk): the fields
the caller sent, checked against the team's records, then applied to a contact.

Fields the caller omits are left alone and an empty value clears, as Apollo's updates do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.crm import fields as custom_fields
from perilune.crm.lookups import find_in_team, invalid_id, validate_owner
from perilune.crm.render import PHONE_TYPES
from perilune.crm.search_text import refresh_keywords
from perilune.crm.stages import stage_for
from perilune.models import Account, Contact, ContactStage, Organization, Person
from perilune.repository.normalize import (
    linkedin_slug,
    normalize_email,
    registrable_domain,
    resolve_location,
    split_name,
    to_e164,
)
from perilune.resources.contacts.schemas import ContactFields

# Text columns copied as given ("" clears).
TEXT_COLUMNS = ("title", "organization_name", "salesforce_lead_id", "salesforce_contact_id", "hubspot_vid")
# Fields kept in the contact's data object.
DATA_FIELDS = (
    "photo_url",
    "twitter_url",
    "facebook_url",
    "headline",
    "salesforce_id",
    "salesforce_account_id",
)
# Set once, never overwritten by a dedupe match (Apollo's protected fields).
PROTECTED = ("person_id", "salesforce_lead_id", "salesforce_contact_id")
# A bare "phone" (bulk create) has no type: Apollo files it as "other".
UNTYPED_PHONE = "other"


@dataclass
class ContactInput:
    """What one write sets. ``values`` holds only the fields that were sent."""

    values: dict[str, Any] = field(default_factory=dict)
    # Apollo phone type -> raw number ("" removes the type's number).
    phones: dict[str, str] = field(default_factory=dict)
    phone_list: list[dict[str, Any]] | None = None
    label_names: list[str] | None = None
    typed_custom_fields: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # An email was sent but is not a valid address (Apollo ignores it on create).
    invalid_email: str | None = None
    website_domain: str | None = None

    def has(self, name: str) -> bool:
        return name in self.values


def contact_input(params: ContactFields) -> ContactInput:
    sent = params.model_fields_set
    given = ContactInput()
    _names(params, sent, given)
    _email(params, sent, given)
    for name in TEXT_COLUMNS:
        if name in sent:
            given.values[name] = _text(getattr(params, name))
    if "hubspot_id" in sent and "hubspot_vid" not in sent:
        given.values["hubspot_vid"] = _text(params.hubspot_id)
    if "primary_title" in sent and params.primary_title:
        given.values["title"] = params.primary_title.strip()
    for name in ("account_id", "organization_id", "person_id", "contact_stage_id", "owner_id"):
        if name in sent:
            given.values[name] = _text(getattr(params, name))
    if "linkedin_url" in sent:
        given.values["linkedin_url"] = _text(params.linkedin_url)
    if "present_raw_address" in sent:
        given.values["present_raw_address"] = _text(params.present_raw_address)
    _phones(params, sent, given)
    if "label_names" in sent:
        given.label_names = list(params.label_names)
    if "typed_custom_fields" in sent:
        given.typed_custom_fields = params.typed_custom_fields or {}
    given.data = {name: _text(getattr(params, name)) for name in DATA_FIELDS if name in sent}
    if params.contact_emails:
        given.data["contact_emails"] = _contact_emails(params.contact_emails)
    return given


def _text(value: str | None) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    return text or None


def _names(params: ContactFields, sent: set[str], given: ContactInput) -> None:
    for name in ("first_name", "last_name"):
        if name in sent:
            given.values[name] = _text(getattr(params, name))
    if "name" in sent and params.name and not ({"first_name", "last_name"} & sent):
        parts = split_name(params.name)
        given.values["first_name"] = parts.first or None
        given.values["last_name"] = parts.last or None


def _email(params: ContactFields, sent: set[str], given: ContactInput) -> None:
    if "website_url" in sent and params.website_url:
        given.website_domain = registrable_domain(params.website_url)
    if "email" not in sent:
        return
    raw = (params.email or "").strip()
    if not raw:
        given.values["email"] = None
        return
    email = normalize_email(raw)
    if email is None:
        given.invalid_email = raw
    else:
        given.values["email"] = email


def _phones(params: ContactFields, sent: set[str], given: ContactInput) -> None:
    for name, phone_type in PHONE_TYPES.items():
        if name in sent:
            given.phones[phone_type] = (getattr(params, name) or "").strip()
    if "phone" in sent and params.phone:
        given.phones.setdefault(UNTYPED_PHONE, params.phone.strip())
    if params.phone_numbers:
        given.phone_list = [
            {"raw_number": str(item.get("raw_number", "")).strip(), "type": item.get("type") or UNTYPED_PHONE}
            for item in sorted(params.phone_numbers, key=lambda item: _position(item))
            if isinstance(item, dict) and str(item.get("raw_number", "")).strip()
        ]


def _position(item: Any) -> int:
    try:
        return int(item.get("position", 0)) if isinstance(item, dict) else 0
    except (TypeError, ValueError):
        return 0


def _contact_emails(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    emails: list[dict[str, Any]] = []
    for item in sorted(items, key=_position):
        email = normalize_email(str(item.get("email", ""))) if isinstance(item, dict) else None
        if email:
            emails.append({"email": email, "position": len(emails)})
    return emails


async def check_input(session: AsyncSession, team_id: str, given: ContactInput) -> None:
    """Every id the write names must be the team's (or the repository's, for person and
    organization ids): Apollo's "is not a valid ID" 422 otherwise. Custom field values are
    checked and normalised by type."""
    values = given.values
    if (
        values.get("account_id")
        and await find_in_team(session, Account, team_id, values["account_id"]) is None
    ):
        raise invalid_id(values["account_id"])
    stage_id = values.get("contact_stage_id")
    if stage_id and await stage_for(session, ContactStage, team_id, stage_id) is None:
        raise invalid_id(stage_id)
    await validate_owner(session, team_id, values.get("owner_id"))
    for name, model in (("organization_id", Organization), ("person_id", Person)):
        if values.get(name) and await session.get(model, values[name]) is None:
            raise invalid_id(values[name])
    if given.typed_custom_fields is not None:
        given.typed_custom_fields = await custom_fields.validate_values(
            session, team_id, "contact", given.typed_custom_fields
        )


def apply_input(contact: Contact, given: ContactInput, now: datetime, *, protect: bool = False) -> None:
    """Set what was sent. ``protect`` (a dedupe match) keeps person_id and the Salesforce ids
    once they are set."""
    for name, value in given.values.items():
        if name in ("email", "linkedin_url", "present_raw_address"):
            continue
        if protect and name in PROTECTED and getattr(contact, name):
            continue
        setattr(contact, name, value)
    if given.has("email"):
        set_email(contact, given.values["email"])
    if given.has("linkedin_url"):
        contact.linkedin_url = given.values["linkedin_url"]
        contact.linkedin_slug = linkedin_slug(contact.linkedin_url)
    if given.has("present_raw_address"):
        set_address(contact, given.values["present_raw_address"])
    if given.has("first_name") or given.has("last_name"):
        contact.name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
    if given.phone_list is not None:
        contact.phone_numbers = _renumbered(
            [_phone(item["raw_number"], item["type"], contact.country) for item in given.phone_list]
        )
    if given.phones:
        contact.phone_numbers = apply_phones(contact.phone_numbers or [], given.phones, contact.country)
    if given.typed_custom_fields:
        contact.typed_custom_fields = custom_fields.merge_values(
            contact.typed_custom_fields or {}, given.typed_custom_fields
        )
    if given.data:
        contact.data = {**(contact.data or {}), **given.data}
    refresh_keywords(contact)
    contact.updated_at = now


def set_email(contact: Contact, email: str | None) -> None:
    """An address the caller gives is theirs to vouch for: Apollo shows it as verified and
    "User Managed"."""
    contact.email = email
    contact.email_status = "verified" if email else None
    contact.data = {**(contact.data or {}), "email_from_customer": bool(email)}


def set_address(contact: Contact, raw: str | None) -> None:
    """present_raw_address -> city, state, country and time zone (empty clears all five)."""
    contact.present_raw_address = raw
    place = resolve_location(raw=raw) if raw else None
    contact.city = place.city if place else None
    contact.state = place.state if place else None
    contact.country = place.country if place else None
    contact.time_zone = place.time_zone if place else None


def apply_phones(
    current: list[dict[str, Any]], given: dict[str, str], country: str | None
) -> list[dict[str, Any]]:
    """Apollo's phone rule: a number of a type the contact has overwrites that type's number;
    a type it lacks is added after the existing numbers; an empty value removes the type."""
    phones = [dict(phone) for phone in current]
    for phone_type, raw in given.items():
        index = next((i for i, phone in enumerate(phones) if phone.get("type") == phone_type), None)
        if not raw:
            if index is not None:
                phones.pop(index)
            continue
        replacement = _phone(raw, phone_type, country)
        if index is None:
            phones.append(replacement)
        else:
            phones[index] = replacement
    return _renumbered(phones)


def _renumbered(phones: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for position, phone in enumerate(phones):
        phone["position"] = position
    return phones


def _phone(raw: str, phone_type: str, country: str | None) -> dict[str, Any]:
    return {
        "raw_number": raw,
        # A number written without a country code is read as the contact's country's, else US.
        "sanitized_number": to_e164(raw, country or "US"),
        "type": phone_type,
        "position": 0,
        "status": "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
        "dialer_flags": None,
    }

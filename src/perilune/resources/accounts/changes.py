"""One account write (create, update, bulk): the fields the caller sent, checked against the
team's records, then applied. Omitted fields are left alone; an empty value clears."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.crm import fields as custom_fields
from perilune.crm.lookups import find_in_team, invalid_id, validate_owner
from perilune.crm.stages import stage_for
from perilune.models import Account, AccountStage, Organization
from perilune.repository.normalize import fold, registrable_domain, resolve_location, to_e164
from perilune.resources.accounts.schemas import AccountFields

TEXT_COLUMNS = ("name", "salesforce_id", "hubspot_id")
ID_COLUMNS = ("owner_id", "account_stage_id", "organization_id", "parent_account_id")
DATA_FIELDS = ("linkedin_url", "facebook_url", "twitter_url")


@dataclass
class AccountInput:
    """What one write sets; ``values`` holds only the fields that were sent."""

    values: dict[str, Any] = field(default_factory=dict)
    label_names: list[str] | None = None
    typed_custom_fields: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    merged_crm_ids: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.values


def _text(value: str | None) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    return text or None


def account_input(params: AccountFields) -> AccountInput:
    sent = params.model_fields_set
    given = AccountInput()
    for name in TEXT_COLUMNS + ID_COLUMNS:
        if name in sent:
            given.values[name] = _text(getattr(params, name))
    if "domain" in sent:
        given.values["domain"] = registrable_domain(params.domain) if params.domain else None
    for name in ("phone", "phone_number"):
        if name in sent:
            given.values["phone"] = _text(getattr(params, name))
    if "raw_address" in sent:
        given.values["raw_address"] = _text(params.raw_address)
    if "label_names" in sent:
        given.label_names = list(params.label_names)
    if "typed_custom_fields" in sent:
        given.typed_custom_fields = params.typed_custom_fields or {}
    given.data = {name: _text(getattr(params, name)) for name in DATA_FIELDS if name in sent}
    if "phone_status_cd" in sent and params.phone_status_cd:
        given.data["phone_status"] = params.phone_status_cd
    given.merged_crm_ids = [value for value in params.merged_crm_ids if value]
    return given


async def check_input(session: AsyncSession, team_id: str, given: AccountInput) -> None:
    """Ids must be the team's (the organization the repository's): Apollo's "is not a valid ID"
    422 otherwise. Custom field values are checked and normalised by type."""
    values = given.values
    stage_id = values.get("account_stage_id")
    if stage_id and await stage_for(session, AccountStage, team_id, stage_id) is None:
        raise invalid_id(stage_id)
    await validate_owner(session, team_id, values.get("owner_id"))
    parent = values.get("parent_account_id")
    if parent and await find_in_team(session, Account, team_id, parent) is None:
        raise invalid_id(parent)
    org_id = values.get("organization_id")
    if org_id and await session.get(Organization, org_id) is None:
        raise invalid_id(org_id)
    if given.typed_custom_fields is not None:
        given.typed_custom_fields = await custom_fields.validate_values(
            session, team_id, "account", given.typed_custom_fields
        )


def apply_input(account: Account, given: AccountInput, now: datetime) -> None:
    for name, value in given.values.items():
        if name not in ("phone", "raw_address", "name"):
            setattr(account, name, value)
    if given.has("name"):
        account.name = given.values["name"]
        account.name_key = fold(account.name) or None
    if given.has("raw_address"):
        set_address(account, given.values["raw_address"])
    if given.has("phone"):
        account.phone = given.values["phone"]
        account.sanitized_phone = to_e164(account.phone, account.country or "US") if account.phone else None
    if given.typed_custom_fields:
        account.typed_custom_fields = custom_fields.merge_values(
            account.typed_custom_fields or {}, given.typed_custom_fields
        )
    if given.data:
        account.data = {**(account.data or {}), **given.data}
    if given.merged_crm_ids:
        merged = list(dict.fromkeys([*account.data.get("merged_crm_ids", []), *given.merged_crm_ids]))
        account.data = {**account.data, "merged_crm_ids": merged}
    account.updated_at = now


def set_address(account: Account, raw: str | None) -> None:
    """raw_address -> city, state, country and time zone (empty clears them)."""
    account.raw_address = raw
    place = resolve_location(raw=raw) if raw else None
    account.city = place.city if place else None
    account.state = place.state if place else None
    account.country = place.country if place else None
    account.time_zone = place.time_zone if place else None

"""Bulk create (up to 100; matches go to ``existing_accounts`` unchanged) and bulk update (up to
1,000; the stage change of the legacy docs and the spec's field updates; ``async`` with
account_ids runs in the background as a durable job)."""

from __future__ import annotations

from collections.abc import Mapping
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
from perilune.crm.lookups import find_many_in_team
from perilune.crm.render import account_objects
from perilune.crm.stages import ensure_default_stages
from perilune.crm.writer import Writer
from perilune.models import Account
from perilune.resources.accounts import repository, service
from perilune.resources.accounts.changes import AccountInput
from perilune.resources.accounts.schemas import (
    ASYNC_NOT_PERMITTED,
    BULK_CREATE_LIMIT,
    BULK_CREATE_MISSING,
    BULK_CREATE_TOO_MANY,
    BULK_UPDATE_LIMIT,
    BULK_UPDATE_MISSING,
    BULK_UPDATE_TOO_MANY,
    AccountFields,
    BulkCreateParams,
    BulkUpdateParams,
)

BULK_UPDATE_JOB = "crm.accounts.bulk_update"
# The fields bulk_update applies to every account named in account_ids.
SHARED_FIELDS = ("name", "owner_id", "account_stage_id", "typed_custom_fields")


def parse_item(item: Any, position: int, missing: str = BULK_CREATE_MISSING) -> AccountFields:
    if not isinstance(item, dict):
        raise Unprocessable(missing)
    try:
        return AccountFields.model_validate(item)
    except ValidationError as exc:
        raise Unprocessable(f"Item {position}: {describe_validation_error(exc)}") from exc


async def bulk_create(
    session: AsyncSession, caller: Caller, params: BulkCreateParams, now: datetime
) -> dict[str, Any]:
    if not params.accounts:
        raise Unprocessable(BULK_CREATE_MISSING)
    if len(params.accounts) > BULK_CREATE_LIMIT:
        raise Unprocessable(BULK_CREATE_TOO_MANY)
    writer = Writer.of(caller, now)
    await ensure_default_stages(session, writer.team_id, now)
    inputs = [
        await service.checked_input(session, writer.team_id, parse_item(item, position))
        for position, item in enumerate(params.accounts)
    ]
    created: list[Account] = []
    existing: list[Account] = []
    for given in inputs:
        match = await find_duplicate(session, writer.team_id, given, aggressive=params.run_dedupe)
        if match is not None:
            if match not in existing:
                existing.append(match)
            continue
        created.append(await service.new_account(session, writer, given))
    await _append_labels(session, writer, created, params.append_label_names)
    return {
        "created_accounts": await service.emit(session, writer, service.CREATED, created),
        "existing_accounts": await account_objects(session, writer.team_id, existing),
    }


async def find_duplicate(
    session: AsyncSession, team_id: str, given: AccountInput, *, aggressive: bool
) -> Account | None:
    """CRM ids always; with run_dedupe also domain, organization and name."""
    values = given.values
    found = await repository.by_crm_ids(
        session, team_id, values.get("salesforce_id"), values.get("hubspot_id")
    )
    for crm_id in given.merged_crm_ids:
        found = found or await repository.by_crm_ids(session, team_id, crm_id, crm_id)
    if found is not None or not aggressive:
        return found
    if values.get("domain"):
        found = await repository.by_domain(session, team_id, values["domain"])
    if found is None and values.get("organization_id"):
        found = await repository.by_organization(session, team_id, values["organization_id"])
    if found is None and values.get("name"):
        found = await repository.by_name(session, team_id, values["name"])
    return found


async def _append_labels(
    session: AsyncSession, writer: Writer, accounts: list[Account], names: list[str]
) -> None:
    if not accounts or not names:
        return
    lists = await crm_labels.labels_named(
        session, writer.team_id, service.LABEL_MODALITY, names, user_id=writer.user_id, now=writer.now
    )
    await crm_labels.add_members(
        session, writer.team_id, service.ENTITY, [a.id for a in accounts], lists, writer.now
    )


# -- bulk update ------------------------------------------------------------------------------


def _updates(params: BulkUpdateParams) -> list[tuple[str, dict[str, Any]]]:
    shared = params.model_dump(include=params.model_fields_set & set(SHARED_FIELDS))
    updates = [(account_id, shared) for account_id in dict.fromkeys(params.account_ids)]
    for position, item in enumerate(params.account_attributes):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise Unprocessable(f"Item {position} of account_attributes needs an id.")
        updates.append((item["id"], {k: v for k, v in item.items() if k != "id"}))
    return updates


async def _checked(session: AsyncSession, team_id: str, fields: Mapping[str, Any]) -> AccountInput:
    return await service.checked_input(session, team_id, parse_item(dict(fields), 0, BULK_UPDATE_MISSING))


async def _checked_updates(
    session: AsyncSession,
    team_id: str,
    updates: list[tuple[str, dict[str, Any]]],
    accounts: Mapping[str, Account],
) -> list[tuple[str, AccountInput]]:
    """Each known account's checked input; identical fields (every account_ids account shares
    them) are checked once."""
    checked: dict[bytes, AccountInput] = {}
    inputs = []
    for account_id, fields in updates:
        if account_id not in accounts:
            continue
        key = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
        if key not in checked:
            checked[key] = await _checked(session, team_id, fields)
        inputs.append((account_id, checked[key]))
    return inputs


async def bulk_update(
    session: AsyncSession, caller: Caller, params: BulkUpdateParams, now: datetime
) -> dict[str, Any]:
    if not params.account_ids and not params.account_attributes:
        raise Unprocessable(BULK_UPDATE_MISSING)
    if params.run_async and params.account_attributes:
        raise Unprocessable(ASYNC_NOT_PERMITTED)
    updates = _updates(params)
    if len(updates) > BULK_UPDATE_LIMIT:
        raise Unprocessable(BULK_UPDATE_TOO_MANY)
    writer = Writer.of(caller, now)
    accounts = {
        a.id: a for a in await find_many_in_team(session, Account, writer.team_id, [u[0] for u in updates])
    }
    known = [(account_id, fields) for account_id, fields in updates if account_id in accounts]
    # Everything is checked now, so that a background run has nothing left to refuse.
    inputs = await _checked_updates(session, writer.team_id, known, accounts)
    if params.run_async:
        return queue_bulk_update(session, writer, BULK_UPDATE_JOB, "account_bulk_update", known)
    changed = await apply_updates(session, writer, accounts, inputs)
    return {"accounts": await service.emit(session, writer, service.UPDATED, changed)}


async def apply_updates(
    session: AsyncSession,
    writer: Writer,
    accounts: Mapping[str, Account],
    inputs: list[tuple[str, AccountInput]],
) -> list[Account]:
    changed: list[Account] = []
    for account_id, given in inputs:
        account = accounts[account_id]
        await service.update_in_place(session, writer, account, given)
        if account not in changed:
            changed.append(account)
    return changed


async def run_bulk_update(session: AsyncSession, payload: Mapping[str, Any], now: datetime) -> int:
    """The background half: apply the updates a request checked and queued. Accounts removed
    meanwhile are passed over; an input no longer valid raises (the job fails)."""
    writer = Writer(str(payload["team_id"]), payload.get("user_id"), now)
    updates = [(str(item["id"]), item["fields"]) for item in payload["updates"]]
    accounts = {
        a.id: a for a in await find_many_in_team(session, Account, writer.team_id, [u[0] for u in updates])
    }
    inputs = await _checked_updates(session, writer.team_id, updates, accounts)
    changed = await apply_updates(session, writer, accounts, inputs)
    await service.emit(session, writer, service.UPDATED, changed)
    return len(changed)

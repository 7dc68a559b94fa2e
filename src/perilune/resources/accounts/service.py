"""Accounts: create, view, update, search and owner changes. Every change is recorded as an
``account.*`` event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import pagination
from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm import labels as crm_labels
from perilune.crm.events import record_event
from perilune.crm.linking import link_account
from perilune.crm.lookups import find_in_team, find_many_in_team, invalid_id
from perilune.crm.render import account_objects
from perilune.crm.stages import default_stage_id, ensure_default_stages, stages_session
from perilune.crm.writer import Writer
from perilune.db.ids import is_valid_id, new_id
from perilune.db.sessions import Sessions
from perilune.models import Account, AccountStage, Label
from perilune.repository.normalize import fold
from perilune.resources.accounts import repository
from perilune.resources.accounts.changes import AccountInput, account_input, apply_input, check_input
from perilune.resources.accounts.schemas import (
    INVALID_SEARCH,
    INVALID_SORT,
    MISSING_ACCOUNT_IDS,
    MISSING_OWNER_ID,
    NAME_OR_DOMAIN,
    SORT_FIELDS,
    AccountFields,
    AccountSearchParams,
    UpdateOwnersParams,
    stage_object,
)

CREATED = "account.created"
UPDATED = "account.updated"
LABEL_MODALITY = "accounts"
ENTITY = "account"


# -- reading ----------------------------------------------------------------------------------


async def list_stages(sessions: Sessions, caller: Caller) -> dict[str, Any]:
    session = await stages_session(sessions, caller.team_id)
    return {
        "account_stages": [stage_object(stage) for stage in await repository.stages(session, caller.team_id)]
    }


async def existing(session: AsyncSession, team_id: str, account_id: str) -> Account:
    """The team's account, or Apollo's 422 for an id it does not have."""
    account = await find_in_team(session, Account, team_id, account_id)
    if account is None:
        raise invalid_id(account_id)
    return account


async def get_account(session: AsyncSession, caller: Caller, account_id: str) -> dict[str, Any]:
    account = await existing(session, caller.team_id, account_id)
    [body] = await account_objects(session, caller.team_id, [account])
    return {"account": body}


async def labels_of(session: AsyncSession, team_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    lists = await find_many_in_team(session, Label, team_id, body["label_ids"])
    return await crm_labels.label_objects(session, team_id, lists)


# -- writing ----------------------------------------------------------------------------------


async def checked_input(session: AsyncSession, team_id: str, params: AccountFields) -> AccountInput:
    given = account_input(params)
    await check_input(session, team_id, given)
    return given


async def new_account(session: AsyncSession, writer: Writer, given: AccountInput) -> Account:
    """An account from checked input: default stage and owner, organization link, lists and
    custom fields."""
    account = Account(
        id=new_id(writer.now.timestamp()),
        team_id=writer.team_id,
        owner_id=writer.user_id,
        creator_id=writer.user_id,
        source="api",
        original_source="api",
        typed_custom_fields={},
        data={},
        created_at=writer.now,
        updated_at=writer.now,
    )
    apply_input(account, given, writer.now)
    if account.account_stage_id is None:
        account.account_stage_id = await default_stage_id(session, AccountStage, writer.team_id)
    await _link(session, account)
    session.add(account)
    await session.flush()
    await _set_labels(session, writer, account, given, replace=False)
    return account


async def _link(session: AsyncSession, account: Account) -> None:
    await link_account(session, account)
    account.name_key = fold(account.name) or None


async def _set_labels(
    session: AsyncSession, writer: Writer, account: Account, given: AccountInput, *, replace: bool
) -> None:
    if given.label_names is None:
        return
    lists = await crm_labels.labels_named(
        session, writer.team_id, LABEL_MODALITY, given.label_names, user_id=writer.user_id, now=writer.now
    )
    if replace:
        await crm_labels.replace_members(session, writer.team_id, ENTITY, account.id, lists, writer.now)
    else:
        await crm_labels.add_members(session, writer.team_id, ENTITY, [account.id], lists, writer.now)


async def update_in_place(
    session: AsyncSession, writer: Writer, account: Account, given: AccountInput
) -> Account:
    if given.has("domain") and not given.has("organization_id"):
        # A new domain may be another company: link again from it.
        account.organization_id = None
    apply_input(account, given, writer.now)
    if given.has("domain") or given.has("organization_id"):
        await _link(session, account)
    await _set_labels(session, writer, account, given, replace=True)
    await session.flush()
    return account


async def emit(
    session: AsyncSession, writer: Writer, event: str, accounts: Sequence[Account]
) -> list[dict[str, Any]]:
    """Render the accounts and record one event each; returns the rendered objects."""
    bodies = await account_objects(session, writer.team_id, accounts)
    for account, body in zip(accounts, bodies, strict=True):
        await record_event(session, writer.team_id, event, account.id, body, writer.now)
    return bodies


async def create_account(
    session: AsyncSession, caller: Caller, params: AccountFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    await ensure_default_stages(session, writer.team_id, now)
    given = await checked_input(session, writer.team_id, params)
    if not given.values.get("name") and not given.values.get("domain"):
        raise Unprocessable(NAME_OR_DOMAIN)
    account = await new_account(session, writer, given)
    [body] = await emit(session, writer, CREATED, [account])
    return {
        "account": body,
        "labels": await labels_of(session, writer.team_id, body),
        "team": {"id": writer.team_id, "accounts_finder_empty": False},
    }


async def update_account(
    session: AsyncSession, caller: Caller, account_id: str, params: AccountFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    account = await existing(session, writer.team_id, account_id)
    given = await checked_input(session, writer.team_id, params)
    await update_in_place(session, writer, account, given)
    [body] = await emit(session, writer, UPDATED, [account])
    return {"account": body, "labels": await labels_of(session, writer.team_id, body)}


async def set_on_each(
    session: AsyncSession, writer: Writer, account_ids: list[str], given: AccountInput
) -> list[dict[str, Any]]:
    """The same checked change on the team's accounts among ``account_ids`` (other ids change
    nothing and are left out of the answer)."""
    accounts = await find_many_in_team(session, Account, writer.team_id, account_ids)
    for account in accounts:
        await update_in_place(session, writer, account, given)
    return await emit(session, writer, UPDATED, accounts)


async def update_owners(
    session: AsyncSession, caller: Caller, params: UpdateOwnersParams, now: datetime
) -> dict[str, Any]:
    if not params.account_ids:
        raise Unprocessable(MISSING_ACCOUNT_IDS)
    if not params.owner_id:
        raise Unprocessable(MISSING_OWNER_ID)
    given = AccountInput(values={"owner_id": params.owner_id})
    await check_input(session, caller.team_id, given)
    return {"accounts": await set_on_each(session, Writer.of(caller, now), params.account_ids, given)}


# -- search -----------------------------------------------------------------------------------


async def search_accounts(
    session: AsyncSession, caller: Caller, params: AccountSearchParams
) -> dict[str, Any]:
    where = _filter(caller.team_id, params)
    total = await repository.count(session, where)
    accounts = await repository.search(session, where, offset=params.offset, limit=params.limit)
    return {
        "breadcrumbs": await _breadcrumbs(session, caller.team_id, params),
        "partial_results_only": False,
        "has_join": False,
        "disable_eu_prospecting": False,
        "partial_results_limit": 10000,
        "pagination": pagination(params, total),
        "accounts": await account_objects(session, caller.team_id, accounts),
        "num_fetch_result": None,
    }


def _filter(team_id: str, params: AccountSearchParams) -> repository.AccountFilter:
    sort_column = None
    if params.sort_by_field:
        sort_column = SORT_FIELDS.get(params.sort_by_field)
        if sort_column is None:
            raise Unprocessable(INVALID_SORT, skip_alert_dialog=True)
    if not all(is_valid_id(value) for value in [*params.account_stage_ids, *params.account_label_ids]):
        raise Unprocessable(INVALID_SEARCH)
    return repository.AccountFilter(
        team_id=team_id,
        name_words=list(dict.fromkeys(fold(params.q_organization_name).split())),
        stage_ids=params.account_stage_ids,
        label_ids=params.account_label_ids,
        sort_column=sort_column,
        ascending=params.sort_ascending,
    )


async def _breadcrumbs(
    session: AsyncSession, team_id: str, params: AccountSearchParams
) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = []
    if params.q_organization_name:
        name = params.q_organization_name
        crumbs.append(_crumb("Company Name", "q_organization_name", name, name))
    stages = await repository.stage_names(session, team_id, params.account_stage_ids)
    for stage_id in params.account_stage_ids:
        crumbs.append(
            _crumb("Account Stage", "account_stage_ids", stage_id, stages.get(stage_id, "[Deleted Stage]"))
        )
    names = await repository.label_names(session, team_id, params.account_label_ids)
    for label_id in params.account_label_ids:
        crumbs.append(_crumb("Lists", "account_label_ids", label_id, names.get(label_id, "[Deleted List]")))
    return crumbs


def _crumb(label: str, field: str, value: str, display_name: str) -> dict[str, Any]:
    return {"label": label, "signal_field_name": field, "value": value, "display_name": display_name}

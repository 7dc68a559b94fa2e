"""Deals: create, view, update, list and search, the deals of a contact, and the deal stages.
Every change is recorded as an ``opportunity.*`` event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import RouteNotFound, Unprocessable
from perilune.auth.context import Caller
from perilune.crm import fields as custom_fields
from perilune.crm.events import record_event
from perilune.crm.lookups import find_in_team, find_many_in_team, invalid_id, require_in_team, validate_owner
from perilune.crm.render import account_objects
from perilune.crm.stages import default_stage_id, stages_session
from perilune.crm.writer import Writer
from perilune.db.ids import is_valid_id, new_id
from perilune.db.sessions import Sessions
from perilune.models import Account, Contact, Opportunity, OpportunityStage
from perilune.resources.mixed_companies.schemas import search_pagination
from perilune.resources.opportunities import repository
from perilune.resources.opportunities.render import DealContext, opportunity_object
from perilune.resources.opportunities.schemas import (
    INVALID_SEARCH,
    INVALID_SORT,
    MAX_CONTACTS,
    NAME_REQUIRED,
    OPPORTUNITY_NOT_FOUND,
    SORT_FIELDS,
    TOO_MANY_CONTACTS,
    OpportunityFields,
    OpportunitySearchParams,
    amount_value,
    closed_date_value,
    stage_object,
)

CREATED = "opportunity.created"
UPDATED = "opportunity.updated"
CUSTOM_FIELD_MODALITY = "opportunity"
# Search answers carry these as Apollo's do.
SEARCH_FLAGS = {
    "salesforce_users": [],
    "partial_results_only": False,
    "has_join": False,
    "disable_eu_prospecting": False,
    "partial_results_limit": 10000,
}


class DealNotFound(RouteNotFound):
    """View Deal's 404 for a deal the team does not have: Apollo's ``{"status": 404, "error":
    "Not Found"}``, answered to an authenticated caller (so with rate-limit headers)."""

    carries_rate_limit_headers = True


# -- reading ----------------------------------------------------------------------------------


async def list_stages(sessions: Sessions, caller: Caller) -> dict[str, Any]:
    session = await stages_session(sessions, caller.team_id)
    return {
        "opportunity_stages": [
            stage_object(stage) for stage in await repository.stages(session, caller.team_id)
        ]
    }


async def opportunity_objects(
    session: AsyncSession,
    team_id: str,
    deals: Sequence[Opportunity],
    *,
    with_account: bool = False,
    with_num_contacts: bool = False,
) -> list[dict[str, Any]]:
    """Deals rendered with their stage and contacts (a query each for the lot), and optionally
    their account objects and contact counts (View Deal and lists show those)."""
    stages = await repository.stages_by_id(
        session, team_id, [deal.opportunity_stage_id for deal in deals if deal.opportunity_stage_id]
    )
    roles = await repository.contact_roles(session, team_id, [deal.id for deal in deals])
    accounts: dict[str, dict[str, Any]] = {}
    if with_account:
        rows = await repository.accounts_by_id(session, team_id, [deal.account_id or "" for deal in deals])
        accounts = {body["id"]: body for body in await account_objects(session, team_id, rows)}
    bodies = []
    for deal in deals:
        deal_roles = roles.get(deal.id, [])
        context = DealContext(
            stage=stages.get(deal.opportunity_stage_id or ""),
            roles=deal_roles,
            account=accounts.get(deal.account_id or "") if with_account else None,
            extra={"num_contacts": len(deal_roles)} if with_num_contacts else {},
        )
        bodies.append(opportunity_object(deal, context))
    return bodies


async def get_opportunity(session: AsyncSession, caller: Caller, opportunity_id: str) -> dict[str, Any]:
    if not is_valid_id(opportunity_id):
        raise invalid_id(opportunity_id)
    deal = await find_in_team(session, Opportunity, caller.team_id, opportunity_id)
    if deal is None:
        raise DealNotFound()
    [body] = await opportunity_objects(
        session, caller.team_id, [deal], with_account=True, with_num_contacts=True
    )
    return {"opportunity": body}


async def contact_opportunities(session: AsyncSession, caller: Caller, contact_id: str) -> dict[str, Any]:
    """The deals a contact is on; an unknown contact (another team's included) has none."""
    contact = await find_in_team(session, Contact, caller.team_id, contact_id)
    if contact is None:
        return {"opportunities": []}
    deals = await repository.deals_of_contact(session, caller.team_id, contact.id)
    return {
        "opportunities": await opportunity_objects(
            session, caller.team_id, deals, with_account=True, with_num_contacts=True
        )
    }


# -- writing ----------------------------------------------------------------------------------


async def create_opportunity(
    session: AsyncSession, caller: Caller, params: OpportunityFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    if not (params.name or "").strip():
        raise Unprocessable(NAME_REQUIRED)
    deal = Opportunity(
        id=new_id(now.timestamp()),
        team_id=writer.team_id,
        owner_id=writer.user_id,
        creator_id=writer.user_id,
        source="api",
        typed_custom_fields={},
        data={},
        created_at=now,
        updated_at=now,
    )
    await _apply(session, writer, deal, params)
    if deal.opportunity_stage_id is None:
        stage_id = await default_stage_id(session, OpportunityStage, writer.team_id)
        default = await find_in_team(session, OpportunityStage, writer.team_id, stage_id)
        if default is not None:
            _move_to(deal, default, now)
    session.add(deal)
    await session.flush()
    await _set_contacts(session, writer, deal, params)
    return await _emit(session, writer, CREATED, deal)


async def update_opportunity(
    session: AsyncSession, caller: Caller, opportunity_id: str, params: OpportunityFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    deal = await find_in_team(session, Opportunity, writer.team_id, opportunity_id)
    if deal is None:
        raise Unprocessable(OPPORTUNITY_NOT_FOUND)
    if "name" in params.model_fields_set and not (params.name or "").strip():
        raise Unprocessable(NAME_REQUIRED)
    await _apply(session, writer, deal, params)
    deal.updated_at = now
    await session.flush()
    await _set_contacts(session, writer, deal, params)
    return await _emit(session, writer, UPDATED, deal)


async def _apply(session: AsyncSession, writer: Writer, deal: Opportunity, params: OpportunityFields) -> None:
    """Check and set the fields that were sent (all checks before any change is made)."""
    sent = params.model_fields_set
    values: dict[str, Any] = {}
    if "name" in sent:
        values["name"] = (params.name or "").strip()
    if "owner_id" in sent:
        values["owner_id"] = await validate_owner(session, writer.team_id, params.owner_id or None)
    if "account_id" in sent:
        values["account_id"] = await _account_id(session, writer.team_id, params.account_id)
    if "amount" in sent:
        values["amount"] = amount_value(params.amount)
    if "closed_date" in sent:
        values["closed_date"] = closed_date_value(params.closed_date)
    if "description" in sent:
        values["description"] = params.description or None
    fields = await custom_fields.validate_values(
        session, writer.team_id, CUSTOM_FIELD_MODALITY, params.typed_custom_fields
    )
    stage_id = params.opportunity_stage_id if "opportunity_stage_id" in sent else None
    stage = await require_in_team(session, OpportunityStage, writer.team_id, stage_id) if stage_id else None
    for name, value in values.items():
        setattr(deal, name, value)
    if fields:
        deal.typed_custom_fields = custom_fields.merge_values(deal.typed_custom_fields or {}, fields)
    if stage is not None:
        _move_to(deal, stage, writer.now)
    deal.last_activity_date = writer.now


async def _account_id(session: AsyncSession, team_id: str, account_id: str | None) -> str | None:
    if not account_id:
        return None
    account = await require_in_team(session, Account, team_id, account_id)
    return account.id


def _move_to(deal: Opportunity, stage: OpportunityStage, now: datetime) -> None:
    """Put the deal in one of the team's stages: closed and won follow the stage, and the stage
    date moves only when the stage changes."""
    if deal.opportunity_stage_id != stage.id or deal.stage_updated_at is None:
        deal.stage_updated_at = now
    deal.opportunity_stage_id = stage.id
    deal.opportunity_pipeline_id = stage.opportunity_pipeline_id
    deal.is_closed = stage.is_closed
    deal.is_won = stage.is_won


async def _set_contacts(
    session: AsyncSession, writer: Writer, deal: Opportunity, params: OpportunityFields
) -> None:
    if params.contact_ids is None:
        return
    wanted = list(dict.fromkeys(contact_id for contact_id in params.contact_ids if contact_id))
    if len(wanted) > MAX_CONTACTS:
        raise Unprocessable(TOO_MANY_CONTACTS)
    found = {contact.id for contact in await find_many_in_team(session, Contact, writer.team_id, wanted)}
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        raise invalid_id(missing[0])
    await repository.replace_contacts(session, writer.team_id, deal.id, wanted, writer.now)


async def _emit(session: AsyncSession, writer: Writer, event: str, deal: Opportunity) -> dict[str, Any]:
    """The answer ``{"opportunity": ...}``, recorded as the event's payload."""
    [body] = await opportunity_objects(session, writer.team_id, [deal])
    await record_event(session, writer.team_id, event, deal.id, body, writer.now)
    return {"opportunity": body}


# -- search -----------------------------------------------------------------------------------


async def search_opportunities(
    session: AsyncSession, caller: Caller, params: OpportunitySearchParams
) -> dict[str, Any]:
    params.check_page()
    where = _filter(caller.team_id, params)
    total = await repository.count(session, where)
    deals = await repository.search(session, where, offset=params.offset, limit=params.limit)
    return {
        "breadcrumbs": [],
        "opportunities": await opportunity_objects(session, caller.team_id, deals, with_account=True),
        **SEARCH_FLAGS,
        "pagination": search_pagination(params, total),
        "num_fetch_result": None,
    }


def _filter(team_id: str, params: OpportunitySearchParams) -> repository.DealFilter:
    sort_column = None
    if params.sort_by_field:
        sort_column = SORT_FIELDS.get(params.sort_by_field)
        if sort_column is None:
            raise Unprocessable(INVALID_SORT)
    ids = [*params.opportunity_stage_ids, *params.owner_ids, *params.account_ids]
    if not all(is_valid_id(value) for value in ids):
        raise Unprocessable(INVALID_SEARCH)
    return repository.DealFilter(
        team_id=team_id,
        stage_ids=params.opportunity_stage_ids,
        owner_ids=params.owner_ids,
        account_ids=params.account_ids,
        sort_column=sort_column,
        ascending=params.sort_ascending,
    )

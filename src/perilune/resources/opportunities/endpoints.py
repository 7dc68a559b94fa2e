from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, SessionsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.opportunities import service
from perilune.resources.opportunities.schemas import OpportunityFields, OpportunitySearchParams

SEARCH = "deals/api/v1/opportunities/search"

# Static paths under /opportunities/ come before /opportunities/{opportunity_id}.
router = APIRouter(tags=["Deals"])


@router.get("/opportunities/search", summary="List all deals")
@router.post("/opportunities/search", summary="List all deals")
async def opportunities_search(
    caller: Annotated[Caller, apollo_endpoint(SEARCH, paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    parsed = params.parse(OpportunitySearchParams)
    return ApolloJSON(await service.search_opportunities(session, caller, parsed))


@router.get("/opportunities", summary="List all deals (legacy)")
async def opportunities_list(
    caller: Annotated[Caller, apollo_endpoint(SEARCH, paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    parsed = params.parse(OpportunitySearchParams)
    return ApolloJSON(await service.search_opportunities(session, caller, parsed))


@router.post("/opportunities", summary="Create deal")
async def opportunities_create(
    caller: Annotated[Caller, apollo_endpoint("deals/api/v1/opportunities/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(OpportunityFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_opportunity(session, caller, parsed, now)
    )


@router.get("/opportunities/{opportunity_id}", summary="View deal")
async def opportunities_show(
    opportunity_id: str,
    caller: Annotated[Caller, apollo_endpoint("deals/api/v1/opportunities/show")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.get_opportunity(session, caller, opportunity_id))


@router.patch("/opportunities/{opportunity_id}", summary="Update deal")
async def opportunities_update(
    opportunity_id: str,
    caller: Annotated[Caller, apollo_endpoint("deals/api/v1/opportunities/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(OpportunityFields)
    now = clock.now()
    return await idempotency.respond(
        session,
        caller.team_id,
        now,
        lambda: service.update_opportunity(session, caller, opportunity_id, parsed, now),
    )


@router.get("/opportunity_stages", summary="List deal stages")
async def opportunity_stages(
    caller: Annotated[Caller, apollo_endpoint("deals/api/v1/opportunity_stages/index")],
    sessions: SessionsDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_stages(sessions, caller))


@router.post("/contacts/{contact_id}/opportunities", summary="View associated deals")
async def contact_opportunities(
    contact_id: str,
    caller: Annotated[Caller, apollo_endpoint(SEARCH)],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.contact_opportunities(session, caller, contact_id))

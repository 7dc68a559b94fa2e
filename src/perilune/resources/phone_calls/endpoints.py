from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.phone_calls import service
from perilune.resources.phone_calls.schemas import PhoneCallFields, PhoneCallSearchParams

# Apollo serves the call-record endpoints to master keys only.
router = APIRouter(tags=["Calls"])


@router.get("/phone_calls/search", summary="Search for calls")
async def phone_calls_search(
    caller: Annotated[Caller, apollo_endpoint("api/v1/phone_calls/search", master_only=True)],
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(PhoneCallSearchParams)
    return ApolloJSON(await service.search_calls(session, caller, parsed, clock.now()))


@router.post("/phone_calls", summary="Create call records")
async def phone_calls_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/phone_calls/create", master_only=True)],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(PhoneCallFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_call(session, caller, parsed, now)
    )


@router.put("/phone_calls/{call_id}", summary="Update call records")
async def phone_calls_update(
    call_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/phone_calls/update", master_only=True)],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(PhoneCallFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_call(session, caller, call_id, parsed, now)
    )

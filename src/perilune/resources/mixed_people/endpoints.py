from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import (
    ClockDep,
    ParamsDep,
    SearchBackendDep,
    SessionDep,
    WriteSessionDep,
    apollo_endpoint,
)
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.mixed_people import service
from perilune.resources.mixed_people.schemas import PeopleSearchParams

router = APIRouter(tags=["Search"])


@router.post("/mixed_people/search", summary="People Search (legacy)")
async def mixed_people_search(
    caller: Annotated[Caller, apollo_endpoint(service.MIXED_PEOPLE_SEARCH, paid_only=True)],
    params: ParamsDep,
    backend: SearchBackendDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(PeopleSearchParams)
    return ApolloJSON(await service.search(session, caller, backend, parsed, clock.now()))


@router.post("/mixed_people/api_search", summary="People API Search")
async def mixed_people_api_search(
    caller: Annotated[Caller, apollo_endpoint(service.MIXED_PEOPLE_API_SEARCH)],
    params: ParamsDep,
    backend: SearchBackendDep,
    session: SessionDep,
) -> ApolloJSON:
    parsed = params.parse(PeopleSearchParams)
    return ApolloJSON(await service.api_search(session, caller, backend, parsed))

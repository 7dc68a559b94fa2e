from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SearchBackendDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.mixed_companies import service
from perilune.resources.mixed_companies.schemas import CompanySearchParams

router = APIRouter(tags=["Search"])


@router.post("/mixed_companies/search", summary="Organization Search")
async def mixed_companies_search(
    caller: Annotated[Caller, apollo_endpoint(service.MIXED_COMPANIES_SEARCH, paid_only=True)],
    params: ParamsDep,
    backend: SearchBackendDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(CompanySearchParams)
    return ApolloJSON(await service.search(session, caller, backend, parsed, clock.now()))

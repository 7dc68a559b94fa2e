from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import RuntimeDep, SessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.usage_stats import service

router = APIRouter(tags=["Usage"])


@router.post("/usage_stats/api_usage_stats", summary="View API usage stats and rate limits")
async def api_usage_stats(
    caller: Annotated[Caller, apollo_endpoint("api/v1/usage_stats/api_usage_stats")],
    runtime: RuntimeDep,
) -> ApolloJSON:
    usage = await runtime.rate_limits.usage(caller.team_id, runtime.clock.now().timestamp())
    return ApolloJSON(service.api_usage_stats(caller, runtime.endpoints, usage))


@router.post("/usage_stats/credit_usage_stats", summary="View credit usage stats")
async def credit_usage_stats(
    caller: Annotated[Caller, apollo_endpoint("api/v1/usage_stats/credit_usage_stats")],
    session: SessionDep,
    runtime: RuntimeDep,
) -> ApolloJSON:
    return ApolloJSON(await service.credit_usage_stats(session, caller, runtime.clock.now()))

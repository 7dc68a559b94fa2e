from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.users import service
from perilune.resources.users.schemas import ApiProfileParams, UsersSearchParams

router = APIRouter(tags=["Users"])


@router.get("/users/search", summary="Get a list of users")
async def users_search(
    caller: Annotated[Caller, apollo_endpoint("api/v1/users/search", paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.search_users(session, caller, params.parse(UsersSearchParams)))


@router.get("/users/api_profile", summary="Get the current user's profile")
async def users_api_profile(
    caller: Annotated[Caller, apollo_endpoint("api/v1/users/api_profile")],
    params: ParamsDep,
    session: SessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(ApiProfileParams)
    profile = await service.api_profile(
        session, caller, clock.now(), include_credit_usage=parsed.include_credit_usage
    )
    return ApolloJSON(profile)

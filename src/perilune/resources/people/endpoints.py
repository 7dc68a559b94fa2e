from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.people import service

router = APIRouter(tags=["People"])


# Matches any single path segment, so static GET routes under /people/ must be mounted before
# this router.
@router.get("/people/{id}", summary="Get Complete Person Info")
async def person_show(
    id: str,
    caller: Annotated[Caller, apollo_endpoint(service.PEOPLE_SHOW)],
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    return ApolloJSON(await service.show(session, caller, id, clock.now()))

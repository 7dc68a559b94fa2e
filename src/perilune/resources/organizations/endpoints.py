from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.organizations import service
from perilune.resources.organizations.schemas import JobPostingsParams

router = APIRouter(tags=["Organizations"])


@router.get("/organizations/{organization_id}/job_postings", summary="Organization Job Postings")
async def organization_job_postings(
    organization_id: str,
    caller: Annotated[Caller, apollo_endpoint(service.ORGANIZATIONS_JOB_POSTINGS)],
    params: ParamsDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(JobPostingsParams)
    return ApolloJSON(await service.job_postings(session, caller, organization_id, parsed, clock.now()))


# Matches any single path segment, so static GET routes under /organizations/ (enrich, search)
# must be mounted before this router.
@router.get("/organizations/{id}", summary="Get Complete Organization Info")
async def organization_show(
    id: str,
    caller: Annotated[Caller, apollo_endpoint(service.ORGANIZATIONS_SHOW)],
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    return ApolloJSON(await service.show(session, caller, id, clock.now()))

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.organization_enrichment import service
from perilune.resources.organization_enrichment.schemas import BulkEnrichParams, OrganizationEnrichParams

# Static paths under /organizations/: this router is mounted before the organizations router,
# whose GET /organizations/{id} would otherwise take /organizations/enrich.
router = APIRouter(tags=["Enrichment"])


@router.get("/organizations/enrich", summary="Organization Enrichment")
@router.post("/organizations/enrich", summary="Organization Enrichment (POST)", include_in_schema=False)
async def organizations_enrich(
    caller: Annotated[Caller, apollo_endpoint(service.ORGANIZATIONS_ENRICH)],
    params: ParamsDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(OrganizationEnrichParams)
    parsed.check()
    return ApolloJSON(await service.enrich(session, caller, parsed, clock.now()))


@router.post("/organizations/bulk_enrich", summary="Bulk Organization Enrichment")
async def organizations_bulk_enrich(
    caller: Annotated[Caller, apollo_endpoint(service.ORGANIZATIONS_BULK_ENRICH)],
    params: ParamsDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(BulkEnrichParams)
    parsed.check()
    return ApolloJSON(await service.bulk_enrich(session, caller, parsed, clock.now()))

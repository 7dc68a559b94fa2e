from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends

from perilune.api.deps import (
    ClockDep,
    ParamsDep,
    RuntimeDep,
    SessionsDep,
    apollo_endpoint,
)
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.people_enrichment import service
from perilune.resources.people_enrichment.schemas import BulkMatchParams, EnrichmentOptions, PeopleMatchParams
from perilune.webhooks import WebhookTarget

# Static POST paths under /people/: mounted before the people router (whose /people/{id} is GET
# only, but keeping every static path ahead of the catch-all keeps the rule simple).
router = APIRouter(tags=["Enrichment"])

OptionsT = TypeVar("OptionsT", bound=EnrichmentOptions)


@dataclass(frozen=True)
class EnrichmentRequest(Generic[OptionsT]):
    params: OptionsT
    target: WebhookTarget | None


def enrichment_request(model: type[OptionsT]) -> Any:
    """The parsed and checked parameters and ``webhook_url``. Declared after the caller and
    before the session: the key is checked first, and a slow DNS answer for the webhook's host
    is awaited before the request's write transaction opens (on SQLite it locks out writers)."""

    async def dependency(params: ParamsDep, runtime: RuntimeDep) -> EnrichmentRequest[OptionsT]:
        parsed = params.parse(model)
        parsed.check()
        return EnrichmentRequest(parsed, await service.webhook_target(parsed, runtime.settings))

    return Depends(dependency)


@router.post("/people/match", summary="People Enrichment")
async def people_match(
    caller: Annotated[Caller, apollo_endpoint(service.PEOPLE_MATCH)],
    request: Annotated[EnrichmentRequest[PeopleMatchParams], enrichment_request(PeopleMatchParams)],
    sessions: SessionsDep,
    clock: ClockDep,
) -> ApolloJSON:
    return ApolloJSON(await service.match(sessions, caller, request.params, request.target, clock.now()))


@router.post("/people/bulk_match", summary="Bulk People Enrichment")
async def people_bulk_match(
    caller: Annotated[Caller, apollo_endpoint(service.PEOPLE_BULK_MATCH)],
    request: Annotated[EnrichmentRequest[BulkMatchParams], enrichment_request(BulkMatchParams)],
    sessions: SessionsDep,
    clock: ClockDep,
) -> ApolloJSON:
    return ApolloJSON(await service.bulk_match(sessions, caller, request.params, request.target, clock.now()))

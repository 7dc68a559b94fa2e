from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.labels import service
from perilune.resources.labels.schemas import LabelCreateParams, LabelMembersParams, LabelUpdateParams

router = APIRouter(tags=["Miscellaneous"])


@router.get("/labels", summary="Get a list of all lists")
async def labels_index(
    caller: Annotated[Caller, apollo_endpoint("api/v1/labels/index")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_labels(session, caller))


@router.post("/labels", summary="Create a list")
async def labels_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/labels/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(LabelCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_label(session, caller, parsed, now)
    )


@router.post("/labels/add_entity_ids_to_label_names", summary="Add records to a list")
async def labels_add_entities(
    caller: Annotated[Caller, apollo_endpoint("api/v1/labels/add_entity_ids_to_label_names")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(LabelMembersParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.add_entities(session, caller, parsed, now)
    )


@router.post("/labels/remove_entity_ids_from_label_names", summary="Remove records from a list")
async def labels_remove_entities(
    caller: Annotated[Caller, apollo_endpoint("api/v1/labels/remove_entity_ids_from_label_names")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(LabelMembersParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.remove_entities(session, caller, parsed, now)
    )


@router.patch("/labels/{label_id}", summary="Update a list")
async def labels_update(
    label_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/labels/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(LabelUpdateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_label(session, caller, label_id, parsed, now)
    )

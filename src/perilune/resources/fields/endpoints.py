from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.fields import service
from perilune.resources.fields.schemas import FieldCreateParams, FieldsIndexParams, FieldsUpdateParams

router = APIRouter(tags=["Fields"])


@router.get("/fields", summary="Get a list of fields")
async def fields_index(
    caller: Annotated[Caller, apollo_endpoint("api/v1/fields/index")],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_fields(session, caller, params.parse(FieldsIndexParams)))


@router.post("/fields", summary="Create a custom field")
async def fields_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/fields/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(FieldCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_field(session, caller, parsed, now)
    )


@router.patch("/fields", summary="Update a custom field")
async def fields_update(
    caller: Annotated[Caller, apollo_endpoint("api/v1/fields/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(FieldsUpdateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_fields(session, caller, parsed, now)
    )


@router.get("/typed_custom_fields", summary="Get a list of all custom fields")
async def typed_custom_fields_index(
    caller: Annotated[Caller, apollo_endpoint("api/v1/typed_custom_fields/index")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_typed_custom_fields(session, caller))

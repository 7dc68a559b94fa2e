from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, SessionsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.contacts import bulk, service
from perilune.resources.contacts.schemas import (
    BulkCreateParams,
    BulkUpdateParams,
    ContactCreateParams,
    ContactFields,
    ContactSearchParams,
    UpdateOwnersParams,
    UpdateStagesParams,
)

# Static paths under /contacts/ come before /contacts/{contact_id}.
router = APIRouter(tags=["Contacts"])


@router.post("/contacts/search", summary="Search for contacts")
async def contacts_search(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/search", paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.search_contacts(session, caller, params.parse(ContactSearchParams)))


@router.post("/contacts/update_stages", summary="Update the stage of several contacts")
async def contacts_update_stages(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/update_stages")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(UpdateStagesParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_stages(session, caller, parsed, now)
    )


@router.post("/contacts/update_owners", summary="Update the owner of several contacts")
async def contacts_update_owners(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/update_owners")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(UpdateOwnersParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_owners(session, caller, parsed, now)
    )


@router.post("/contacts/bulk_create", summary="Bulk create contacts")
async def contacts_bulk_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/bulk_create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(BulkCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: bulk.bulk_create(session, caller, parsed, now)
    )


@router.post("/contacts/bulk_update", summary="Bulk update contacts")
async def contacts_bulk_update(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/bulk_update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(BulkUpdateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: bulk.bulk_update(session, caller, parsed, now)
    )


@router.post("/contacts", summary="Create a contact")
async def contacts_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(ContactCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_contact(session, caller, parsed, now)
    )


@router.get("/contacts/{contact_id}", summary="View a contact")
async def contacts_show(
    contact_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/show")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.get_contact(session, caller, contact_id))


@router.put("/contacts/{contact_id}", summary="Update a contact")
@router.patch("/contacts/{contact_id}", summary="Update a contact")
async def contacts_update(
    contact_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/contacts/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(ContactFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_contact(session, caller, contact_id, parsed, now)
    )


@router.get("/contact_stages", summary="List contact stages")
async def contact_stages(
    caller: Annotated[Caller, apollo_endpoint("api/v1/contact_stages/index")],
    sessions: SessionsDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_stages(sessions, caller))

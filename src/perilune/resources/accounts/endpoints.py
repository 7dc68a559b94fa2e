from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, SessionsDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.accounts import bulk, service
from perilune.resources.accounts.schemas import (
    AccountFields,
    AccountSearchParams,
    BulkCreateParams,
    BulkUpdateParams,
    UpdateOwnersParams,
)

# Static paths under /accounts/ come before /accounts/{account_id}.
router = APIRouter(tags=["Accounts"])


@router.post("/accounts/search", summary="Search for accounts")
async def accounts_search(
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/search", paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.search_accounts(session, caller, params.parse(AccountSearchParams)))


@router.post("/accounts/bulk_create", summary="Bulk create accounts")
async def accounts_bulk_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/bulk_create")],
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


@router.post("/accounts/bulk_update", summary="Bulk update accounts")
async def accounts_bulk_update(
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/bulk_update")],
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


@router.post("/accounts/update_owners", summary="Update the owner of several accounts")
async def accounts_update_owners(
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/update_owners")],
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


@router.post("/accounts", summary="Create an account")
async def accounts_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(AccountFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_account(session, caller, parsed, now)
    )


@router.get("/accounts/{account_id}", summary="View an account")
async def accounts_show(
    account_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/show")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.get_account(session, caller, account_id))


@router.put("/accounts/{account_id}", summary="Update an account")
@router.patch("/accounts/{account_id}", summary="Update an account")
async def accounts_update(
    account_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/accounts/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(AccountFields)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_account(session, caller, account_id, parsed, now)
    )


@router.get("/account_stages", summary="List account stages")
async def account_stages(
    caller: Annotated[Caller, apollo_endpoint("api/v1/account_stages/index")],
    sessions: SessionsDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_stages(sessions, caller))

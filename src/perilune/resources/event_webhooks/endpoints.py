"""Event webhooks (a Perilune extension), master key only. The URL is checked (a DNS lookup)
before the write session opens, hence the lazily opened session on create and update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import (
    ClockDep,
    LazyWriteSessionDep,
    ParamsDep,
    RuntimeDep,
    SessionDep,
    WriteSessionDep,
    apollo_endpoint,
)
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.event_webhooks import service
from perilune.resources.event_webhooks.schemas import SubscriptionParams

router = APIRouter(tags=["Event webhooks (Perilune extension)"])


@router.post("/event_webhooks", summary="Register an event webhook (Perilune extension)")
async def event_webhooks_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/event_webhooks/create", master_only=True)],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    writes: LazyWriteSessionDep,
    runtime: RuntimeDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(SubscriptionParams)
    target = await service.checked_url(runtime.settings, parsed.url)
    session = await writes.session()
    now = clock.now()
    return await idempotency.respond(
        session,
        caller.team_id,
        now,
        lambda: service.create(session, runtime.settings, caller, parsed, target, now),
    )


@router.get("/event_webhooks", summary="List event webhooks (Perilune extension)")
async def event_webhooks_index(
    caller: Annotated[Caller, apollo_endpoint("api/v1/event_webhooks/index", master_only=True)],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_all(session, caller))


@router.get("/event_webhooks/{subscription_id}", summary="View an event webhook (Perilune extension)")
async def event_webhooks_show(
    subscription_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/event_webhooks/show", master_only=True)],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.show(session, caller, subscription_id))


@router.patch("/event_webhooks/{subscription_id}", summary="Update an event webhook (Perilune extension)")
async def event_webhooks_update(
    subscription_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/event_webhooks/update", master_only=True)],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    writes: LazyWriteSessionDep,
    runtime: RuntimeDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(SubscriptionParams)
    sent_url = "url" in parsed.model_fields_set
    target = await service.checked_url(runtime.settings, parsed.url) if sent_url else None
    session = await writes.session()
    now = clock.now()
    return await idempotency.respond(
        session,
        caller.team_id,
        now,
        lambda: service.update(session, caller, subscription_id, parsed, target, now),
    )


@router.delete("/event_webhooks/{subscription_id}", summary="Delete an event webhook (Perilune extension)")
async def event_webhooks_delete(
    subscription_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/event_webhooks/delete", master_only=True)],
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    return await idempotency.respond(
        session, caller.team_id, clock.now(), lambda: service.delete(session, caller, subscription_id)
    )

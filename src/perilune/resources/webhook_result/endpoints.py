from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, RuntimeDep, SessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.resources.webhook_result import service

router = APIRouter(tags=["Miscellaneous"])


@router.get("/webhook_result/{request_id}", summary="Poll Webhook Result")
async def webhook_result_show(
    request_id: str,
    caller: Annotated[Caller, apollo_endpoint(service.WEBHOOK_RESULT_SHOW)],
    session: SessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    return ApolloJSON(await service.show(session, caller, request_id, clock.now()))


@router.get(
    "/webhooks/signing_secret",
    summary="Webhook signing secret (Perilune extension)",
    description="The secret this team's webhook deliveries are signed with (X-Perilune-Signature); "
    "master key only.",
)
async def webhook_signing_secret(
    caller: Annotated[Caller, apollo_endpoint(service.SIGNING_SECRET_SHOW, master_only=True)],
    runtime: RuntimeDep,
) -> ApolloJSON:
    return ApolloJSON(service.signing_secret(runtime.settings, caller))

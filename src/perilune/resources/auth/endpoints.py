from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller

router = APIRouter(tags=["Authentication"])


@router.get("/auth/health", summary="Check that an API key works")
async def auth_health(_caller: Annotated[Caller, apollo_endpoint("api/v1/auth/health")]) -> ApolloJSON:
    return ApolloJSON({"is_logged_in": True})

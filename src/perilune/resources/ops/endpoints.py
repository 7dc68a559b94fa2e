"""Operator endpoints outside Apollo's API: liveness and Prometheus metrics, no key needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import text

from perilune.api.deps import RuntimeDep
from perilune.api.envelopes import ApolloJSON
from perilune.jobs.queue import queue_depth
from perilune.observability import metrics

router = APIRouter(tags=["Operations"])


@router.get("/healthz", summary="Liveness and database reachability")
async def healthz(runtime: RuntimeDep) -> ApolloJSON:
    async with runtime.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return ApolloJSON({"status": "ok"})


@router.get("/metrics", summary="Prometheus metrics")
async def prometheus_metrics(runtime: RuntimeDep) -> Response:
    for status, count in (await queue_depth(runtime.engine)).items():
        metrics.JOB_QUEUE_DEPTH.labels(state=status).set(count)
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.tasks import service
from perilune.resources.tasks.schemas import (
    COMPLETED,
    SKIPPED,
    TaskBulkCreateParams,
    TaskCreateParams,
    TaskFinishParams,
    TaskSearchParams,
    TaskUpdateParams,
)

# The legacy docs' prefix: its bulk_create answers a bare ``true``.
LEGACY_PREFIX = "/v1/"

# Static paths under /tasks/ come before /tasks/{task_id}.
router = APIRouter(tags=["Tasks"])


@router.get("/tasks/search", summary="Search for tasks")
@router.post("/tasks/search", summary="Search for tasks")
async def tasks_search(
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/search", paid_only=True)],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.search_tasks(session, caller, params.parse(TaskSearchParams)))


@router.post("/tasks/bulk_create", summary="Bulk create tasks")
async def tasks_bulk_create(
    request: Request,
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/bulk_create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    """The current spec answers ``{"success": true, "tasks": [...]}``; the legacy docs (under
    ``/v1``) answer ``true``, so legacy clients get exactly that."""
    parsed = params.parse(TaskBulkCreateParams)
    now = clock.now()
    answer = await idempotency.respond(
        session, caller.team_id, now, lambda: service.bulk_create(session, caller, parsed, now)
    )
    if request.url.path.startswith(LEGACY_PREFIX):
        return ApolloJSON(True, status_code=answer.status_code)
    return answer


@router.post("/tasks", summary="Create a task")
async def tasks_create(
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(TaskCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_task(session, caller, parsed, now)
    )


@router.get("/tasks/{task_id}", summary="Get a task")
async def tasks_show(
    task_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/show")],
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.get_task(session, caller, task_id))


@router.patch("/tasks/{task_id}", summary="Update a task")
async def tasks_update(
    task_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/update")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(TaskUpdateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.update_task(session, caller, task_id, parsed, now)
    )


@router.post("/tasks/{task_id}/complete", summary="Complete a task")
async def tasks_complete(
    task_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/complete")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(TaskFinishParams)
    now = clock.now()
    return await idempotency.respond(
        session,
        caller.team_id,
        now,
        lambda: service.finish_task(session, caller, task_id, parsed, COMPLETED, now),
    )


@router.post("/tasks/{task_id}/skip", summary="Skip a task")
async def tasks_skip(
    task_id: str,
    caller: Annotated[Caller, apollo_endpoint("api/v1/tasks/skip")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(TaskFinishParams)
    now = clock.now()
    return await idempotency.respond(
        session,
        caller.team_id,
        now,
        lambda: service.finish_task(session, caller, task_id, parsed, SKIPPED, now),
    )

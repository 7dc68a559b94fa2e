from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from perilune.api.deps import ClockDep, ParamsDep, SessionDep, WriteSessionDep, apollo_endpoint
from perilune.api.envelopes import ApolloJSON
from perilune.auth.context import Caller
from perilune.crm.idempotency import IdempotencyDep
from perilune.resources.notes import service
from perilune.resources.notes.schemas import NoteCreateParams, NoteListParams

router = APIRouter(tags=["Notes"])


@router.get("/notes", summary="Get a list of notes")
async def notes_index(
    caller: Annotated[Caller, apollo_endpoint("meetings/api/v1/notes/index")],
    params: ParamsDep,
    session: SessionDep,
) -> ApolloJSON:
    return ApolloJSON(await service.list_notes(session, caller, params.parse(NoteListParams)))


@router.post("/notes", summary="Create a note")
async def notes_create(
    caller: Annotated[Caller, apollo_endpoint("meetings/api/v1/notes/create")],
    params: ParamsDep,
    idempotency: IdempotencyDep,
    session: WriteSessionDep,
    clock: ClockDep,
) -> ApolloJSON:
    parsed = params.parse(NoteCreateParams)
    now = clock.now()
    return await idempotency.respond(
        session, caller.team_id, now, lambda: service.create_note(session, caller, parsed, now)
    )

"""Tasks: create (one, or one per contact in bulk), view, update, complete, skip and search.
Every change is recorded as a ``task.*`` event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm.events import record_event
from perilune.crm.lookups import find_in_team, find_many_in_team, invalid_id, require_in_team, validate_owner
from perilune.crm.render import account_objects, contact_objects
from perilune.crm.writer import Writer
from perilune.db.ids import is_valid_id, new_id
from perilune.models import Account, Contact, Opportunity, Task
from perilune.repository.normalize import fold
from perilune.resources.mixed_companies.schemas import search_pagination
from perilune.resources.opportunities.service import opportunity_objects
from perilune.resources.tasks import repository
from perilune.resources.tasks.render import TaskContext, task_object, task_type_facets
from perilune.resources.tasks.schemas import (
    ALREADY_DONE,
    BULK_LIMIT,
    BULK_TOO_MANY,
    COMPLETED,
    CONTACT_BLANK,
    CONTACT_IDS_BLANK,
    DEFAULT_PRIORITY,
    DEFAULT_SORT,
    EMPTY_FACETS,
    INVALID_SEARCH,
    INVALID_SORT,
    PER_PAGE_NOT_SUPPORTED,
    PRIORITIES,
    SCHEDULED,
    SKIPPED,
    SORT_FIELDS,
    STATUSES,
    TASK_NOT_FOUND_SHOW,
    TASK_NOT_FOUND_UPDATE,
    TYPE_AND_USER_BLANK,
    TYPES,
    TaskBulkCreateParams,
    TaskCreateParams,
    TaskFields,
    TaskFinishParams,
    TaskSearchParams,
    TaskUpdateParams,
    check_choice,
    iso_datetime,
)

CREATED = "task.created"
UPDATED = "task.updated"
FINISH_EVENTS = {COMPLETED: "task.completed", SKIPPED: "task.skipped"}
CREATED_FROM = "api"
# What an update may change on a task that is already completed or skipped (Apollo's rule).
DONE_TASK_FIELDS = frozenset({"note", "priority", "priority_cd", "contact_id"})


@dataclass
class TaskInput:
    """One checked task write: column values and data-object values, only those sent."""

    values: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    contact: Contact | None = None
    opportunity: Opportunity | None = None


# -- rendering --------------------------------------------------------------------------------


async def task_objects(session: AsyncSession, team_id: str, tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Tasks with their contact, account and deal embedded (a few queries for the lot)."""
    contacts = await find_many_in_team(
        session, Contact, team_id, [t.contact_id for t in tasks if t.contact_id]
    )
    accounts = await find_many_in_team(
        session, Account, team_id, [t.account_id for t in tasks if t.account_id]
    )
    deals = await find_many_in_team(
        session, Opportunity, team_id, [t.opportunity_id for t in tasks if t.opportunity_id]
    )
    contact_bodies = {body["id"]: body for body in await contact_objects(session, team_id, contacts)}
    account_bodies = {body["id"]: body for body in await account_objects(session, team_id, accounts)}
    deal_bodies = {body["id"]: body for body in await opportunity_objects(session, team_id, deals)}
    return [
        task_object(
            task,
            TaskContext(
                contact=contact_bodies.get(task.contact_id or ""),
                account=account_bodies.get(task.account_id or ""),
                opportunity=deal_bodies.get(task.opportunity_id or ""),
            ),
        )
        for task in tasks
    ]


async def _emit(
    session: AsyncSession, writer: Writer, event: str, tasks: Sequence[Task]
) -> list[dict[str, Any]]:
    """Render the tasks and record one event each; returns the rendered objects."""
    bodies = await task_objects(session, writer.team_id, tasks)
    for task, body in zip(tasks, bodies, strict=True):
        await record_event(session, writer.team_id, event, task.id, body, writer.now)
    return bodies


# -- reading ----------------------------------------------------------------------------------


async def get_task(session: AsyncSession, caller: Caller, task_id: str) -> dict[str, Any]:
    task = await find_in_team(session, Task, caller.team_id, task_id)
    if task is None:
        raise Unprocessable(TASK_NOT_FOUND_SHOW)
    [body] = await task_objects(session, caller.team_id, [task])
    return {"task": body}


# -- checking input ---------------------------------------------------------------------------


async def check_input(
    session: AsyncSession, team_id: str, params: TaskFields, names: set[str] | frozenset[str]
) -> TaskInput:
    """Check the fields named in ``names`` (those sent and allowed) against Apollo's vocabulary
    and the team's records."""
    given = TaskInput()
    values = given.values
    if "user_id" in names:
        values["user_id"] = await validate_owner(session, team_id, params.user_id or None)
    if "type" in names and params.type:
        values["type"] = check_choice(params.type, TYPES, "type")
    if "priority" in names and params.priority:
        values["priority"] = check_choice(params.priority, PRIORITIES, "priority")
    if "status" in names and params.status:
        values["status"] = check_choice(params.status, STATUSES, "status")
    if "due_at" in names:
        values["due_at"] = iso_datetime(params.due_at, "due_at") if params.due_at else None
    for name in ("title", "note"):
        if name in names:
            values[name] = getattr(params, name) or None
    if "opportunity_id" in names and params.opportunity_id:
        given.opportunity = await require_in_team(session, Opportunity, team_id, params.opportunity_id)
        values["opportunity_id"] = given.opportunity.id
    contact_id = getattr(params, "contact_id", None)
    if "contact_id" in names and contact_id:
        given.contact = await require_in_team(session, Contact, team_id, contact_id)
    return given


def _require_type_and_user(params: TaskFields) -> None:
    if not params.type or not params.user_id:
        raise Unprocessable(TYPE_AND_USER_BLANK)


# -- writing ----------------------------------------------------------------------------------


def _new_task(writer: Writer, given: TaskInput, contact: Contact | None) -> Task:
    task = Task(
        id=new_id(writer.now.timestamp()),
        team_id=writer.team_id,
        creator_id=writer.user_id,
        priority=DEFAULT_PRIORITY,
        status=SCHEDULED,
        due_at=writer.now,
        created_from=CREATED_FROM,
        data={},
        created_at=writer.now,
        updated_at=writer.now,
    )
    status = given.values.get("status", SCHEDULED)
    for name, value in given.values.items():
        if name != "status":
            setattr(task, name, value)
    if task.due_at is None:
        task.due_at = writer.now
    _about(task, contact, given.opportunity)
    _set_status(task, status, writer)
    return task


def _about(task: Task, contact: Contact | None, deal: Opportunity | None) -> None:
    """Whom the task is about: the contact, with its person, company and account (else the
    deal's account)."""
    if contact is not None:
        task.contact_id = contact.id
        task.person_id = contact.person_id
        task.organization_id = contact.organization_id
        task.account_id = contact.account_id
    if task.account_id is None and deal is not None:
        task.account_id = deal.account_id


def _set_status(task: Task, status: str, writer: Writer) -> None:
    if status == task.status:
        return
    task.status = status
    if status == COMPLETED:
        task.completed_at = writer.now
        task.data = {**(task.data or {}), "completed_by_user_id": writer.user_id}
    elif status == SKIPPED:
        task.skipped_at = writer.now
    else:
        task.completed_at = task.skipped_at = None
        task.data = {**(task.data or {}), "completed_by_user_id": None}


async def create_task(
    session: AsyncSession, caller: Caller, params: TaskCreateParams, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    _require_type_and_user(params)
    if not params.contact_id:
        raise Unprocessable(CONTACT_BLANK)
    given = await check_input(session, writer.team_id, params, params.model_fields_set)
    task = _new_task(writer, given, given.contact)
    session.add(task)
    await session.flush()
    [body] = await _emit(session, writer, CREATED, [task])
    return {"task": body}


async def bulk_create(
    session: AsyncSession, caller: Caller, params: TaskBulkCreateParams, now: datetime
) -> dict[str, Any]:
    """One task per contact, all alike; any contact the team does not have refuses the lot."""
    writer = Writer.of(caller, now)
    _require_type_and_user(params)
    contact_ids = list(dict.fromkeys(contact_id for contact_id in params.contact_ids if contact_id))
    if not contact_ids:
        raise Unprocessable(CONTACT_IDS_BLANK)
    if len(contact_ids) > BULK_LIMIT:
        raise Unprocessable(BULK_TOO_MANY)
    given = await check_input(session, writer.team_id, params, params.model_fields_set)
    contacts = await find_many_in_team(session, Contact, writer.team_id, contact_ids)
    if len(contacts) < len(contact_ids):
        found = {contact.id for contact in contacts}
        raise invalid_id(next(contact_id for contact_id in contact_ids if contact_id not in found))
    tasks = [_new_task(writer, given, contact) for contact in contacts]
    session.add_all(tasks)
    await session.flush()
    return {"success": True, "tasks": await _emit(session, writer, CREATED, tasks)}


async def update_task(
    session: AsyncSession, caller: Caller, task_id: str, params: TaskUpdateParams, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    task = await find_in_team(session, Task, writer.team_id, task_id)
    if task is None:
        raise Unprocessable(TASK_NOT_FOUND_UPDATE)
    sent = set(params.model_fields_set)
    scheduled = task.status == SCHEDULED
    if not scheduled:
        sent &= DONE_TASK_FIELDS
        if "priority_cd" in sent and "priority" not in sent:
            params = params.model_copy(update={"priority": params.priority_cd})
            sent.add("priority")
    if ("type" in sent and not params.type) or ("user_id" in sent and not params.user_id):
        raise Unprocessable(TYPE_AND_USER_BLANK)
    given = await check_input(session, writer.team_id, params, sent)
    if scheduled:
        await _scheduled_resets(session, writer, params, sent, given)
    _apply_update(task, given, params, sent, writer)
    await session.flush()
    [body] = await _emit(session, writer, UPDATED, [task])
    return {"task": body}


async def _scheduled_resets(
    session: AsyncSession, writer: Writer, params: TaskUpdateParams, sent: set[str], given: TaskInput
) -> None:
    """Apollo's documented rule for a scheduled task: an update without ``priority`` resets it
    to medium, and one without ``creator_id`` makes the key's user the creator."""
    given.values.setdefault("priority", DEFAULT_PRIORITY)
    if "creator_id" in sent and params.creator_id:
        given.values["creator_id"] = await validate_owner(session, writer.team_id, params.creator_id)
    else:
        given.values["creator_id"] = writer.user_id
    for name in ("call_script", "relevant_fields"):
        if name in sent:
            given.data[name] = getattr(params, name)


def _apply_update(
    task: Task, given: TaskInput, params: TaskUpdateParams, sent: set[str], writer: Writer
) -> None:
    status = given.values.pop("status", None)
    for name, value in given.values.items():
        setattr(task, name, value)
    if given.data:
        task.data = {**(task.data or {}), **given.data}
    if "contact_id" in sent and params.contact_id:
        task.account_id = None
        _about(task, given.contact, given.opportunity)
    elif "opportunity_id" in sent and given.opportunity is not None and task.account_id is None:
        _about(task, None, given.opportunity)
    if status is not None and status != task.status:
        _set_status(task, status, writer)
    task.updated_at = writer.now


async def finish_task(
    session: AsyncSession, caller: Caller, task_id: str, params: TaskFinishParams, status: str, now: datetime
) -> dict[str, Any]:
    """Complete or skip a scheduled task. A task that does not exist (another team's included)
    answers Apollo's ``deleted: true``; one already done is a 422."""
    writer = Writer.of(caller, now)
    task = await find_in_team(session, Task, writer.team_id, task_id)
    if task is None:
        return {"task": {"id": task_id, "deleted": True}}
    if task.status != SCHEDULED:
        raise Unprocessable(ALREADY_DONE, allow_moving_to_next_task=True)
    if "note" in params.model_fields_set:
        task.note = params.note or None
    _set_status(task, status, writer)
    task.updated_at = now
    await session.flush()
    [body] = await _emit(session, writer, FINISH_EVENTS[status], [task])
    body["completed"] = status == COMPLETED
    return {"task": body}


# -- search -----------------------------------------------------------------------------------


async def search_tasks(session: AsyncSession, caller: Caller, params: TaskSearchParams) -> dict[str, Any]:
    if params.per_page < 1:
        raise Unprocessable(PER_PAGE_NOT_SUPPORTED)
    params.check_page()
    where = _filter(caller.team_id, params)
    total = await repository.count(session, where)
    tasks = await repository.search(session, where, offset=params.offset, limit=params.limit)
    faceting: dict[str, Any] = {name: [] for name in EMPTY_FACETS}
    if "task_types" in params.open_factor_names:
        faceting["task_types"] = task_type_facets(
            await repository.type_counts(session, where.without_types())
        )
    faceting["total_facets"] = [{"value": "pipeline_total", "display_name": "Total", "count": total}]
    return {
        "tasks": await task_objects(session, caller.team_id, tasks),
        "breadcrumbs": [],
        "pagination": search_pagination(params, total),
        "faceting": faceting,
        "pipeline_total": total,
        "num_fetch_result": None,
    }


def _filter(team_id: str, params: TaskSearchParams) -> repository.TaskFilter:
    sort = params.sort_by_field or DEFAULT_SORT
    if sort not in SORT_FIELDS:
        raise Unprocessable(INVALID_SORT)
    ids = [*params.task_user_ids, *params.contact_ids, *params.account_ids, *params.opportunity_ids]
    vocabulary_ok = (
        set(params.task_types) <= set(TYPES)
        and set(params.task_statuses) <= set(STATUSES)
        and set(params.task_priorities) <= set(PRIORITIES)
    )
    if not vocabulary_ok or not all(is_valid_id(value) for value in ids):
        raise Unprocessable(INVALID_SEARCH)
    due = params.task_due_date_range
    return repository.TaskFilter(
        team_id=team_id,
        types=params.task_types,
        statuses=params.task_statuses,
        priorities=params.task_priorities,
        user_ids=params.task_user_ids,
        contact_ids=params.contact_ids,
        account_ids=params.account_ids,
        opportunity_ids=params.opportunity_ids,
        due_from=due.start,
        due_before=due.end,
        keywords=list(dict.fromkeys(fold(params.q_keywords).split())),
        sort=sort,
        ascending=params.sort_ascending,
    )

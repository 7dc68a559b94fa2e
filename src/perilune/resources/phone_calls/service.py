"""Call records: log a call made elsewhere, update it, and search the team's calls. Every change
is recorded as a ``phone_call.*`` event; a call is activity on its contact and account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import Unprocessable
from perilune.auth.context import Caller
from perilune.crm.events import record_event
from perilune.crm.lookups import find_in_team, find_many_in_team, invalid_id, require_in_team, team_user_ids
from perilune.crm.render import account_objects, contact_objects
from perilune.crm.writer import Writer
from perilune.db.ids import is_valid_id, new_id
from perilune.models import Account, Contact, Opportunity, PhoneCall
from perilune.repository.normalize import fold
from perilune.resources.mixed_companies.schemas import search_pagination
from perilune.resources.phone_calls import repository
from perilune.resources.phone_calls.schemas import (
    INBOUND,
    INVALID_DURATION,
    INVALID_SEARCH,
    INVALID_STATUS,
    STATUSES,
    PhoneCallFields,
    PhoneCallSearchParams,
    date_crumb,
    phone_call_object,
)
from perilune.resources.tasks.schemas import iso_datetime

CREATED = "phone_call.created"
UPDATED = "phone_call.updated"
DEFAULT_STATUS = "completed"
# Columns copied as sent ("" clears).
TEXT_FIELDS = ("to_number", "from_number", "note")
FLAGS = ("logged", "inbound")


# -- rendering --------------------------------------------------------------------------------


async def call_objects(
    session: AsyncSession, team_id: str, calls: Sequence[PhoneCall]
) -> list[dict[str, Any]]:
    """Calls with their contact and account embedded (a few queries for the lot)."""
    contacts = await find_many_in_team(
        session, Contact, team_id, [c.contact_id for c in calls if c.contact_id]
    )
    accounts = await find_many_in_team(
        session, Account, team_id, [c.account_id for c in calls if c.account_id]
    )
    contact_bodies = {body["id"]: body for body in await contact_objects(session, team_id, contacts)}
    account_bodies = {body["id"]: body for body in await account_objects(session, team_id, accounts)}
    return [
        phone_call_object(
            call, contact_bodies.get(call.contact_id or ""), account_bodies.get(call.account_id or "")
        )
        for call in calls
    ]


async def _emit(session: AsyncSession, writer: Writer, event: str, call: PhoneCall) -> dict[str, Any]:
    """The answer ``{"phone_call": ..., "contact": ...}``, recorded as the event's payload."""
    [body] = await call_objects(session, writer.team_id, [call])
    await record_event(session, writer.team_id, event, call.id, body, writer.now)
    return {"phone_call": body, "contact": body.get("contact")}


# -- checking input ---------------------------------------------------------------------------


async def check_input(session: AsyncSession, team_id: str, params: PhoneCallFields) -> dict[str, Any]:
    """The fields sent, checked: users, contacts, accounts and deals must be the team's."""
    sent = params.model_fields_set
    values: dict[str, Any] = {}
    if "user_id" in sent:
        values["user_id"] = await _caller_user(session, team_id, params.user_id or [])
    if "contact_id" in sent:
        values["contact_id"] = await _own(session, Contact, team_id, params.contact_id)
    if "account_id" in sent:
        values["account_id"] = await _own(session, Account, team_id, params.account_id)
    if "opportunity_id" in sent:
        values["opportunity_id"] = await _own(session, Opportunity, team_id, params.opportunity_id)
    for name in ("phone_call_purpose_id", "phone_call_outcome_id"):
        if name in sent:
            values[name] = _team_scoped_id(getattr(params, name))
    if "status" in sent:
        if params.status and params.status not in STATUSES:
            raise Unprocessable(INVALID_STATUS)
        values["status"] = params.status or None
    for name in ("start_time", "end_time"):
        if name in sent:
            raw = getattr(params, name)
            values[name] = iso_datetime(raw, name) if raw else None
    if "duration" in sent:
        values["duration"] = _duration(params.duration)
    for name in TEXT_FIELDS:
        if name in sent:
            values[name] = getattr(params, name) or None
    for name in FLAGS:
        if name in sent and getattr(params, name) is not None:
            values[name] = getattr(params, name)
    return values


async def _own(
    session: AsyncSession,
    model: type[Contact] | type[Account] | type[Opportunity],
    team_id: str,
    record_id: str | None,
) -> str | None:
    """The id of the team's record (None clears); any other id is Apollo's "not a valid ID"."""
    if not record_id:
        return None
    found: Contact | Account | Opportunity = await require_in_team(session, model, team_id, record_id)
    return found.id


async def _caller_user(session: AsyncSession, team_id: str, user_ids: list[str]) -> str | None:
    """The caller among ``user_id[]`` (the first; every one must be a user of the team)."""
    wanted = [user_id for user_id in user_ids if user_id]
    found = await team_user_ids(session, team_id, wanted)
    for user_id in wanted:
        if user_id not in found:
            raise invalid_id(user_id)
    return wanted[0] if wanted else None


def _team_scoped_id(value: str | None) -> str | None:
    """Call purposes and outcomes are the team's own lists: an id must at least be an id."""
    if not value:
        return None
    if not is_valid_id(value):
        raise invalid_id(value)
    return value


def _duration(value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        seconds = int(str(value).strip())
    except ValueError as exc:
        raise Unprocessable(INVALID_DURATION) from exc
    if seconds < 0:
        raise Unprocessable(INVALID_DURATION)
    return seconds


# -- writing ----------------------------------------------------------------------------------


async def create_call(
    session: AsyncSession, caller: Caller, params: PhoneCallFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    values = await check_input(session, writer.team_id, params)
    call = PhoneCall(
        id=new_id(now.timestamp()),
        team_id=writer.team_id,
        user_id=writer.user_id,
        status=DEFAULT_STATUS,
        logged=True,
        inbound=False,
        data={},
        created_at=now,
        updated_at=now,
    )
    await _apply(session, writer, call, values)
    if call.start_time is None:
        call.start_time = now
    if call.end_time is None:
        call.end_time = call.start_time + timedelta(seconds=call.duration or 0)
    _fill_duration(call, values)
    session.add(call)
    await session.flush()
    await _touch_activity(session, writer.team_id, call)
    answer = await _emit(session, writer, CREATED, call)
    answer["team"] = {"id": writer.team_id, "phone_calls_finder_empty": False}
    return answer


async def update_call(
    session: AsyncSession, caller: Caller, call_id: str, params: PhoneCallFields, now: datetime
) -> dict[str, Any]:
    writer = Writer.of(caller, now)
    call = await find_in_team(session, PhoneCall, writer.team_id, call_id)
    if call is None:
        raise invalid_id(call_id)
    values = await check_input(session, writer.team_id, params)
    await _apply(session, writer, call, values)
    _fill_duration(call, values)
    call.updated_at = now
    await session.flush()
    await _touch_activity(session, writer.team_id, call)
    return await _emit(session, writer, UPDATED, call)


async def _apply(session: AsyncSession, writer: Writer, call: PhoneCall, values: dict[str, Any]) -> None:
    if "user_id" in values and values["user_id"] is None:
        values["user_id"] = writer.user_id
    for name, value in values.items():
        setattr(call, name, value)
    # A call with a contact is on the contact's account unless one was named.
    if values.get("contact_id") and "account_id" not in values:
        contact = await find_in_team(session, Contact, writer.team_id, values["contact_id"])
        call.account_id = contact.account_id if contact is not None else call.account_id


def _fill_duration(call: PhoneCall, values: dict[str, Any]) -> None:
    """A call given its start and end but no duration lasted the time between them."""
    moved = "start_time" in values or "end_time" in values
    if "duration" in values or not moved or call.start_time is None or call.end_time is None:
        return
    seconds = int((call.end_time - call.start_time).total_seconds())
    call.duration = seconds if seconds >= 0 else None


async def _touch_activity(session: AsyncSession, team_id: str, call: PhoneCall) -> None:
    """A call is activity on its contact and account: their last activity moves up to it."""
    when = call.start_time
    if when is None:
        return
    contact = await find_in_team(session, Contact, team_id, call.contact_id)
    account = await find_in_team(session, Account, team_id, call.account_id)
    for record in (contact, account):
        if record is not None and (record.last_activity_date is None or record.last_activity_date < when):
            record.last_activity_date = when
    await session.flush()


# -- search -----------------------------------------------------------------------------------


async def search_calls(
    session: AsyncSession, caller: Caller, params: PhoneCallSearchParams, now: datetime
) -> dict[str, Any]:
    params.check_page()
    where = _filter(caller.team_id, params)
    total = await repository.count(session, where)
    calls = await repository.search(session, where, offset=params.offset, limit=params.limit)
    return {
        "pagination": search_pagination(params, total),
        "breadcrumbs": _breadcrumbs(params, now),
        "phone_calls": await call_objects(session, caller.team_id, calls),
        "faceting": {"phone_call_stats_facets": await _stats_facets(session, where)},
        "pipeline_total": total,
        "num_fetch_result": None,
    }


def _filter(team_id: str, params: PhoneCallSearchParams) -> repository.CallFilter:
    ids = [
        *params.user_ids,
        *params.contact_label_ids,
        *params.contact_ids,
        *params.phone_call_purpose_ids,
        *params.phone_call_outcome_ids,
    ]
    inbound = params.inbound.strip().lower() if params.inbound else None
    if (inbound is not None and inbound not in INBOUND) or not all(is_valid_id(value) for value in ids):
        raise Unprocessable(INVALID_SEARCH)
    return repository.CallFilter(
        team_id=team_id,
        started_from=params.date_range.start,
        started_before=params.date_range.end,
        min_duration=params.duration.min,
        max_duration=params.duration.max,
        inbound=INBOUND[inbound] if inbound is not None else None,
        user_ids=params.user_ids,
        contact_ids=params.contact_ids,
        label_ids=params.contact_label_ids,
        purpose_ids=params.phone_call_purpose_ids,
        outcome_ids=params.phone_call_outcome_ids,
        keywords=list(dict.fromkeys(fold(params.q_keywords).split())),
    )


def _breadcrumbs(params: PhoneCallSearchParams, now: datetime) -> list[dict[str, Any]]:
    crumbs = []
    start, end = params.date_range.start, params.date_range.end
    if start is not None:
        crumbs.append(date_crumb("After", start, now))
    if end is not None:
        crumbs.append(date_crumb("Before", end - timedelta(days=1), now))
    return crumbs


async def _stats_facets(session: AsyncSession, where: repository.CallFilter) -> list[dict[str, Any]]:
    """Apollo's call stats: calls in progress, then calls by outcome, then those with none."""
    active, outcomes = await repository.outcome_counts(session, where)
    facets: list[dict[str, Any]] = [{"value": "active", "display_name": "Active Calls", "count": active}]
    ranked = sorted(((o, n) for o, n in outcomes if o is not None), key=lambda item: (-item[1], item[0]))
    # Outcome names are the team's own (Apollo's dispositions); Perilune keeps only their ids.
    facets += [{"value": outcome, "display_name": outcome, "count": total} for outcome, total in ranked]
    without = sum(total for outcome, total in outcomes if outcome is None)
    if without:
        facets.append({"value": "other", "display_name": "No Disposition", "count": without})
    return facets

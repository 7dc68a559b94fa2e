from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import pagination
from perilune.api.errors import NotFound
from perilune.auth.context import Caller
from perilune.metering.credits import balances
from perilune.resources.users import repository
from perilune.resources.users.schemas import UsersSearchParams, identity, user_object

# (credit type, allowance field, used field) as the spec names them on the profile.
PROFILE_CREDITS = (
    ("lead_credit", "effective_num_lead_credits", "num_lead_credits_used"),
    ("direct_dial_credit", "effective_num_direct_dial_credits", "num_direct_dial_credits_used"),
    ("export_credit", "effective_num_export_credits", "num_export_credits_used"),
    ("ai_credit", "effective_num_ai_credits", "num_ai_credits_used"),
    ("power_up_credit", "effective_num_power_up_credits", "num_power_up_credits_used"),
)


async def search_users(session: AsyncSession, caller: Caller, params: UsersSearchParams) -> dict[str, Any]:
    total = await repository.count_team_users(session, caller.team_id)
    users = await repository.list_team_users(
        session, caller.team_id, offset=params.offset, limit=params.limit
    )
    return {
        "pagination": pagination(params, total),
        "users": [user_object(u) for u in users],
        "num_fetch_result": None,
    }


async def api_profile(
    session: AsyncSession, caller: Caller, now: datetime, *, include_credit_usage: bool
) -> dict[str, Any]:
    if caller.user is None:
        raise NotFound("No user is associated with this API key.")
    profile = identity(caller.user)
    if not include_credit_usage:
        return profile
    team = await balances(session, caller.team, caller.plan, now)
    mine = await balances(session, caller.team, caller.plan, now, user_id=caller.user.id)
    profile["num_credits_remaining"] = team["lead_credit"].left_over
    for credit_type, allowance_field, used_field in PROFILE_CREDITS:
        profile[allowance_field] = team[credit_type].limit
        profile[used_field] = mine[credit_type].consumed
    profile["total_unified_credits_used"] = sum(balance.consumed for balance in mine.values())
    return profile

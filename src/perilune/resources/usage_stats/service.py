from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.envelopes import timestamp
from perilune.auth.context import Caller
from perilune.metering.credits import balances, credit_cycle
from perilune.metering.ratelimit import Usage

WINDOW_ORDER = ("day", "hour", "minute")


def usage_key(endpoint: str) -> str:
    """Apollo keys the report by its controller/action pair rendered as a JSON array:
    ``api/v1/contacts/search`` -> ``["api/v1/contacts", "search"]``."""
    controller, _, action = endpoint.rpartition("/")
    return json.dumps([controller, action])


def api_usage_stats(caller: Caller, endpoints: tuple[str, ...], usage: Usage) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for endpoint in endpoints:
        limits = caller.plan.limits_for(endpoint)
        seen = usage.get(endpoint, {})
        entry = {}
        for window in WINDOW_ORDER:
            limit = limits.for_window(window)
            consumed = seen.get(window, (0, 0.0))[0]
            left_over = None if limit is None else max(0, limit - consumed)
            entry[window] = {"limit": limit, "consumed": consumed, "left_over": left_over}
        report[usage_key(endpoint)] = entry
    return report


async def credit_usage_stats(session: AsyncSession, caller: Caller, now: datetime) -> dict[str, Any]:
    team_balances = await balances(session, caller.team, caller.plan, now)
    start, end = credit_cycle(caller.team.credit_cycle_anchor, now)
    return {
        "credit_usage_stats": {kind: balance.as_dict() for kind, balance in team_balances.items()},
        "current_credit_cycle": {"start_date": timestamp(start), "end_date": timestamp(end)},
    }

from __future__ import annotations

from dataclasses import dataclass

from perilune.metering.plans import Plan
from perilune.models import ApiKey, Team, User


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key, its team, the team's plan and the user the key acts as. Shared by
    the requests that use the same key (see auth.cache): read it, never change it."""

    key: ApiKey
    team: Team
    user: User | None
    plan: Plan

    @property
    def team_id(self) -> str:
        return self.team.id

"""Who writes, when: every CRM write carries the caller's team and user and the request's clock
reading (a background job rebuilds it from its payload)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from perilune.auth.context import Caller


@dataclass(frozen=True)
class Writer:
    team_id: str
    user_id: str | None
    now: datetime

    @classmethod
    def of(cls, caller: Caller, now: datetime) -> Writer:
        return cls(caller.team_id, caller.user.id if caller.user else None, now)

"""Apollo's rate limits: per team x endpoint, three fixed windows (minute, hour, day), each opened
by the first request that falls outside the previous one. A request is counted in every window
only if no window is exhausted; a rejected request is not counted.

The counters live behind ``RateLimitStore``: in memory for one process, in Redis or in the
database when several processes serve, so a limit holds across all of them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from perilune.metering.plans import WINDOWS, Limits


@dataclass(frozen=True)
class WindowState:
    window: str
    length: int
    limit: int | None
    count: int
    started_at: float

    def resets_in(self, now: float) -> int:
        return max(1, math.ceil(self.started_at + self.length - now))

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.count)


@dataclass(frozen=True)
class Decision:
    endpoint: str
    windows: tuple[WindowState, ...]
    allowed: bool
    now: float

    @property
    def exhausted(self) -> WindowState | None:
        """The window that refused the request (the longest wait if several did)."""
        full = [w for w in self.windows if w.limit is not None and w.count >= w.limit]
        return max(full, key=lambda w: w.resets_in(self.now), default=None)

    def headers(self) -> dict[str, str]:
        """The legacy nine headers plus the current spec's 24-hour names. A window without a
        limit has an empty limit header and no usage headers."""
        headers: dict[str, str] = {}
        for state in self.windows:
            legacy = _LEGACY_NAMES[state.window]
            names = [legacy] + (["24-hour"] if state.window == "day" else [])
            for name in names:
                limit_header = f"x-rate-limit-{name}"
                headers[limit_header] = "" if state.limit is None else str(state.limit)
                if state.limit is not None:
                    headers[f"x-{name}-usage"] = str(state.count)
                    headers[f"x-{name}-requests-left"] = str(state.left)
        return headers


_LEGACY_NAMES = {"minute": "minute", "hour": "hourly", "day": "daily"}


def window_specs(limits: Limits) -> list[tuple[str, int, int | None]]:
    return [(window, length, limits.for_window(window)) for window, length in WINDOWS]


def decide(
    current: Sequence[tuple[str, int, int | None, int, float] | None],
    specs: Sequence[tuple[str, int, int | None]],
    now: float,
) -> tuple[bool, list[WindowState]]:
    """The pure rule every store applies atomically: open expired windows afresh, refuse if any
    limited window is full, otherwise count the request in all windows."""
    opened: list[WindowState] = []
    for (window, length, limit), existing in zip(specs, current, strict=True):
        if existing is None or now >= existing[4] + length:
            opened.append(WindowState(window, length, limit, 0, now))
        else:
            opened.append(WindowState(window, length, limit, existing[3], existing[4]))
    allowed = all(w.limit is None or w.count < w.limit for w in opened)
    if not allowed:
        return False, opened
    return True, [WindowState(w.window, w.length, w.limit, w.count + 1, w.started_at) for w in opened]


Usage = dict[str, dict[str, tuple[int, float]]]
"""endpoint -> window -> (count, started_at), windows still open only."""


class RateLimitStore(Protocol):
    async def hit(self, team_id: str, endpoint: str, limits: Limits, now: float) -> Decision: ...

    async def usage(self, team_id: str, now: float) -> Usage: ...

    async def close(self) -> None: ...


class MemoryRateLimitStore:
    """One process only. No awaits between read and write, so each hit is atomic on the loop."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, str], tuple[int, float]] = {}

    async def hit(self, team_id: str, endpoint: str, limits: Limits, now: float) -> Decision:
        specs = window_specs(limits)
        current = []
        for window, length, limit in specs:
            found = self._windows.get((team_id, endpoint, window))
            current.append(None if found is None else (window, length, limit, found[0], found[1]))
        allowed, states = decide(current, specs, now)
        for state in states:
            self._windows[(team_id, endpoint, state.window)] = (state.count, state.started_at)
        return Decision(endpoint, tuple(states), allowed, now)

    async def usage(self, team_id: str, now: float) -> Usage:
        lengths = dict(WINDOWS)
        out: Usage = {}
        for (team, endpoint, window), (count, started) in self._windows.items():
            if team == team_id and now < started + lengths[window]:
                out.setdefault(endpoint, {})[window] = (count, started)
        return out

    async def close(self) -> None:
        return None

"""Rate-limit stores shared by several server processes: Redis and the database. Both apply
``ratelimit.decide`` atomically, with the window start taken from Perilune's clock so every
store behaves the same (and tests can move time)."""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis
from sqlalchemy import Table, case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from perilune.db.dialect import insert_ignoring_conflicts, write_transaction
from perilune.metering.plans import WINDOWS, Limits
from perilune.metering.ratelimit import Decision, Usage, WindowState, decide, window_specs
from perilune.models import RateLimitCounter

_COUNTERS: Table = cast(Table, RateLimitCounter.__table__)


class DatabaseRateLimitStore:
    """Counters in ``rate_limit_counters``, one short transaction per request: BEGIN IMMEDIATE on
    SQLite, row locks (SELECT ... FOR UPDATE) on PostgreSQL. Once a team's rows exist a request
    costs one SELECT and one UPDATE (none when a refusal changes nothing)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hit(self, team_id: str, endpoint: str, limits: Limits, now: float) -> Decision:
        specs = window_specs(limits)
        async with write_transaction(self._engine) as connection:
            found = await _locked_counters(connection, team_id, endpoint)
            missing = [w for w, _, _ in specs if w not in found]
            if missing:
                fresh = [
                    {"team_id": team_id, "endpoint": endpoint, "window": w, "started_at": now, "count": 0}
                    for w in missing
                ]
                await connection.execute(insert_ignoring_conflicts(connection.dialect.name, _COUNTERS), fresh)
                # Read again: a concurrent transaction may have inserted them first.
                found = await _locked_counters(connection, team_id, endpoint)
            current = [(w, ln, lim, *found[w]) for w, ln, lim in specs]
            allowed, states = decide(current, specs, now)
            changed = {s.window: s for s in states if (s.count, s.started_at) != found[s.window]}
            if changed:
                window = _COUNTERS.c.window
                await connection.execute(
                    update(_COUNTERS)
                    .where(
                        _COUNTERS.c.team_id == team_id,
                        _COUNTERS.c.endpoint == endpoint,
                        window.in_(list(changed)),
                    )
                    .values(
                        count=case({w: s.count for w, s in changed.items()}, value=window),
                        started_at=case({w: s.started_at for w, s in changed.items()}, value=window),
                    )
                )
        return Decision(endpoint, tuple(states), allowed, now)

    async def usage(self, team_id: str, now: float) -> Usage:
        lengths = dict(WINDOWS)
        out: Usage = {}
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(
                    _COUNTERS.c.endpoint, _COUNTERS.c.window, _COUNTERS.c.count, _COUNTERS.c.started_at
                ).where(_COUNTERS.c.team_id == team_id)
            )
            for endpoint, window, count, started in rows:
                if now < started + lengths[window]:
                    out.setdefault(endpoint, {})[window] = (count, started)
        return out

    async def close(self) -> None:
        return None


async def _locked_counters(
    connection: AsyncConnection, team_id: str, endpoint: str
) -> dict[str, tuple[int, float]]:
    rows = await connection.execute(
        select(_COUNTERS.c.window, _COUNTERS.c.count, _COUNTERS.c.started_at)
        .where(_COUNTERS.c.team_id == team_id, _COUNTERS.c.endpoint == endpoint)
        .order_by(_COUNTERS.c.window)  # one lock order for every transaction
        .with_for_update()
    )
    return {window: (count, started) for window, count, started in rows}


# KEYS: one hash per window, then the set of the team's endpoints (for usage reports).
# ARGV: now, the endpoint, then (length, limit or -1) per window.
# Returns count, started_at per window, then allowed. started_at is kept as the exact string the
# caller sent (Lua's tostring would round a float to 14 digits and shift the window's end).
# Expiry is relative (PEXPIRE, the window's remaining length on the caller's clock plus a
# second): an absolute PEXPIREAT would compare the caller's clock with Redis's own, and drop
# every counter at once when the two disagree (a test clock, a sandbox's shifted clock).
_HIT_SCRIPT = """
local now = tonumber(ARGV[1])
local windows = #KEYS - 1
local counts, starts, stamps = {}, {}, {}
local allowed = 1
local longest = 0
for i = 1, windows do
  local length = tonumber(ARGV[i * 2 + 1])
  local limit = tonumber(ARGV[i * 2 + 2])
  local fields = redis.call('HMGET', KEYS[i], 'count', 'started_at')
  local count, started, stamp = tonumber(fields[1]), tonumber(fields[2]), fields[2]
  if count == nil or started == nil or now >= started + length then
    count, started, stamp = 0, now, ARGV[1]
  end
  counts[i], starts[i], stamps[i] = count, started, stamp
  if limit >= 0 and count >= limit then allowed = 0 end
  if length > longest then longest = length end
end
local out = {}
for i = 1, windows do
  local length = tonumber(ARGV[i * 2 + 1])
  if allowed == 1 then counts[i] = counts[i] + 1 end
  redis.call('HSET', KEYS[i], 'count', counts[i], 'started_at', stamps[i])
  redis.call('PEXPIRE', KEYS[i], math.ceil((starts[i] + length - now) * 1000) + 1000)
  out[#out + 1] = counts[i]
  out[#out + 1] = stamps[i]
end
redis.call('SADD', KEYS[#KEYS], ARGV[2])
redis.call('PEXPIRE', KEYS[#KEYS], longest * 1000 + 1000)
out[#out + 1] = allowed
return out
"""


class RedisRateLimitStore:
    """Counters in Redis hashes, updated by one Lua script per request (atomic on the server)."""

    def __init__(self, url: str, namespace: str = "perilune") -> None:
        self._redis: Any = aioredis.from_url(url)
        self._namespace = namespace
        self._script = self._redis.register_script(_HIT_SCRIPT)

    def _key(self, team_id: str, endpoint: str, window: str) -> str:
        return f"{self._namespace}:rl:{team_id}:{endpoint}:{window}"

    def _endpoints_key(self, team_id: str) -> str:
        return f"{self._namespace}:rl:{team_id}:endpoints"

    async def hit(self, team_id: str, endpoint: str, limits: Limits, now: float) -> Decision:
        specs = window_specs(limits)
        keys = [self._key(team_id, endpoint, w) for w, _, _ in specs]
        keys.append(self._endpoints_key(team_id))
        args: list[Any] = [repr(now), endpoint]
        for _, length, limit in specs:
            args += [length, -1 if limit is None else limit]
        result = await self._script(keys=keys, args=args)
        states = tuple(
            WindowState(w, length, limit, int(result[i * 2]), float(result[i * 2 + 1]))
            for i, (w, length, limit) in enumerate(specs)
        )
        return Decision(endpoint, states, bool(int(result[-1])), now)

    async def usage(self, team_id: str, now: float) -> Usage:
        endpoints = await self._redis.smembers(self._endpoints_key(team_id))
        out: Usage = {}
        for raw in endpoints:
            endpoint = raw.decode() if isinstance(raw, bytes) else str(raw)
            for window, length in WINDOWS:
                count, started = await self._redis.hmget(
                    self._key(team_id, endpoint, window), "count", "started_at"
                )
                if count is not None and started is not None and now < float(started) + length:
                    out.setdefault(endpoint, {})[window] = (int(count), float(started))
        return out

    async def close(self) -> None:
        await self._redis.aclose()

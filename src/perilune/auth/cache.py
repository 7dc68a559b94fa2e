"""Recently authenticated keys, kept for a few seconds so a busy key costs no database read per
request. Revoking a key, changing a team's plan or deleting a user takes effect within the
cache's lifetime (``PERILUNE_AUTH_CACHE_SECONDS``; 0 turns the cache off)."""

from __future__ import annotations

from datetime import datetime, timedelta

from perilune.auth.context import Caller


class CallerCache:
    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = timedelta(seconds=seconds)
        self._max_entries = max_entries
        self._entries: dict[str, tuple[datetime, Caller]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    def get(self, key_hash: str, now: datetime) -> Caller | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, caller = entry
        if now >= expires:
            del self._entries[key_hash]
            return None
        return caller

    def put(self, key_hash: str, caller: Caller, now: datetime) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= self._max_entries:
            # Cheap bound on memory: drop everything; the next requests repopulate it.
            self._entries.clear()
        self._entries[key_hash] = (now + self._ttl, caller)

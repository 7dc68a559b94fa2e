"""What a job handler is, and the registry resources put theirs in, by job kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from perilune.clock import Clock
from perilune.jobs.queue import ClaimedJob


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job, and sessions and a clock to do its work with. A handler
    commits its own transactions and must be idempotent: a job whose worker dies runs again."""

    job: ClaimedJob
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock


JobHandler = Callable[[JobContext], Awaitable[None]]


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job fails at once."""


class JobHandlers(Mapping[str, JobHandler]):
    """Handlers by job kind. A resource keeps one (``handlers = JobHandlers()``, then
    ``@handlers.register("webhooks.deliver")``) and app.py merges them all."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def add(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def register(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        def decorate(handler: JobHandler) -> JobHandler:
            self.add(kind, handler)
            return handler

        return decorate

    @classmethod
    def merge(cls, *registries: Mapping[str, JobHandler]) -> JobHandlers:
        merged = cls()
        for registry in registries:
            for kind, handler in registry.items():
                merged.add(kind, handler)
        return merged

    def __getitem__(self, kind: str) -> JobHandler:
        return self._handlers[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)

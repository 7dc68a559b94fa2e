"""Request dependencies shared by every resource, as ``Annotated`` aliases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from perilune.api.errors import ApolloError, RateLimited
from perilune.api.params import Params
from perilune.auth.context import Caller
from perilune.auth.service import authenticate, authorize
from perilune.clock import Clock
from perilune.db.engine import is_busy
from perilune.db.sessions import Sessions
from perilune.observability.metrics import RATE_LIMIT_REJECTIONS
from perilune.runtime import Runtime
from perilune.search.backend import SearchBackend

STRICT_HEADER = "x-perilune-strict"


# Dependencies are ``async def`` even when they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop (~0.1 ms of CPU) per dependency per request.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def _request_session(runtime: Runtime, *, writes: bool) -> AsyncIterator[AsyncSession]:
    """Commit only at the edge: on success after the endpoint returns (before the answer is
    sent), roll back on any error. Services flush, never commit."""
    async with AsyncExitStack() as stack:
        if writes:
            session = await begin_writing(runtime, stack)
        else:
            session = await stack.enter_async_context(runtime.reader()())
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# How long a request writer waits for the write lock that a writer outside the gate holds (the
# job worker, an import from the command line): as long as SQLite's busy timeout elsewhere.
WRITE_LOCK_SECONDS = 10.0


async def begin_writing(runtime: Runtime, stack: AsyncExitStack) -> AsyncSession:
    """A session in a write transaction, closed with ``stack``: through the write gate, then
    BEGIN IMMEDIATE (SQLite takes the write lock at BEGIN, so the transaction never fails
    upgrading a read snapshot that another connection's commit has made stale). The request
    writer engine never waits inside SQLite (it would hold up the event loop); while a writer
    outside the gate holds the lock, this waits here, asynchronously."""
    if runtime.write_gate is not None:
        await stack.enter_async_context(runtime.write_gate)
    deadline = time.monotonic() + WRITE_LOCK_SECONDS
    pause = 0.001
    while True:
        session = runtime.writer()()
        try:
            await session.connection(execution_options={"sqlite_immediate": True})
        except BaseException as error:
            await session.close()
            busy = isinstance(error, OperationalError) and is_busy(error)
            if not busy or time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.025)
            continue
        stack.push_async_callback(session.close)
        return session


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's session for endpoints that only read."""
    async for session in _request_session(runtime, writes=False):
        yield session


async def get_write_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's session for endpoints that change data."""
    async for session in _request_session(runtime, writes=True):
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session, scope="function")]


class LazyWriteSession:
    """A write session opened only if the endpoint turns out to write: an endpoint that reads
    first (enrichment matches before it charges) holds no write lock while it reads, and one
    that ends up writing nothing takes none. Committed at the edge like the others."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._session: AsyncSession | None = None
        self._close: AsyncExitStack | None = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._close = AsyncExitStack()
            self._session = await begin_writing(self._runtime, self._close)
        return self._session

    async def finish(self, *, commit: bool) -> None:
        if self._close is None:
            return
        if self._session is None:  # failed while queueing or opening: release what it holds
            await self._close.aclose()
            return
        try:
            if commit:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._close.aclose()


async def get_lazy_write_session(runtime: RuntimeDep) -> AsyncIterator[LazyWriteSession]:
    lazy = LazyWriteSession(runtime)
    try:
        yield lazy
    except BaseException:
        await lazy.finish(commit=False)
        raise
    await lazy.finish(commit=True)


LazyWriteSessionDep = Annotated[LazyWriteSession, Depends(get_lazy_write_session, scope="function")]


async def get_sessions(reads: SessionDep, writes: LazyWriteSessionDep) -> Sessions:
    """The read session, and the write session opened only if the endpoint ends up writing."""
    return Sessions(reads, writes.session)


SessionsDep = Annotated[Sessions, Depends(get_sessions)]


async def get_params(request: Request, runtime: RuntimeDep) -> Params:
    body = await request.body()
    strict = runtime.settings.strict or request.headers.get(STRICT_HEADER, "").lower() in ("1", "true")
    # Not request.url.query: that decodes strictly, and a raw non-UTF-8 byte would be a 500.
    query = request.scope.get("query_string", b"").decode("utf-8", errors="replace")
    return Params.from_sources(query, body, request.headers.get("content-type", ""), strict=strict)


ParamsDep = Annotated[Params, Depends(get_params)]


def _raw_key(request: Request, params: Params) -> str | None:
    # Apollo reads x-api-key, then api_key from the query or body. A Bearer token is an OAuth
    # token, which an API key is not: it gets the same 401 as no key.
    return request.headers.get("x-api-key") or params.api_key


class ApolloEndpoint:
    """Marks a route with its Apollo endpoint name (``api/v1/<controller>/<action>``) and runs,
    in Apollo's order: authentication (401), scope and plan (403), rate limit (429)."""

    def __init__(self, name: str, *, master_only: bool = False, paid_only: bool = False) -> None:
        self.name = name
        self.master_only = master_only
        self.paid_only = paid_only

    async def __call__(self, request: Request, params: ParamsDep, runtime: RuntimeDep) -> Caller:
        request.state.endpoint = self.name
        now = runtime.clock.now()
        caller = await authenticate(runtime.sessions, _raw_key(request, params), now, runtime.callers)
        request.state.team_id = caller.team_id
        authorize(caller, self.name, master_only=self.master_only, paid_only=self.paid_only)
        limits = caller.plan.limits_for(self.name)
        decision = await runtime.rate_limits.hit(caller.team_id, self.name, limits, now.timestamp())
        request.state.rate_limit_headers = decision.headers()
        exhausted = decision.exhausted
        if not decision.allowed and exhausted is not None and exhausted.limit is not None:
            RATE_LIMIT_REJECTIONS.labels(endpoint=self.name, window=exhausted.window).inc()
            raise RateLimited(self.name, exhausted.limit, exhausted.window, exhausted.resets_in(decision.now))
        # A body that cannot be parsed is a 400 on every endpoint, including those that read no
        # parameters (the key may still have come from the query string or a header).
        if params.body_error is not None:
            raise params.body_error
        return caller


def apollo_endpoint(name: str, *, master_only: bool = False, paid_only: bool = False) -> Any:
    """``caller: Annotated[Caller, apollo_endpoint("api/v1/users/search", paid_only=True)]``"""
    return Depends(ApolloEndpoint(name, master_only=master_only, paid_only=paid_only))


class SearchUnavailable(ApolloError):
    """503 while this process has no search index to read: the first build after a fresh start
    or a schema upgrade is still running (``perilune index status`` shows its progress)."""

    status_code = 503

    def body(self) -> dict[str, str]:
        return {"error": "The search index is not ready yet; try again in a moment."}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


async def get_search_backend(request: Request) -> SearchBackend:
    """The repository search index this process reads (``app.state.search_index``, started by
    the app's lifespan); an app may set ``app.state.search_backend`` to use another backend."""
    override: SearchBackend | None = getattr(request.app.state, "search_backend", None)
    if override is not None:
        return override
    index = request.app.state.search_index.index
    if index is None:
        raise SearchUnavailable()
    backend: SearchBackend = index
    return backend


SearchBackendDep = Annotated[SearchBackend, Depends(get_search_backend)]

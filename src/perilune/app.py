"""create_app(settings): the FastAPI application. Mounts every resource router under both
``/v1`` and ``/api/v1`` (the only importer of ``perilune.resources``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from perilune import __version__
from perilune.api.deps import ApolloEndpoint
from perilune.api.errors import (
    ApolloError,
    InternalError,
    RouteNotFound,
    Unprocessable,
    apollo_error_handler,
)
from perilune.api.params import describe_validation_error
from perilune.clock import Clock, SystemClock
from perilune.config import Settings
from perilune.crm import job_handlers as crm_job_handlers
from perilune.jobs.handlers import JobHandlers
from perilune.jobs.worker import BackgroundWorker, Worker
from perilune.observability.edge import EdgeMiddleware
from perilune.observability.logging import configure_logging, get_logger
from perilune.resources.accounts.endpoints import router as accounts_router
from perilune.resources.accounts.jobs import job_handlers as accounts_job_handlers
from perilune.resources.auth.endpoints import router as auth_router
from perilune.resources.contacts.endpoints import router as contacts_router
from perilune.resources.contacts.jobs import job_handlers as contacts_job_handlers
from perilune.resources.event_webhooks.endpoints import router as event_webhooks_router
from perilune.resources.fields.endpoints import router as fields_router
from perilune.resources.labels.endpoints import router as labels_router
from perilune.resources.labels.jobs import job_handlers as labels_job_handlers
from perilune.resources.mixed_companies.endpoints import router as mixed_companies_router
from perilune.resources.mixed_people.endpoints import router as mixed_people_router
from perilune.resources.news_articles.endpoints import router as news_articles_router
from perilune.resources.notes.endpoints import router as notes_router
from perilune.resources.opportunities.endpoints import router as opportunities_router
from perilune.resources.ops.endpoints import router as ops_router
from perilune.resources.organization_enrichment.endpoints import router as organization_enrichment_router
from perilune.resources.organizations.endpoints import router as organizations_router
from perilune.resources.people.endpoints import router as people_router
from perilune.resources.people_enrichment.endpoints import router as people_enrichment_router
from perilune.resources.phone_calls.endpoints import router as phone_calls_router
from perilune.resources.tasks.endpoints import router as tasks_router
from perilune.resources.usage_stats.endpoints import router as usage_stats_router
from perilune.resources.users.endpoints import router as users_router
from perilune.resources.webhook_result.endpoints import router as webhook_result_router
from perilune.runtime import Runtime, build_runtime
from perilune.search.follower import IndexService
from perilune.webhooks import job_handlers as webhook_job_handlers

API_PREFIXES = ("/api/v1", "/v1")
# people_router and organizations_router end in catch-all /people/{id} and /organizations/{id}
# GET routes: routers with static GET paths beneath those prefixes go before them.
RESOURCE_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    users_router,
    usage_stats_router,
    webhook_result_router,
    news_articles_router,
    mixed_people_router,
    mixed_companies_router,
    people_enrichment_router,
    organization_enrichment_router,
    people_router,
    organizations_router,
    contacts_router,
    accounts_router,
    labels_router,
    fields_router,
    event_webhooks_router,
    opportunities_router,
    tasks_router,
    notes_router,
    phone_calls_router,
)
# Each resource's job handlers, built per worker from the settings of the process running them
# (webhook delivery reads its address policy, signing key and limits at delivery time).
RESOURCE_JOB_HANDLERS: tuple[Callable[[Settings], JobHandlers], ...] = (
    webhook_job_handlers,
    crm_job_handlers,
    contacts_job_handlers,
    accounts_job_handlers,
    labels_job_handlers,
)
log = get_logger("perilune.app")


def apollo_router() -> APIRouter:
    router = APIRouter()
    for resource in RESOURCE_ROUTERS:
        router.include_router(resource)
    return router


def job_handlers(settings: Settings | None = None) -> JobHandlers:
    """Every resource's job handlers: what ``perilune serve`` and ``perilune worker`` run
    (settings default to the environment's, as ``perilune worker`` reads them)."""
    settings = settings or Settings()
    return JobHandlers.merge(*(make(settings) for make in RESOURCE_JOB_HANDLERS))


def start_worker(runtime: Runtime) -> BackgroundWorker:
    """The in-process worker ``perilune serve`` runs unless PERILUNE_RUN_WORKER is false."""
    return BackgroundWorker(Worker(runtime.engine, runtime.clock, job_handlers(runtime.settings)))


def start_index(runtime: Runtime) -> IndexService:
    """The search index in this process: it follows the repository change log if it wins the
    index writer election (PERILUNE_INDEX_WRITER), otherwise it reads what the writer commits."""
    settings = runtime.settings
    service = IndexService(
        runtime.engine,
        settings.resolved_index_dir,
        writer=settings.index_writer,
        follow_seconds=settings.index_follow_seconds,
        heap_mb=settings.index_heap_mb,
    )
    service.start()
    return service


def endpoint_names(routers: tuple[APIRouter, ...]) -> tuple[str, ...]:
    """Every Apollo endpoint name the routers serve, from the routes' ApolloEndpoint marks."""
    names: list[str] = []
    for route in (route for router in routers for route in router.routes):
        stack = list(route.dependant.dependencies) if isinstance(route, APIRoute) else []
        while stack:
            dependency = stack.pop()
            if isinstance(dependency.call, ApolloEndpoint) and dependency.call.name not in names:
                names.append(dependency.call.name)
            stack.extend(dependency.dependencies)
    return tuple(names)


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, **runtime_overrides: Any
) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    router = apollo_router()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(settings, clock or SystemClock(), **runtime_overrides)
        runtime.endpoints = endpoint_names(RESOURCE_ROUTERS)
        app.state.runtime = runtime
        app.state.worker = start_worker(runtime) if settings.run_worker else None
        app.state.search_index = start_index(runtime)
        try:
            yield
        finally:
            await app.state.search_index.stop()
            if app.state.worker is not None:
                await app.state.worker.stop()
            await runtime.close()

    app = FastAPI(
        title="Perilune",
        version=__version__,
        summary="A self-hosted server that speaks the Apollo.io REST API.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.include_router(router, prefix=API_PREFIXES[0])
    app.include_router(router, prefix=API_PREFIXES[1], include_in_schema=False)
    app.include_router(ops_router)
    _install_error_handlers(app)
    app.add_middleware(EdgeMiddleware)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApolloError, apollo_error_handler)

    async def route_not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and exc.status_code not in (404, 405):
            return Response(status_code=exc.status_code, content=str(exc.detail))
        return RouteNotFound().render()

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return Unprocessable(describe_validation_error(exc)).render()

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", request_id=getattr(request.state, "request_id", None))
        return InternalError().render()

    app.add_exception_handler(StarletteHTTPException, route_not_found)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected)


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and granian: settings from the environment."""
    return create_app(Settings())


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime

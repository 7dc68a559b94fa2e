"""Operator surface: /healthz, /metrics, request ids, the OpenAPI document and the access log."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.observability.edge import _incoming_request_id
from perilune.observability.logging import configure_logging, get_logger
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_tenant

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            values[(item.name, frozenset(item.labels.items()))] = item.value
    return values


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


# ---------------------------------------------------------------------------------------------
# /healthz and /metrics


async def test_healthz_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "x-rate-limit-minute" not in response.headers
    assert GENERATED_ID.match(response.headers["x-request-id"])


async def test_metrics_needs_no_key_and_counts_requests(client: httpx.AsyncClient, tenant: Tenant) -> None:
    health = {"endpoint": "api/v1/auth/health", "method": "GET"}
    ok_before = sample("perilune_requests_total", **health, status="200")
    denied_before = sample("perilune_requests_total", **health, status="401")
    latency_before = sample("perilune_request_duration_seconds_count", endpoint="api/v1/auth/health")

    assert (
        await client.get("/api/v1/auth/health", headers={"x-api-key": tenant.master_key})
    ).status_code == 200
    assert (await client.get("/v1/auth/health", params={"api_key": tenant.master_key})).status_code == 200
    assert (await client.get("/api/v1/auth/health")).status_code == 401

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE perilune_requests_total counter" in text
    assert "# TYPE perilune_request_duration_seconds histogram" in text
    assert "# TYPE perilune_rate_limit_rejections_total counter" in text
    assert 'perilune_requests_total{endpoint="api/v1/auth/health",method="GET",status="200"}' in text

    values = scraped(text)
    # Both prefixes count under the one Apollo endpoint name.
    assert values[key("perilune_requests_total", **health, status="200")] == ok_before + 2
    assert values[key("perilune_requests_total", **health, status="401")] == denied_before + 1
    assert (
        values[key("perilune_request_duration_seconds_count", endpoint="api/v1/auth/health")]
        == latency_before + 3
    )
    assert key("perilune_request_duration_seconds_bucket", endpoint="api/v1/auth/health", le="+Inf") in values


async def test_metrics_label_routes_without_an_apollo_name(client: httpx.AsyncClient) -> None:
    health_before = sample("perilune_requests_total", endpoint="/healthz", method="GET", status="200")
    missing_before = sample("perilune_requests_total", endpoint="unmatched", method="GET", status="404")
    await client.get("/healthz")
    await client.get("/no/such/path/12345")
    await client.get("/no/such/path/67890")
    values = scraped((await client.get("/metrics")).text)
    assert values[key("perilune_requests_total", endpoint="/healthz", method="GET", status="200")] == (
        health_before + 1
    )
    # Raw paths never become labels.
    assert values[key("perilune_requests_total", endpoint="unmatched", method="GET", status="404")] == (
        missing_before + 2
    )
    assert not any("12345" in dict(labels).get("endpoint", "") for _, labels in values)


async def test_metrics_count_rate_limit_rejections(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, tenant.team_id)
        await admin.set_plan(session, team, "custom", {"limits": {"default": {"minute": 1}}})
    labels = {"endpoint": "api/v1/auth/health", "window": "minute"}
    before = sample("perilune_rate_limit_rejections_total", **labels)
    limited_before = sample(
        "perilune_requests_total", endpoint="api/v1/auth/health", method="GET", status="429"
    )
    headers = {"x-api-key": tenant.master_key}
    assert (await client.get("/api/v1/auth/health", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/auth/health", headers=headers)).status_code == 429
    assert (await client.get("/api/v1/auth/health", headers=headers)).status_code == 429
    values = scraped((await client.get("/metrics")).text)
    assert values[key("perilune_rate_limit_rejections_total", **labels)] == before + 2
    assert values[
        key("perilune_requests_total", endpoint="api/v1/auth/health", method="GET", status="429")
    ] == (limited_before + 2)


# ---------------------------------------------------------------------------------------------
# request ids


async def test_every_response_has_a_request_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    responses = [
        await client.get("/api/v1/auth/health", headers={"x-api-key": tenant.master_key}),
        await client.get("/api/v1/auth/health"),
        await client.get("/api/v1/nothing/here"),
        await client.post("/api/v1/auth/health", headers={"x-api-key": tenant.master_key}),
        await client.get("/metrics"),
        await client.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 401, 404, 404, 200, 200]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(GENERATED_ID.match(value) for value in ids)
    assert len(set(ids)) == len(ids)
    for response in responses:
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]


@pytest.mark.parametrize("incoming", ["abc-123", "req_1.2:3-XYZ", "a" * 128, "0"])
async def test_a_safe_incoming_request_id_is_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"x-request-id": incoming})
    assert response.headers["x-request-id"] == incoming
    denied = await client.get("/api/v1/auth/health", headers={"x-request-id": incoming})
    assert denied.status_code == 401
    assert denied.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["has space", "a" * 129, "<script>", "semi;colon", "", "é"])
async def test_an_unsafe_incoming_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers=[(b"x-request-id", incoming.encode())])
    assert response.status_code == 200
    assert response.headers["x-request-id"] != incoming
    assert GENERATED_ID.match(response.headers["x-request-id"])


@pytest.mark.parametrize("raw", [b"abc\n", b"abc\r\nSet-Cookie: x=1", b"\nabc", b"abc\x00", b"abc\t", b"a b"])
def test_request_ids_with_control_characters_are_replaced(raw: bytes) -> None:
    scope = {"type": "http", "headers": [(b"x-request-id", raw)]}
    assert GENERATED_ID.match(_incoming_request_id(scope))


def test_the_first_safe_request_id_wins() -> None:
    scope = {"type": "http", "headers": [(b"x-request-id", b"bad id"), (b"x-request-id", b"good-id")]}
    assert _incoming_request_id(scope) == "good-id"
    assert GENERATED_ID.match(_incoming_request_id({"type": "http", "headers": []}))


async def test_an_unhandled_error_is_a_500_with_a_request_id(app: FastAPI) -> None:
    @app.get("/test-only/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    before = sample("perilune_requests_total", endpoint="/test-only/boom", method="GET", status="500")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
        response = await http.get("/test-only/boom", headers={"x-request-id": "trace-500"})
        generated = await http.get("/test-only/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "An internal error occurred. Please try again."}
    assert response.headers["x-request-id"] == "trace-500"
    assert GENERATED_ID.match(generated.headers["x-request-id"])
    assert (
        sample("perilune_requests_total", endpoint="/test-only/boom", method="GET", status="500")
        == before + 2
    )


# ---------------------------------------------------------------------------------------------
# OpenAPI and docs


async def test_openapi_lists_the_api_v1_routes_once(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Perilune"
    paths = document["paths"]
    assert "/api/v1/auth/health" in paths
    assert "get" in paths["/api/v1/auth/health"]
    assert "/api/v1/users/search" in paths
    assert "/api/v1/users/api_profile" in paths
    assert "post" in paths["/api/v1/usage_stats/credit_usage_stats"]
    assert "post" in paths["/api/v1/usage_stats/api_usage_stats"]
    assert "/healthz" in paths
    assert "/metrics" in paths
    assert not [path for path in paths if path.startswith("/v1/")]


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


# ---------------------------------------------------------------------------------------------
# the access log


@dataclass
class Logged:
    app: FastAPI
    client: httpx.AsyncClient
    capsys: pytest.CaptureFixture[str]
    tenant: Tenant

    def lines(self) -> list[str]:
        return [line for line in self.capsys.readouterr().err.splitlines() if line.strip()]

    def json_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines() if line.startswith("{")]


async def logging_app(
    settings: Settings, clock: FrozenClock, capsys: pytest.CaptureFixture[str], log_format: str
) -> AsyncIterator[Logged]:
    saved = structlog.get_config()
    # Built here, after capsys has replaced stderr, so the log goes where the test can read it.
    application = create_app(
        settings.model_copy(update={"log_level": "INFO", "log_format": log_format}), clock
    )
    try:
        async with LifespanManager(application):
            tenant = await make_tenant(application.state.runtime, clock)
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
                capsys.readouterr()
                yield Logged(application, http, capsys, tenant)
    finally:
        structlog.configure(**saved)


@pytest.fixture
async def json_logged(
    settings: Settings, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> AsyncIterator[Logged]:
    async for value in logging_app(settings, clock, capsys, "json"):
        yield value


@pytest.fixture
async def console_logged(
    settings: Settings, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> AsyncIterator[Logged]:
    async for value in logging_app(settings, clock, capsys, "console"):
        yield value


async def test_one_json_log_line_per_request(json_logged: Logged) -> None:
    client, tenant = json_logged.client, json_logged.tenant
    ok = await client.get(
        "/api/v1/auth/health", headers={"x-api-key": tenant.master_key, "x-request-id": "r-1"}
    )
    denied = await client.get("/v1/auth/health")
    missing = await client.get("/api/v1/nowhere")
    health = await client.get("/healthz")

    records = [r for r in json_logged.json_records() if r.get("event") == "request"]
    assert len(records) == 4
    by_id = {r["request_id"]: r for r in records}
    expected = [
        (ok, tenant.team_id, "api/v1/auth/health", 200, "/api/v1/auth/health"),
        (denied, None, "api/v1/auth/health", 401, "/v1/auth/health"),
        (missing, None, "unmatched", 404, "/api/v1/nowhere"),
        (health, None, "/healthz", 200, "/healthz"),
    ]
    assert ok.headers["x-request-id"] == "r-1"
    for response, team_id, endpoint, status, path in expected:
        record = by_id[response.headers["x-request-id"]]
        assert record["team_id"] == team_id
        assert record["endpoint"] == endpoint
        assert record["status"] == status == response.status_code
        assert record["method"] == "GET"
        assert record["path"] == path
        assert isinstance(record["duration_ms"], float | int)
        assert 0 <= record["duration_ms"] < 60_000
        assert record["level"] == "info"
        assert "timestamp" in record


async def test_the_log_line_of_an_unhandled_error(json_logged: Logged) -> None:
    @json_logged.app.get("/test-only/crash")
    async def crash() -> None:
        raise RuntimeError("kaboom")

    response = await json_logged.client.get("/test-only/crash", headers={"x-request-id": "crash-1"})
    assert response.status_code == 500
    records = json_logged.json_records()
    access = [r for r in records if r.get("event") == "request"]
    assert len(access) == 1
    assert access[0]["request_id"] == "crash-1"
    assert access[0]["status"] == 500
    errors = [r for r in records if r.get("event") == "unhandled error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "crash-1"
    assert errors[0]["level"] == "error"
    # The JSON line carries the traceback, not just a flag.
    assert "RuntimeError: kaboom" in errors[0]["exception"]


async def test_console_log_line_has_the_same_fields(console_logged: Logged) -> None:
    client, tenant = console_logged.client, console_logged.tenant
    response = await client.get("/api/v1/auth/health", headers={"x-api-key": tenant.master_key})
    lines = [line for line in console_logged.lines() if " request " in line or "[info" in line]
    assert len(lines) == 1
    line = lines[0]
    assert f"request_id={response.headers['x-request-id']}" in line
    assert f"team_id={tenant.team_id}" in line
    assert "endpoint=api/v1/auth/health" in line
    assert "status=200" in line
    assert "duration_ms=" in line


async def test_a_later_app_applies_its_own_log_settings(
    settings: Settings, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Logging configured by one app (quiet) must not stick once another app is configured."""
    saved = structlog.get_config()
    try:
        configure_logging("WARNING", "console")
        get_logger("perilune.access").info("request", probe=1)  # filtered out, and must not be cached
        configure_logging("INFO", "json")
        get_logger("perilune.access").info("request", probe=2)
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1
        assert json.loads(lines[0])["probe"] == 2
    finally:
        structlog.configure(**saved)


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_an_unhandled_errors_log_keeps_the_traceback_but_not_the_key(
    settings: Settings, clock: FrozenClock, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    async for logged in logging_app(settings, clock, capsys, log_format):

        @logged.app.get("/test-only/leak")
        async def leak() -> None:
            raise RuntimeError("kaboom")

        secret = logged.tenant.master_key
        response = await logged.client.get("/test-only/leak", headers={"x-api-key": secret})
        assert response.status_code == 500
        err = capsys.readouterr().err
        assert "RuntimeError: kaboom" in err
        assert "unhandled error" in err
        assert secret not in err

"""Apollo's error families, byte for byte: clients match on these bodies, so the expected bytes are
written out literally here rather than built from the constants under test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from fastapi import FastAPI, HTTPException

from perilune.api.errors import (
    ApiInaccessible,
    ApolloError,
    BadRequest,
    BulkRequestFailed,
    Forbidden,
    InsufficientCredits,
    InternalError,
    InvalidApiKey,
    NotFound,
    PaidPlanRequired,
    RateLimited,
    RouteNotFound,
    Unprocessable,
)
from perilune.clock import FrozenClock
from perilune.runtime import Runtime
from tests.conftest import Tenant, make_scoped_key, make_tenant

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

INVALID_KEY = b"Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
SCOPE_USERS_SEARCH = (
    b'{"error":"This API key is not authorized to access api/v1/users/search. Request an API key from '
    b"your administrator that includes this endpoint in its configured scope."
    b'","error_code":"API_INACCESSIBLE"}'
)
PAID_ONLY = b'{"message":"This endpoint is only available to Apollo users on paid plans."}'
ROUTE_NOT_FOUND = b'{"status":404,"error":"Not Found"}'
HEALTH_429 = (
    b'{"message":"The maximum number of api calls allowed for api/v1/auth/health is 50 times per minute. '
    b'Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."}'
)
RECORD_LIMIT = (
    b'{"status":"failed","error_code":"RECORD_LIMIT_EXCEEDED",'
    b'"error_message":"cannot enrich more than 10 in a single request"}'
)
INSUFFICIENT_CREDITS = b'{"error":"Insufficient credits. Please upgrade your plan."}'
INTERNAL = b'{"error":"An internal error occurred. Please try again."}'


def assert_no_rate_limit_headers(response: httpx.Response) -> None:
    leaked = [
        name
        for name in response.headers
        if name.startswith("x-rate-limit") or name.endswith(("-usage", "-requests-left"))
    ]
    assert leaked == []


# --- render(), unit level --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "content"),
    [
        (ApiInaccessible("api/v1/users/search"), 403, SCOPE_USERS_SEARCH),
        (PaidPlanRequired(), 403, PAID_ONLY),
        (RouteNotFound(), 404, ROUTE_NOT_FOUND),
        (RateLimited("api/v1/auth/health", 50, "minute", 17), 429, HEALTH_429),
        (Unprocessable("Invalid parameters. page: bad"), 422, b'{"error":"Invalid parameters. page: bad"}'),
        (InsufficientCredits(), 422, INSUFFICIENT_CREDITS),
        (
            BulkRequestFailed("RECORD_LIMIT_EXCEEDED", "cannot enrich more than 10 in a single request"),
            400,
            RECORD_LIMIT,
        ),
        (
            BadRequest("The request body must be a JSON object."),
            400,
            b'{"error":"The request body must be a JSON object."}',
        ),
        (NotFound(), 404, b'{"error":"Record not found."}'),
        (NotFound("No such contact."), 404, b'{"error":"No such contact."}'),
        (Forbidden("Only admins may do this."), 403, b'{"error":"Only admins may do this."}'),
        (InternalError(), 500, INTERNAL),
    ],
)
def test_render_json_families(error: ApolloError, status: int, content: bytes) -> None:
    response = error.render()
    assert response.status_code == status
    assert response.body == content
    assert response.headers["content-type"] == JSON_TYPE
    assert error.status_code == status


def test_render_invalid_api_key_is_plain_text() -> None:
    response = InvalidApiKey().render()
    assert response.status_code == 401
    assert response.body == INVALID_KEY
    assert response.headers["content-type"] == TEXT_TYPE


def test_rate_limited_carries_retry_after_and_window_names() -> None:
    response = RateLimited("api/v1/people/match", 1000, "hour", 3599).render()
    assert response.headers["retry-after"] == "3599"
    assert response.body == (
        b'{"message":"The maximum number of api calls allowed for api/v1/people/match '
        b"is 1000 times per hour. "
        b'Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."}'
    )


def test_unprocessable_extra_fields_follow_error() -> None:
    response = Unprocessable("Unknown parameters: x", unknown_parameters=["x"]).render()
    assert response.body == b'{"error":"Unknown parameters: x","unknown_parameters":["x"]}'


def test_insufficient_credits_is_an_unprocessable() -> None:
    error = InsufficientCredits()
    assert isinstance(error, Unprocessable)
    assert error.status_code == 422


def test_only_authorised_answers_carry_rate_limit_headers() -> None:
    assert not InvalidApiKey.carries_rate_limit_headers
    assert not ApiInaccessible.carries_rate_limit_headers
    assert not PaidPlanRequired.carries_rate_limit_headers
    assert not RouteNotFound.carries_rate_limit_headers
    assert RateLimited.carries_rate_limit_headers
    assert Unprocessable.carries_rate_limit_headers


# --- over HTTP -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "not-a-key"}, {"Authorization": "Bearer whatever"}],
)
async def test_http_401_plain_text(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/api/v1/users/search", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == TEXT_TYPE
    assert response.content == INVALID_KEY
    assert_no_rate_limit_headers(response)


async def test_http_403_scope(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    response = await client.get("/api/v1/users/search", headers={"x-api-key": key})
    assert response.status_code == 403
    assert response.headers["content-type"] == JSON_TYPE
    assert response.content == SCOPE_USERS_SEARCH
    assert_no_rate_limit_headers(response)


async def test_http_403_scope_names_the_endpoint_under_v1_prefix_too(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, tenant: Tenant
) -> None:
    key = await make_scoped_key(runtime, clock, tenant, "api/v1/auth/health")
    response = await client.get("/v1/users/search", headers={"x-api-key": key})
    assert response.content == SCOPE_USERS_SEARCH


async def test_http_403_paid_plan(client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    response = await client.get("/api/v1/users/search", headers={"x-api-key": free.master_key})
    assert response.status_code == 403
    assert response.headers["content-type"] == JSON_TYPE
    assert response.content == PAID_ONLY
    assert_no_rate_limit_headers(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nope"),
        ("GET", "/v1/nope"),
        ("GET", "/api/v2/auth/health"),
        ("GET", "/"),
        ("POST", "/api/v1/people/nonexistent"),
        ("POST", "/api/v1/auth/health"),
        ("DELETE", "/v1/auth/health"),
        ("GET", "/api/v1/usage_stats/api_usage_stats"),
        ("PUT", "/api/v1/users/search"),
    ],
)
async def test_http_404_unknown_route_or_wrong_method(
    client: httpx.AsyncClient, tenant: Tenant, method: str, path: str
) -> None:
    response = await client.request(method, path, headers={"x-api-key": tenant.master_key})
    assert response.status_code == 404
    assert response.headers["content-type"] == JSON_TYPE
    assert response.content == ROUTE_NOT_FOUND
    assert_no_rate_limit_headers(response)


async def test_http_404_without_any_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/does/not/exist")
    assert response.content == ROUTE_NOT_FOUND


async def test_http_429_after_fifty_a_minute_on_free(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    headers = {"x-api-key": free.master_key}
    for n in range(50):
        ok = await client.get("/api/v1/auth/health", headers=headers)
        assert ok.status_code == 200, n
    assert ok.headers["x-minute-requests-left"] == "0"

    clock.advance(20)
    refused = await client.get("/api/v1/auth/health", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == JSON_TYPE
    assert refused.content == HEALTH_429
    assert refused.headers["retry-after"] == "40"
    assert refused.headers["retry-after"].isdigit()
    # The refusal is not counted.
    assert refused.headers["x-minute-usage"] == "50"

    clock.advance(39.5)
    still = await client.get("/v1/auth/health", headers=headers)
    assert still.status_code == 429
    assert still.headers["retry-after"] == "1"

    clock.advance(0.5)
    again = await client.get("/api/v1/auth/health", headers=headers)
    assert again.status_code == 200
    assert again.headers["x-minute-usage"] == "1"


async def test_http_429_is_per_team(client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock) -> None:
    free = await make_tenant(runtime, clock, name="Freebie", plan="free")
    other = await make_tenant(runtime, clock, name="Other", plan="free")
    for _ in range(50):
        await client.get("/api/v1/auth/health", headers={"x-api-key": free.master_key})
    assert (
        await client.get("/api/v1/auth/health", headers={"x-api-key": free.master_key})
    ).status_code == 429
    assert (
        await client.get("/api/v1/auth/health", headers={"x-api-key": other.master_key})
    ).status_code == 200


async def test_http_422_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/api/v1/users/search?page=0", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 422
    assert response.headers["content-type"] == JSON_TYPE
    assert (
        response.content
        == b'{"error":"Invalid parameters. page: Input should be greater than or equal to 1"}'
    )


# --- unexpected failures ---------------------------------------------------------------------------


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``client``, but lets the app answer its own unhandled errors (as a server would)
    instead of re-raising them into the test."""

    async def explode() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    async def teapot() -> None:
        raise HTTPException(status_code=418, detail="short and stout")

    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    app.add_api_route("/_test/explode", explode, methods=["GET", "POST"])
    app.add_api_route("/_test/teapot", teapot, methods=["GET"])
    app.add_api_route("/_test/typed", typed, methods=["GET"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
        yield http


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_http_500_is_json_not_a_traceback(raw_client: httpx.AsyncClient, method: str) -> None:
    response = await raw_client.request(method, "/_test/explode")
    assert response.status_code == 500
    assert response.headers["content-type"] == JSON_TYPE
    assert response.content == INTERNAL
    assert b"Traceback" not in response.content
    assert b"secret" not in response.content


async def test_http_framework_validation_error_is_apollo_422(raw_client: httpx.AsyncClient) -> None:
    response = await raw_client.get("/_test/typed?n=abc")
    assert response.status_code == 422
    assert response.headers["content-type"] == JSON_TYPE
    body = orjson.loads(response.content)
    assert list(body) == ["error"]
    assert body["error"].startswith("Invalid parameters. query.n: ")


async def test_http_other_http_exceptions_keep_their_status(raw_client: httpx.AsyncClient) -> None:
    response = await raw_client.get("/_test/teapot")
    assert response.status_code == 418
    assert response.content == b"short and stout"

"""Apollo's error families. Each error class owns its status and its wire shape; services raise
them and one handler renders them (services never raise HTTPException).

The texts are Apollo's, byte for byte, because clients match on them."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from fastapi import Request
from fastapi.responses import Response

AUTH_DOCS_URL = "https://docs.apollo.io/reference/authentication"
UPGRADE_URL = "https://app.apollo.io/#/settings/plans/upgrade"


class ApolloError(Exception):
    status_code: ClassVar[int] = 500
    # Rate-limit headers belong on authenticated, authorised answers only.
    carries_rate_limit_headers: ClassVar[bool] = True

    def body(self) -> Any:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def render(self) -> Response:
        return Response(
            content=orjson.dumps(self.body()),
            status_code=self.status_code,
            media_type="application/json; charset=utf-8",
            headers=self.headers(),
        )


class InvalidApiKey(ApolloError):
    """401, plain text: no key, an unknown or revoked key, or a Bearer token."""

    status_code = 401
    carries_rate_limit_headers = False
    text = f"Invalid API key. See {AUTH_DOCS_URL} for how to authenticate."

    def render(self) -> Response:
        return Response(content=self.text, status_code=401, media_type="text/plain; charset=utf-8")


class ApiInaccessible(ApolloError):
    """403: a scoped key used outside its scope (or on a master-key-only endpoint)."""

    status_code = 403
    carries_rate_limit_headers = False

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self.endpoint = endpoint

    def body(self) -> dict[str, str]:
        return {
            "error": f"This API key is not authorized to access {self.endpoint}. Request an API key "
            "from your administrator that includes this endpoint in its configured scope.",
            "error_code": "API_INACCESSIBLE",
        }


class PaidPlanRequired(ApolloError):
    """403 for endpoints Apollo keeps from free plans."""

    status_code = 403
    carries_rate_limit_headers = False

    def body(self) -> dict[str, str]:
        return {"message": "This endpoint is only available to Apollo users on paid plans."}


class Forbidden(ApolloError):
    """403 with Apollo's ``{"error": ...}`` body (permission answers other than scope)."""

    status_code = 403

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error

    def body(self) -> dict[str, str]:
        return {"error": self.error}


class Unprocessable(ApolloError):
    """422 ``{"error": ...}``: Apollo's answer to parameters it cannot use."""

    status_code = 422

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, **self.extra}


class InsufficientCredits(Unprocessable):
    def __init__(self) -> None:
        super().__init__("Insufficient credits. Please upgrade your plan.")


class BadRequest(ApolloError):
    """400 ``{"error": ...}``."""

    status_code = 400

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error

    def body(self) -> dict[str, str]:
        return {"error": self.error}


class BulkRequestFailed(ApolloError):
    """400 in the bulk endpoints' envelope, e.g. ``RECORD_LIMIT_EXCEEDED``."""

    status_code = 400

    def __init__(self, error_code: str, error_message: str) -> None:
        super().__init__(error_message)
        self.error_code = error_code
        self.error_message = error_message

    def body(self) -> dict[str, str]:
        return {"status": "failed", "error_code": self.error_code, "error_message": self.error_message}


class NotFound(ApolloError):
    """404 ``{"error": ...}`` for a record the team cannot see (another team's ids included)."""

    status_code = 404

    def __init__(self, error: str = "Record not found.") -> None:
        super().__init__(error)
        self.error = error

    def body(self) -> dict[str, str]:
        return {"error": self.error}


class RouteNotFound(ApolloError):
    """404 for a path (or method) that Apollo does not serve."""

    status_code = 404
    carries_rate_limit_headers = False

    def body(self) -> dict[str, Any]:
        return {"status": 404, "error": "Not Found"}


class RateLimited(ApolloError):
    """429 with Apollo's message and an integer Retry-After (seconds to the window's reset)."""

    status_code = 429

    def __init__(self, endpoint: str, limit: int, window: str, retry_after: int) -> None:
        super().__init__(endpoint)
        self.endpoint = endpoint
        self.limit = limit
        self.window = window
        self.retry_after = retry_after

    def body(self) -> dict[str, str]:
        return {
            "message": f"The maximum number of api calls allowed for {self.endpoint} is "
            f"{self.limit} times per {self.window}. Please upgrade your plan from {UPGRADE_URL}."
        }

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InternalError(ApolloError):
    status_code = 500

    def body(self) -> dict[str, str]:
        return {"error": "An internal error occurred. Please try again."}


async def apollo_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApolloError)
    if not exc.carries_rate_limit_headers:
        request.state.rate_limit_headers = None
    return exc.render()

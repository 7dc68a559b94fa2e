"""The outermost ASGI middleware: request ids, rate-limit headers, metrics and the access log.
Plain ASGI (not BaseHTTPMiddleware) so it adds no task or copy per request."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from perilune.api.errors import InternalError
from perilune.observability.logging import get_logger
from perilune.observability.metrics import LATENCY, REQUESTS

REQUEST_ID_HEADER = b"x-request-id"
# \Z, not $: $ also matches before a trailing newline.
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}\Z")
log = get_logger("perilune.access")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and _SAFE_REQUEST_ID.match(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                for name, value in (state.get("rate_limit_headers") or {}).items():
                    headers.append((name.encode("ascii"), value.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # An unhandled error's 500 would otherwise be sent by Starlette's outermost
            # ServerErrorMiddleware, past this one and without a request id. Answer it here; the
            # error still propagates, so the app's handler logs it (and sends nothing more).
            if not response_started:
                await InternalError().render()(scope, receive, send_with_headers)
            raise
        finally:
            self._record(scope, state, status, time.perf_counter() - started, request_id)

    @staticmethod
    def _record(scope: Scope, state: dict[str, Any], status: int, elapsed: float, request_id: str) -> None:
        endpoint = state.get("endpoint") or _route_label(scope)
        REQUESTS.labels(endpoint=endpoint, method=scope["method"], status=str(status)).inc()
        LATENCY.labels(endpoint=endpoint).observe(elapsed)
        log.info(
            "request",
            request_id=request_id,
            team_id=state.get("team_id"),
            endpoint=endpoint,
            method=scope["method"],
            path=scope["path"],
            status=status,
            duration_ms=round(elapsed * 1000, 2),
        )


def _route_label(scope: Scope) -> str:
    # Label by route template, never by raw path: raw paths would make unbounded label sets.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"

"""A real HTTP receiver on 127.0.0.1 (a threaded http.server) that records every delivery and
answers from a script, and settings that let webhooks reach it."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from perilune.config import Settings

SIGNING_KEY = "test-signing-key-0123456789abcdef"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Receiver:
    """Answers each POST with the next scripted status (200 once the script runs out)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.delay = 0.0
        self._script: collections.deque[int] = collections.deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/phones"

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def _next_status(self, request: Received) -> int:
        with self._lock:
            self.received.append(request)
            return self._script.popleft() if self._script else 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._next_status(Received(self.path, headers, body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receiver lives on loopback, so private networks are allowed here (tests of refusal
    pass allow_private_networks=False or settings of their own). The tests run the worker
    themselves, with the test clock."""
    return settings.model_copy(
        update={
            "webhook_allow_private_networks": True,
            "webhook_signing_key": SecretStr(SIGNING_KEY),
            "webhook_timeout_seconds": 2.0,
            "run_worker": False,
        }
    )

"""The queue request writers of a SQLite database wait in, across the processes serving it.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which polls in sleeps of 1, 2, 5, 10 ... up to 100 ms: with a few
writers waiting, most of their wait is sleep after the lock was already free (seconds of p99,
and idle CPU while requests queue). Here writers queue instead: on an asyncio lock within a
process, then on an advisory lock file (``flock``) beside the database across processes, which
the kernel hands to the next waiter the moment it is released. Writers that do not queue here
(the job worker, an import run from the command line) still meet the busy handler, as before.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType

try:  # POSIX; elsewhere writers queue within a process only
    import fcntl
except ImportError:  # pragma: no cover - not on the platforms CI runs
    fcntl = None  # type: ignore[assignment]


class WriteGate:
    """An async context manager: inside it, this task is the only gated writer of the
    database, in every process that gates on the same ``lock_path``."""

    def __init__(self, lock_path: Path | None) -> None:
        self._local = asyncio.Lock()
        self._path = lock_path if fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0
        # A cancelled wait's thread still holds the local lock: it releases it when it is done.
        self._handed_over = False

    async def __aenter__(self) -> None:
        await self._local.acquire()
        try:
            await self._lock_file()
        except BaseException:
            if not self._handed_over:
                self._local.release()
            raise

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self._path is not None:
                fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._local.release()

    async def _lock_file(self) -> None:
        if self._path is None:
            return
        fd = self._descriptor()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        # Another process writes: wait in a thread, woken when the lock is released.
        waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread cannot be stopped: when it gets the lock, give the lock back and let
            # this process's next writer in, not before (it would share this descriptor's lock).
            self._handed_over = True
            waiting.add_done_callback(self._release_after_wait)
            raise

    def _release_after_wait(self, waiting: asyncio.Future[None]) -> None:
        self._handed_over = False
        try:
            if not waiting.cancelled() and waiting.exception() is None:
                fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._local.release()

    def _descriptor(self) -> int:
        """This process's descriptor of the lock file, opened after any fork: a descriptor
        inherited across ``fork`` shares its lock with the parent's."""
        if self._fd is None or self._pid != os.getpid():
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

"""The write gate: one gated writer at a time across processes, and a cancelled waiter that
neither deadlocks its process nor keeps the lock from the others."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perilune.db.gate import WriteGate

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the cross-process gate is POSIX flock")

# Each process adds 1 to a number in a file, ROUNDS times, reading and writing it in separate
# steps with a pause between: without mutual exclusion the processes lose each other's updates.
COUNTER = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from perilune.db.gate import WriteGate

    async def main(lock: str, counter: str, rounds: int) -> None:
        gate = WriteGate(Path(lock))
        for _ in range(rounds):
            async with gate:
                value = int(Path(counter).read_text())
                time.sleep(0.001)
                Path(counter).write_text(str(value + 1))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from perilune.db.gate import WriteGate

    async def main(lock: str) -> None:
        async with WriteGate(Path(lock)):
            print("held", flush=True)
            sys.stdin.readline()

    asyncio.run(main(sys.argv[1]))
    """
)


def test_writers_in_separate_processes_take_turns(tmp_path: Path) -> None:
    lock, counter = tmp_path / "db-writers", tmp_path / "counter"
    counter.write_text("0")
    rounds = 40
    command = [sys.executable, "-c", COUNTER, str(lock), str(counter), str(rounds)]
    workers = [subprocess.Popen(command) for _ in range(3)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    assert int(counter.read_text()) == 3 * rounds


class Holder:
    """Another process holding the gate's lock until told to let go."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, lock: Path) -> Holder:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLDER, str(lock), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"held"
        return cls(process)

    async def let_go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"\n")
        await self.process.stdin.drain()
        assert await asyncio.wait_for(self.process.wait(), 10) == 0


async def test_a_cancelled_waiter_releases_the_lock_once_it_gets_it(tmp_path: Path) -> None:
    lock = tmp_path / "db-writers"
    holder = await Holder.start(lock)
    gate = WriteGate(lock)
    try:
        waiter = asyncio.ensure_future(gate.__aenter__())
        await asyncio.sleep(0.2)
        assert not waiter.done()  # queued behind the other process
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await holder.let_go()
        # This process's next writer gets in once the cancelled wait has given the lock back,
        # and so does another process after it.
        async with asyncio.timeout(10):
            async with gate:
                pass
        await (await Holder.start(lock)).let_go()
    finally:
        if holder.process.returncode is None:
            holder.process.kill()
        gate.close()


async def test_without_a_file_writers_queue_within_the_process() -> None:
    gate = WriteGate(None)
    inside: list[int] = []
    overlaps = 0

    async def writer(number: int) -> None:
        nonlocal overlaps
        async with gate:
            inside.append(number)
            overlaps += len(inside) > 1
            await asyncio.sleep(0.001)
            inside.remove(number)

    await asyncio.gather(*(writer(n) for n in range(20)))
    assert overlaps == 0

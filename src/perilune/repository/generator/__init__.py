"""A realistic, deterministic synthetic people/organization repository in the importer's input
format (one Apollo-shaped JSON object per line; see docs/data-formats.md).

    generator = Generator(people=1_000_000, organizations=80_000, seed=7)
    generator.write(Path("data"), workers=2)     # organizations.jsonl, people.jsonl
    for record in generator.people(): ...        # or stream records into the importer

The same seed gives byte-identical output, whatever the number of workers. Companies are planned
first (O(companies) memory, ~1 KB each); people are then generated company by company, from one
random stream per company, and never held, so memory does not grow with the number of people,
and chunks of companies can be rendered in parallel by forked workers (the parent writes the
chunks in order). What one company needs at once (its email addresses so far; with workers, its
JSON) grows with its size: at the default ~12 people per company the largest holds well under 1%
of the people.

See reference.py for the data sources, organizations.py and people.py for what is drawn and how.
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import orjson

from perilune.repository.generator.organizations import (
    OrganizationMaker,
    OrgPlan,
    allocate_people,
    plan_organizations,
)
from perilune.repository.generator.people import PeopleMaker
from perilune.repository.generator.reference import reference

Record = dict[str, Any]
Kind = Literal["organizations", "people"]

DEFAULT_AS_OF = date(2025, 6, 1)
FILES: dict[Kind, str] = {"organizations": "organizations.jsonl", "people": "people.jsonl"}
# A chunk is what one worker renders at a time: big enough to amortize the hand-over (a few
# MB of JSON), small enough that the chunks in flight stay a few MB each.
_CHUNK_PEOPLE = 4000
_CHUNK_ORGANIZATIONS = 1000
_BATCH = 2000  # lines per batch when rendering in this process


def default_organizations(people: int) -> int:
    """A company count that gives ~12 generated people per company."""
    return max(1, people // 12)


def default_workers() -> int:
    """Worker processes for rendering: the machine's cores, where processes can be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


class Sink(Protocol):
    """Where JSON lines go: an open binary file, or a gzip stream over one."""

    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True)
class Workers:
    """Forked processes rendering chunks (see ``worker_pool``)."""

    pool: Pool
    size: int


@dataclass(frozen=True)
class WriteResult:
    organizations: Path
    people: Path
    organization_count: int
    people_count: int


class Generator:
    def __init__(
        self, *, people: int, organizations: int | None = None, seed: int = 0, as_of: date = DEFAULT_AS_OF
    ) -> None:
        if people < 0 or (organizations is not None and organizations < 1):
            raise ValueError("people must be >= 0 and organizations >= 1")
        self.people_count = people
        self.organization_count = (
            organizations if organizations is not None else default_organizations(people)
        )
        self.seed = seed
        self.as_of = as_of

    @cached_property
    def plans(self) -> list[OrgPlan]:
        plans = plan_organizations(reference(), self.organization_count, self.seed, self.as_of)
        allocate_people(plans, self.people_count, self.seed)
        return plans

    @cached_property
    def _organization_maker(self) -> OrganizationMaker:
        return OrganizationMaker(reference(), self.plans, self.seed, self.as_of)

    @cached_property
    def _people_maker(self) -> PeopleMaker:
        return PeopleMaker(reference(), self.plans, self.seed, self.as_of)

    def organizations(self) -> Iterator[Record]:
        maker = self._organization_maker
        for plan in self.plans:
            yield maker.record(plan)

    def people(self) -> Iterator[Record]:
        maker = self._people_maker
        for plan in self.plans:
            yield from maker.people(plan)

    def records(self, kind: Kind) -> Iterator[Record]:
        return self.organizations() if kind == "organizations" else self.people()

    def chunks(self, kind: Kind) -> list[tuple[int, int]]:
        """Ranges of companies (plan indexes) rendered as one unit of work."""
        if kind == "organizations":
            count = len(self.plans)
            return [(i, min(i + _CHUNK_ORGANIZATIONS, count)) for i in range(0, count, _CHUNK_ORGANIZATIONS)]
        chunks = []
        start = people = 0
        for plan in self.plans:
            people += plan.people
            if people >= _CHUNK_PEOPLE:
                chunks.append((start, plan.index + 1))
                start, people = plan.index + 1, 0
        if start < len(self.plans):
            chunks.append((start, len(self.plans)))
        return chunks

    def render(self, kind: Kind, start: int, stop: int) -> Iterator[bytes]:
        """The JSON lines (each ending in a newline) of companies ``start:stop``, or of their
        people, in batches of a few thousand lines."""
        batch: list[bytes] = []
        if kind == "organizations":
            maker = self._organization_maker
            batch = [orjson.dumps(maker.record(plan)) for plan in self.plans[start:stop]]
        else:
            people = self._people_maker
            for plan in self.plans[start:stop]:
                for record in people.people(plan):
                    batch.append(orjson.dumps(record))
                    if len(batch) >= _BATCH:
                        yield b"\n".join(batch) + b"\n"
                        batch.clear()
        if batch:
            yield b"\n".join(batch) + b"\n"

    def lines(self, kind: Kind, workers: Workers | None = None) -> Iterator[bytes]:
        """The output of ``kind`` as chunks of JSON lines, in order; rendered by ``workers``
        (see ``worker_pool``) when given, else here. At most two chunks per worker are in
        flight, so memory stays bounded however slowly the chunks are consumed."""
        chunks = self.chunks(kind)
        if workers is None:
            for start, stop in chunks:
                yield from self.render(kind, start, stop)
            return
        window: deque[AsyncResult[bytes]] = deque()
        for start, stop in chunks:
            window.append(workers.pool.apply_async(_render_in_worker, (kind, start, stop)))
            if len(window) >= 2 * workers.size:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()

    def write(self, out_dir: Path, *, compress: bool = False, workers: int = 1) -> WriteResult:
        """Write ``organizations.jsonl`` and ``people.jsonl`` (``.gz`` when ``compress``)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = ".gz" if compress else ""
        paths = {kind: out_dir / (name + suffix) for kind, name in FILES.items()}
        counts: dict[Kind, int] = {}
        with worker_pool(self, workers) as forked:
            for kind, path in paths.items():
                counts[kind] = write_chunks(path, self.lines(kind, forked), compress=compress)
        return WriteResult(paths["organizations"], paths["people"], counts["organizations"], counts["people"])


# The generator a forked worker renders from: set in the parent just before the fork, so each
# worker inherits the plans and reference data instead of rebuilding them.
_FORKED: Generator | None = None


def _render_in_worker(kind: Kind, start: int, stop: int) -> bytes:
    assert _FORKED is not None, "worker_pool sets the generator before forking"
    return b"".join(_FORKED.render(kind, start, stop))


@contextmanager
def worker_pool(generator: Generator, workers: int) -> Iterator[Workers | None]:
    """Forked workers that render ``generator``'s chunks (None for one worker, or where processes
    cannot be forked). Plans and reference data are built first, so workers share them."""
    global _FORKED
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    generator.plans  # noqa: B018  # built before the fork, inherited by the workers
    reference()
    _FORKED = generator
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield Workers(pool, workers)
    finally:
        pool.terminate()
        pool.join()
        _FORKED = None


def write_chunks(path: Path, chunks: Iterable[bytes], *, compress: bool = False) -> int:
    """Write chunks of JSON lines to ``path``; gzip without a name or time in its header, so the
    same lines give the same bytes. Returns the number of lines."""
    count = 0
    with path.open("wb") as raw, gzip_sink(raw) if compress else nullcontext(raw) as sink:
        for chunk in chunks:
            count += chunk.count(b"\n")
            sink.write(chunk)
    return count


def gzip_sink(raw: BinaryIO) -> gzip.GzipFile:
    """A gzip stream over ``raw`` whose header has no file name and no time, so the same lines
    always give the same bytes."""
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=3, mtime=0)


def write_jsonl(path: Path, records: Iterable[Record], *, compress: bool = False) -> int:
    """Write records one JSON object a line (see ``write_chunks``)."""
    return write_chunks(path, _batches(records), compress=compress)


def _batches(records: Iterable[Record]) -> Iterator[bytes]:
    batch: list[bytes] = []
    for record in records:
        batch.append(orjson.dumps(record))
        if len(batch) >= _BATCH:
            yield b"\n".join(batch) + b"\n"
            batch.clear()
    if batch:
        yield b"\n".join(batch) + b"\n"


__all__ = [
    "DEFAULT_AS_OF",
    "FILES",
    "Generator",
    "Kind",
    "Sink",
    "Workers",
    "WriteResult",
    "default_organizations",
    "default_workers",
    "gzip_sink",
    "worker_pool",
    "write_chunks",
    "write_jsonl",
]

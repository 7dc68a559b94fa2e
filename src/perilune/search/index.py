"""The tantivy index of the people/organization repository: derived from the database,
rebuildable from it at any time, kept in step by ``search.follower``.

On disk (``$PERILUNE_INDEX_DIR``, default ``$PERILUNE_DATA_DIR/index``)::

    CURRENT              {"generation": "g-..."}: the generation readers use (replaced atomically)
    writer.lock          flock held by the one process that keeps the index in step
    g-<time>-<random>/
        tantivy/         the tantivy index (schema in ``search.schema``)
        state.json       schema version, the change-log position the index reflects, counts

A rebuild writes a new generation beside the current one and switches CURRENT when it is
complete, so a server keeps answering from the old generation meanwhile and a rebuild never
waits for the server's writer lock; processes notice the switch and reopen.

Queries are built from term, range, facet and boolean query objects (``compile_clauses``), never
by tantivy's query parser: request text cannot be query syntax.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import math
import os
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson
import tantivy
from sqlalchemy.ext.asyncio import AsyncEngine

from perilune.observability.logging import get_logger
from perilune.search import source
from perilune.search.backend import SearchHits
from perilune.search.documents import (
    ORGANIZATION,
    PERSON,
    OrganizationColumns,
    PersonColumns,
    PreparedOrganization,
    organization_fields,
    organization_json,
    person_json_or_none,
)
from perilune.search.filters import (
    AnyOf,
    Clause,
    Facets,
    Not,
    OrganizationFilter,
    PeopleFilter,
    Ranges,
    Terms,
    Within,
    Words,
    resolve_within,
)
from perilune.search.schema import ORGANIZATION_KEY, SCHEMA_VERSION, create_index, open_index

RowT = TypeVar("RowT")
T = TypeVar("T")
CURRENT_FILE = "CURRENT"
LOCK_FILE = "writer.lock"
STATE_FILE = "state.json"
TANTIVY_DIR = "tantivy"
GENERATION_PREFIX = "g-"
# Generations kept besides the current one (a process may still be reading the previous one).
KEEP_PREVIOUS = 1
# An unfinished generation this old belongs to a rebuild that died.
ABANDONED_SECONDS = 86_400
REBUILD_BATCH = 5000
# Changes below the head that may still be in flight when a rebuild starts (see ChangeCursor).
GAP_WINDOW = 10_000
# Searches never reach deeper than this (Apollo shows at most 50,000 results).
MAX_OFFSET = 100_000
FOLLOWER_HEAP_MB = 64
# Prepared organizations a rebuild keeps for their people (~1 kB each).
ORGANIZATION_CACHE_BYTES = 256 * 1024 * 1024
# The follower's cache of them, kept between batches (changed organizations are dropped).
FOLLOWER_CACHE_BYTES = 64 * 1024 * 1024


log = get_logger("perilune.search")


class IndexUnavailable(Exception):
    """No index has been built yet, or it was built by another schema version."""


# ---------------------------------------------------------------------------------------------
# the directory


def current_generation(index_dir: Path) -> str | None:
    try:
        name = orjson.loads((index_dir / CURRENT_FILE).read_bytes()).get("generation")
    except (FileNotFoundError, orjson.JSONDecodeError, AttributeError):
        return None
    return name if isinstance(name, str) and (index_dir / name / TANTIVY_DIR).is_dir() else None


def _write_json(path: Path, value: Any) -> None:
    """Replace ``path`` atomically (a reader sees the old or the new file, never half of one)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    temporary.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    temporary.replace(path)


def _new_generation_name() -> str:
    return f"{GENERATION_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def _remove_old_generations(index_dir: Path, current: str) -> None:
    """Keep the current generation and KEEP_PREVIOUS complete ones before it. A generation
    without its state file is a rebuild still running (left alone) or one that died (removed
    after a day)."""
    generations = sorted(
        (p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(GENERATION_PREFIX)),
        key=lambda p: p.name,  # names begin with their creation time
        reverse=True,
    )
    complete = [p for p in generations if p.name != current and (p / STATE_FILE).exists()]
    abandoned = [
        p
        for p in generations
        if not (p / STATE_FILE).exists() and time.time() - p.stat().st_mtime > ABANDONED_SECONDS
    ]
    for stale in complete[KEEP_PREVIOUS:] + abandoned:
        shutil.rmtree(stale, ignore_errors=True)


@dataclass
class IndexState:
    """What a generation reflects: every change up to ``position`` (and, above it, every change
    except the seqs in ``pending``, which may still be in flight)."""

    schema_version: int = SCHEMA_VERSION
    high: int = 0
    pending: list[int] = field(default_factory=list)
    people: int = 0
    organizations: int = 0
    built_at: str | None = None
    build_seconds: float | None = None
    docs_per_second: float | None = None
    updated_at: str | None = None

    @property
    def position(self) -> int:
        return min(self.pending) - 1 if self.pending else self.high

    @classmethod
    def load(cls, generation_dir: Path) -> IndexState:
        raw = orjson.loads((generation_dir / STATE_FILE).read_bytes())
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, generation_dir: Path) -> None:
        self.updated_at = datetime.now(UTC).isoformat()
        _write_json(generation_dir / STATE_FILE, {**asdict(self), "position": self.position})


class WriterLock:
    """The index's single-writer election: an exclusive flock on ``writer.lock``, released by
    the OS if the holder dies, so another process can take over."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / LOCK_FILE
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


# ---------------------------------------------------------------------------------------------
# one generation


class SearchIndex:
    """One generation of the index, open for searching (and, for the writer process, writing).
    Implements ``search.backend.SearchBackend``."""

    def __init__(self, index_dir: Path, generation: str, index: tantivy.Index) -> None:
        self.index_dir = index_dir
        self.generation = generation
        self.index = index
        self.schema = index.schema
        self._writer: tantivy.IndexWriter | None = None

    @classmethod
    def open_current(cls, index_dir: Path) -> SearchIndex:
        generation = current_generation(index_dir)
        if generation is None:
            raise IndexUnavailable(f"no search index in {index_dir}; run `perilune index rebuild`")
        state = IndexState.load(index_dir / generation)
        if state.schema_version != SCHEMA_VERSION:
            raise IndexUnavailable(
                f"the search index in {index_dir} has schema version {state.schema_version}, "
                f"this Perilune needs {SCHEMA_VERSION}; run `perilune index rebuild`"
            )
        return cls(index_dir, generation, open_index(index_dir / generation / TANTIVY_DIR))

    @property
    def directory(self) -> Path:
        return self.index_dir / self.generation

    def state(self) -> IndexState:
        return IndexState.load(self.directory)

    def is_current(self) -> bool:
        return current_generation(self.index_dir) == self.generation

    def reload(self) -> None:
        self.index.reload()

    # --- writing (the writer process only) ---

    def writer(self, heap_mb: int = FOLLOWER_HEAP_MB) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=heap_mb * 1_000_000, num_threads=1)
        return self._writer

    def close_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.rollback()
            self._writer = None

    # --- searching ---

    def search_people(self, filters: PeopleFilter, *, offset: int = 0, limit: int = 25) -> SearchHits:
        return self._search(PERSON, filters.clauses(), offset, limit)

    def search_organizations(
        self, filters: OrganizationFilter, *, offset: int = 0, limit: int = 25
    ) -> SearchHits:
        return self._search(ORGANIZATION, filters.clauses(), offset, limit)

    def count(self, kind: str) -> int:
        return _count(self.index.searcher().search(self._kind(kind), 1))

    def people_at(self, organization_ids: Iterable[str]) -> list[str]:
        """Ids of the people whose indexed organization is one of ``organization_ids``."""
        query = compile_clauses(self.schema, [Terms("org_id", tuple(organization_ids))], self._kind(PERSON))
        searcher = self.index.searcher()
        total = _count(searcher.search(query, 1))
        if not total:
            return []
        hits = searcher.search(query, total, count=False).hits
        return [_stored_id(searcher, address) for _, address in hits]

    def organization_ids(self, within: Within) -> list[str]:
        """Ids of every organization matching ``within``'s clauses, read from a fast field by a
        terms aggregation: no stored-document reads, and no sort (a search ordered by the
        string key costs ten times more for 10,000 organizations)."""
        query = compile_clauses(self.schema, within.clauses, self._kind(ORGANIZATION))
        searcher = self.index.searcher()
        total = _count(searcher.search(query, 1))
        if not total:
            return []
        # Every organization has its own key: buckets as many as matches make the answer exact.
        terms = {"field": ORGANIZATION_KEY, "size": total, "segment_size": total}
        buckets = searcher.aggregate(query, {"ids": {"terms": terms}})["ids"]["buckets"]
        return [str(bucket["key"]) for bucket in buckets]

    def _kind(self, kind: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, "kind", kind)

    def _search(self, kind: str, clauses: list[Clause], offset: int, limit: int) -> SearchHits:
        query = compile_clauses(self.schema, resolve_within(clauses, self.organization_ids), self._kind(kind))
        offset = max(0, min(offset, MAX_OFFSET))
        searcher = self.index.searcher()
        result = searcher.search(query, max(1, limit), order_by_field="sort_key", offset=offset)
        ids = [_stored_id(searcher, address) for _, address in result.hits[: max(0, limit)]]
        return SearchHits(total=_count(result), ids=ids)


def _stored_id(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> str:
    return str(searcher.doc(address).get_first("id"))


def _count(result: tantivy.SearchResult) -> int:
    # The bindings' stub omits SearchResult.count (the number of matches when count=True).
    return int(result.count or 0)  # type: ignore[attr-defined]


def compile_clauses(
    schema: tantivy.Schema, clauses: Iterable[Clause], *required: tantivy.Query
) -> tantivy.Query:
    """Every clause (and every ``required`` query) must match."""
    parts = [(tantivy.Occur.Must, q) for q in required]
    parts.extend((tantivy.Occur.Must, _compile(schema, clause)) for clause in clauses)
    if not parts:
        return tantivy.Query.all_query()
    return tantivy.Query.boolean_query(parts)


def _compile(schema: tantivy.Schema, clause: Clause) -> tantivy.Query:
    if isinstance(clause, Terms):
        return tantivy.Query.term_set_query(schema, clause.field, list(clause.values))
    if isinstance(clause, Facets):
        facets = [tantivy.Facet.from_string(p) for p in clause.prefixes]
        return _any([tantivy.Query.term_query(schema, clause.field, f) for f in facets])
    if isinstance(clause, Ranges):
        return _any([_range(schema, clause, low, high) for low, high in _bounds(clause)])
    if isinstance(clause, Words):
        return _any([_all_words(schema, clause.field, words) for words in clause.alternatives])
    if isinstance(clause, AnyOf | Not):
        return _combination(schema, clause)
    raise TypeError(f"resolve {clause!r} before compiling it")


def _combination(schema: tantivy.Schema, clause: AnyOf | Not) -> tantivy.Query:
    if isinstance(clause, Not):
        # MustNot alone matches nothing in tantivy: exclude from everything.
        excluded = compile_clauses(schema, clause.clauses)
        everything = tantivy.Query.all_query()
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, everything), (tantivy.Occur.MustNot, excluded)]
        )
    if not clause.alternatives:
        return tantivy.Query.empty_query()
    return _any([compile_clauses(schema, alternative) for alternative in clause.alternatives])


def _bounds(clause: Ranges) -> list[tuple[float | None, float | None]]:
    if clause.kind == "float":
        return [(r.low, r.high) for r in clause.ranges]
    # Integer fields take integer bounds: 10.5..20.5 holds 11..20.
    return [
        (None if r.low is None else math.ceil(r.low), None if r.high is None else math.floor(r.high))
        for r in clause.ranges
    ]


def _range(schema: tantivy.Schema, clause: Ranges, low: float | None, high: float | None) -> tantivy.Query:
    if low is not None and high is not None and low > high:
        return tantivy.Query.empty_query()
    kind = tantivy.FieldType.Float if clause.kind == "float" else tantivy.FieldType.Integer
    cast: Callable[[float], float | int] = float if clause.kind == "float" else int
    return tantivy.Query.range_query(
        schema,
        clause.field,
        kind,
        None if low is None else cast(low),
        None if high is None else cast(high),
    )


def _all_words(schema: tantivy.Schema, field_name: str, words: frozenset[str]) -> tantivy.Query:
    terms = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, field_name, w)) for w in sorted(words)]
    return tantivy.Query.boolean_query(terms)


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


# ---------------------------------------------------------------------------------------------
# rebuilding


@dataclass(frozen=True)
class RebuildProgress:
    kind: str  # organization | person
    done: int
    total: int
    elapsed: float

    @property
    def docs_per_second(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class RebuildReport:
    generation: str
    people: int
    organizations: int
    seconds: float
    position: int

    @property
    def docs_per_second(self) -> float:
        return (self.people + self.organizations) / self.seconds if self.seconds > 0 else 0.0


ProgressCallback = Callable[[RebuildProgress], None]


async def rebuild(
    engine: AsyncEngine,
    index_dir: Path,
    progress: ProgressCallback | None = None,
    *,
    heap_mb: int = 256,
    batch_size: int = REBUILD_BATCH,
) -> RebuildReport:
    """Build a new generation from the database, streaming it in batches, and make it current.

    The change-log head is read first: every change after it is applied later by the follower
    (applying a change twice is harmless), so rows changed while the build runs end up right."""
    started = time.perf_counter()
    head, missing = await source.change_log_head(engine, GAP_WINDOW)
    people_total, organizations_total = await source.count_records(engine)
    generation = _new_generation_name()
    directory = index_dir / generation
    # create_index makes the directories (a moment's blocking, once per rebuild).
    index = create_index(directory / TANTIVY_DIR)
    writer = index.writer(heap_size=heap_mb * 1_000_000, num_threads=_threads())
    try:
        organizations = await _add_organizations(engine, writer, batch_size, organizations_total, progress)
        people = await _add_people(engine, writer, batch_size, people_total, progress)
        await in_thread(writer.commit)
    except BaseException:
        del writer
        shutil.rmtree(directory, ignore_errors=True)
        raise
    # Not waiting for merges: the committed segments are a complete index, and the follower's
    # writer merges them later, off the rebuild's clock.
    del writer
    seconds = time.perf_counter() - started
    state = IndexState(
        high=head,
        pending=missing,
        people=people,
        organizations=organizations,
        built_at=datetime.now(UTC).isoformat(),
        build_seconds=round(seconds, 3),
        docs_per_second=round((people + organizations) / seconds, 1) if seconds else None,
    )
    state.save(directory)
    _write_json(index_dir / CURRENT_FILE, {"generation": generation})
    _remove_old_generations(index_dir, generation)
    return RebuildReport(generation, people, organizations, seconds, state.position)


class OrganizationCache:
    """Prepared organizations by id, within a memory budget (oldest dropped first): a rebuild
    never holds every organization at once, and most people find theirs here."""

    def __init__(self, budget_bytes: int = ORGANIZATION_CACHE_BYTES) -> None:
        self.budget = budget_bytes
        self.used = 0
        self._entries: dict[str, PreparedOrganization] = {}

    def __contains__(self, organization_id: str) -> bool:
        return organization_id in self._entries

    def get(self, organization_id: str | None) -> PreparedOrganization | None:
        return self._entries.get(organization_id) if organization_id else None

    def discard(self, organization_id: str) -> None:
        previous = self._entries.pop(organization_id, None)
        if previous is not None:
            self.used -= _size(previous)

    def put(self, organization_id: str, prepared: PreparedOrganization) -> None:
        self.discard(organization_id)
        self._entries[organization_id] = prepared
        self.used += _size(prepared)
        while self.used > self.budget and len(self._entries) > 1:
            oldest = next(iter(self._entries))
            self.used -= _size(self._entries.pop(oldest))

    async def fill(self, engine: AsyncEngine, people: Iterable[PersonColumns]) -> None:
        """Load the organizations of ``people`` that are not cached."""
        missing = {p.organization_id for p in people if p.organization_id and p.organization_id not in self}
        if missing:
            self.add(await source.load_organizations(engine, missing))

    def add(self, organizations: Iterable[OrganizationColumns]) -> None:
        for org in organizations:
            self.put(org.id, PreparedOrganization.of(organization_fields(org)))


def _size(prepared: PreparedOrganization) -> int:
    return len(prepared.fields_json) + 200


async def _add_organizations(
    engine: AsyncEngine,
    writer: tantivy.IndexWriter,
    batch_size: int,
    total: int,
    progress: ProgressCallback | None,
) -> int:
    async def encode(batch: list[OrganizationColumns]) -> list[str | None]:
        return [organization_json(org) for org in batch]

    return await _pipeline(
        source.stream_organizations(engine, batch_size), encode, writer, ORGANIZATION, total, progress
    )


async def _add_people(
    engine: AsyncEngine,
    writer: tantivy.IndexWriter,
    batch_size: int,
    total: int,
    progress: ProgressCallback | None,
) -> int:
    organizations = OrganizationCache()

    async def encode(batch: list[PersonColumns]) -> list[str | None]:
        await organizations.fill(engine, batch)
        return [person_json_or_none(person, organizations.get(person.organization_id)) for person in batch]

    return await _pipeline(source.stream_people(engine, batch_size), encode, writer, PERSON, total, progress)


async def _pipeline(
    batches: AsyncIterator[list[RowT]],
    encode: Callable[[list[RowT]], Awaitable[list[str | None]]],
    writer: tantivy.IndexWriter,
    kind: str,
    total: int,
    progress: ProgressCallback | None,
) -> int:
    """Read batch n+1 from the database and encode batch n while tantivy takes batch n-1:
    ``add_json`` releases the GIL (it parses and hands over to tantivy's indexing threads), so
    the three overlap on two cores."""
    started, done = time.perf_counter(), 0
    reading: asyncio.Future[list[RowT] | None] = asyncio.ensure_future(anext(batches, None))
    adding: asyncio.Future[None] | None = None
    try:
        while (batch := await reading) is not None:
            reading = asyncio.ensure_future(anext(batches, None))
            documents = await encode(batch)
            if adding is not None:
                await adding
            adding = asyncio.ensure_future(in_thread(add_documents, writer, documents))
            done += len(batch)
            _report(progress, kind, done, total, started)
        if adding is not None:
            await adding
    finally:
        reading.cancel()
        if adding is not None and not adding.done():
            await asyncio.wait([adding])
    return done


def add_documents(writer: tantivy.IndexWriter, documents: Iterable[str | None]) -> None:
    """Add encoded documents; one that tantivy refuses is logged and left out, never allowed
    to stop the rest (``None``: a record that could not be encoded)."""
    for document in documents:
        if document is None:
            continue
        try:
            writer.add_json(document)
        except ValueError as exc:
            log.warning("a record could not be indexed", error=str(exc), document=document[:200])


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """``function`` in a worker thread. If the caller is cancelled meanwhile, the thread is still
    waited for before the cancellation goes on: tantivy must not be dropped, or its files
    removed, while a commit runs."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def _threads() -> int:
    # One core builds documents in Python; tantivy's indexing threads use the rest.
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _report(progress: ProgressCallback | None, kind: str, done: int, total: int, started: float) -> None:
    if progress is not None:
        progress(RebuildProgress(kind, done, max(total, done), time.perf_counter() - started))


# ---------------------------------------------------------------------------------------------
# status


@dataclass(frozen=True)
class IndexStatus:
    index_dir: Path
    generation: str | None
    state: IndexState | None
    documents: dict[str, int]
    change_log_head: int
    writer_running: bool

    @property
    def ready(self) -> bool:
        return self.state is not None and self.state.schema_version == SCHEMA_VERSION

    @property
    def lag(self) -> int | None:
        return None if self.state is None else max(0, self.change_log_head - self.state.position)


async def index_status(engine: AsyncEngine, index_dir: Path) -> IndexStatus:
    generation = current_generation(index_dir)
    state: IndexState | None = None
    documents: dict[str, int] = {}
    if generation is not None:
        with contextlib.suppress(FileNotFoundError, orjson.JSONDecodeError, TypeError):
            state = IndexState.load(index_dir / generation)
        with contextlib.suppress(IndexUnavailable, ValueError, OSError):
            opened = SearchIndex.open_current(index_dir)
            documents = {PERSON: opened.count(PERSON), ORGANIZATION: opened.count(ORGANIZATION)}
    head, _ = await source.change_log_head(engine, 0)
    return IndexStatus(index_dir, generation, state, documents, head, _writer_running(index_dir))


def _writer_running(index_dir: Path) -> bool:
    if not (index_dir / LOCK_FILE).exists():
        return False
    probe = WriterLock(index_dir)
    if probe.try_acquire():
        probe.release()
        return False
    return True


def delete_records(writer: tantivy.IndexWriter, ids: Iterable[str]) -> None:
    """Delete the documents of these records. By id alone: ids are unique across people and
    organizations (24 hex digits, 64 of them random), and a term delete costs a fraction of a
    query delete when a follower batch deletes thousands."""
    for record_id in ids:
        writer.delete_documents_by_term("id", record_id)

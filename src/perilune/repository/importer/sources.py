"""Reading import files: JSON Lines or CSV, plain or gzip-compressed, from a path or stdin.

Each source yields ``(line_number, object)``, or ``(line_number, RecordError)`` for a line that is
not an object, so one bad line never stops the rest. Line numbers are 1-based physical lines; in
CSV the header is line 1 and a record spanning several lines (a quoted newline) is numbered by
its first line.

CSV columns carry the JSON field names. An empty cell is an absent field. Columns named
``organization.<field>`` build the nested ``organization`` object. List fields are written as
text separated by ``;`` or as a JSON array; object fields (``employment_history``) as JSON.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import orjson

from perilune.repository.records import RecordError

# bytes: a JSON line read but not parsed yet (see ``open_source(..., parse=False)``).
Line = tuple[int, dict[str, Any] | RecordError | bytes]
FORMATS = ("jsonl", "csv")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
NESTED_PREFIX = "organization."


class SourceError(ValueError):
    """The file as a whole cannot be read (missing, unknown format)."""


class Source:
    """The lines of an opened file, with how far into the file reading has got (for a
    progress bar): ``size`` and ``position`` are bytes on disk (compressed, for gzip), None for
    standard input."""

    def __init__(self, lines: Iterator[Line], file: IO[bytes] | None, size: int | None) -> None:
        self.lines = lines
        self.file = file
        self.size = size

    def __iter__(self) -> Iterator[Line]:
        return self.lines

    def position(self) -> int | None:
        if self.file is None or self.file.closed:
            return None
        return self.file.tell()


@contextmanager
def open_source(path: str, fmt: str | None = None, *, parse: bool = True) -> Iterator[Source]:
    """Open ``path`` (``-`` for stdin) and yield its lines. The format comes from ``fmt``, else
    the extension (``.jsonl``/``.ndjson``/``.json``, ``.csv``, either with ``.gz``), else the
    first character (``{`` is JSON Lines). Gzip is recognised by its magic bytes. With ``parse``
    False, JSON lines come as bytes (CSV lines are always parsed)."""
    if fmt is not None and fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if path == "-":
        stream = _decompressed(_peekable(sys.stdin.buffer))
        yield Source(_lines(stream, fmt or _format_from_content(stream), parse), None, None)
        return
    try:
        file = Path(path).open("rb")  # noqa: SIM115 -- closed below
        size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    with file:
        stream = _decompressed(file)
        fmt = fmt or _format_from_name(path) or _format_from_content(stream)
        yield Source(_lines(stream, fmt, parse), file, size)


def _lines(stream: io.BufferedReader, fmt: str, parse: bool) -> Iterator[Line]:
    return read_jsonl(stream, parse=parse) if fmt == "jsonl" else read_csv(stream)


def _peekable(stream: IO[bytes]) -> io.BufferedReader:
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(stream)  # type: ignore[arg-type]


def _decompressed(stream: io.BufferedReader) -> io.BufferedReader:
    if stream.peek(2)[:2] == _GZIP_MAGIC:
        return _peekable(cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb")))
    return stream


def _format_from_name(path: str) -> str | None:
    name = path.lower().removesuffix(".gz")
    return next((fmt for ext, fmt in _EXTENSIONS.items() if name.endswith(ext)), None)


def _format_from_content(stream: io.BufferedReader) -> str:
    head = stream.peek(64).removeprefix(_BOM).lstrip()
    return "jsonl" if head[:1] == b"{" else "csv"


def read_jsonl(stream: IO[bytes], *, parse: bool = True) -> Iterator[Line]:
    """The non-blank lines, parsed; with ``parse`` False, as bytes (``parse_json_line`` turns
    them into objects later, e.g. in the process that prepares them)."""
    for number, line in enumerate(stream, 1):
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        yield number, parse_json_line(line) if parse else line


def parse_json_line(line: bytes) -> dict[str, Any] | RecordError:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return RecordError(f"not valid JSON: {exc}")
    return value if isinstance(value, dict) else RecordError("each line must be a JSON object")


def read_csv(stream: IO[bytes]) -> Iterator[Line]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    if len(set(header)) != len(header):
        duplicates = sorted({name for name in header if header.count(name) > 1})
        raise SourceError(f"the CSV header repeats {', '.join(duplicates)}")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RecordError(f"not valid CSV: {exc}")
            start = reader.line_num + 1
            continue
        if any(cells):
            yield start, _csv_object(header, cells)
        start = reader.line_num + 1


def _csv_object(header: list[str], cells: list[str]) -> dict[str, Any] | RecordError:
    if len(cells) > len(header):
        return RecordError(f"the line has {len(cells)} fields but the header names {len(header)}")
    result: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=False):
        if not cell.strip() or not name:
            continue
        if name.startswith(NESTED_PREFIX):
            nested[name[len(NESTED_PREFIX) :]] = cell
        else:
            result[name] = cell
    if nested:
        result["organization"] = nested
    return result

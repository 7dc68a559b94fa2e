"""Reading the values of an import line: text, numbers, booleans, lists and objects, as JSON
gives them or as CSV does (everything as text: ``"1,200"``, ``"a; b"``, a JSON array in a cell),
each checked with a plain-language ``RecordError``; and merging a line into a stored record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from perilune.db.ids import is_valid_id


class RecordError(ValueError):
    """A line that cannot become a record; ``reason`` says why in plain language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


LIST_SEPARATOR = ";"

# Column widths of models/repository.py: PostgreSQL refuses longer values (and would fail the
# whole batch), so they are refused here, one line at a time.
NAME = 500
SHORT = 255
TEXT = 2000
LONG = 100_000
MAX_LIST = 1000
_QUOTE_LIMIT = 100

Raw = dict[str, Any]


def id_field(raw: Raw) -> str | None:
    value = raw.get("id")
    if value is None or value == "":
        return None
    if not is_id(value):
        raise RecordError(f"id {quote(str(value))} is not a 24-hex-digit id")
    assert isinstance(value, str)
    return value


def derived_id(parent_id: str, kind: str, position: int) -> str:
    """A stable 24-hex id for the ``position``-th child of a record, so re-importing a record
    yields the same child rows."""
    return hashlib.sha256(f"{parent_id}/{kind}/{position}".encode()).hexdigest()[:24]


def is_id(value: Any) -> bool:
    return isinstance(value, str) and is_valid_id(value)


def text_field(raw: Raw, key: str, limit: int) -> str | None:
    value = raw.get(key)
    return None if value is None else _clean(value, key, limit)


def _clean(value: Any, key: str, limit: int) -> str | None:
    if type(value) is str:
        text = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        raise RecordError(f"{key} must be text")
    if not text:
        return None
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        text = text.replace("\x00", "")
    if len(text) > limit:
        raise RecordError(f"{key} is longer than {limit} characters")
    return text


def read_texts(raw: Raw, limits: dict[str, int], into: dict[str, Any]) -> None:
    """Read the text fields of ``limits`` that ``raw`` has into ``into`` (the others stay as
    they are there: None). Most lines carry few of them, so only present keys are visited."""
    for key in limits.keys() & raw.keys():
        value = raw[key]
        if value is not None:
            into[key] = _clean(value, key, limits[key])


def _url(raw: Raw, key: str) -> str | None:
    return text_field(raw, key, TEXT)


def _long(raw: Raw, key: str) -> str | None:
    return text_field(raw, key, LONG)


def int_field(raw: Raw, key: str) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if number.is_integer():
                return int(number)
    raise RecordError(f"{key} {quote(str(value))} is not a whole number")


def float_field(raw: Raw, key: str) -> float | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise RecordError(f"{key} {quote(value)} is not a number") from None
    else:
        raise RecordError(f"{key} {quote(str(value))} is not a number")
    if number != number or number in (float("inf"), float("-inf")):
        raise RecordError(f"{key} {quote(str(value))} is not a number")
    return number


_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def bool_field(raw: Raw, key: str) -> bool | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(f"{key} {quote(str(value))} is not true or false")


def list_field(raw: Raw, key: str) -> list[str]:
    """A list of text: a JSON array, or text separated by ``;`` (CSV); stripped, without
    empty or repeated items, order kept."""
    value = raw.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        value = _json(key, text) if text.startswith("[") else text.split(LIST_SEPARATOR)
    if not isinstance(value, list):
        raise RecordError(f"{key} must be a list")
    if len(value) > MAX_LIST:
        raise RecordError(f"{key} has more than {MAX_LIST} items")
    items: dict[str, None] = {}
    for item in value:
        if isinstance(item, str):
            text = item.strip()
        elif isinstance(item, int | float) and not isinstance(item, bool):
            text = str(item)
        else:
            raise RecordError(f"{key} must be a list of text")
        if text:
            items[text] = None
    return list(items)


def objects_field(raw: Raw, key: str, *, allow_text: bool = False) -> list[Any]:
    """A list of objects: a JSON array (in CSV, a cell holding one). With ``allow_text``,
    items may be plain text, and a CSV cell may list them separated by ``;``."""
    value = raw.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _json(key, text)
        elif allow_text:
            value = [part for part in text.split(LIST_SEPARATOR) if part.strip()]
        else:
            raise RecordError(f"{key} must be a list of objects")
    if not isinstance(value, list):
        raise RecordError(f"{key} must be a list")
    if len(value) > MAX_LIST:
        raise RecordError(f"{key} has more than {MAX_LIST} items")
    for item in value:
        if not (isinstance(item, dict) or (allow_text and isinstance(item, str))):
            raise RecordError(f"{key} must be a list of objects")
    return value


def object_field(raw: Raw, key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None or value == "":
        return {}
    if isinstance(value, str) and value.strip().startswith("{"):
        value = _json(key, value)
    if not isinstance(value, dict):
        raise RecordError(f"{key} must be an object")
    return value


def _any_objects(raw: Raw, key: str) -> list[Any]:
    return objects_field(raw, key)


def _json(key: str, text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RecordError(f"{key} is not valid JSON") from None


def quote(value: str) -> str:
    shown = value if len(value) <= _QUOTE_LIMIT else value[:_QUOTE_LIMIT] + "..."
    return f"'{shown}'"


READERS: dict[str, Callable[[Raw, str], Any]] = {
    "text": lambda raw, key: text_field(raw, key, SHORT),
    "url": _url,
    "long": _long,
    "int": int_field,
    "float": float_field,
    "list": list_field,
    "object": object_field,
    "objects": _any_objects,
}


def merged_raw(stored: dict[str, Any], raw: Raw, groups: tuple[frozenset[str], ...]) -> Raw:
    """What updating a stored record (its ``data``) with a line means: every field the line
    gives replaces the stored one together with the fields read with it (``groups``); fields
    the line leaves out keep their stored values."""
    merged = dict(stored)
    for key in raw:
        merged.pop(key, None)
        for group in groups:
            if key in group:
                for member in group:
                    merged.pop(member, None)
    merged.update(raw)
    return merged


def filled_raw(stored: dict[str, Any], raw: Raw, groups: tuple[frozenset[str], ...]) -> Raw:
    """What a reference to a stored record adds to it (an employer nested in a person line):
    only the fields, or groups of fields, that are empty in the stored record. People name
    their employer in many spellings; the organization's own line is what changes it."""
    merged = dict(stored)
    for key, value in raw.items():
        members = next((group for group in groups if key in group), (key,))
        if all(stored.get(member) in _EMPTY for member in members):
            merged[key] = value
    return merged


_EMPTY: tuple[Any, ...] = (None, "", [], {})

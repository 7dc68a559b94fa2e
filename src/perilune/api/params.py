"""One request parser for every route and every dialect Apollo's clients speak.

Parameters arrive in the query string of any method, in a JSON body, or in a form body; arrays as
JSON arrays, ``k[]=v``, repeated ``k=v``, ``k[0]=v``, ``k[][0]=v`` or double-encoded ``k%5B%5D=v``;
objects as ``k[name]=v``; booleans and numbers as strings. Everything is folded into one dict
(body values win over query values) which endpoints validate into their typed models."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union, get_args, get_origin
from urllib.parse import unquote, unquote_plus

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from perilune.api.errors import BadRequest, Unprocessable

AUTH_PARAMS = frozenset({"api_key"})
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_DOUBLE_ENCODED = re.compile(r"%(25)?5[bBdD]")

M = TypeVar("M", bound=BaseModel)


class _Indexed:
    """An array under construction: explicit indexes keep their order, appends go last."""

    def __init__(self) -> None:
        self.items: dict[int, Any] = {}

    def next_index(self) -> int:
        return max(self.items, default=-1) + 1

    def to_list(self) -> list[Any]:
        out: list[Any] = []
        for i in sorted(self.items):
            item = self.items[i]
            # A run of index segments (k[][0], k[0][], k[0][1]) is one array level, not two.
            if isinstance(item, _Indexed):
                out.extend(item.to_list())
            else:
                out.append(_finish(item))
        return out


def _finish(value: Any) -> Any:
    if isinstance(value, _Indexed):
        return value.to_list()
    if isinstance(value, dict):
        return {k: _finish(v) for k, v in value.items()}
    return value


def _decode_key(raw: str) -> str:
    key = unquote_plus(raw)
    # Some clients encode the brackets twice (k%255B%255D); undo the second layer.
    while _DOUBLE_ENCODED.search(key):
        key = unquote(key)
    return key


def _split_key(key: str) -> tuple[str, list[str]]:
    bracket = key.find("[")
    if bracket <= 0 or not key.endswith("]"):
        return key, []
    rest = key[bracket:]
    segments = _SEGMENT.findall(rest)
    if "".join(f"[{s}]" for s in segments) != rest:
        return key, []
    return key[:bracket], segments


def _is_index(segment: str) -> bool:
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and few enough that int()
    # takes them; anything else is an object key.
    return segment == "" or (segment.isascii() and segment.isdigit() and len(segment) <= 18)


def _insert(container: dict[str, Any], name: str, segments: list[str], value: str) -> None:
    if not segments:
        existing = container.get(name)
        if name not in container:
            container[name] = value
        elif isinstance(existing, _Indexed):
            existing.items[existing.next_index()] = value
        else:
            # A repeated plain key is an array (k=a&k=b).
            array = _Indexed()
            array.items[0] = existing
            array.items[1] = value
            container[name] = array
        return
    head, rest = segments[0], segments[1:]
    if _is_index(head):
        _insert_into_array(container, name, head, rest, value)
    else:
        child = container.get(name)
        if not isinstance(child, dict):
            child = {}
            container[name] = child
        _insert(child, head, rest, value)


def _insert_into_array(container: dict[str, Any], name: str, index: str, rest: list[str], value: str) -> None:
    array = container.get(name)
    if not isinstance(array, _Indexed):
        previous = array
        array = _Indexed()
        if previous is not None:
            array.items[0] = previous
        container[name] = array
    _insert_at(array, index, rest, value)


def _insert_at(array: _Indexed, index: str, rest: list[str], value: str) -> None:
    if not rest:
        array.items[int(index) if index else array.next_index()] = value
        return
    # An index followed by an index is an array inside the array (flattened when finished).
    nested = _is_index(rest[0])
    if index:
        slot = int(index)
    else:
        # k[][name]=v builds an array of objects, starting a new object when ``name`` repeats
        # (Rack); k[][0]=v likewise starts a new inner array when the index repeats.
        last = array.next_index() - 1
        slot = last if _has_room(array.items.get(last), nested, rest[0]) else array.next_index()
    target = array.items.get(slot)
    if nested:
        if not isinstance(target, _Indexed):
            target = array.items[slot] = _Indexed()
        _insert_at(target, rest[0], rest[1:], value)
    else:
        if not isinstance(target, dict):
            target = array.items[slot] = {}
        _insert(target, rest[0], rest[1:], value)


def _has_room(current: Any, nested: bool, segment: str) -> bool:
    if nested:
        return isinstance(current, _Indexed) and (segment == "" or int(segment) not in current.items)
    return isinstance(current, dict) and segment not in current


def parse_query_string(raw: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key = _decode_key(raw_key)
        if not key:
            continue
        name, segments = _split_key(key)
        _insert(result, name, segments, unquote_plus(raw_value))
    return {k: _finish(v) for k, v in result.items()}


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    if not body.strip():
        return {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    # curl -d sends JSON labelled as a form unless told otherwise; a form body never starts
    # with "{", so such a body is read as the JSON it is.
    if media_type == "application/x-www-form-urlencoded" and not body.lstrip().startswith(b"{"):
        return parse_query_string(body.decode("utf-8", errors="replace"))
    if media_type.startswith("multipart/"):
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


@dataclass
class Params:
    """A request's parameters from every source, merged."""

    values: dict[str, Any]
    strict: bool = False
    body_error: BadRequest | None = field(default=None)

    @classmethod
    def from_sources(cls, query: str, body: bytes, content_type: str, *, strict: bool) -> Params:
        values = parse_query_string(query)
        body_error: BadRequest | None = None
        try:
            values.update(parse_body(body, content_type))
        except BadRequest as exc:
            body_error = exc
        return cls(values=values, strict=strict, body_error=body_error)

    @property
    def api_key(self) -> str | None:
        value = self.values.get("api_key")
        if isinstance(value, list):
            value = value[-1] if value else None
        return value if isinstance(value, str) and value else None

    def parse(self, model: type[M]) -> M:
        """Validate into an endpoint's model: Apollo's 422 on bad values, and on unknown names
        when strict mode is on."""
        if self.body_error is not None:
            raise self.body_error
        if self.strict:
            unknown = sorted(set(self.values) - _known_names(model) - AUTH_PARAMS)
            if unknown:
                raise Unprocessable(f"Unknown parameters: {', '.join(unknown)}", unknown_parameters=unknown)
        try:
            return model.model_validate(self.values)
        except ValidationError as exc:
            raise Unprocessable(describe_validation_error(exc)) from exc


def _known_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        if isinstance(info.alias, str):
            names.add(info.alias)
    return names


def describe_validation_error(exc: ValidationError | RequestValidationError) -> str:
    """Apollo-style 422 text naming each field at fault."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "Invalid parameters. " + "; ".join(parts)


def _is_list_annotation(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, set, tuple, frozenset):
        return True
    if origin in (Union, types.UnionType):
        return any(_is_list_annotation(arg) for arg in get_args(annotation) if arg is not type(None))
    if origin is typing.Annotated:
        return _is_list_annotation(get_args(annotation)[0])
    return False


def _is_str_annotation(annotation: Any) -> bool:
    if annotation is str:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return str in get_args(annotation)
    return False


class ApolloParams(BaseModel):
    """Base for request models: unknown names are ignored (as Apollo does), a single value is
    accepted where an array is expected, a repeated single-valued parameter keeps its last value
    (as Rails does), and an empty string means "not given" for non-text fields (``page=``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _apollo_dialects(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, info in cls.model_fields.items():
            key = info.alias if isinstance(info.alias, str) and info.alias in out else name
            if key not in out:
                continue
            value = out[key]
            if _is_list_annotation(info.annotation):
                if value is None or value == "":
                    out[key] = []
                elif not isinstance(value, list | tuple | set):
                    out[key] = [value]
                continue
            if isinstance(value, list) and value and not isinstance(value[-1], dict | list):
                value = out[key] = value[-1]
            if value == "" and not _is_str_annotation(info.annotation):
                del out[key]
        return out

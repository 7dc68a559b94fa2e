"""Request dialects: every way Apollo's clients send parameters, parsed into one dict.

Unit tests of ``parse_query_string``/``parse_body``/``Params``/``ApolloParams`` first, then the same
dialects over HTTP: through a throwaway echo route (to see exactly what an endpoint receives on
every method) and through the real users endpoints (to see the values coerced)."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import Field

from perilune.api.deps import ParamsDep
from perilune.api.envelopes import ApolloJSON, PageParams
from perilune.api.errors import BadRequest, Unprocessable
from perilune.api.params import ApolloParams, Params, parse_body, parse_query_string
from perilune.app import create_app
from perilune.auth import admin
from perilune.clock import FrozenClock
from perilune.config import Settings
from perilune.resources.users.schemas import ApiProfileParams, UsersSearchParams
from perilune.runtime import Runtime
from tests.conftest import Tenant, asgi_client, make_tenant

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ECHO = "/_test/echo"
JSON = {"Content-Type": "application/json"}


# --- parse_query_string ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("a=1", {"a": "1"}),
        ("a=1&b=two", {"a": "1", "b": "two"}),
        ("q=a+b%20c", {"q": "a b c"}),
        ("email=a%2Bb%40x.com", {"email": "a+b@x.com"}),
        ("flag", {"flag": ""}),
        ("flag=", {"flag": ""}),
        ("a=1&&b=2&", {"a": "1", "b": "2"}),
        ("=orphan&a=1", {"a": "1"}),
        ("a=x%3Dy%26z", {"a": "x=y&z"}),
        ("bad=%ZZ", {"bad": "%ZZ"}),
    ],
)
def test_scalars(query: str, expected: dict[str, Any]) -> None:
    assert parse_query_string(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "k[]=a&k[]=b",
        "k=a&k=b",
        "k[0]=a&k[1]=b",
        "k[1]=b&k[0]=a",
        "k[][0]=a&k[][1]=b",
        "k[][0]=a&k[][0]=b",
        "k[][1]=b&k[][0]=a",
        "k[][]=a&k[][]=b",
        "k[0][]=a&k[0][]=b",
        "k[0][0]=a&k[0][1]=b",
        "k[0][0]=a&k[1][0]=b",
        "k%5B%5D=a&k%5B%5D=b",
        "k%5b%5d=a&k%5b%5d=b",
        "k%255B%255D=a&k%255B%255D=b",
        "k%25255B%25255D=a&k%25255B%25255D=b",
        "k%5B0%5D=a&k%5B1%5D=b",
        "k%5B%5D%5B0%5D=a&k%5B%5D%5B1%5D=b",
        "k[]=a&k=b",
        "k=a&k[]=b",
    ],
)
def test_array_dialects_give_one_flat_list(query: str) -> None:
    assert parse_query_string(query) == {"k": ["a", "b"]}


@pytest.mark.parametrize("query", ["k[]=a", "k[0]=a", "k[][0]=a", "k%5B%5D=a", "k%255B%255D=a"])
def test_single_array_element_is_a_list(query: str) -> None:
    assert parse_query_string(query) == {"k": ["a"]}


def test_plain_single_value_stays_scalar() -> None:
    assert parse_query_string("k=a") == {"k": "a"}


def test_repeated_plain_key_keeps_every_value_in_order() -> None:
    assert parse_query_string("k=3&k=1&k=2") == {"k": ["3", "1", "2"]}


def test_appends_go_after_explicit_indexes() -> None:
    assert parse_query_string("k[]=a&k[5]=b&k[]=c") == {"k": ["a", "b", "c"]}


def test_php_style_groups_keep_every_value() -> None:
    # http_build_query(['k[]' => [...]]) twice: the second group's index 0 starts a new element.
    assert parse_query_string("k[][0]=a&k[][1]=b&k[][0]=c") == {"k": ["a", "b", "c"]}


def test_other_parameters_are_untouched_by_arrays() -> None:
    assert parse_query_string("k[]=a&x=1&k[]=b") == {"k": ["a", "b"], "x": "1"}


def test_values_keep_their_encoding_layer() -> None:
    # Only keys are double-decoded; a value that means a literal "%5B" stays one.
    assert parse_query_string("v=%255B") == {"v": "%5B"}


@pytest.mark.parametrize(
    "query", ["k[name]=v&k[other]=w", "k%5Bname%5D=v&k%5Bother%5D=w", "k%255Bname%255D=v&k%255Bother%255D=w"]
)
def test_nested_objects(query: str) -> None:
    assert parse_query_string(query) == {"k": {"name": "v", "other": "w"}}


def test_deeply_nested_objects_and_arrays_inside_objects() -> None:
    assert parse_query_string("k[a][b]=1&k[a][c][]=2&k[a][c][]=3") == {
        "k": {"a": {"b": "1", "c": ["2", "3"]}}
    }


def test_array_of_objects_starts_a_new_object_when_a_key_repeats() -> None:
    query = "details[][first_name]=a&details[][last_name]=b&details[][first_name]=c"
    assert parse_query_string(query) == {
        "details": [{"first_name": "a", "last_name": "b"}, {"first_name": "c"}]
    }


def test_array_of_objects_double_encoded() -> None:
    query = (
        "details%5B%5D%5Bfirst_name%5D=a&details%5B%5D%5Blast_name%5D=b"
        "&details%255B%255D%255Bfirst_name%255D=c"
    )
    assert parse_query_string(query) == {
        "details": [{"first_name": "a", "last_name": "b"}, {"first_name": "c"}]
    }


def test_array_of_objects_with_explicit_indexes() -> None:
    query = "details[1][first_name]=c&details[0][first_name]=a&details[0][last_name]=b"
    assert parse_query_string(query) == {
        "details": [{"first_name": "a", "last_name": "b"}, {"first_name": "c"}]
    }


def test_array_of_objects_with_index_after_append() -> None:
    assert parse_query_string("k[][0][name]=a&k[][0][name]=b") == {"k": [{"name": "a"}, {"name": "b"}]}


@pytest.mark.parametrize(
    ("query", "key"), [("k[=1", "k["), ("k]=1", "k]"), ("[x]=1", "[x]"), ("k[a]b=1", "k[a]b")]
)
def test_malformed_brackets_are_plain_names(query: str, key: str) -> None:
    assert parse_query_string(query) == {key: "1"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Non-ASCII digits are names, not indexes (int() refuses "²").
        ("k[%C2%B2]=a", {"k": {"²": "a"}}),
        ("k[][%C2%B2]=a", {"k": [{"²": "a"}]}),
        ("k[%D9%A1]=a", {"k": {"\u0661": "a"}}),
        # So is an index too long to be one.
        ("k[" + "9" * 5000 + "]=a", {"k": {"9" * 5000: "a"}}),
        ("k[123456789012345678]=a&k[]=b", {"k": ["a", "b"]}),
    ],
)
def test_odd_index_segments_never_crash(query: str, expected: dict[str, Any]) -> None:
    assert parse_query_string(query) == expected


def test_invalid_percent_encoded_utf8_is_replaced() -> None:
    assert parse_query_string("a=%FF&b%FF=1") == {"a": "\ufffd", "b\ufffd": "1"}


# --- parse_body ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n"])
@pytest.mark.parametrize("content_type", ["", "application/json", "application/x-www-form-urlencoded"])
def test_empty_body_is_no_parameters(body: bytes, content_type: str) -> None:
    assert parse_body(body, content_type) == {}


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", ""]
)
def test_json_body(content_type: str) -> None:
    body = b'{"page": 2, "titles": ["a", "b"], "flag": true, "nested": {"x": null}}'
    assert parse_body(body, content_type) == {
        "page": 2,
        "titles": ["a", "b"],
        "flag": True,
        "nested": {"x": None},
    }


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8"]
)
def test_form_body_uses_the_query_string_dialects(content_type: str) -> None:
    body = b"k[]=a&k%5B%5D=b&name=J+Doe&o[x]=1"
    assert parse_body(body, content_type) == {"k": ["a", "b"], "name": "J Doe", "o": {"x": "1"}}


@pytest.mark.parametrize("body", [b"{", b'{"a": }', b"not json", b"\xff\xfe", b"{'a': 1}"])
def test_invalid_json_body_is_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_body(body, "application/json")
    assert caught.value.status_code == 400
    assert caught.value.error.startswith("The request body is not valid JSON")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"true"])
def test_json_body_must_be_an_object(body: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_body(body, "application/json")
    assert caught.value.error == "The request body must be a JSON object."


# --- Params ----------------------------------------------------------------------------------------


def test_body_values_override_query_values() -> None:
    params = Params.from_sources("page=1&q=x", b'{"page": 3}', "application/json", strict=False)
    assert params.values == {"page": 3, "q": "x"}


def test_form_body_overrides_query_values() -> None:
    params = Params.from_sources("page=1", b"page=4", "application/x-www-form-urlencoded", strict=False)
    assert params.values == {"page": "4"}


def test_invalid_body_is_reported_when_parsed_not_when_built() -> None:
    params = Params.from_sources("api_key=k", b"{oops", "application/json", strict=False)
    # The query string is still read, so the key can authenticate before the 400.
    assert params.api_key == "k"
    assert params.body_error is not None
    with pytest.raises(BadRequest):
        params.parse(UsersSearchParams)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"api_key": "abc"}, "abc"),
        ({"api_key": ["old", "new"]}, "new"),
        ({"api_key": []}, None),
        ({"api_key": ""}, None),
        ({"api_key": 123}, None),
        ({"api_key": {"x": "y"}}, None),
        ({}, None),
    ],
)
def test_api_key_from_params(values: dict[str, Any], expected: str | None) -> None:
    assert Params(values=values).api_key == expected


def test_parse_coerces_strings() -> None:
    parsed = Params(values={"page": "2", "per_page": "10"}).parse(UsersSearchParams)
    assert (parsed.page, parsed.per_page) == (2, 10)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("false", False), (True, True), ("1", True)])
def test_parse_booleans_as_strings(raw: Any, expected: bool) -> None:
    assert (
        Params(values={"include_credit_usage": raw}).parse(ApiProfileParams).include_credit_usage is expected
    )


def test_parse_bad_value_is_422_naming_the_field() -> None:
    with pytest.raises(Unprocessable) as caught:
        Params(values={"page": "abc"}).parse(UsersSearchParams)
    assert caught.value.status_code == 422
    assert caught.value.error.startswith("Invalid parameters. page: ")
    assert caught.value.body() == {"error": caught.value.error}


def test_unknown_parameters_are_ignored_without_strict() -> None:
    parsed = Params(values={"page": "2", "bogus": "x"}).parse(UsersSearchParams)
    assert parsed.page == 2


def test_strict_rejects_unknown_parameters_naming_them_sorted() -> None:
    params = Params(values={"page": "2", "zeta": "1", "alpha": "2", "api_key": "k"}, strict=True)
    with pytest.raises(Unprocessable) as caught:
        params.parse(UsersSearchParams)
    assert caught.value.body() == {
        "error": "Unknown parameters: alpha, zeta",
        "unknown_parameters": ["alpha", "zeta"],
    }


def test_strict_accepts_known_names_aliases_and_api_key() -> None:
    class Aliased(ApolloParams):
        q_keywords: str | None = Field(default=None, alias="q")

    parsed = Params(values={"q": "x", "api_key": "k"}, strict=True).parse(Aliased)
    assert parsed.q_keywords == "x"
    assert Params(values={"q_keywords": "y"}, strict=True).parse(Aliased).q_keywords == "y"


# --- ApolloParams ----------------------------------------------------------------------------------


class ListModel(ApolloParams):
    titles: list[str] = Field(default_factory=list)
    maybe: list[str] | None = None
    annotated: Annotated[list[str], Field(max_length=5)] = Field(default_factory=list)
    count: int = 7
    name: str = "default"
    optional_name: str | None = "unset"


def test_list_field_accepts_a_single_scalar() -> None:
    parsed = ListModel.model_validate({"titles": "ceo", "maybe": "x", "annotated": "y"})
    assert (parsed.titles, parsed.maybe, parsed.annotated) == (["ceo"], ["x"], ["y"])


def test_list_field_empty_string_and_null_are_empty_lists() -> None:
    parsed = ListModel.model_validate({"titles": "", "maybe": "", "annotated": None})
    assert (parsed.titles, parsed.maybe, parsed.annotated) == ([], [], [])


def test_list_field_keeps_lists() -> None:
    assert ListModel.model_validate({"titles": ["a", "b"]}).titles == ["a", "b"]


def test_empty_string_means_not_given_for_non_text_fields_only() -> None:
    parsed = ListModel.model_validate({"count": "", "name": "", "optional_name": ""})
    assert parsed.count == 7
    assert parsed.name == ""
    assert parsed.optional_name == ""


def test_list_field_through_query_string_dialects() -> None:
    for query in ("titles=ceo", "titles[]=ceo", "titles%5B%5D=ceo", "titles[0]=ceo"):
        assert Params(values=parse_query_string(query)).parse(ListModel).titles == ["ceo"], query
    assert Params(values=parse_query_string("titles=")).parse(ListModel).titles == []


def test_page_params_empty_strings_fall_back_to_defaults() -> None:
    parsed = PageParams.model_validate({"page": "", "per_page": ""})
    assert (parsed.page, parsed.per_page) == (1, 25)


def test_repeated_scalar_keeps_the_last_value_but_lists_stay_lists() -> None:
    parsed = Params(values=parse_query_string("count=1&count=9&titles=a&titles=b")).parse(ListModel)
    assert (parsed.count, parsed.titles) == (9, ["a", "b"])


def test_json_sent_as_a_form_is_read_as_json() -> None:
    # curl -d '{...}' without -H "Content-Type: application/json" labels JSON as a form.
    body = b' {"page": 2, "titles": ["a"]}'
    assert parse_body(body, "application/x-www-form-urlencoded") == {"page": 2, "titles": ["a"]}


def test_non_dict_input_is_left_to_pydantic() -> None:
    with pytest.raises(ValueError, match="Input should be a valid dictionary"):
        ListModel.model_validate(["not", "a", "dict"])


# --- over HTTP: an echo route shows what an endpoint receives -------------------------------------


@pytest.fixture
async def echo_app(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """The app plus a route that answers with the parameters it parsed. Parsing touches no
    database, so this app has none (the file is never created): no per-database variants."""

    async def echo(params: ParamsDep) -> ApolloJSON:
        if params.body_error is not None:
            raise params.body_error
        return ApolloJSON(params.values)

    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        rate_limit_store="memory",
        run_worker=False,
        log_level="WARNING",
    )
    application = create_app(settings, clock)
    application.add_api_route(ECHO, echo, methods=list(METHODS))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def echo_client(echo_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(echo_app) as http:
        yield http


async def echo(client: httpx.AsyncClient, method: str, url: str = ECHO, **kwargs: Any) -> Any:
    response = await client.request(method, url, **kwargs)
    assert response.status_code == 200, response.text
    return orjson.loads(response.content)


@pytest.mark.parametrize("method", METHODS)
async def test_http_query_string_on_every_method(echo_client: httpx.AsyncClient, method: str) -> None:
    assert await echo(echo_client, method, params={"page": "2", "q": "x"}) == {"page": "2", "q": "x"}


@pytest.mark.parametrize("method", METHODS)
async def test_http_json_body_on_every_method(echo_client: httpx.AsyncClient, method: str) -> None:
    body = {"page": 2, "titles": ["a", "b"], "flag": True}
    assert await echo(echo_client, method, content=orjson.dumps(body), headers=JSON) == body


@pytest.mark.parametrize("method", METHODS)
async def test_http_form_body_on_every_method(echo_client: httpx.AsyncClient, method: str) -> None:
    got = await echo(
        echo_client,
        method,
        content=b"titles[]=a&titles[]=b&name=J+Doe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert got == {"titles": ["a", "b"], "name": "J Doe"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "query",
    [
        "k[]=a&k[]=b",
        "k=a&k=b",
        "k[0]=a&k[1]=b",
        "k[][0]=a&k[][1]=b",
        "k%5B%5D=a&k%5B%5D=b",
        "k%255B%255D=a&k%255B%255D=b",
    ],
)
async def test_http_array_dialects(echo_client: httpx.AsyncClient, method: str, query: str) -> None:
    # Raw query strings: httpx would re-encode brackets given as params.
    assert await echo(echo_client, method, f"{ECHO}?{query}") == {"k": ["a", "b"]}


async def test_http_nested_object_and_array_of_objects(echo_client: httpx.AsyncClient) -> None:
    query = "o[name]=v&details[][first_name]=a&details[][last_name]=b&details[][first_name]=c"
    assert await echo(echo_client, "POST", f"{ECHO}?{query}") == {
        "o": {"name": "v"},
        "details": [{"first_name": "a", "last_name": "b"}, {"first_name": "c"}],
    }


async def test_http_body_overrides_query(echo_client: httpx.AsyncClient) -> None:
    got = await echo(echo_client, "POST", f"{ECHO}?page=1&q=x", content=b'{"page": 5}', headers=JSON)
    assert got == {"page": 5, "q": "x"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_http_empty_and_missing_body(echo_client: httpx.AsyncClient, method: str) -> None:
    assert await echo(echo_client, method, f"{ECHO}?a=1") == {"a": "1"}
    assert await echo(echo_client, method, f"{ECHO}?a=1", content=b"", headers=JSON) == {"a": "1"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
async def test_http_chunked_body(echo_client: httpx.AsyncClient, method: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b'{"titles": ', b'["a", ', b'"b"], "page"', b": 3}"):
            yield piece

    request = echo_client.build_request(method, ECHO, content=chunks(), headers=JSON)
    assert request.headers["transfer-encoding"] == "chunked"
    response = await echo_client.send(request)
    assert response.status_code == 200
    assert orjson.loads(response.content) == {"titles": ["a", "b"], "page": 3}


@pytest.mark.parametrize("method", METHODS)
async def test_http_invalid_json_is_400(echo_client: httpx.AsyncClient, method: str) -> None:
    response = await echo_client.request(method, ECHO, content=b'{"page": ', headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = orjson.loads(response.content)
    assert list(body) == ["error"]
    assert body["error"].startswith("The request body is not valid JSON")


async def raw_asgi_get(app: FastAPI, path: str, query_string: bytes) -> tuple[int, bytes]:
    """A request as a server hands it over: httpx cannot send a query string that is not ASCII."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"perilune.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("perilune.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


async def test_http_raw_non_ascii_query_bytes(echo_app: FastAPI) -> None:
    status, body = await raw_asgi_get(echo_app, ECHO, "name=José&k[]=ü".encode())
    assert (status, orjson.loads(body)) == (200, {"name": "José", "k": ["ü"]})
    # Not UTF-8 at all: replaced, not a 500.
    status, body = await raw_asgi_get(echo_app, ECHO, b"name=\xff\xfe&ok=1")
    assert (status, orjson.loads(body)) == (200, {"name": "\ufffd\ufffd", "ok": "1"})


async def test_http_raw_non_utf8_query_on_a_real_endpoint(app: FastAPI, tenant: Tenant) -> None:
    query = b"api_key=" + tenant.master_key.encode() + b"&junk=\xff"
    status, body = await raw_asgi_get(app, "/api/v1/auth/health", query)
    assert (status, body) == (200, b'{"is_logged_in":true}')
    status, body = await raw_asgi_get(app, "/api/v1/auth/health", b"k[\xc2\xb2]=\xff")
    assert status == 401


# --- over HTTP: real endpoints coerce what they receive -------------------------------------------


async def add_users(runtime: Runtime, clock: FrozenClock, team_id: str, count: int) -> None:
    async with runtime.sessions() as session, session.begin():
        team = await admin.find_team(session, team_id)
        for n in range(count):
            clock.advance(1)
            await admin.create_user(
                session, team, email=f"user{n}@acme.test", first_name="U", last_name=str(n), now=clock.now()
            )


def page_of(response: httpx.Response) -> tuple[int, int, list[str]]:
    assert response.status_code == 200, response.text
    body = orjson.loads(response.content)
    return body["pagination"]["page"], body["pagination"]["per_page"], [u["last_name"] for u in body["users"]]


@pytest.fixture
async def five_users(runtime: Runtime, clock: FrozenClock, tenant: Tenant) -> Tenant:
    await add_users(runtime, clock, tenant.team_id, 4)  # plus the owner: Owner, 0, 1, 2, 3
    return tenant


async def test_users_search_numbers_as_query_strings(client: httpx.AsyncClient, five_users: Tenant) -> None:
    response = await client.get(
        "/api/v1/users/search",
        params={"page": "2", "per_page": "2"},
        headers={"x-api-key": five_users.master_key},
    )
    assert page_of(response) == (2, 2, ["1", "2"])


async def test_users_search_json_body_on_get(client: httpx.AsyncClient, five_users: Tenant) -> None:
    response = await client.request(
        "GET",
        "/api/v1/users/search",
        content=orjson.dumps({"api_key": five_users.master_key, "page": 3, "per_page": "2"}),
        headers=JSON,
    )
    assert page_of(response) == (3, 2, ["3"])


async def test_users_search_json_body_overrides_query(client: httpx.AsyncClient, five_users: Tenant) -> None:
    response = await client.request(
        "GET",
        "/api/v1/users/search?page=1&per_page=1",
        content=orjson.dumps({"page": 2}),
        headers={**JSON, "x-api-key": five_users.master_key},
    )
    assert page_of(response) == (2, 1, ["0"])


async def test_users_search_empty_values_are_defaults(client: httpx.AsyncClient, five_users: Tenant) -> None:
    response = await client.get(
        "/api/v1/users/search?page=&per_page=", headers={"x-api-key": five_users.master_key}
    )
    assert page_of(response) == (1, 25, ["Owner", "0", "1", "2", "3"])


async def test_users_search_repeated_number_keeps_the_last_value(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Rails keeps the last of a repeated single-valued parameter; so does Perilune.
    response = await client.get(
        "/api/v1/users/search?page=1&page=2&per_page=1", headers={"x-api-key": tenant.master_key}
    )
    assert response.status_code == 200
    assert orjson.loads(response.content)["pagination"]["page"] == 2


async def test_users_search_object_given_for_a_number_is_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get("/api/v1/users/search?page[x]=1", headers={"x-api-key": tenant.master_key})
    assert response.status_code == 422
    assert orjson.loads(response.content)["error"].startswith("Invalid parameters. page: ")


async def test_users_search_api_key_as_array(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(f"/api/v1/users/search?api_key%5B%5D={tenant.master_key}&per_page=1")
    assert page_of(response) == (1, 1, ["Owner"])


async def test_users_search_invalid_json_is_400(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.request(
        "GET", "/api/v1/users/search", content=b"{nope", headers={**JSON, "x-api-key": tenant.master_key}
    )
    assert response.status_code == 400
    assert orjson.loads(response.content)["error"].startswith("The request body is not valid JSON")


async def test_endpoints_reading_no_parameters_still_refuse_invalid_json(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Endpoints that read no parameters still refuse a body they cannot parse.
    response = await client.post(
        "/api/v1/usage_stats/api_usage_stats",
        content=b"{nope",
        headers={**JSON, "x-api-key": tenant.master_key},
    )
    assert response.status_code == 400
    assert orjson.loads(response.content)["error"].startswith("The request body is not valid JSON")
    response = await client.request(
        "GET", "/api/v1/auth/health", content=b"[1", headers={**JSON, "x-api-key": tenant.master_key}
    )
    assert response.status_code == 400


async def test_invalid_json_without_key_is_still_401(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", "/api/v1/auth/health", content=b"{nope", headers=JSON)
    assert response.status_code == 401


@pytest.mark.parametrize("value", ["true", "True", "1"])
async def test_api_profile_boolean_true_as_string(
    client: httpx.AsyncClient, tenant: Tenant, value: str
) -> None:
    response = await client.get(
        "/api/v1/users/api_profile",
        params={"include_credit_usage": value},
        headers={"x-api-key": tenant.master_key},
    )
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert body["id"] == tenant.user_id
    assert body["effective_num_lead_credits"] == 10000
    assert "num_credits_remaining" in body


@pytest.mark.parametrize("value", ["false", "False", "0", ""])
async def test_api_profile_boolean_false_as_string(
    client: httpx.AsyncClient, tenant: Tenant, value: str
) -> None:
    response = await client.get(
        "/api/v1/users/api_profile",
        params={"include_credit_usage": value},
        headers={"x-api-key": tenant.master_key},
    )
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert body["id"] == tenant.user_id
    assert "num_credits_remaining" not in body


async def test_api_profile_boolean_in_json_body_and_form(client: httpx.AsyncClient, tenant: Tenant) -> None:
    key = {"x-api-key": tenant.master_key}
    as_json = await client.request(
        "GET",
        "/api/v1/users/api_profile",
        content=b'{"include_credit_usage": "true"}',
        headers={**JSON, **key},
    )
    assert "num_credits_remaining" in orjson.loads(as_json.content)
    as_form = await client.request(
        "GET",
        "/api/v1/users/api_profile",
        content=b"include_credit_usage=true",
        headers={"Content-Type": "application/x-www-form-urlencoded", **key},
    )
    assert "num_credits_remaining" in orjson.loads(as_form.content)


async def test_api_profile_bad_boolean_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/api/v1/users/api_profile?include_credit_usage=maybe", headers={"x-api-key": tenant.master_key}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    error = orjson.loads(response.content)["error"]
    assert error.startswith("Invalid parameters. include_credit_usage: ")


# --- strict mode -----------------------------------------------------------------------------------

STRICT_BODY = b'{"error":"Unknown parameters: bogus, zzz","unknown_parameters":["bogus","zzz"]}'


@pytest.mark.parametrize("header", ["1", "true", "TRUE", "True"])
async def test_strict_header_rejects_unknown_parameters(
    client: httpx.AsyncClient, tenant: Tenant, header: str
) -> None:
    response = await client.get(
        f"/api/v1/users/search?zzz=1&bogus=2&page=1&api_key={tenant.master_key}",
        headers={"x-perilune-strict": header},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content == STRICT_BODY


async def test_strict_header_names_unknown_body_parameters(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.request(
        "GET",
        "/api/v1/users/api_profile",
        content=b'{"include_credit_usage": true, "whatever": 1}',
        headers={**JSON, "x-api-key": tenant.master_key, "x-perilune-strict": "1"},
    )
    assert response.status_code == 422
    assert response.content == b'{"error":"Unknown parameters: whatever","unknown_parameters":["whatever"]}'


async def test_strict_header_allows_known_parameters_and_api_key(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        f"/api/v1/users/search?page=1&per_page=5&api_key={tenant.master_key}",
        headers={"x-perilune-strict": "1"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("header", [None, "0", "false", ""])
async def test_without_strict_unknown_parameters_are_ignored(
    client: httpx.AsyncClient, tenant: Tenant, header: str | None
) -> None:
    headers = {"x-api-key": tenant.master_key}
    if header is not None:
        headers["x-perilune-strict"] = header
    response = await client.get("/api/v1/users/search?zzz=1&bogus=2", headers=headers)
    assert response.status_code == 200


@pytest.fixture
async def strict_client(
    settings: Settings, clock: FrozenClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    application = create_app(settings.model_copy(update={"strict": True}), clock)
    async with LifespanManager(application):
        tenant = await make_tenant(application.state.runtime, clock)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://perilune.test") as http:
            yield http, tenant


async def test_strict_setting_rejects_unknown_parameters(
    strict_client: tuple[httpx.AsyncClient, Tenant],
) -> None:
    client, tenant = strict_client
    rejected = await client.get(f"/api/v1/users/search?zzz=1&bogus=2&api_key={tenant.master_key}")
    assert rejected.status_code == 422
    assert rejected.content == STRICT_BODY
    # Even when the request asks for no strictness: the setting is the floor.
    asked_lenient = await client.get(
        "/api/v1/users/search?bogus=2&zzz=",
        headers={"x-api-key": tenant.master_key, "x-perilune-strict": "0"},
    )
    assert asked_lenient.content == STRICT_BODY
    accepted = await client.get(f"/api/v1/users/search?page=2&api_key={tenant.master_key}")
    assert accepted.status_code == 200

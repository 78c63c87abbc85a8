"""Bad input, sent to every operation the served OpenAPI spec lists.

The operations come from /api/v1/openapi.json, so a route added later (presence,
feed, ...) is covered the day it lands. Request bodies, path and query values are
generated from the spec's own schemas: a valid baseline, then one thing broken at a
time. Every case is one of two kinds:

* must refuse: malformed JSON, wrong types, missing fields, values outside the
  schema, oversized bodies, text no database can store (NUL, lone surrogates,
  control characters), ids and names that denote nothing or someone else's thing,
  and missing or bad credentials. The answer must be a 4xx.
* may accept: text that is odd but legal (SQL-looking, emoji, combining marks,
  right-to-left text, zero-width characters ...) and absurd numbers the schema does
  not bound. The answer may be a 2xx, but never a 5xx.

Whatever the kind, every error is problem+json with a documented ``type`` under
/api/v1/problems/, and a refused request leaves every table exactly as it was.
Routes that need particular context to reach their checks (a friend's name, a
pending request's id, ...) get it from ``OVERRIDES``; a route that is meant to be
public must say so there, or it is expected to answer 401 without credentials.
Operations are swept a tag (group) at a time over one shared context; checks that
exercise code every route shares run on the first operation of each group only.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kith.api.app import create_app
from kith.api.limits import NulInUrlRefusal
from kith.clock import utc_now
from kith.config import Settings
from kith.storage.metadata import load_all_models
from tests.conftest import PASSWORD, Person, World

PROBLEM_PREFIX = "/api/v1/problems/"
SPEC_URL = "/api/v1/openapi.json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Long enough to be absurd for any name or id, short enough to stay under the body cap.
LONG_TEXT_CHARS = 10_000

Json = Any
Snapshot = dict[str, list[tuple[Any, ...]]]


# --------------------------------------------------------------------------- the spec


def _served_spec() -> dict[str, Any]:
    """The spec as the server serves it, read once at collection time (no database)."""
    settings = Settings(database_url="sqlite://", env="test", password_hashing="fast")
    app = create_app(settings)
    try:
        spec: dict[str, Any] = TestClient(app).get(SPEC_URL).json()
    finally:
        app.state.kith.database.dispose()
    return spec


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: dict[str, dict[str, Any]]
    query_params: dict[str, tuple[dict[str, Any], bool]]  # name -> (schema, required)
    body: dict[str, Any] | None  # the JSON body schema, $refs resolved at the top
    group: str  # the first OpenAPI tag: operations are attacked a group at a time

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return self.key


def operations(spec: Mapping[str, Any]) -> list[Operation]:
    found = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params={
                        p["name"]: resolve(spec, p["schema"]) for p in params if p["in"] == "path"
                    },
                    query_params={
                        p["name"]: (resolve(spec, p["schema"]), bool(p.get("required")))
                        for p in params
                        if p["in"] == "query"
                    },
                    body=resolve(spec, body) if body is not None else None,
                    group=(op.get("tags") or ["untagged"])[0],
                )
            )
    return found


def resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and single-schema ``allOf`` to the schema that says something."""
    while True:
        if "$ref" in schema:
            node: Any = spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        elif len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        else:
            return dict(schema)


def primary(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null variant of an ``anyOf``/``oneOf``, and whether null is allowed."""
    schema = resolve(spec, schema)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if not variants:
        return schema, schema.get("type") == "null"
    nullable = any(resolve(spec, v).get("type") == "null" for v in variants)
    real = [resolve(spec, v) for v in variants if resolve(spec, v).get("type") != "null"]
    return (real[0] if real else {}), nullable


# ---------------------------------------------------------------- values from schemas


def valid_value(spec: Mapping[str, Any], schema: Mapping[str, Any], n: int) -> Json:
    """A value the schema accepts; ``n`` keeps generated strings distinct per case."""
    schema, _ = primary(spec, schema)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2030-01-01T12:00:00Z"
        if fmt == "date":
            return "2030-01-01"
        text = f"valid{n}"
        text = text.ljust(schema.get("minLength", 0), "x")
        return text[: schema.get("maxLength", len(text))]
    if kind in {"integer", "number"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return max(low, 1) if kind == "integer" else float(max(low, 1))
    if kind == "boolean":
        return True
    if kind == "array":
        return [valid_value(spec, schema["items"], n)] * schema.get("minItems", 0)
    if kind == "object" or "properties" in schema:
        required = schema.get("required", [])
        props = schema.get("properties", {})
        return {name: valid_value(spec, props[name], n) for name in required}
    return "valid"


WRONG_TYPES: dict[str, list[Json]] = {
    "string": [12345, True, ["x"], {"x": 1}],
    "integer": ["abc", 1.5, ["1"], {"n": 1}],
    "number": ["abc", ["1"], {"n": 1}],
    "boolean": ["maybe", 2, ["true"]],
    "array": ["x", 5, {"a": 1}],
    "object": ["x", 5, [1]],
}


def wrong_types(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Json]:
    real, nullable = primary(spec, schema)
    kind = real.get("type", "object" if "properties" in real else None)
    values = list(WRONG_TYPES.get(kind, [])) if isinstance(kind, str) else []
    return values if nullable else [*values, None]


def out_of_schema(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Json]:
    """Values of the right type that break a stated constraint."""
    real, _ = primary(spec, schema)
    kind = real.get("type")
    values: list[Json] = []
    if kind == "string":
        if "maxLength" in real:
            values.append("x" * (real["maxLength"] + 1))
        if real.get("minLength", 0) > 0:
            values.append("x" * (real["minLength"] - 1))
        if real.get("enum"):
            values.append("not-one-of-the-choices")
        if real.get("format") in {"date-time", "date"}:
            values.append("next tuesday")
    if kind in {"integer", "number"}:
        if "minimum" in real:
            values.append(real["minimum"] - 1)
        if "maximum" in real:
            values.append(real["maximum"] + 1)
        if "exclusiveMinimum" in real:
            values.append(real["exclusiveMinimum"])
        if "exclusiveMaximum" in real:
            values.append(real["exclusiveMaximum"])
    if kind == "number":
        # Python's json writes these as the bare tokens NaN / Infinity, which lax parsers take.
        values.extend([math.nan, math.inf, -math.inf])
    if kind == "array" and "maxItems" in real:
        values.append([valid_value(spec, real["items"], 0)] * (real["maxItems"] + 1))
    return values


# Text no database should be asked to store: refused by every write.
UNSTORABLE_TEXT = ["ana\x00", "\ud800", "\x1b[2J"]
# Odd but legal text: it may be accepted, but must never break anything.
ODD_TEXT = [
    "'; DROP TABLE users; --",
    "\u202egnp.exe",  # right-to-left override
    "\U0001f468\u200d\U0001f469\u200d\U0001f467e\u0301\u200b",  # ZWJ, combining, zero-width
    "\u00df" * 40,  # fits 40 characters, but case-folds to 80 ("ss" each)
    "   ",
]
# Integers the schema leaves unbounded: the database must not be the one to object.
UNBOUNDED_INTS = [2**63, -(2**63) - 1, 2**31, -1]

# Raw (already percent-encoded) path segments that can name nothing, by parameter type.
ABSURD_SEGMENTS = {
    "integer": ["0", "-1", str(2**63), "abc", "1.5"],
    "string": [
        "abc",
        "a" * LONG_TEXT_CHARS,
        "%00",
        "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
        "%E2%80%AEgnp",  # right-to-left override
        quote("x' OR '1'='1", safe=""),
    ],
}
# Bodies that are not JSON, or not an object. The first two of each go to every route;
# all of them go to the first route of each group (they meet the same parser).
MALFORMED_JSON = [
    b'{"',
    b"[" * 5000 + b"]" * 5000,
    b"{'a': 1}",
    b"\xff\xfe\x00{",
    b'{"a": "raw \x00 nul"}',
]
NOT_AN_OBJECT = [b"[]", b"null", b"", b"42"]


# ------------------------------------------------------------------ context and cases


@dataclass
class Context:
    """People and things that exist before each operation is attacked, all made via HTTP."""

    me: Person
    people: dict[str, Person]
    ids: dict[str, int]
    dead_token: str


def build_context(world: World) -> Context:
    client = world.client
    me = world.person("mira")
    people = {n: world.person(n) for n in ["fred", "olga", "piet", "uma", "tess", "bert", "vic"]}
    world.befriend(me, people["fred"])
    for owner, name in [(me, "mine"), (people["olga"], "olgas_secret")]:
        r = client.post("/api/v1/circles", json={"name": name}, headers=owner.headers)
        assert r.status_code == 201, r.text

    def request(a: Person, b: Person) -> int:
        r = client.post("/api/v1/friend-requests", json={"username": b.username}, headers=a.headers)
        assert r.status_code == 201, r.text
        request_id: int = r.json()["id"]
        return request_id

    ids = {
        "theirs": request(people["olga"], people["piet"]),
        "incoming": request(people["uma"], me),
        "outgoing": request(me, people["tess"]),
    }
    world.block(people["bert"], me)  # bert blocked mira: mira must not find bert
    world.block(me, people["vic"])
    if "POST /api/v1/intents" in {op.key for op in OPERATIONS}:
        r = client.post("/api/v1/intents", json=_intent_body(), headers=people["olga"].headers)
        assert r.status_code == 201, r.text
        ids["olgas_intent"] = r.json()["id"]
    r = client.post("/api/v1/sessions", json={"username": "mira", "password": PASSWORD})
    dead = r.json()["token"]
    r = client.delete("/api/v1/sessions/current", headers={"Authorization": f"Bearer {dead}"})
    assert r.status_code == 204
    return Context(me, people, ids, dead)


def _intent_body() -> dict[str, Any]:
    ends = utc_now() + timedelta(hours=2)
    return {"activity": "coffee", "ends_at": ends.isoformat(), "audience": ["friends"]}


ValueFn = Callable[[Context, int], Json]
ForeignFn = Callable[[Context], list[Json]]


def _const(value: Json) -> ValueFn:
    return lambda _ctx, _n: value


def _name(who: str) -> ValueFn:
    return lambda ctx, _n: ctx.people[who].username


def _names(*who: str) -> ForeignFn:
    return lambda ctx: [ctx.people[w].username for w in who]


def _ids(*which: str) -> ForeignFn:
    return lambda ctx: [ctx.ids[w] for w in which]


@dataclass(frozen=True)
class Override:
    """What one route needs to be attacked meaningfully.

    ``valid`` gives baseline values (``"path:x"``, ``"query:x"``, ``"body:x"``);
    ``foreign`` gives values that name something that exists but is not the
    viewer's to touch or see: each must be refused like a value naming nothing.
    """

    public: bool = False
    valid: Mapping[str, ValueFn] = field(default_factory=dict)
    foreign: Mapping[str, ForeignFn] = field(default_factory=dict)
    # Tables a refused request may legitimately write (login throttling counts failures).
    writes_when_refused: frozenset[str] = frozenset()


# Baselines and foreign values by parameter name, for every route that has them.
DEFAULT_VALID: dict[str, ValueFn] = {
    "path:username": _name("fred"),
    "path:request_id": lambda ctx, _n: ctx.ids["incoming"],
    "path:name": lambda _ctx, _n: "mine",
    "path:code": lambda _ctx, _n: "not-found",
}
DEFAULT_FOREIGN: dict[str, ForeignFn] = {
    # bert blocked the viewer: bert must be as invisible as a name nobody has.
    "path:username": _names("bert"),
    "path:request_id": _ids("theirs"),
    "path:name": lambda _ctx: ["olgas_secret"],
    "path:circle": lambda _ctx: ["olgas_secret"],
    "body:circle": lambda _ctx: ["olgas_secret"],
    "query:circle": lambda _ctx: ["olgas_secret"],
}
# Counting failed credentials is how log-in throttling works: a refusal may write here.
THROTTLE_TABLES = frozenset({"login_failures"})

OVERRIDES: dict[str, Override] = {
    "GET /api/v1/health": Override(public=True),
    "GET /api/v1/problems/{code}": Override(public=True),
    "POST /api/v1/accounts": Override(
        public=True,
        valid={
            "body:username": lambda _ctx, n: f"newbie{n}",
            "body:password": lambda _ctx, _n: PASSWORD,
            "body:display_name": lambda _ctx, n: f"New {n}",
        },
    ),
    "POST /api/v1/sessions": Override(
        public=True,
        valid={
            "body:username": lambda ctx, _n: ctx.me.username,
            "body:password": lambda _ctx, _n: PASSWORD,
        },
        writes_when_refused=THROTTLE_TABLES,
    ),
    "POST /api/v1/owntracks": Override(public=True, writes_when_refused=THROTTLE_TABLES),
    # Deleting the account asks for the password, throttled like a log-in. The baseline
    # password stays a wrong one on purpose: no case may delete the sweep's own account.
    "DELETE /api/v1/me": Override(writes_when_refused=THROTTLE_TABLES),
    "POST /api/v1/friend-requests": Override(
        valid={"body:username": _name("olga")},
        foreign={"body:username": _names("bert", "fred")},  # blocked me; already a friend
    ),
    "POST /api/v1/friend-requests/{request_id}/accept": Override(
        foreign={"path:request_id": _ids("theirs", "outgoing")}
    ),
    "POST /api/v1/friend-requests/{request_id}/decline": Override(
        foreign={"path:request_id": _ids("theirs", "outgoing")}
    ),
    "POST /api/v1/friend-requests/{request_id}/cancel": Override(
        valid={"path:request_id": lambda ctx, _n: ctx.ids["outgoing"]},
        foreign={"path:request_id": _ids("theirs", "incoming")},
    ),
    "PUT /api/v1/friends/{username}/circle": Override(
        valid={"body:circle": lambda _ctx, _n: "close"},
        foreign={"path:username": _names("bert", "olga", "vic")},
    ),
    "DELETE /api/v1/friends/{username}": Override(
        foreign={"path:username": _names("bert", "olga", "vic")}
    ),
    "POST /api/v1/blocks": Override(foreign={"body:username": _names("bert")}),
    "DELETE /api/v1/blocks/{username}": Override(foreign={"path:username": _names("bert", "olga")}),
    "DELETE /api/v1/circles/{name}": Override(foreign={"path:name": lambda _ctx: ["olgas_secret"]}),
    "GET /api/v1/users/{username}": Override(foreign={"path:username": _names("bert", "vic")}),
    "POST /api/v1/intents": Override(
        valid={f"body:{k}": _const(v) for k, v in _intent_body().items()},
        foreign={"body:audience": lambda _ctx: [["olgas_secret"]]},
    ),
    "DELETE /api/v1/intents/{intent_id}": Override(
        foreign={"path:intent_id": _ids("olgas_intent")}
    ),
    "PUT /api/v1/sharing/friends/{username}": Override(
        foreign={"path:username": _names("bert", "olga", "vic")}
    ),
    "DELETE /api/v1/sharing/friends/{username}": Override(
        foreign={"path:username": _names("bert", "olga", "vic")}
    ),
    "GET /api/v1/friends/{username}/location": Override(
        foreign={"path:username": _names("bert", "olga", "vic")}
    ),
}


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    url: str
    content: bytes | Iterable[bytes] | None
    headers: Mapping[str, str | bytes]
    must_refuse: bool
    status: int | None = None  # the one status this case must get, when it is that clear
    credentials: bool = False  # a bad-credentials case: throttle tables may be written


_MISSING = object()


def _set(body: Json, where: tuple[str, ...], value: Any) -> Json:
    """A copy of ``body`` with the field at ``where`` set to ``value`` (or removed)."""
    copy = dict(body)
    if len(where) == 1:
        if value is _MISSING:
            copy.pop(where[0], None)
        else:
            copy[where[0]] = value
        return copy
    copy[where[0]] = _set(copy.get(where[0], {}), where[1:], value)
    return copy


def _fields(
    spec: Mapping[str, Any], schema: Mapping[str, Any], prefix: tuple[str, ...] = (), depth: int = 0
) -> Iterator[tuple[tuple[str, ...], dict[str, Any], bool]]:
    """Every (field path, schema, required) of an object schema, two levels deep."""
    real, _ = primary(spec, schema)
    required = set(real.get("required", []))
    for name, sub in real.get("properties", {}).items():
        where = (*prefix, name)
        yield where, resolve(spec, sub), name in required
        inner, _ = primary(spec, sub)
        if depth < 1 and "properties" in inner:
            yield from _fields(spec, inner, where, depth + 1)


class CaseMaker:
    """Builds requests for one operation: the valid baseline with one thing changed."""

    def __init__(self, op: Operation, spec: Mapping[str, Any], ctx: Context) -> None:
        self.op, self.spec, self.ctx = op, spec, ctx
        over = OVERRIDES.get(op.key, Override())
        self.valid = {**DEFAULT_VALID, **over.valid}
        self.foreign = {**DEFAULT_FOREIGN, **over.foreign}
        self.auth = {"Authorization": f"Bearer {ctx.me.token}"}
        self.counter = itertools.count(1)

    def baseline(self, where: str, schema: Mapping[str, Any], n: int) -> Json:
        fn = self.valid.get(where)
        return fn(self.ctx, n) if fn else valid_value(self.spec, schema, n)

    def foreign_values(self, where: str) -> list[Json]:
        fn = self.foreign.get(where)
        return fn(self.ctx) if fn else []

    def body(self, n: int) -> dict[str, Any]:
        assert self.op.body is not None
        body: dict[str, Any] = valid_value(self.spec, self.op.body, n)
        for (name,) in [w for w, _s, _r in _fields(self.spec, self.op.body) if len(w) == 1]:
            if "body:" + name in self.valid:
                body[name] = self.valid["body:" + name](self.ctx, n)
        return body

    def __call__(
        self,
        label: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        field: tuple[tuple[str, ...], Any] | None = None,
        content: bytes | Iterable[bytes] | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        must_refuse: bool = True,
        status: int | None = None,
    ) -> Case:
        op, n = self.op, next(self.counter)
        segments = {
            name: quote(str(self.baseline("path:" + name, schema, n)), safe="")
            for name, schema in op.path_params.items()
        }
        segments.update(path or {})
        url = op.path.format(**segments)
        params = {
            name: self.baseline("query:" + name, schema, n)
            for name, (schema, required) in op.query_params.items()
            if required
        }
        params.update(query or {})
        pairs = [
            f"{quote(k, safe='')}={quote(_query_text(v), safe='', errors='surrogatepass')}"
            for k, v in params.items()
            if v is not _MISSING
        ]
        if pairs:
            url += "?" + "&".join(pairs)
        if content is None and op.body is not None:
            body = self.body(n)
            content = json.dumps(_set(body, *field) if field else body).encode()
        sent: dict[str, str | bytes] = {}
        if content is not None:
            sent["Content-Type"] = "application/json"
        sent.update(self.auth if headers is None else headers)
        return Case(label, op.method, url, content, sent, must_refuse, status, headers is not None)


def cases_for(
    op: Operation, spec: Mapping[str, Any], ctx: Context, settings: Settings, *, thorough: bool
) -> Iterator[Case]:
    """The cases for one operation; ``thorough`` adds those every route shares code for."""
    make = CaseMaker(op, spec, ctx)
    over = OVERRIDES.get(op.key, Override())

    # Credentials: without a live session every non-public route says 401, and only that.
    # (Every malformed Authorization header is tried once, in its own test below.)
    if not over.public:
        yield make("no credentials", headers={}, status=401)
        if thorough:
            dead = {"Authorization": f"Bearer {ctx.dead_token}"}
            yield make("logged-out token", headers=dead, status=401)
    if thorough:
        # Parameters nobody declared are ignored, whatever they hold.
        yield make("undeclared parameter", query={"zz": "\x00\ud800"}, must_refuse=False)

    for name, schema in op.path_params.items():
        kind = "integer" if primary(spec, schema)[0].get("type") == "integer" else "string"
        for segment in ABSURD_SEGMENTS[kind]:
            yield make(f"path {name}={_short(segment)}", path={name: segment})
        for value in make.foreign_values("path:" + name):
            yield make(f"path {name}={value!r} (not mine)", path={name: quote(str(value), safe="")})

    for name, (schema, required) in op.query_params.items():
        if required:
            yield make(f"query {name} missing", query={name: _MISSING})
        real, _ = primary(spec, schema)
        # A query string is text: only non-text parameters can have the wrong type.
        wrong = wrong_types(spec, schema) if real.get("type") != "string" else []
        for value in [*wrong, *out_of_schema(spec, schema)]:
            if value is not None and not isinstance(value, list | dict):
                yield make(f"query {name}={_short(value)}", query={name: value})
        for value in make.foreign_values("query:" + name):
            yield make(f"query {name}={value!r} (not mine)", query={name: value})
        if _is_text(spec, schema):
            for value in [*UNSTORABLE_TEXT, *ODD_TEXT, "q" * LONG_TEXT_CHARS]:
                yield make(f"query {name}={_short(value)}", query={name: value}, must_refuse=False)

    if op.method in BODY_METHODS:
        cap = settings.max_body_bytes
        base = make.body(0) if op.body is not None else {}
        huge = json.dumps({**base, "padding": "x" * (cap + 1)}).encode()
        yield make("oversized body", content=huge, status=413)
        if thorough:
            lying = {**make.auth, "Content-Length": "100"}
            yield make("oversized, Content-Length lies", content=huge, headers=lying, status=413)
            chunks = [huge[i : i + 16384] for i in range(0, len(huge), 16384)]
            yield make("oversized, chunked", content=iter(chunks), status=413)

    if op.body is None:
        return
    shared = slice(None) if thorough else slice(2)
    for raw in MALFORMED_JSON[shared]:
        yield make(f"malformed JSON {raw[:12]!r}", content=raw)
    for raw in NOT_AN_OBJECT[shared]:
        yield make(f"body is {raw!r}", content=raw)
    if primary(spec, op.body)[0].get("required"):
        yield make("body is {}", content=b"{}")
    for where, schema, required in _fields(spec, op.body):
        yield from _field_cases(make, spec, where, schema, required=required)


def _field_cases(
    make: CaseMaker,
    spec: Mapping[str, Any],
    where: tuple[str, ...],
    schema: Mapping[str, Any],
    *,
    required: bool,
) -> Iterator[Case]:
    dotted = ".".join(where)
    real, _ = primary(spec, schema)
    if required:
        yield make(f"{dotted} missing", field=(where, _MISSING))
    for value in [*wrong_types(spec, schema), *out_of_schema(spec, schema)]:
        yield make(f"{dotted}={_short(value)}", field=(where, value))
    for value in make.foreign_values("body:" + dotted):
        yield make(f"{dotted}={value!r} (not mine)", field=(where, value))
    if _is_text(spec, schema):
        for value in UNSTORABLE_TEXT:
            yield make(f"{dotted}={_short(value)}", field=(where, value))
        for value in ODD_TEXT:
            yield make(f"{dotted}={_short(value)}", field=(where, value), must_refuse=False)
        yield make(
            f"{dotted}=<{LONG_TEXT_CHARS} chars>",
            field=(where, "\u00e9" * LONG_TEXT_CHARS),
            must_refuse=real.get("maxLength", LONG_TEXT_CHARS) < LONG_TEXT_CHARS,
        )
    if real.get("type") == "integer" and "maximum" not in real:
        for value in UNBOUNDED_INTS:
            yield make(f"{dotted}={value}", field=(where, value), must_refuse=False)


def _is_text(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    real, _ = primary(spec, schema)
    return real.get("type") == "string" and not real.get("enum") and "format" not in real


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------------ checking


class Snapshots:
    """Every row of every table, in a stable order, read with precompiled SQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queries = {
            table.name: str(
                select(table)
                .order_by(*(table.primary_key.columns or table.columns))
                .compile(dialect=engine.dialect)
            )
            for table in load_all_models().sorted_tables
        }

    def take(self) -> Snapshot:
        # Straight through the driver's cursor: SQLAlchemy's result layer would cost
        # more than the queries, and this runs after every one of a thousand requests.
        with self.engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                snapshot: Snapshot = {}
                for name, sql in self.queries.items():
                    cursor.execute(sql)
                    snapshot[name] = [tuple(row) for row in cursor.fetchall()]
                return snapshot
            finally:
                cursor.close()


def changed_tables(before: Snapshot, after: Snapshot) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def check_response(
    case: Case, status: int, headers: Mapping[str, str], text: str
) -> tuple[list[str], str | None]:
    """Problems with one response, and the problem type it carried if any."""
    faults = []
    if status >= 500:
        faults.append(f"server error {status}: {text[:200]}")
    elif case.must_refuse and not 400 <= status < 500:
        faults.append(f"accepted with {status} but must be refused: {text[:200]}")
    elif case.status is not None and status != case.status:
        faults.append(f"got {status}, expected {case.status}: {text[:200]}")
    if status < 400:
        return faults, None
    if headers.get("content-type") != "application/problem+json":
        faults.append(f"error without problem+json: {headers.get('content-type')!r}")
        return faults, None
    try:
        body = json.loads(text)
    except ValueError:
        return [*faults, "problem body is not JSON"], None
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str) or not kind.startswith(PROBLEM_PREFIX):
        faults.append(f"problem type {kind!r} is not under {PROBLEM_PREFIX}")
        kind = None
    if isinstance(body, dict) and body.get("status") != status:
        faults.append(f"problem status {body.get('status')!r} differs from {status}")
    return faults, kind


def send(client: TestClient, case: Case) -> tuple[int, dict[str, str], str]:
    """Status, headers and body text; an event stream is closed once it has started."""
    with client.stream(case.method, case.url, content=case.content, headers=case.headers) as r:
        streaming = r.headers.get("content-type", "").startswith("text/event-stream")
        text = "" if streaming else r.read().decode("utf-8", "replace")
        return r.status_code, dict(r.headers), text


def sweep(
    client: TestClient,
    snapshots: Snapshots,
    ops: Iterable[Operation],
    ctx: Context,
    settings: Settings,
) -> tuple[int, list[str]]:
    """Send every case of every operation; return how many were sent and what went wrong."""
    faults: list[str] = []
    types: set[str] = set()
    count = 0
    before = snapshots.take()
    for i, op in enumerate(ops):
        over = OVERRIDES.get(op.key, Override())
        for case in cases_for(op, SPEC, ctx, settings, thorough=i == 0):
            count += 1
            status, headers, text = send(client, case)
            found, kind = check_response(case, status, headers, text)
            types |= {kind} if kind else set()
            after = snapshots.take()
            if status >= 400:
                allowed = over.writes_when_refused
                if case.credentials and status == 401:
                    allowed |= THROTTLE_TABLES
                changed = changed_tables(before, after) - allowed
                if changed:
                    found.append(f"changed {sorted(changed)} although {status}")
            faults += [f"{op.key} | {case.label}: {fault}" for fault in found]
            before = after
    # Every problem type is documented where it points.
    for kind in sorted(types):
        if client.get(kind).status_code != 200:
            faults.append(f"problem type {kind} is not documented at its URL")
    return count, faults


# ---------------------------------------------------------------------------- tests

SPEC = _served_spec()
OPERATIONS = operations(SPEC)
GROUPS = sorted({op.group for op in OPERATIONS})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Login throttling would turn every later /sessions case into a 429 before the
    # input is even looked at; its own tests live in test_accounts.py.
    return settings.model_copy(
        update={"login_max_failures_per_account": 10**6, "login_max_failures_per_client": 10**6}
    )


@pytest.fixture
def lenient_client(app: FastAPI) -> Iterator[TestClient]:
    # Report a 500 as a response to check, not as an exception that stops the sweep.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_every_route_is_in_the_sweep(lenient_client: TestClient) -> None:
    served = operations(lenient_client.get(SPEC_URL).json())
    assert {op.key for op in served} == {op.key for op in OPERATIONS}
    assert len(OPERATIONS) >= 20
    # Overrides must name real routes, or a renamed route silently loses its context.
    assert set(OVERRIDES) <= {op.key for op in OPERATIONS}


# Uncapped text the contract still has, each with its reason. An entry that gets its
# maxLength must leave this list (the test says so), so it cannot go stale.
KNOWN_UNCAPPED: set[str] = set()


def test_request_strings_are_capped_in_the_contract() -> None:
    """Every text field a client sends has a maxLength: the first, cheap line of defence."""
    uncapped: list[str] = []
    for op in OPERATIONS:
        texts = [(f"query {n}", s) for n, (s, _r) in op.query_params.items()]
        if op.body is not None:
            texts += [(f"body {'.'.join(w)}", s) for w, s, _r in _fields(SPEC, op.body)]
        uncapped += [
            f"{op.key} {where}"
            for where, schema in texts
            if _is_text(SPEC, schema) and "maxLength" not in primary(SPEC, schema)[0]
        ]
    assert set(uncapped) - KNOWN_UNCAPPED == set(), "text inputs without maxLength"
    assert KNOWN_UNCAPPED - set(uncapped) == set(), "capped now: remove from KNOWN_UNCAPPED"


# Faults found in code this test's owner may not change, reported to its owner: they
# are expected (on the named backends) until fixed, and then must leave this table.
KNOWN_FAULTS: dict[str, tuple[frozenset[str], str]] = {}


@pytest.mark.parametrize("group", GROUPS)
def test_bad_input_is_refused_cleanly_and_changes_nothing(
    group: str, app: FastAPI, lenient_client: TestClient, settings: Settings
) -> None:
    ctx = build_context(World(lenient_client))
    # The first operation gets the thorough treatment: make it one with a body if any.
    ops = sorted(
        (op for op in OPERATIONS if op.group == group),
        key=lambda op: (op.body is None, op.method not in BODY_METHODS),
    )
    engine = app.state.kith.database.engine
    count, faults = sweep(lenient_client, Snapshots(engine), ops, ctx, settings)
    assert count >= len(ops)
    known = {
        prefix
        for prefix, (backends, _why) in KNOWN_FAULTS.items()
        if engine.dialect.name in backends and prefix.split(" | ")[0] in {op.key for op in ops}
    }
    unexpected = [f for f in faults if not any(f.startswith(p) for p in known)]
    assert not unexpected, f"{len(unexpected)} of {count} cases failed:\n" + "\n".join(unexpected)
    fixed = [p for p in known if not any(f.startswith(p) for f in faults)]
    assert not fixed, f"fixed now, remove from KNOWN_FAULTS: {fixed}"


BAD_AUTHORIZATION: list[str | bytes] = [
    "Bearer",
    "Bearer    ",
    "Bearer kith_not-a-token",
    "bearer",
    "Basic bWlyYTpwYXNzd29yZA==",
    "Token abc",
    "Bearer " + "x" * LONG_TEXT_CHARS,
    b"Bearer \xff\xfe\x80",
    "Bearer a b c",
]


@pytest.mark.parametrize("value", BAD_AUTHORIZATION, ids=_short)
def test_malformed_authorization_is_401(lenient_client: TestClient, value: str | bytes) -> None:
    World(lenient_client).person("mira")
    r = lenient_client.get("/api/v1/me", headers={"Authorization": value})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == PROBLEM_PREFIX + "not-authenticated"


def test_accepted_odd_text_is_stored_exactly(lenient_client: TestClient) -> None:
    """What is accepted comes back as sent: nothing executed, nothing mangled."""
    me = World(lenient_client).person("mira")
    for text in ["'; DROP TABLE users; --", "\u05e9\u05dc\u05d5\u05dd \U0001f600", "e\u0301"]:
        r = lenient_client.post("/api/v1/circles", json={"name": text}, headers=me.headers)
        assert r.status_code == 201, r.text
    names = [c["name"] for c in lenient_client.get("/api/v1/circles", headers=me.headers).json()]
    # NFC turns e + combining acute into one character; everything else is verbatim.
    assert names[3:] == ["'; DROP TABLE users; --", "\u05e9\u05dc\u05d5\u05dd \U0001f600", "\u00e9"]
    assert lenient_client.get("/api/v1/me", headers=me.headers).status_code == 200


@pytest.mark.parametrize(
    "text",
    ["\u202egnp.exe", "Ana\u200b", "\u2066x\u2069", "\ufeffAna", "A\u00adna"],
    ids=["rtl-override", "zero-width-space", "bidi-isolate", "bom", "soft-hyphen"],
)
def test_invisible_formatting_is_refused_in_names(lenient_client: TestClient, text: str) -> None:
    """Names are for recognising people: invisible characters only serve impersonation."""
    me = World(lenient_client).person("mira")
    r = lenient_client.post(
        "/api/v1/accounts",
        json={"username": "spoofer", "password": PASSWORD, "display_name": text},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "display_name"
    r = lenient_client.post("/api/v1/circles", json={"name": text}, headers=me.headers)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "circle"


def test_joiners_that_scripts_and_emoji_need_are_kept(lenient_client: TestClient) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # joined by ZWJ
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # needs ZWNJ
    for i, text in enumerate([family, persian]):
        r = lenient_client.post(
            "/api/v1/accounts",
            json={"username": f"joiner{i}", "password": PASSWORD, "display_name": text},
        )
        assert r.status_code == 201, r.text
        assert r.json()["display_name"] == text


def test_log_in_with_unstorable_names_is_refused_on_every_backend(
    lenient_client: TestClient,
) -> None:
    """Regression: a NUL in the log-in name became a throttle key, a 500 on PostgreSQL."""
    World(lenient_client).person("mira")
    for name in ["\x00", "mira\x00", "\x00" * 40]:
        r = lenient_client.post("/api/v1/sessions", json={"username": name, "password": PASSWORD})
        assert r.status_code == 401, r.text
    r = lenient_client.post("/api/v1/sessions", json={"username": "mira", "password": PASSWORD})
    assert r.status_code == 201


def test_circle_names_must_fit_once_case_folded(lenient_client: TestClient) -> None:
    """Regression: 40 "ß" fold to 80 characters, which PostgreSQL refused with a 500."""
    me = World(lenient_client).person("mira")
    r = lenient_client.post("/api/v1/circles", json={"name": "\u00df" * 21}, headers=me.headers)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "circle"
    r = lenient_client.post("/api/v1/circles", json={"name": "\u00df" * 20}, headers=me.headers)
    assert r.status_code == 201, r.text
    # Case-insensitively the same name: "SS" * 20 folds to the same key.
    r = lenient_client.post("/api/v1/circles", json={"name": "SS" * 20}, headers=me.headers)
    assert r.status_code == 409, r.text


def test_nul_in_a_url_is_refused_before_any_route() -> None:
    """The edge guard: no route, present or future, sees a NUL from the URL."""
    inner = FastAPI()

    @inner.get("/echo/{name}")
    def echo(name: str, q: str = "") -> dict[str, str]:
        return {"name": name, "q": q}

    client = TestClient(NulInUrlRefusal(inner))
    for url in ["/echo/a%00b", "/echo/x?q=%00", "/echo/x?a=1&q=ana%00"]:
        r = client.get(url)
        assert r.status_code == 400, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == PROBLEM_PREFIX + "invalid-input"
    # A literal "%00" (sent as %2500) is just text.
    assert client.get("/echo/x?q=a%2500").json() == {"name": "x", "q": "a%00"}

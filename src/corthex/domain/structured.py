"""Structured output: the user's JSON schema checked, made strict for OpenAI, and answers
validated against it (pure; evidence: docs/wire/structured-output.md)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import exceptions as schema_errors
from jsonschema import validators
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

from corthex.domain.registry import catalogue
from corthex.domain.requests import ProviderName

#: Keywords OpenAI's strict mode does not take (a schema with one is sent non-strict): the
#: Structured Outputs guide lists the supported subset; we keep to what it names.
STRICT_UNSUPPORTED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "allOf",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "contains",
        "minContains",
        "maxContains",
        "minLength",
        "maxLength",
        "uniqueItems",
    }
)
#: Keywords whose values are schemas (a dict of them, a list of them, or one).
_SCHEMA_MAPS = ("properties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "prefixItems")


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    reason: str
    where: str  #: a JSON pointer into the schema, "" for its root


def schema_problem(schema: dict[str, Any], provider: ProviderName) -> SchemaProblem | None:
    """Why the provider cannot take `schema` (a `$schema` no validator knows, invalid per its
    meta-schema, a `$ref` that resolves to nothing; OpenAI wants an object at the root), or None.
    Cached: a job's lines mostly share one schema."""
    return _schema_problem_cached(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS), provider)


@lru_cache(maxsize=256)
def _schema_problem_cached(key: bytes, provider: ProviderName) -> SchemaProblem | None:
    schema = orjson.loads(key)
    cls = _validator_class(schema)
    if cls is None:
        return SchemaProblem(
            f"unknown '$schema' {schema['$schema']!r}: name a JSON Schema draft (04, 06, 07, 2019-09, 2020-12) "
            "or leave it out",
            "/$schema",
        )
    try:
        cls.check_schema(schema)
    except schema_errors.SchemaError as exc:
        return SchemaProblem(exc.message, _pointer(exc.path))
    problem = _unresolved_ref(schema, cls)
    if problem is None and catalogue(provider) is ProviderName.OPENAI and schema.get("type") != "object":
        return SchemaProblem("OpenAI takes only a schema whose root is an object ('type': 'object')", "/type")
    return problem


def _validator_class(schema: dict[str, Any]) -> type[Validator] | None:
    """The validator of the schema's `$schema` (the latest draft when it names none); None when
    it names one jsonschema does not know (jsonschema would warn and guess)."""
    if "$schema" in schema:
        # jsonschema hands `default` back as given; its stubs allow only a validator class there
        return validators.validator_for(schema, default=None)  # type: ignore[arg-type]
    return validators.validator_for(schema)


#: Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_ROOT_URI = "urn:corthex:schema"


def _unresolved_ref(schema: dict[str, Any], cls: Any) -> SchemaProblem | None:
    """The first `$ref` that points nowhere in the schema itself: providers fetch nothing, and
    every answer's validation would fail on it."""
    meta = cls.META_SCHEMA
    spec = specification_with(meta.get("$id") or meta.get("id"), default=DRAFT202012)
    resolver = Registry().with_resource(_ROOT_URI, spec.create_resource(schema)).resolver(base_uri=_ROOT_URI)
    for ref, where in _refs(schema, "", root=True):
        try:
            resolver.lookup(ref)
        except Unresolvable:
            return SchemaProblem(f"'$ref' {ref!r} points to nothing in the schema", where)
    return None


def _has_own_id(node: dict[str, Any]) -> bool:
    return "$id" in node or isinstance(node.get("id"), str)  # "id" before draft 6


def _refs(node: Any, where: str, *, root: bool = False) -> Iterator[tuple[str, str]]:
    """(`$ref`, where) pairs, not looking into data keywords or into subschemas with their own
    `$id` (their references resolve against another base)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _refs(item, f"{where}/{i}")
        return
    if not isinstance(node, dict) or (not root and _has_own_id(node)):
        return
    if isinstance(node.get("$ref"), str):
        yield node["$ref"], f"{where}/$ref"
    for key, value in node.items():
        if key not in _DATA_KEYWORDS:
            yield from _refs(value, f"{where}/{key}")


def _pointer(path: Any) -> str:
    return "".join(f"/{part}" for part in path)


# --- strict mode ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StrictForm:
    schema: dict[str, Any]  #: what goes on the wire
    strict: bool
    why_not: str | None = None  #: why the schema went non-strict


@lru_cache(maxsize=256)
def _strict_cached(key: bytes) -> StrictForm:
    schema = orjson.loads(key)
    try:
        return StrictForm(_strict_node(copy.deepcopy(schema), ""), True)
    except _NotStrict as exc:
        return StrictForm(schema, False, exc.reason)


def strict_form(schema: dict[str, Any]) -> StrictForm:
    """`schema` for OpenAI strict mode: every object closed (`additionalProperties: false`).
    Strict mode also wants every property required; a schema with an optional property, open
    extra properties or a keyword strict mode lacks would be narrowed, so it goes non-strict
    and `why_not` says why."""
    return _strict_cached(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))


class _NotStrict(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _strict_node(node: Any, where: str) -> Any:
    if not isinstance(node, dict):
        return node
    unsupported = sorted(STRICT_UNSUPPORTED & node.keys())
    if unsupported:
        raise _NotStrict(f"strict mode does not take '{unsupported[0]}' (at {where or '/'})")
    if node.get("type") == "object" or "properties" in node:
        _close_object(node, where)
    for key in _SCHEMA_MAPS:
        for name, sub in (node.get(key) or {}).items():
            node[key][name] = _strict_node(sub, f"{where}/{key}/{name}")
    for key in _SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            node[key] = [_strict_node(sub, f"{where}/{key}/{i}") for i, sub in enumerate(node[key])]
    if isinstance(node.get("items"), dict):
        node["items"] = _strict_node(node["items"], f"{where}/items")
    return node


def _close_object(node: dict[str, Any], where: str) -> None:
    extra = node.get("additionalProperties", None)
    if extra not in (None, False):
        raise _NotStrict(f"the object at {where or '/'} allows extra properties")
    optional = sorted(set(node.get("properties") or {}) - set(node.get("required") or []))
    if optional:
        raise _NotStrict(
            f"property '{optional[0]}' at {where or '/'} is optional; strict mode makes every one required"
        )
    node["additionalProperties"] = False


# --- answers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    value: Any = None  #: the parsed JSON value (when it parsed)
    error: str | None = None


@lru_cache(maxsize=256)
def _validator(key: bytes) -> Any:
    schema = orjson.loads(key)
    cls = validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_answer(schema: dict[str, Any], content: str | None) -> Checked:
    """Parse `content` as JSON and validate it against the user's `schema` (validators are
    cached per schema: a job holds thousands of answers to one schema)."""
    if content is None or not content.strip():
        return Checked(False, error="the answer is empty, not JSON")
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        return Checked(False, error=f"the answer is not JSON: {exc}")
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    error = schema_errors.best_match(validator.iter_errors(value))
    if error is not None:
        where = _pointer(error.absolute_path) or "/"
        return Checked(False, value, f"the answer does not match the schema at {where}: {error.message}")
    return Checked(True, value)

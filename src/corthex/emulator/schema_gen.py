"""A small generator of one JSON document valid against a JSON Schema (or a Gemini Schema).

Enough for structured-output requests: objects with their required properties, the first enum
value, constants, strings within length bounds, numbers within bounds, arrays of their minimum
length (at least one item), `$ref` into `$defs`/`definitions`, and the first branch of
`anyOf`/`oneOf`. Gemini's upper-case type names and `nullable` are accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: (schema, root, property name, depth) -> an example value of the schema's type
_Maker = Callable[[dict[str, Any], Any, str, int], Any]

MAX_DEPTH = 12
FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00",
    "email": "emulated@example.com",
    "uri": "https://example.com/emulated",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def generate(schema: Any, name: str = "value") -> Any:
    return _gen(schema if isinstance(schema, dict) else {}, schema, name, 0)


def _gen(schema: dict[str, Any], root: Any, name: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        return _gen(_resolve(root, schema["$ref"]), root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _gen(_first_non_null(schema[key]), root, name, depth + 1)
    if schema.get("allOf"):
        return _gen(_merge(schema["allOf"], root), root, name, depth + 1)
    kind = _type_of(schema)
    maker: _Maker = _MAKERS.get(kind, _make_string)
    return maker(schema, root, name, depth)


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"
    return str(kind).lower()


def _make_object(schema: dict[str, Any], root: Any, name: str, depth: int) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties") or {}
    required = schema.get("required")
    names = list(required) if isinstance(required, list) else list(props)
    order = schema.get("propertyOrdering")
    if isinstance(order, list):
        names = [n for n in order if n in names] + [n for n in names if n not in order]
    return {key: _gen(props.get(key) or {}, root, key, depth + 1) for key in names}


def _make_array(schema: dict[str, Any], root: Any, name: str, depth: int) -> list[Any]:
    count = max(1, int(schema.get("minItems", 1)))
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    items = schema.get("items")
    if isinstance(items, list):  # tuple form
        return [_gen(item or {}, root, name, depth + 1) for item in items]
    return [_gen(items or {}, root, name, depth + 1) for _ in range(count)]


def _make_string(schema: dict[str, Any], root: Any, name: str, depth: int) -> str:
    text = FORMATS.get(str(schema.get("format", "")), f"emulated {name}")
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None:
        text = text[: int(high)]
    return text


def _make_number(schema: dict[str, Any], root: Any, name: str, depth: int) -> float | int:
    value: float = 1
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema and not isinstance(schema["exclusiveMinimum"], bool):
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    if _type_of(schema) == "integer":
        return int(value)
    return value


_MAKERS: dict[str, _Maker] = {
    "object": _make_object,
    "array": _make_array,
    "string": _make_string,
    "number": _make_number,
    "integer": _make_number,
    "boolean": lambda s, r, n, d: True,
    "null": lambda s, r, n, d: None,
}


def _resolve(root: Any, ref: str) -> dict[str, Any]:
    if not ref.startswith("#"):
        return {}
    node = root
    for part in ref.lstrip("#/").split("/"):
        if not part:
            continue
        if not isinstance(node, dict):
            return {}
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
    return node if isinstance(node, dict) else {}


def _first_non_null(options: list[Any]) -> dict[str, Any]:
    for option in options:
        if isinstance(option, dict) and str(option.get("type", "")).lower() != "null":
            return option
    return options[0] if options and isinstance(options[0], dict) else {}


def _merge(parts: list[Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in parts:
        if not isinstance(part, dict):
            continue
        if "$ref" in part:
            part = _resolve(root, part["$ref"])
        merged["properties"].update(part.get("properties") or {})
        merged["required"] += [r for r in part.get("required") or [] if r not in merged["required"]]
        if "type" in part and part["type"] != "object":
            return dict(part)
    return merged

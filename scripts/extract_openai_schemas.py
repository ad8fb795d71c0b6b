"""Extract the request schemas of OpenAI's Batch API endpoints from the official OpenAPI spec into
one compact JSON file shipped with the package (`src/corthex/domain/specs/openai_requests.json`),
so intake validates native OpenAI lines without loading the 3 MB YAML at run time.

Run by hand when the spec is updated (the spec lives outside the repository):

    PYTHONPATH=src .venv/bin/python scripts/extract_openai_schemas.py ../shared/specs/openai-openapi.yaml

For each url in `corthex.domain.native.OPENAI_BATCH_URLS` it follows the spec's path (`/v1` is the
server's base) → `post.requestBody` → `$ref`, then keeps that schema and every schema it reaches.
OpenAPI 3.1 is JSON Schema 2020-12 plus a few extras, turned into plain 2020-12 here:
- `nullable: true` (3.0's spelling, still in the spec) becomes "or null": ignored by a 2020-12
  validator, it would refuse the nulls the spec means to allow.
- `oneOf` becomes `anyOf`: the spec's branches are not always exclusive (a body matching two is
  taken by the API), and a 2020-12 `oneOf` would refuse it.
- `$recursiveRef: "#"` (2019-09, in the filters that nest) becomes a `$ref` to the schema it sits
  in, and `$recursiveAnchor` is dropped: 2020-12 spells recursion with plain `$ref`.
- annotations (`description`, `title`, `example`, `default`, `deprecated`, `discriminator`,
  `x-*`) are dropped: they do not validate, and the file shrinks from ~200 kB to a third.
The spec's `info` (title, version) and the YAML's SHA-256 are recorded in the file; the spec's
MIT license is copied beside it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from corthex.domain.native import OPENAI_BATCH_URLS

OUT = Path(__file__).resolve().parent.parent / "src" / "corthex" / "domain" / "specs"
_REF_PREFIX = "#/components/schemas/"
#: keywords whose value is one schema / a list of schemas / a map of name → schema
_ONE = {"items", "additionalProperties", "not", "propertyNames", "contains", "if", "then", "else"}
_LIST = {"anyOf", "oneOf", "allOf", "prefixItems"}
_MAP = {"properties", "patternProperties", "$defs", "dependentSchemas"}
#: keywords that validate and whose value is data, kept as is
_DATA = {
    "type", "enum", "const", "required", "minItems", "maxItems", "minLength", "maxLength", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "pattern", "uniqueItems",
    "minProperties", "maxProperties", "dependentRequired", "format", "$ref",
}  # fmt: skip
#: annotations, dropped
_DROP = {
    "$recursiveAnchor",
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "discriminator",
    "readOnly",
}


def main(spec_path: str) -> None:
    raw = Path(spec_path).read_bytes()
    spec = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schemas = spec["components"]["schemas"]
    roots = {url: _root(spec, url) for url in sorted(OPENAI_BATCH_URLS)}
    names = _reachable(schemas, set(roots.values()))
    out = {
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "openapi": spec["openapi"],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "extracted_by": "scripts/extract_openai_schemas.py",
        },
        "urls": roots,
        "$defs": {name: _plain(schemas[name], name) for name in sorted(names)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "openai_requests.json"
    target.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n")
    shutil.copyfile(Path(spec_path).with_name("openai-openapi.LICENSE"), OUT / "openai-openapi.LICENSE")
    print(f"{target}: {len(names)} schemas for {len(roots)} urls, {target.stat().st_size} bytes, spec {out['info']}")


def _root(spec: dict[str, Any], url: str) -> str:
    ref: str = spec["paths"][url.removeprefix("/v1")]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"
    ]
    return ref.removeprefix(_REF_PREFIX)


def _reachable(schemas: dict[str, Any], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(_refs(schemas[name]))
    return seen


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    if not isinstance(node, dict):
        return []
    found = [node["$ref"].removeprefix(_REF_PREFIX)] if isinstance(node.get("$ref"), str) else []
    return found + [ref for key, value in node.items() if key != "$ref" for ref in _refs(value)]


def _plain(schema: Any, home: str) -> Any:
    """One OpenAPI 3.1 schema as plain JSON Schema 2020-12 (see the module's doc); `home` is the
    component it sits in (what `$recursiveRef: "#"` names)."""
    if isinstance(schema, bool):
        return schema
    if "oneOf" in schema and "anyOf" in schema:
        raise SystemExit("a schema with both oneOf and anyOf: merge by hand")
    out = dict(kept for key, value in schema.items() if (kept := _keyword(key, value, home)) is not None)
    return _nullable(out) if schema.get("nullable") is True else out


def _keyword(key: str, value: Any, home: str) -> tuple[str, Any] | None:
    if key in _ONE:
        return key, _plain(value, home)
    if key in _LIST:
        return "anyOf" if key == "oneOf" else key, [_plain(item, home) for item in value]
    if key in _MAP:
        return key, {name: _plain(item, home) for name, item in value.items()}
    if key == "$ref":
        return key, "#/$defs/" + value.removeprefix(_REF_PREFIX)
    if key == "$recursiveRef" and value == "#":
        return "$ref", f"#/$defs/{home}"
    if key in _DATA:
        return key, value
    if key in _DROP or key == "nullable" or key.startswith("x-"):
        return None
    raise SystemExit(f"unknown schema keyword {key!r}: decide whether it validates")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("type"), str) and "enum" not in schema and "const" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/specs/openai-openapi.yaml")

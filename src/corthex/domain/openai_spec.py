"""A native OpenAI line's body checked against the official OpenAPI spec's request schema for its
url (issue 14, "Native batch lines": the body goes out as given, validated against the rules we
know). The schemas come from `specs/openai_requests.json`, extracted from the spec by
`scripts/extract_openai_schemas.py` (how and which version: docs/wire/requests-openai.md).

Pure but for reading that package data file once; each url's validator is compiled once, on
first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

#: the longest a refusal's reason gets (a value or an enum list past it is cut with "…")
MAX_REASON = 160
_MAX_ENUM_SHOWN = 6
_DEFS = "#/$defs/"
_VALUE_CHECKS = frozenset({"type", "enum", "const"})
#: keywords whose values are data, not schemas (a "$ref" key in an enum value is no reference)
_DATA_KEYWORDS = frozenset({"enum", "const", "required", "type"})


@lru_cache(maxsize=1)
def spec_data() -> dict[str, Any]:
    """The shipped extract: `info` (the spec's version, its SHA-256), `urls` (url → schema name)
    and `$defs` (every schema those reach)."""
    text = resources.files("corthex.domain").joinpath("specs/openai_requests.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def spec_version() -> str:
    return str(spec_data()["info"]["version"])


@lru_cache(maxsize=16)
def _validator(url: str) -> Draft202012Validator | None:
    data = spec_data()
    name = data["urls"].get(url)
    if name is None:
        return None
    return Draft202012Validator({"$ref": f"{_DEFS}{name}", "$defs": _inlined()})


@lru_cache(maxsize=1)
def _inlined() -> dict[str, Any]:
    """The schemas with each `$ref` replaced by the schema it names (the same object, shared: no
    copies), but for the refs of a schema to itself (the nested filters): jsonschema resolves a
    `$ref` anew at every use, a quarter of the time spent on a chat body."""
    defs, done = spec_data()["$defs"], {}

    def resolve(name: str, inside: frozenset[str]) -> Any:
        if name not in done:
            done[name] = walk(defs[name], inside | {name})
        return done[name]

    def walk(node: Any, inside: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [walk(item, inside) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and len(node) == 1 and ref.removeprefix(_DEFS) not in inside:
            return resolve(ref.removeprefix(_DEFS), inside)
        return {key: value if key in _DATA_KEYWORDS else walk(value, inside) for key, value in node.items()}

    return {name: resolve(name, frozenset()) for name in defs}


@dataclass(frozen=True, slots=True)
class SpecProblem:
    field: str  #: as the line wrote it: `body.messages[0].role`
    reason: str  #: one line, at most MAX_REASON characters
    keyword: str  #: the JSON Schema keyword that failed (`enum`, `type`, `required`, `minimum`, …)


def body_problem(url: str, body: dict[str, Any]) -> SpecProblem | None:
    """The most specific way `body` breaks the spec's request schema for `url`; None when it
    fits (or when the spec has no schema for the url)."""
    validator = _validator(url)
    if validator is None:
        return None
    error = max(validator.iter_errors(body), key=relevance, default=None)  # jsonschema's best_match's pick
    if error is None:
        return None
    path, reason, keyword = _most_specific(error)
    return SpecProblem(field_name("body", path), _short(reason), keyword)


def field_name(root: str, path: Iterable[str | int]) -> str:
    return root + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


Path_ = tuple[str | int, ...]
Found = tuple[Path_, str, str]  #: where, why, the keyword that failed


def _most_specific(error: ValidationError) -> Found:
    """Down through the `anyOf`s (a message's roles, a content part's types, "or null") to the
    branch the line meant: the one whose `role`/`type` matched and whose type the value has,
    else the one that got furthest into the body. (jsonschema's `best_match` stops at an `anyOf`
    whose branches fail at equal depth, which is every message with one wrong field.)"""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return _at(error), _reason(error), str(error.validator)
    branches = _branches(error)
    meant = [errs for errs in branches if not _ruled_out(error, errs)]
    if not meant:
        return _merged(error, branches)
    furthest = max(max(map(_depth, errs)) for errs in meant)
    # within a branch the deepest error is the most specific (as `best_match` descends)
    found = {_most_specific(min(errs, key=relevance)) for errs in meant if max(map(_depth, errs)) == furthest}
    # two forms that fit as far (a message both as `EasyInputMessage` and as an `Item`) agree, or
    # the line's intent is unclear: then the anyOf itself
    return found.pop() if len(found) == 1 else (_at(error), _reason(error), str(error.validator))


def _depth(error: ValidationError) -> int:
    return max([len(error.absolute_path), *map(_depth, error.context or ())])


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    return list(by_branch.values())


def _ruled_out(parent: ValidationError, errors: list[ValidationError]) -> bool:
    """A branch the line plainly did not mean: the value is not of its type, or a field that
    tells the forms apart (`role`, `type`: a const or an enum one level down) does not match."""
    depth = len(parent.absolute_path)
    return any(_is_mismatch(e, depth) for e in errors)


def _is_mismatch(error: ValidationError, depth: int) -> bool:
    below = len(error.absolute_path) - depth
    if below == 0:
        return error.validator == "type" or (error.validator == "required" and _lacks_tag(error))
    if below == 1 and error.validator in ("anyOf", "oneOf"):  # a nullable tag: {anyOf: [enum, null]}
        return all(len(e.absolute_path) == depth + 1 and e.validator in _VALUE_CHECKS for e in error.context or ())
    return below == 1 and error.validator in ("const", "enum")


def _lacks_tag(error: ValidationError) -> bool:
    """A form told apart by a field the value lacks (a required `type` with one value)."""
    properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    missing = [k for k in _required(error) if isinstance(error.instance, dict) and k not in error.instance]
    return any(_is_tag(properties.get(k)) for k in missing)


def _is_tag(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return "const" in schema or (isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1)


def _required(error: ValidationError) -> list[str]:
    value = error.validator_value
    return [k for k in value if isinstance(k, str)] if isinstance(value, list) else []


def _merged(parent: ValidationError, branches: list[list[ValidationError]]) -> Found:
    """Every branch ruled out: what the forms would take (the `role`s or `type`s they name, or
    the JSON types)."""
    depth = len(parent.absolute_path)
    mismatches = [e for errs in branches for e in errs if _is_mismatch(e, depth)]
    keyed = [e for e in mismatches if len(e.absolute_path) > depth]
    if keyed:  # a wrong role/type, reported at that field, with the values the forms take
        allowed = _unique(v for e in keyed for v in _allowed(e))
        return tuple(keyed[0].absolute_path), f"{keyed[0].instance!r} is not one of {_enum_list(allowed)}", "enum"
    types = _unique(t for e in mismatches for t in _allowed(e))
    named = " or ".join(map(repr, types))
    return tuple(parent.absolute_path), f"{_brief(parent.instance)} is not of type {named}", "type"


def _allowed(error: ValidationError) -> list[Any]:
    value = error.validator_value
    return list(value) if isinstance(value, list) and error.validator != "const" else [value]


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _reason(error: ValidationError) -> str:
    if error.validator == "enum" and isinstance(error.validator_value, list):
        return f"{_brief(error.instance)} is not one of {_enum_list(error.validator_value)}"
    if error.validator == "type":  # a nullable field's type is a list: "'x' is not of type 'integer' or 'null'"
        return f"{_brief(error.instance)} is not of type {' or '.join(map(repr, _allowed(error)))}"
    if error.validator in ("anyOf", "oneOf"):
        return f"{_brief(error.instance)} does not fit any of the forms the spec allows here"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    return error.message


def _at(error: ValidationError) -> Path_:
    """Where the error is; a missing field is named itself (`body.messages`, not `body`)."""
    path: Path_ = tuple(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in _required(error) if name not in error.instance]
        path += tuple(missing[:1])
    return path


def _enum_list(values: list[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_ENUM_SHOWN])
    more = len(values) - _MAX_ENUM_SHOWN
    return f"[{shown}, … {more} more]" if more > 0 else f"[{shown}]"


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _short(reason: str) -> str:
    reason = " ".join(reason.split())  # one line: a value may hold newlines
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"

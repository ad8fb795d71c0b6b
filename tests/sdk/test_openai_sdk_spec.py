"""What OpenAIProvider put on the wire, checked against the official OpenAPI spec.

The emulator records every OpenAI call; the batch-create JSON body, the upload's multipart form and
every line of the uploaded JSONL are validated against the spec's request schemas, with unknown
properties refused (`unevaluatedProperties: false`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sdk_support import items

from corthex.domain.requests import Message, ProviderName
from corthex.providers import WireItem

# The repo is checked out with `shared/` beside it (locally /work/main and /work/shared).
SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "openai-openapi.yaml"


@cache
def load_spec(cache_dir: Path | None) -> dict[str, Any]:
    """The spec, parsed once per session; the 3 MB YAML is also kept as JSON between runs."""
    stat = SPEC.stat()
    cached = cache_dir / f"openapi-{stat.st_size}-{stat.st_mtime_ns}.json" if cache_dir else None
    if cached is not None and cached.exists():
        return json.loads(cached.read_bytes())
    data = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if cached is not None:
        cached.write_text(json.dumps(data, default=str), encoding="utf-8")  # examples hold dates
    return data


@pytest.fixture(scope="module")
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"the OpenAI spec is not at {SPEC}")
    cache_ = getattr(request.config, "cache", None)
    return load_spec(Path(cache_.mkdir("openai-openapi")) if cache_ else None)


def validator(spec: dict[str, Any], name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:openai", Resource.from_contents(spec, default_specification=DRAFT202012))
    schema = {"$ref": f"urn:openai#/components/schemas/{name}", "unevaluatedProperties": False}
    return Draft202012Validator(schema, registry=registry)


def assert_valid(spec: dict[str, Any], name: str, instance: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(spec, name).iter_errors(instance)]
    assert not errors, f"{name}: {errors}"


def sample_items() -> list[WireItem]:
    """Every option: system prompt, token cap, temperature, JSON schema, a multi-turn chat."""
    base = items(ProviderName.OPENAI, 3)
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    turns = (Message("user", "a"), Message("assistant", "b"), Message("user", "c"))
    return [
        base[0],
        replace(base[1], request=replace(base[1].request, json_schema=schema)),
        replace(base[2], request=replace(base[2].request, messages=turns)),
    ]


@pytest.mark.parametrize("model", ["gpt-5-mini", "gpt-4o-mini"])
async def test_recorded_requests_match_the_spec(spec, openai_provider, openai_client, emulator, model):
    key = f"spec-{model}"
    batch = [replace(i, request=replace(i.request, model=model)) for i in sample_items()]
    ref = await openai_provider.submit(key, model, batch)
    file_id = ref.extra["input_file_id"]
    records = list(emulator.state.openai_requests)

    create = next(r for r in records if r["path"] == "/batches" and r.get("json", {}).get("input_file_id") == file_id)
    assert_valid(spec, "CreateBatchRequest", create["json"])

    upload = next(r for r in records if r.get("multipart", {}).get("filename") == f"{key}.jsonl")
    purpose = (await openai_client.files.retrieve(file_id)).purpose
    form = {field: purpose if field == "purpose" else "<binary>" for field in upload["multipart"]["fields"]}
    assert_valid(spec, "CreateFileRequest", form)

    content = await openai_client.files.content(file_id)
    lines = [json.loads(line) for line in content.text.splitlines()]
    assert [line["custom_id"] for line in lines] == [item.wire_id for item in batch]
    for line in lines:
        assert set(line) == {"custom_id", "method", "url", "body"}
        assert (line["method"], line["url"]) == ("POST", create["json"]["endpoint"])
        assert_valid(spec, "CreateChatCompletionRequest", line["body"])

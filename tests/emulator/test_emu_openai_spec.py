"""The emulator's OpenAI answers, and the recorded SDK requests, against the official OpenAPI spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
import yaml
from emu_helpers import chat_line, jsonl, wait_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from corthex.emulator import EmulatorServer

SPEC = Path("/work/shared/specs/openai-openapi.yaml")
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="OpenAI OpenAPI spec not available")


@pytest.fixture(scope="module")
def validate() -> Any:
    spec = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    registry = Registry().with_resource("urn:openai", Resource.from_contents(spec, DRAFT202012))

    def check(instance: Any, schema_name: str, *, strip: bool = True) -> None:
        schema = {"$ref": f"urn:openai#/components/schemas/{schema_name}"}
        instance = without_nulls(instance) if strip else instance
        jsonschema.Draft202012Validator(schema, registry=registry).validate(instance)

    return check


def without_nulls(value: Any) -> Any:
    """The live API sends unset fields as null (`"cancelled_at": null`); the spec just omits them."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def test_answers_match_the_spec(validate: Any, oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    lines = [chat_line("a", "x"), chat_line("b", "[[emulator:error]]")]
    file_id = oai.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch").id
    batch = oai.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    wait_for(lambda: oai.batches.retrieve(batch.id), lambda b: b.status == "completed")
    headers = {"authorization": "Bearer k"}
    base = f"{emulator.url}/openai/v1"
    with httpx.Client(base_url=base, headers=headers) as http:
        validate(http.get(f"/batches/{batch.id}").json(), "Batch")
        validate(http.get("/batches").json(), "ListBatchesResponse")
        validate(http.get(f"/files/{file_id}").json(), "OpenAIFile")
        validate(http.get("/files").json(), "ListFilesResponse")
        validate(http.delete(f"/files/{file_id}").json(), "DeleteFileResponse")
        failed = http.post(
            "/batches", json={"input_file_id": "nope", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        )
        validate(failed.json(), "ErrorResponse", strip=False)


def test_recorded_sdk_requests_match_the_spec(validate: Any, oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    file_id = oai.files.create(file=("in.jsonl", jsonl([chat_line("a", "x")])), purpose="batch").id
    oai.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"k": "v"}
    )
    upload, create = list(emulator.state.openai_requests)
    validate({**upload["multipart"]["values"], "file": "(binary)"}, "CreateFileRequest")
    validate(create["json"], "CreateBatchRequest")
    assert [line for _, line in emulator.state.openai.input_lines()] == [chat_line("a", "x")]

"""Gemini answers as the real API sometimes gives them (issue 11 items 2, 7, 8), through the
google-genai SDK against the emulator, on v1 and v1beta: inline answers without their keys or out
of order, error rows whose `details` hold objects, an upload answered HTTP 200 with an error body."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from google.genai import types
from sdk_support import ERROR_HOOK, collect, items, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import Message, ProviderName
from corthex.domain.results import UNKEYED, ResultStatus
from corthex.emulator import EmulatorServer, Fault
from corthex.errors import ProviderError
from corthex.providers import GeminiProvider, WireItem
from corthex.providers.gemini import JSONL_MIME

GEMINI = ProviderName.GEMINI
MODEL = "gemini-2.5-flash"


@pytest.fixture
def quirks(emulator: EmulatorServer) -> Iterator[list[str]]:
    """The gemini quirks to switch on for this test (cleared after it)."""
    names: list[str] = []
    original = emulator.state.config.quirks
    emulator.state.config.quirks = {"gemini": names}
    yield names
    emulator.state.config.quirks = original


def all_rows(rows: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row.wire_id, []).append(row)
    return out


async def test_batches_go_as_a_file_by_default(gemini_client, tmp_path):
    # file output lines carry `key`; inline answers may not (python-genai#2008)
    provider = GeminiProvider(tmp_path, client=gemini_client)
    ref = await provider.submit("gm-default-file", MODEL, items(GEMINI, 2))
    assert ref.extra["mode"] == "file"


async def test_inline_is_an_opt_in(gemini_client, tmp_path, monkeypatch):
    monkeypatch.setenv("CORTHEX_GEMINI_INLINE", "1")
    provider = GeminiProvider(tmp_path, client=gemini_client)
    ref = await provider.submit("gm-inline-opt-in", MODEL, items(GEMINI, 2))
    assert ref.extra["mode"] == "inline"


async def test_inline_answers_without_keys_come_back_unkeyed_not_as_a_failed_read(gemini_client, tmp_path, quirks):
    quirks.append("inline_without_keys")
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    ref = await provider.submit("gm-no-keys", MODEL, items(GEMINI, 3))
    await wait_ended(provider, ref)
    rows = [row async for row in provider.results(ref)]  # before: a ProviderError for the whole batch
    assert len(rows) == 3 and {row.wire_id for row in rows} == {UNKEYED}
    assert all(row.status is ResultStatus.SUCCEEDED and row.content for row in rows)


async def test_a_file_batch_keeps_its_keys_whatever_inline_answers_do(gemini_client, tmp_path, quirks):
    quirks.extend(["inline_without_keys", "inline_shuffled"])
    provider = GeminiProvider(tmp_path, client=gemini_client)
    batch = items(GEMINI, 4)
    ref = await provider.submit("gm-file-keys", MODEL, batch)
    await wait_ended(provider, ref)
    rows = await collect(provider, ref)
    assert {k: r.content.split("] ")[-1] for k, r in rows.items()} == {
        f"w-{i}": f"question number {i}" for i in range(4)
    }


async def test_shuffled_inline_answers_land_on_their_own_requests(gemini_client, tmp_path, quirks):
    quirks.append("inline_shuffled")
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    ref = await provider.submit("gm-shuffled", MODEL, items(GEMINI, 8))
    await wait_ended(provider, ref)
    raw = await gemini_client.aio.batches.get(name=ref.remote_id)
    keys = [r.metadata["key"] for r in raw.dest.inlined_responses]
    assert keys != sorted(keys, key=lambda k: int(k.split("-")[1]))  # the emulator did shuffle
    rows = await collect(provider, ref)
    assert {k: r.content.split("] ")[-1] for k, r in rows.items()} == {
        f"w-{i}": f"question number {i}" for i in range(8)
    }


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "file"])
async def test_error_rows_with_details_objects_are_read(gemini_client, tmp_path, quirks, inline):
    # google.rpc.Status details are objects; the SDK's JobError.details is list[str], so its
    # BatchJob refuses them (pydantic ValidationError) on every `batches.get`
    quirks.append("row_error_details")
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=inline)
    batch = items(GEMINI, 3)
    batch[0] = WireItem("w-bad", replace(batch[0].request, messages=(Message("user", ERROR_HOOK),)))
    ref = await provider.submit(f"gm-details-{inline}", MODEL, batch)
    status = await wait_ended(provider, ref)
    assert status.state is RemoteState.ENDED
    rows = await collect(provider, ref)
    assert rows["w-bad"].status is ResultStatus.FAILED and rows["w-bad"].error.type == "invalid_request"
    assert rows["w-1"].status is ResultStatus.SUCCEEDED
    if inline:  # what the SDK itself does with such a batch
        with pytest.raises(Exception, match="validation error"):
            await gemini_client.aio.batches.get(name=ref.remote_id)


async def test_a_failed_batch_whose_error_has_details_objects_is_reported(gemini_client, tmp_path, quirks, emulator):
    quirks.append("row_error_details")
    emulator.state.add_fault(Fault("gemini", "create", "fail_batch", times=1))
    provider = GeminiProvider(tmp_path, client=gemini_client)
    ref = await provider.submit("gm-failed-details", MODEL, items(GEMINI, 2))
    status = await wait_ended(provider, ref)
    assert status.state is RemoteState.FAILED and "quota" in status.error


async def test_an_upload_answered_200_with_an_error_body_is_a_clear_non_retryable_error(
    gemini_client, tmp_path, emulator
):
    emulator.state.add_fault(Fault("gemini", "upload", "error_body", status=400, times=1))
    provider = GeminiProvider(tmp_path, client=gemini_client)
    with pytest.raises(ProviderError) as info:
        await provider.submit("gm-upload-refused", MODEL, items(GEMINI, 2))
    assert info.value.op == "upload" and not info.value.retryable
    assert "error body" in str(info.value) and JSONL_MIME in str(info.value)
    assert list(tmp_path.iterdir()) == []


async def test_the_files_api_refuses_a_bare_jsonl_mime_type(gemini_client, tmp_path):
    # python-genai#1547: mime_type="jsonl" (as the docs once showed) answers HTTP 200 with
    # {"error": {"code": 400, "message": "Unsupported MIME type: jsonl"}}: the SDK raises KeyError('file')
    path = tmp_path / "requests.jsonl"
    path.write_text('{"key": "a", "request": {"contents": [{"parts": [{"text": "안녕"}]}]}}\n', encoding="utf-8")
    with pytest.raises(KeyError, match="file"):
        await gemini_client.aio.files.upload(file=path, config=types.UploadFileConfig(mime_type="jsonl"))
    uploaded = await gemini_client.aio.files.upload(file=path, config=types.UploadFileConfig(mime_type=JSONL_MIME))
    assert uploaded.name and uploaded.mime_type == JSONL_MIME

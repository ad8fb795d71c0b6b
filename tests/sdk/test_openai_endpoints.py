"""OpenAI endpoints and parameters through `openai.AsyncOpenAI` against the emulator (issue 11 item 5):
the `-pro` models on `/v1/responses`, temperature by the capability table, strict schemas."""

from __future__ import annotations

import openai
import pytest
from sdk_support import collect, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ResultStatus
from corthex.emulator.asks import NOT_A_CHAT_MODEL
from corthex.providers import WireItem

OPENAI = ProviderName.OPENAI
SCHEMA = {"type": "object", "properties": {"제목": {"type": "string"}}, "required": ["제목"]}


def pro_items(model: str, n: int, **extra) -> list[WireItem]:
    return [
        WireItem(f"p-{i}", LLMRequest(f"q{i}", model, OPENAI, (Message("user", f"질문 {i} 번"),), **extra))
        for i in range(n)
    ]


def lines_of(emulator, input_file_id: str) -> list[dict]:
    return [line for file_id, line in emulator.state.openai.input_lines() if file_id == input_file_id]


@pytest.mark.parametrize("model", ["o3-pro", "gpt-5.2-pro"])
async def test_pro_model_batch_goes_to_responses_and_its_results_map_back(openai_provider, emulator, model):
    batch = pro_items(model, 3, system="짧게 답하라.", max_output_tokens=400, temperature=0.3, json_schema=SCHEMA)
    ref = await openai_provider.submit(f"oa-{model}", model, batch)
    creates = [r for r in emulator.state.openai_requests if r["path"] == "/batches" and r["method"] == "POST"]
    assert creates[-1]["json"]["endpoint"] == "/v1/responses"
    lines = lines_of(emulator, ref.extra["input_file_id"])
    assert {line["url"] for line in lines} == {"/v1/responses"}
    body = lines[0]["body"]
    assert body["instructions"] == "짧게 답하라." and body["max_output_tokens"] == 400
    assert body["text"]["format"]["strict"] is True and "temperature" not in body
    status = await wait_ended(openai_provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is None
    rows = await collect(openai_provider, ref)
    assert len(rows) == 3 and {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED}
    assert all(r.finish_reason is FinishReason.STOP and "제목" in r.content for r in rows.values())
    assert all(r.usage.input_tokens > 0 and r.usage.output_tokens > 0 for r in rows.values())


async def test_chat_models_stay_on_chat_completions(openai_provider, emulator):
    ref = await openai_provider.submit("oa-chat-endpoint", "gpt-4o-mini", pro_items("gpt-4o-mini", 1, temperature=0.3))
    creates = [r for r in emulator.state.openai_requests if r["path"] == "/batches" and r["method"] == "POST"]
    assert creates[-1]["json"]["endpoint"] == "/v1/chat/completions"
    (line,) = lines_of(emulator, ref.extra["input_file_id"])
    assert line["body"]["temperature"] == 0.3  # a chat model takes it


@pytest.mark.parametrize("model", ["o1-pro", "o3-pro-2025-06-10", "gpt-5-pro"])
async def test_emulator_refuses_responses_only_models_on_chat_completions(openai_client, model):
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["message"] == NOT_A_CHAT_MODEL and caught.value.body["param"] == "model"
    answer = await openai_client.responses.create(model=model, input="hi")
    assert answer.status == "completed" and answer.output_text


@pytest.mark.parametrize("model", ["o3", "gpt-5-mini", "o1-pro"])
async def test_emulator_refuses_temperature_where_the_real_api_does(openai_client, model):
    with pytest.raises(openai.BadRequestError) as caught:
        if model == "o1-pro":
            await openai_client.responses.create(model=model, input="hi", temperature=0.2)
        else:
            await openai_client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}], temperature=0.2
            )
    assert caught.value.code == "unsupported_value" and caught.value.param == "temperature"
    assert "Only the default (1) value is supported" in caught.value.message


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5.1", "gpt-5-chat-latest"])
async def test_emulator_takes_temperature_where_the_real_api_does(openai_client, model):
    done = await openai_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], temperature=0.2
    )
    assert done.choices[0].message.content


async def test_realtime_pro_model_goes_to_responses(openai_provider):
    (item,) = pro_items("o3-pro", 1, temperature=0.5, json_schema=SCHEMA)
    row = await openai_provider.complete(item.request)
    assert row.status is ResultStatus.SUCCEEDED and row.finish_reason is FinishReason.STOP
    assert "제목" in row.content


async def test_reasoning_model_batch_with_temperature_succeeds(openai_provider):
    # Before the table, gpt-5.1 (effort none by default) lost its temperature silently and o1-pro
    # went to chat completions; now each line is what its model takes.
    for model in ("o3", "gpt-5.1", "o1-pro"):
        ref = await openai_provider.submit(f"oa-temp-{model}", model, pro_items(model, 2, temperature=0.2))
        await wait_ended(openai_provider, ref)
        rows = await collect(openai_provider, ref)
        assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED}, (model, rows)

"""Sizes are bytes as they go on the wire (issue 11 item 1), through the official SDKs.

Korean text is 3 bytes a character in UTF-8 and 6 in google-genai's `json.dumps` (ensure_ascii),
so a job sized in characters passes every limit on paper and is refused at the wire. The emulator
enforces each limit on the bytes it receives; the limits are set small here so the tests stay cheap.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors

from corthex.domain.limits import ProviderLimits
from corthex.domain.parsing import parse_request
from corthex.domain.requests import ProviderName
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.engine.intake import request_row
from corthex.providers import AnthropicProvider, GeminiProvider, OpenAIProvider, WireItem, wire_size_of
from corthex.providers import gemini as gemini_adapter
from corthex.providers.wire import gemini as gemini_wire
from corthex.testing import fast_settings

KOREAN = "한국어로 된 긴 질문입니다. 배치 크기는 글자가 아니라 바이트로 계산해야 합니다. "  # 44 characters
OPENAI, ANTHROPIC, GEMINI = ProviderName.OPENAI, ProviderName.ANTHROPIC, ProviderName.GEMINI
MODELS = {OPENAI: "gpt-5-mini", ANTHROPIC: "claude-haiku-4-5", GEMINI: "gemini-2.5-flash"}
LIMIT_FIELDS = ("openai_file_max_bytes", "anthropic_body_max_bytes", "gemini_inline_max_bytes")


@pytest.fixture
def limits(emulator: EmulatorServer) -> Iterator[object]:
    """The emulator's size limits, put back after the test."""
    config = emulator.state.config
    saved = {name: getattr(config, name) for name in LIMIT_FIELDS}
    yield config
    for name, value in saved.items():
        setattr(config, name, value)


def korean(provider: ProviderName, n: int, *, repeat: int = 20, prefix: str = "k") -> list[dict[str, object]]:
    """Requests of `repeat` × 44 Hangul-heavy characters each."""
    return [
        {"custom_id": f"{prefix}{i}", "model": MODELS[provider], "prompt": f"{i}: " + KOREAN * repeat} for i in range(n)
    ]


def wire_items(provider: ProviderName, n: int, *, repeat: int = 20, prefix: str = "kw") -> list[WireItem]:
    return [WireItem(f"{prefix}-{i}", parse_request(r)) for i, r in enumerate(korean(provider, n, repeat=repeat))]


def last_batch(emulator: EmulatorServer, provider: ProviderName) -> dict[str, object]:
    return emulator.state.stats()[provider.value]["batches"][-1]


# --- the emulator refuses what is over a limit, with the real error -------------------------------


async def test_openai_refuses_a_batch_file_over_the_limit(openai_client, limits) -> None:
    limits.openai_file_max_bytes = 3_000
    line = (
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"q":"' + KOREAN * 40 + '"}}\n'
    ).encode()
    assert len(line) > 3_000 > len(line.decode())  # over in bytes, under in characters
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.files.create(file=("big.jsonl", line), purpose="batch")
    assert caught.value.status_code == 400
    assert caught.value.response.json() == {
        "error": {"message": "File is too large.", "type": "invalid_request_error", "param": None, "code": None}
    }


async def test_anthropic_refuses_a_body_over_the_limit_with_413(anthropic_client, limits) -> None:
    limits.anthropic_body_max_bytes = 3_000  # the body is ~4,500 bytes, ~1,900 characters
    params = {"model": MODELS[ANTHROPIC], "max_tokens": 16, "messages": [{"role": "user", "content": KOREAN * 40}]}
    with pytest.raises(anthropic.APIStatusError) as caught:
        await anthropic_client.messages.batches.create(requests=[{"custom_id": "a", "params": params}])
    assert caught.value.status_code == 413
    assert caught.value.response.json()["error"]["type"] == "request_too_large"


async def test_gemini_refuses_an_inline_body_over_the_limit(gemini_client, limits) -> None:
    item = wire_items(GEMINI, 1, repeat=40)[0]
    # UTF-8 (orjson) under the limit, as google-genai sends it (\uXXXX escapes) over it
    assert gemini_wire.wire_size(item) < 7_000 < gemini_wire.inline_size(item)
    limits.gemini_inline_max_bytes = 7_000
    with pytest.raises(genai_errors.ClientError) as caught:
        await gemini_client.aio.batches.create(model=MODELS[GEMINI], src=[gemini_adapter.to_wire(item)])
    assert caught.value.code == 400 and "payload size exceeds the limit" in (caught.value.message or "")


# --- our sizes are the bytes the SDKs send ----------------------------------------------------------


async def _sent(provider, emulator: EmulatorServer, name: ProviderName, key: str, batch: list[WireItem]):
    ref = await provider.submit(key, MODELS[name] if name is not ANTHROPIC else None, batch)
    received = last_batch(emulator, name)["wire_bytes"]
    if ref.extra.get("mode") != "inline":  # inline Gemini: the stat counts the entries, not the SDK's envelope
        assert ref.extra["wire_bytes"] == received  # the batch stat is the bytes that arrived
    return received


async def test_openai_wire_size_is_the_file_bytes(openai_client, emulator, tmp_path) -> None:
    provider = OpenAIProvider(tmp_path, client=openai_client)
    batch = wire_items(OPENAI, 7)
    assert await _sent(provider, emulator, OPENAI, "wb-o", batch) == sum(wire_size_of(OPENAI, i) for i in batch)


async def test_anthropic_wire_size_is_the_body_bytes_less_a_fixed_envelope(anthropic_client, emulator, tmp_path):
    provider = AnthropicProvider(tmp_path, client=anthropic_client)
    envelopes = []
    for n, key in ((3, "wb-a1"), (8, "wb-a2")):
        batch = wire_items(ANTHROPIC, n, prefix=f"a{n}")
        envelopes.append(
            await _sent(provider, emulator, ANTHROPIC, key, batch) - sum(wire_size_of(ANTHROPIC, i) for i in batch)
        )
    # `{"requests":[` … `]}` less the last comma, and the batch key on the first custom_id
    assert envelopes[0] == envelopes[1] == len('{"requests":[]}') - 1 + len("__wb-a1")


async def test_gemini_inline_size_is_what_google_genai_sends(gemini_client, emulator, tmp_path) -> None:
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=True)
    envelopes = []
    for n, key in ((2, "wb-g1"), (6, "wb-g2")):
        batch = wire_items(GEMINI, n, prefix=f"g{n}")
        sent = await _sent(provider, emulator, GEMINI, key, batch)
        assert last_batch(emulator, GEMINI)["requests"] == n
        envelopes.append(sent - sum(gemini_wire.inline_size(i) for i in batch))
    assert envelopes[0] == envelopes[1] and 0 < envelopes[0] < 200


async def test_gemini_file_size_is_the_planned_size(gemini_client, emulator, tmp_path) -> None:
    provider = GeminiProvider(tmp_path, client=gemini_client, inline_max_bytes=1)
    batch = wire_items(GEMINI, 5)
    assert await _sent(provider, emulator, GEMINI, "wb-gf", batch) == sum(wire_size_of(GEMINI, i) for i in batch)


def test_intake_stores_the_wire_size() -> None:
    request = parse_request(korean(OPENAI, 1)[0])
    row = request_row("abc", 0, request)
    assert row["size"] == wire_size_of(OPENAI, WireItem("abc-0", request))
    assert row["size"] > 2 * len(row["body"])  # characters would be under half of it


# --- a Korean job that characters would plan as one batch per provider ------------------------------


async def test_korean_job_is_split_on_bytes_and_every_result_comes_back(
    tmp_path, emulator, limits, openai_client, anthropic_client, gemini_client
) -> None:
    limit = 30_000  # 20 requests: ~18,500 characters, ~47,500 bytes
    limits.openai_file_max_bytes = limits.anthropic_body_max_bytes = limit
    limits.gemini_inline_max_bytes = 30_000  # 10 requests: ~23,000 bytes as UTF-8, ~43,000 as the SDK sends them
    providers = {
        OPENAI: OpenAIProvider(tmp_path / "o", client=openai_client),
        ANTHROPIC: AnthropicProvider(tmp_path / "a", client=anthropic_client),
        GEMINI: GeminiProvider(tmp_path / "g", client=gemini_client, inline=True, inline_max_bytes=30_000),
    }
    providers[OPENAI].limits = ProviderLimits(50_000, limit, True, limit)
    providers[ANTHROPIC].limits = ProviderLimits(100_000, limit - 100, False, limit - 100)
    before = {p: len(emulator.state.stats()[p.value]["batches"]) for p in providers}
    job = korean(OPENAI, 20, prefix="o") + korean(ANTHROPIC, 20, prefix="a") + korean(GEMINI, 10, prefix="g")
    assert sum(len(str(r["prompt"])) for r in job[:20]) < limit  # one batch, if sizes were characters

    async with Engine(fast_settings(tmp_path), providers=providers) as engine:
        report = await engine.submit(job)
        summary = await engine.wait(report.job_id, timeout=60)
        lines = [line async for line in engine.results(report.job_id)]

    assert summary.succeeded == 50, [line["error"] for line in lines if line["status"] != "succeeded"]
    assert sorted(line["custom_id"] for line in lines) == sorted(str(r["custom_id"]) for r in job)
    stats = emulator.state.stats()
    sent = {p: stats[p.value]["batches"][before[p] :] for p in providers}
    assert [len(sent[p]) for p in (OPENAI, ANTHROPIC, GEMINI)] == [2, 2, 1]
    assert all(b["wire_bytes"] <= limit for p in (OPENAI, ANTHROPIC) for b in sent[p])
    assert stats["gemini"]["create_metadata"] and sent[GEMINI][0]["requests"] == 10

"""Shared adapter pieces: redaction, JSONL files, the find window, build_providers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corthex.domain.batches import RemoteRef
from corthex.domain.registry import BUILTIN_NAMES
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.errors import ProviderError
from corthex.providers import (
    AnthropicProvider,
    GeminiProvider,
    OpenAIProvider,
    WireItem,
    build_providers,
)
from corthex.providers._common import (
    CLOCK_SKEW,
    check_items,
    read_jsonl,
    redact,
    window_start,
    write_jsonl,
)


@pytest.mark.parametrize(
    "secret",
    ["sk-proj-abcdefghij123", "sk-ant-api03-abcdefgh", "AIzaSyA1234567890abcdef", "Bearer abc.def"],
)
def test_redact_removes_key_shaped_tokens(secret):
    assert secret not in redact(f"failed with {secret} here")


def test_redact_bounds_length():
    assert len(redact("x" * 5000)) < 600


async def test_jsonl_round_trip_across_chunks(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"i": i} for i in range(4500)]
    size = await write_jsonl(path, iter(rows))
    assert size == path.stat().st_size
    path.write_bytes(path.read_bytes() + b"\n\n")  # trailing blank lines are skipped
    assert [row async for row in read_jsonl(path, "openai")] == rows


async def test_bad_line_raises_a_retryable_error_naming_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{oops\n')
    with pytest.raises(ProviderError) as info:
        [row async for row in read_jsonl(path, "openai")]
    assert info.value.retryable and "line 2" in str(info.value)


def test_window_start_takes_naive_times_as_utc():
    naive = datetime(2026, 11, 24, 12)
    assert window_start(naive) == datetime(2026, 11, 24, 12, tzinfo=UTC) - CLOCK_SKEW


def test_build_providers_needs_no_keys(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    providers = build_providers(tmp_path, max_retries=1, timeout=5)
    assert isinstance(providers[ProviderName.OPENAI], OpenAIProvider)
    assert isinstance(providers[ProviderName.ANTHROPIC], AnthropicProvider)
    assert isinstance(providers[ProviderName.GEMINI], GeminiProvider)
    assert {p.name for p in providers.values()} == set(BUILTIN_NAMES)


async def test_openai_without_a_key_fails_the_call(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderError) as info:
        await OpenAIProvider(tmp_path).poll(RemoteRef("batch_1"))
    assert not info.value.retryable


def wire_items(*wire_ids: str, model: str = "claude-sonnet-4-6") -> list[WireItem]:
    request = LLMRequest("q", model, ProviderName.ANTHROPIC, (Message("user", "hi"),))
    return [WireItem(w, request) for w in wire_ids]


def test_every_wire_id_must_be_provider_safe_W4():
    check_items(wire_items("a" * 64, "chain_20260224_101500_ab12cd34_spec_technical-analysis"))
    for bad in ("a" * 65, "", "has space", "dots.are.out", "슬래시"):
        with pytest.raises(ValueError, match="does not match"):
            check_items(wire_items(bad))


def test_batches_are_refused_empty_with_repeats_or_mixed_models():
    with pytest.raises(ValueError, match="at least one"):
        check_items([])
    with pytest.raises(ValueError, match="repeat"):
        check_items(wire_items("a", "a"))
    mixed = wire_items("a") + wire_items("b", model="claude-haiku-4-5")
    check_items(mixed)  # fine where models mix
    with pytest.raises(ValueError, match="batch model"):
        check_items(mixed, one_model="claude-sonnet-4-6")

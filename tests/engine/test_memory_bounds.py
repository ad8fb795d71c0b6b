"""What keeps the engine's memory flat in the size of a job (issue 18): batches collected a few at a
time however many end together, and custom_ids checked for duplicates without a set of every id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from engine_support import mixed

from corthex.domain.batches import RemoteRef
from corthex.domain.registry import BUILTIN_NAMES
from corthex.domain.results import ProviderResult
from corthex.domain.seen_ids import SeenIds
from corthex.domain.templates import RowTemplate
from corthex.engine.engine import Engine
from corthex.errors import InvalidInput
from corthex.testing import FAKE_PACE, FakeProvider, fake_providers, fast_settings


class _Counting(FakeProvider):
    """A fake whose result downloads take a moment, counting how many are read at once (shared)."""

    now = 0
    most = 0

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        _Counting.now += 1
        _Counting.most = max(_Counting.most, _Counting.now)
        try:
            await asyncio.sleep(0.05)  # the others that ended too get their chance to start
            async for row in super().results(ref, keep_raw=keep_raw):
                yield row
        finally:
            _Counting.now -= 1


@pytest.mark.parametrize("bound", [1, 2])
async def test_batches_ending_together_are_collected_a_few_at_a_time(tmp_path: Path, bound: int) -> None:
    _Counting.now = _Counting.most = 0
    fakes = {name.value: _Counting(name) for name in BUILTIN_NAMES}
    settings = fast_settings(tmp_path, collect_concurrency=bound, **FAKE_PACE)
    async with Engine(settings, providers=fake_providers(**fakes)) as engine:
        report = await engine.submit(mixed(20))
        summary = await engine.wait(report.job_id, timeout=60)
        batches = await engine.batches(report.job_id)
        lines = [line async for line in engine.results(report.job_id)]
    assert len(batches) == 5  # two OpenAI models, Anthropic, two Gemini models: all end at the first poll
    assert _Counting.most == bound
    assert summary.succeeded == 20 and sorted(line["custom_id"] for line in lines) == sorted(f"q{i}" for i in range(20))


def test_seen_ids_name_the_first_line_of_an_id_and_grow() -> None:
    seen = SeenIds(capacity=4)
    ids = [f"리뷰-{i}" for i in range(5000)]
    assert all(seen.first(custom_id, n) is None for n, custom_id in enumerate(ids, start=1))
    assert len(seen) == 5000
    assert seen.first("리뷰-0", 9000) == 1 and seen.first("리뷰-4999", 9001) == 5000
    assert seen.first("리뷰-5000", 9002) is None and len(seen) == 5001


async def test_a_duplicate_custom_id_names_both_lines(engine: Engine, tmp_path: Path) -> None:
    lines = [{"custom_id": f"요청-{i}", "model": "gpt-5-mini", "prompt": f"질문 {i}"} for i in range(6)]
    lines[4]["custom_id"] = "요청-1"
    path = tmp_path / "twice.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    with pytest.raises(InvalidInput, match="line 5, field 'custom_id': duplicate custom_id '요청-1', first on line 2"):
        await engine.submit_file(path)
    with pytest.raises(InvalidInput, match="item 5, field 'custom_id': duplicate custom_id '요청-1', first on item 2"):
        await engine.submit(lines)
    rows = [{"id": line["custom_id"], "text": line["prompt"]} for line in lines]
    with pytest.raises(InvalidInput, match="row 5, field 'custom_id': duplicate custom_id '요청-1', first on row 2"):
        await engine.submit_table(rows, RowTemplate("gpt-5-mini", "분류: {text}", id_column="id"))
    assert await engine.jobs() == []
    report = await engine.submit_file(path, skip_invalid=True)  # the second line with the id is left out
    assert report.total == 5 and [(p.line, p.field) for p in report.skipped] == [(5, "custom_id")]
    await engine.wait(report.job_id, timeout=60)
    stored = [line["custom_id"] async for line in engine.results(report.job_id)]
    assert stored == ["요청-0", "요청-1", "요청-2", "요청-3", "요청-5"]

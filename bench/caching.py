"""Benchmark: batch-aware prompt caching (issue 17). The same 1,000-request job sharing a
5,000-token system prompt (Korean and English), run through the engine against the in-process
emulator (speed 0), priced at batch rates:

- Anthropic (claude-sonnet-4-6): no cache markers; markers without priming (the batch's requests
  run concurrently, so every one writes the cache and none reads it: the 0% hits users report);
  markers with batch-aware caching (a priming batch of one request, then the other 999 read it);
- OpenAI (gpt-5-mini): no markers; markers (a derived `prompt_cache_key`, one batch per prefix).

The emulator's Anthropic batches run every request at once here (`anthropic_cache_concurrency`
1,000): the pessimistic end of Anthropic's "30% to 98%" best-effort hit rates. OpenAI's emulated
cache is read by every request after the first (its batch cache is best-effort too: UNVERIFIED).

    .venv/bin/python bench/caching.py [--requests 1000] [--system-tokens 5000]

Not a test: run it on demand (about a minute). Writes bench/out/caching.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _bench import print_table, save

from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.testing import emulated, fast_settings, point_sdks_at

SENTENCE = "계약서의 위험 조항을 찾아 근거와 함께 설명한다. Find each risky clause and explain why. "
ARMS: tuple[tuple[str, str, bool, bool], ...] = (
    # (name, model, cache markers, priming)
    ("anthropic, no markers", "claude-sonnet-4-6", False, False),
    ("anthropic, markers only", "claude-sonnet-4-6", True, False),
    ("anthropic, batch-aware", "claude-sonnet-4-6", True, True),
    ("openai, no markers (automatic caching)", "gpt-5-mini", False, False),
    ("openai, markers (prompt_cache_key)", "gpt-5-mini", True, True),
)


def system_prompt(tokens: int, arm: str) -> str:
    """~`tokens` tokens as the emulator counts them (1.3 a word); each arm its own text, so no
    arm reads another's cache."""
    words = len(SENTENCE.split())
    return f"[{arm}] " + SENTENCE * round(tokens / 1.3 / words)


def job(n: int, model: str, system: str, cache: bool) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"계약-{i}",
            "model": model,
            "system": system,
            "cache_system": cache,
            "prompt": f"{i}번 계약서를 검토하라. Review contract #{i}.",
            "max_output_tokens": 64,
        }
        for i in range(n)
    ]


async def run_arm(tmp: Path, emulator: EmulatorServer, arm: tuple[str, str, bool, bool], args: Any) -> dict[str, Any]:
    name, model, cache, priming = arm
    before = {p: len(emulator.state.counters.batches[p]) for p in ("anthropic", "openai")}
    folder = tmp / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    folder.mkdir()
    settings = fast_settings(folder, cache_priming=priming)
    async with Engine(settings) as engine:
        started = time.perf_counter()
        report = await engine.submit(job(args.requests, model, system_prompt(args.system_tokens, name), cache))
        summary = await engine.wait(report.job_id, timeout=600)
        wall = time.perf_counter() - started
        usages = [line["usage"] async for line in engine.results(report.job_id)]
    provider = "anthropic" if model.startswith("claude") else "openai"
    batches = [b["requests"] for b in list(emulator.state.counters.batches[provider])[before[provider] :]]
    return {
        "arm": name,
        "model": model,
        "requests": summary.total,
        "succeeded": summary.succeeded,
        "batches": batches,
        "input_tokens": sum(u["input_tokens"] for u in usages),
        "cache_read_tokens": sum(u["cached_tokens"] for u in usages),
        "cache_write_tokens": sum(u["cache_write_tokens"] for u in usages),
        "hit_rate": round(sum(1 for u in usages if u["cached_tokens"]) / max(len(usages), 1), 4),
        "cost_usd": round(summary.cost_usd, 4),
        "cache_saving_usd": round(summary.cache_saving_usd, 4),
        "wall_s": round(wall, 1),
    }


async def main(args: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="corthex-caching-") as folder, emulated(0) as emulator:
        point_sdks_at(emulator, os.environ.__setitem__)
        emulator.config.anthropic_cache_concurrency = args.requests  # the whole batch at once
        rows = [await run_arm(Path(folder), emulator, arm, args) for arm in ARMS]
    base = {row["model"]: row["cost_usd"] for row in rows if "no markers" in row["arm"]}
    for row in rows:
        row["vs_no_caching"] = round(row["cost_usd"] / base[row["model"]], 4) if base[row["model"]] else None
    print_table(
        f"caching: {args.requests} requests sharing a {args.system_tokens}-token system prompt (batch prices, USD)",
        [
            (
                row["arm"],
                f"cost ${row['cost_usd']:.4f} ({row['vs_no_caching']:.0%} of no markers), saved "
                f"${row['cache_saving_usd']:.4f}, hits {row['hit_rate']:.1%}, batches {row['batches']}, "
                f"{row['wall_s']} s",
            )
            for row in rows
        ],
    )
    load = os.getloadavg()
    path = save("caching", {"requests": args.requests, "system_tokens": args.system_tokens, "load": load, "arms": rows})
    print(f"\nload {load[0]:.2f}; written to {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--system-tokens", type=int, default=5000)
    asyncio.run(main(parser.parse_args()))

"""Benchmark: a Korean job (default 10,000 requests over OpenAI, Anthropic and Gemini) planned on
wire bytes, against the emulator enforcing the byte limits (issue 11 item 1).

Hangul is 3 bytes a character in UTF-8 and 6 in google-genai's inline JSON, so a job sized in
characters passes every limit on paper and is refused at the wire. This runs the engine in this
process against the emulator (speed 0) with every limit scaled by --scale (so a few thousand
requests cross them cheaply), checks that every result comes back, and prints, per provider, the
batches, the largest batch's bytes against its limit, and what a character count would have said.

    .venv/bin/python bench/korean_wire.py [--requests 10000] [--chars 1500] [--scale 0.01]

Not a test: run it on demand. Writes bench/out/korean_wire.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _bench import Emulator, print_table, save, sdk_env

from corthex import Engine, Settings
from corthex.domain import limits as L
from corthex.domain.requests import ProviderName

MODELS = ("gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash", "gpt-5-nano", "claude-sonnet-4-6", "gemini-2.5-pro")
TEXT = "한국어 배치 요청입니다. 크기는 바이트로 셉니다. "  # Hangul, spaces and punctuation


def korean_job(n: int, chars: int) -> list[dict[str, Any]]:
    body = (TEXT * (chars // len(TEXT) + 1))[:chars]
    return [
        {"custom_id": f"k{i}", "model": MODELS[i % len(MODELS)], "prompt": f"{i}: {body}", "max_output_tokens": 64}
        for i in range(n)
    ]


def scaled_limits(scale: float) -> dict[str, int]:
    return {
        "openai": int(L.OPENAI_FILE_MAX_BYTES * scale),
        "anthropic": int(L.ANTHROPIC_BODY_MAX_BYTES * scale),
        "gemini_inline": int(L.GEMINI_INLINE_BODY_MAX_BYTES * scale),
        "gemini_file": int(L.GEMINI_FILE_MAX_BYTES * scale),
    }


def configure(engine: Engine, limits: dict[str, int]) -> None:
    """Plan on the scaled limits, keeping each provider's envelope margin as it is."""
    providers = engine._ctx.providers
    margin = L.ENVELOPE_MARGIN
    for name, size in ((ProviderName.OPENAI, limits["openai"]), (ProviderName.GEMINI, limits["gemini_file"])):
        providers[name].limits = replace(L.LIMITS[name], max_bytes=size, max_request_bytes=size)
    anthropic = limits["anthropic"] - margin
    providers[ProviderName.ANTHROPIC].limits = replace(
        L.LIMITS[ProviderName.ANTHROPIC], max_bytes=anthropic, max_request_bytes=anthropic
    )
    providers[ProviderName.GEMINI]._inline_max_bytes = limits["gemini_inline"] - margin  # type: ignore[attr-defined]


async def run_job(tmp: Path, job: list[dict[str, Any]], limits: dict[str, int]) -> dict[str, Any]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", data_dir=tmp / "data", poll_initial=0.2, poll_max=1.0
    )
    async with Engine(settings) as engine:
        configure(engine, limits)
        started = time.perf_counter()
        report = await engine.submit(job)
        summary = await engine.wait(report.job_id, timeout=1800)
        wall = time.perf_counter() - started
        lines = [line async for line in engine.results(report.job_id)]
        batches = await engine.batches(report.job_id)
    modes = [b.remote.extra.get("mode") for b in batches if b.remote and b.provider is ProviderName.GEMINI]
    return {
        "wall_s": round(wall, 1),
        "succeeded": summary.succeeded,
        "results": len(lines),
        "all_back": sorted(line["custom_id"] for line in lines) == sorted(r["custom_id"] for r in job),
        "gemini_modes": {mode: modes.count(mode) for mode in set(modes)},
    }


def per_provider(stats: dict[str, Any], job: list[dict[str, Any]], limits: dict[str, int]) -> dict[str, Any]:
    chars = {p: sum(len(r["prompt"]) for r in job if r["model"].startswith(k)) for p, k in PREFIX.items()}
    out = {}
    for provider, limit in (("openai", limits["openai"]), ("anthropic", limits["anthropic"])):
        out[provider] = _batches(stats[provider]["batches"], limit, chars[provider])
    out["gemini"] = _batches(stats["gemini"]["batches"], limits["gemini_file"], chars["gemini"])
    out["gemini"]["inline_limit"] = limits["gemini_inline"]
    return out


PREFIX = {"openai": "gpt", "anthropic": "claude", "gemini": "gemini"}


def _batches(entries: list[dict[str, Any]], limit: int, chars: int) -> dict[str, Any]:
    sizes = [int(e["wire_bytes"]) for e in entries]
    return {
        "batches": len(entries),
        "requests": sum(int(e["requests"]) for e in entries),
        "wire_bytes": sum(sizes),
        "largest_batch_bytes": max(sizes, default=0),
        "limit_bytes": limit,
        "largest_vs_limit": round(max(sizes, default=0) / limit, 3),
        "prompt_characters": chars,  # what a character count would have compared with the limit
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--chars", type=int, default=1500, help="characters of Korean per prompt")
    parser.add_argument("--scale", type=float, default=0.01, help="every byte limit times this")
    args = parser.parse_args()
    limits = scaled_limits(args.scale)
    job = korean_job(args.requests, args.chars)
    with tempfile.TemporaryDirectory() as tmp, Emulator(0) as emulator:
        os.environ.update(sdk_env(emulator.url))
        emulator.post(
            "/_emulator/config",
            {
                "openai_file_max_bytes": limits["openai"],
                "anthropic_body_max_bytes": limits["anthropic"],
                "gemini_inline_max_bytes": limits["gemini_inline"],
            },
        )
        result = asyncio.run(run_job(Path(tmp), job, limits))
        result["providers"] = per_provider(emulator.get("/_emulator/stats"), job, limits)
    result.update(requests=args.requests, chars_per_prompt=args.chars, limit_scale=args.scale)
    rows: list[tuple[str, Any]] = [(k, v) for k, v in result.items() if k != "providers"]
    for provider, figures in result["providers"].items():
        rows += [(f"{provider}.{k}", v) for k, v in figures.items()]
    print_table(f"Korean job on wire bytes: {args.requests} requests", rows)
    print(f"\nwritten to {save('korean_wire', result)}")


if __name__ == "__main__":
    main()

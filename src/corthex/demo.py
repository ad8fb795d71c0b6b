"""`corthex demo`: the emulator, a sample job across the three providers, followed to the end."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import orjson
from rich.console import Console

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.progress import JobProgress, summary_table

SAMPLE_MODELS = (
    "gpt-5-mini",
    "gpt-5-nano",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
)
TOPICS = (
    "semiconductor demand",
    "battery supply chains",
    "cloud pricing",
    "retail foot traffic",
    "shipping rates",
    "consumer sentiment",
    "chip export rules",
    "data-centre power",
)


def sample_requests(per_provider: int) -> list[dict[str, object]]:
    """Requests spread evenly over two models of each provider."""
    lines = []
    for i in range(per_provider * 3):
        model = SAMPLE_MODELS[i % len(SAMPLE_MODELS)]
        topic = TOPICS[i % len(TOPICS)]
        lines.append(
            {
                "custom_id": f"demo-{i:04d}",
                "model": model,
                "max_output_tokens": 256,
                "system": "You are a concise analyst.",
                "prompt": f"In two sentences, what moves {topic} next quarter? (item {i})",
            }
        )
    return lines


def run_demo(console: Console, per_provider: int = 20) -> None:
    from corthex.emulator import EmulatorConfig, EmulatorServer

    data_dir = Path(".corthex")
    data_dir.mkdir(exist_ok=True)
    with EmulatorServer(EmulatorConfig()) as emulator:
        os.environ.update(emulator.env())
        console.print(f"emulator serving OpenAI, Anthropic and Gemini at {emulator.url}", highlight=False)
        path = data_dir / "demo-requests.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in sample_requests(per_provider)))
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{data_dir / 'demo.db'}",
            data_dir=data_dir,
            poll_initial=0.3,
            poll_max=2.0,
        )
        asyncio.run(_run_job(console, settings, path))


async def _run_job(console: Console, settings: Settings, path: Path) -> None:
    async with Engine(settings) as engine:
        report = await engine.submit_file(path)
        console.print(f"job {report.job_id}: {report.total} requests over 3 providers, 6 models", highlight=False)
        with JobProgress(console) as progress:
            summary = await engine.wait(report.job_id, on_progress=progress.update)
        console.print(summary_table(summary))
        batches = await engine.batches(report.job_id)
        console.print(
            f"{len(batches)} provider batches; results: corthex results {report.job_id} "
            f"(with CORTHEX_DATABASE_URL={settings.database_url})",
            highlight=False,
        )

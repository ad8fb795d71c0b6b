"""`corthex demo`: the emulator, the server (dashboard, API, worker), a sample job across the
three providers and a delegation chain, shown in the terminal while the dashboard shows them too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape

from corthex.config import Settings
from corthex.domain.describe import describe
from corthex.domain.events import ChainDone, Event
from corthex.domain.org import Org
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
DEMO_COMMAND = "Analyse Samsung Electronics' stock outlook for next quarter"
WATCH_INTERVAL = 0.25  # seconds between progress reads: the server's worker does the work
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


#: the platforms beside the three, each served by the emulator: an OpenAI-compatible server shipped
#: as configuration, Mistral by its model's name, Azure OpenAI by the line's provider (its deployment
#: below)
PLATFORM_SAMPLES = {
    "groq": {"provider": "groq", "model": "llama-3.3-70b-versatile"},
    "mistral": {"model": "mistral-small-latest"},
    "azure": {"provider": "azure", "model": "gpt-5-mini"},
}
#: the platforms whose jobs live in object storage: in the demo when its local store runs (the
#: variable the emulator's environment then sets)
STORED_SAMPLES = {
    "vertex": ("STORAGE_EMULATOR_HOST", {"provider": "vertex", "model": "gemini-2.5-flash"}),
    "bedrock": ("CORTHEX_BEDROCK_S3_URI", {"provider": "bedrock", "model": "claude-haiku-4-5"}),
}
DEMO_AZURE_DEPLOYMENTS = '{"gpt-5-mini": "gpt-5-mini-batch"}'


def sample_requests(per_provider: int, stored: Sequence[str] = ()) -> list[dict[str, object]]:
    """Requests spread evenly over two models of each provider, and a few for each platform."""
    lines: list[dict[str, object]] = []
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
    samples = PLATFORM_SAMPLES | {name: STORED_SAMPLES[name][1] for name in stored}
    for name, sample in samples.items():
        for i in range(max(1, per_provider // 4)):
            prompt = f"In two sentences, what moves {TOPICS[i % len(TOPICS)]} next quarter? ({name} item {i})"
            lines.append({"custom_id": f"demo-{name}-{i:04d}", **sample, "max_output_tokens": 256, "prompt": prompt})
    return lines


def run_demo(
    console: Console, per_provider: int = 20, *, host: str = "127.0.0.1", port: int = 8000, exit_after: bool = False
) -> None:
    from corthex.emulator import EmulatorConfig, EmulatorServer
    from corthex.emulator.server import start_object_stores

    data_dir = Path(".corthex")
    data_dir.mkdir(exist_ok=True)
    with contextlib.ExitStack() as stack:
        gcs_url, s3_url = start_object_stores(stack)  # Vertex AI's and Bedrock's storage, when installed
        emulator = stack.enter_context(EmulatorServer(EmulatorConfig(gcs_url=gcs_url, s3_endpoint=s3_url)))
        os.environ.update(emulator.env())  # the SDKs read their base URLs and keys from here
        os.environ.setdefault("CORTHEX_AZURE_DEPLOYMENTS", DEMO_AZURE_DEPLOYMENTS)
        platforms = [name for name, url in (("Vertex AI", gcs_url), ("Amazon Bedrock", s3_url)) if url]
        served = ", ".join(["OpenAI, Anthropic, Gemini, Groq, Mistral, Azure OpenAI", *platforms])
        console.print(f"emulator serving {served} at {emulator.url}", highlight=False)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{data_dir / 'demo.db'}",
            data_dir=data_dir,
            archive_dir=data_dir / "archive",
            poll_initial=0.3,
            poll_max=2.0,
            idle_recheck=1.0,
        )
        asyncio.run(_run(console, settings, per_provider, host, port, exit_after))


async def _run(console: Console, settings: Settings, per_provider: int, host: str, port: int, exit_after: bool) -> None:
    from corthex.api.app import create_app
    from corthex.api.server import InProcessServer, free_port

    engines: list[Engine] = []

    @asynccontextmanager
    async def keep_engine(s: Settings) -> AsyncIterator[Engine]:
        async with Engine(s) as engine:  # the server's own engine: the demo submits through it
            engines.append(engine)
            yield engine

    app = create_app(settings, engine_factory=keep_engine)
    async with InProcessServer(app, host, free_port(host, port)) as server:
        console.print(f"[bold]dashboard: {server.url}/[/bold]   API docs: {server.url}/docs", highlight=False)
        if not await server.alongside(_samples(console, engines[0], per_provider)) or exit_after:
            return
        console.print(f"serving at {server.url}/ — press Ctrl-C to stop", highlight=False)
        await server.wait()


async def _samples(console: Console, engine: Engine, per_provider: int) -> None:
    await _sample_job(console, engine, per_provider)
    await _sample_chain(console, engine)


async def _sample_job(console: Console, engine: Engine, per_provider: int) -> None:
    stored = [name for name, (variable, _) in STORED_SAMPLES.items() if os.environ.get(variable)]
    lines = sample_requests(per_provider, stored)
    report = await engine.submit(lines, source="api", label="demo")
    providers = 3 + len(PLATFORM_SAMPLES) + len(stored)
    console.print(f"job {report.job_id}: {report.total} requests over {providers} providers", highlight=False)
    with JobProgress(console) as progress:
        while True:
            summary = await engine.status(report.job_id)
            progress.update(summary)
            if summary.status.is_final and summary.completed_at is not None:
                break
            await asyncio.sleep(WATCH_INTERVAL)
    console.print(summary_table(summary))
    batches = await engine.batches(report.job_id)
    console.print(f"{len(batches)} provider batches; results: GET /jobs/{report.job_id}/results", highlight=False)


async def _sample_chain(console: Console, engine: Engine) -> None:
    started = time.monotonic()
    finished: set[str] = set()
    news = asyncio.Event()

    def on_event(event: Event) -> None:
        _show(console, event, started, engine.org)
        if isinstance(event, ChainDone):
            finished.add(event.chain_id)
            news.set()

    unsubscribe = engine.bus.subscribe(on_event)
    try:
        chain = await engine.start_chain(DEMO_COMMAND, origin="cli")
        while chain.id not in finished:
            await news.wait()
            news.clear()
    finally:
        unsubscribe()
    chain = await engine.chain(chain.id)
    console.rule(f"report of chain {chain.id} ({chain.status.value})")
    console.print(Markdown(chain.report or "(no report)"))
    cost, realtime_cost = await engine.chain_cost(chain.id)
    saving = realtime_cost - cost
    console.rule()
    console.print(f"cost ${cost:.6f} — at realtime prices ${realtime_cost:.6f} — saving ${saving:.6f}", highlight=False)


def _show(console: Console, event: Event, started: float, org: Org) -> None:
    line = describe(event, org)
    if line:
        console.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {escape(line)}", highlight=False)

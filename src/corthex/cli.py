"""The `corthex` command line: a thin, synchronous edge over the async engine."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from corthex.config import load_settings
from corthex.domain.jobs import JobStatus, JobSummary
from corthex.engine.engine import Engine
from corthex.errors import CorthexError, InvalidInput, JobFinished
from corthex.progress import JobProgress, summary_table
from corthex.redaction import install_log_redaction

app = typer.Typer(
    help="CORTHEX Batch: LLM work through the OpenAI, Anthropic and Gemini Batch APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(help="The durable queue: add files now, send them together later.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("CORTHEX_LOG_LEVEL", "WARNING"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_redaction()  # every command's log lines, at any level, carry no key
    app()


def _run(factory: Callable[[Engine], Awaitable[T]]) -> T:
    """Run one engine operation; user errors become a message and exit code 2."""

    async def go() -> T:
        async with Engine(load_settings()) as engine:
            return await factory(engine)

    try:
        return asyncio.run(go())
    except InvalidInput as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except CorthexError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSONL file of requests")]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="The file's encoding when it is not UTF-8 (e.g. cp949, utf-16)")
]


@app.command()
def submit(
    file: FileArg,
    wait: Annotated[bool, typer.Option("--wait", help="Stay until every request has its result")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="With --wait: write results (JSONL) here")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Submit the valid lines, report the rest")
    ] = False,
    encoding: EncodingOpt = None,
) -> None:
    """Validate FILE, record it as a job and send its batches."""

    async def go(engine: Engine) -> None:
        report = await engine.submit_file(file, skip_invalid=skip_invalid, encoding=encoding)
        _report_skipped(report.skipped, report.warnings)
        console.print(f"job [bold]{report.job_id}[/bold]: {report.total} requests", highlight=False)
        if not wait:
            await engine.step()  # create the batches now; any worker or later command collects
            console.print(f"follow it with: corthex status {report.job_id}", highlight=False)
            return
        summary = await _wait_with_progress(engine, report.job_id)
        console.print(summary_table(summary))
        _emulator_badge(engine)
        if out is not None:
            count = await _write_results(engine, report.job_id, out)
            console.print(f"{count} results written to {out}", highlight=False)

    _run(go)


def _emulator_badge(engine: Engine) -> None:
    """Say so when answers came from the emulator, so that they are never taken for real ones."""
    emulated = sorted(name for name, yes in engine.emulated_providers().items() if yes)
    if emulated:
        console.print(f"[reverse] EMULATOR [/reverse] answers from the CORTHEX emulator: {', '.join(emulated)}")


async def _wait_with_progress(engine: Engine, job_id: str) -> JobSummary:
    with JobProgress(console) as progress:
        return await engine.wait(job_id, on_progress=progress.update)


async def _write_results(engine: Engine, job_id: str, out: Path) -> int:
    count = 0
    with out.open("wb") as fh:
        async for line in engine.results(job_id):
            fh.write(orjson.dumps(line) + b"\n")
            count += 1
    return count


def _report_skipped(problems: list[Any], warnings: Sequence[str] = ()) -> None:
    for problem in problems:
        err.print(f"skipped {problem}", highlight=False)
    if problems:
        err.print(f"{len(problems)} invalid line(s) skipped", highlight=False)
    for warning in warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)


@app.command()
def status(job_id: Annotated[str | None, typer.Argument(help="A job id; all recent jobs when omitted")] = None) -> None:
    """Show one job in detail, or the recent jobs. A read: it first polls the batches that are due
    and collects the finished ones (so the counts are fresh without a worker), but never sends the
    queue, creates or retries a batch, or advances a chain; `corthex worker` does those."""

    async def go(engine: Engine) -> None:
        await engine.catch_up()
        if job_id is None:
            console.print(_jobs_table(await engine.jobs()))
            return
        summary = await engine.status(job_id)
        console.print(summary_table(summary))
        console.print(_batches_table(await engine.batches(job_id)))

    _run(go)


@app.command()
def results(
    job_id: str,
    out: Annotated[Path | None, typer.Option("--out", help="Write JSONL here instead of stdout")] = None,
) -> None:
    """Write a job's results, one JSON line per request, in input order."""

    async def go(engine: Engine) -> None:
        await engine.step()
        if out is not None:
            count = await _write_results(engine, job_id, out)
            summary = await engine.status(job_id)
            err.print(f"{count} of {summary.total} results written to {out}", highlight=False)
            return
        async for line in engine.results(job_id):
            sys.stdout.buffer.write(orjson.dumps(line) + b"\n")

    _run(go)


@app.command()
def cancel(job_id: str) -> None:
    """Cancel a job: unsent requests are canceled, its batches stopped; results in are kept."""

    async def go(engine: Engine) -> None:
        try:
            summary = await engine.cancel(job_id)
        except JobFinished as exc:  # not a failure: the job is as the user wants it, ended
            console.print(str(exc), highlight=False)
            return
        console.print(f"job {job_id}: {summary.status.value}", highlight=False)

    _run(go)


@queue_app.command("add")
def queue_add(
    file: FileArg,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
    encoding: EncodingOpt = None,
) -> None:
    """Validate FILE and put its requests in the queue (sent by `corthex flush` or automatically)."""

    async def go(engine: Engine) -> None:
        report = await engine.submit_file(file, skip_invalid=skip_invalid, queue=True, encoding=encoding)
        _report_skipped(report.skipped, report.warnings)
        queue = await engine.queue_stats()
        console.print(
            f"job [bold]{report.job_id}[/bold]: {report.total} requests queued ({queue.requests} in the queue)",
            highlight=False,
        )

    _run(go)


@queue_app.command("list")
def queue_list() -> None:
    """List the jobs waiting in the queue."""

    async def go(engine: Engine) -> None:
        queued = await engine.jobs(status=JobStatus.QUEUED, limit=1000)
        queue = await engine.queue_stats()
        console.print(_jobs_table(queued, title=f"queue: {queue.requests} requests"))

    _run(go)


@app.command()
def flush() -> None:
    """Send everything in the queue now: one batch per provider (and model where needed)."""

    async def go(engine: Engine) -> None:
        released = await engine.flush()
        await engine.step()
        console.print(f"{released} requests sent", highlight=False)

    _run(go)


class _RunByDefault(TyperGroup):
    """`corthex chain "the command"` is `corthex chain run "the command"`: a first word that is no
    sub-command (nor --help) goes to `run`, so `corthex chain run list` is how a chain whose
    command is "list" runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.subcommand_metavar = '"THE COMMAND" | COMMAND [ARGS]...'

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # (typer keeps its own copy of click; its base `Context` is private, `typer.Context` is what runs here)
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


chain_app = typer.Typer(
    cls=_RunByDefault,
    help="""The delegation chain: classify, delegate, specialists, synthesis, delivery.
    `corthex chain "the command"` runs one (as `corthex chain run`).""",
    no_args_is_help=True,
)
app.add_typer(chain_app, name="chain")


@chain_app.command("run", context_settings={"allow_interspersed_args": True})
def chain_run(
    words: Annotated[list[str], typer.Argument(help='The command, e.g. "삼성전자 주가 분석" (words are joined)')],
    broadcast: Annotated[bool, typer.Option("--broadcast", help="Run every department")] = False,
    realtime: Annotated[bool, typer.Option("--realtime", help="Use the realtime APIs (urgent)")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the chain live and print the report")] = False,
) -> None:
    """Run a command through the delegation chain (the default: `corthex chain "…"` is the same)."""
    from corthex import chain_cli

    command = " ".join(words)
    _run(chain_cli.run_chain(console, command, broadcast=broadcast, realtime=realtime, wait=wait))


@chain_app.command("list")
def chain_list() -> None:
    """List the chains: status, step, mode, departments, route, cost and command."""
    from corthex import chain_cli

    _run(chain_cli.list_chains(console))


@chain_app.command("show")
def chain_show(chain_id: Annotated[str, typer.Argument(help="A chain id (ch_…)")]) -> None:
    """Show one chain: its steps with their batches, results and costs, then the report."""
    from corthex import chain_cli

    _run(chain_cli.show_chain(console, chain_id))


@app.command()
def worker() -> None:
    """Poll, collect, retry and flush until interrupted (any number may share a database)."""

    async def go(engine: Engine) -> None:
        stop = asyncio.Event()

        def stopping() -> None:
            stop.set()
            engine.wake()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # finish the step in hand, release leases, exit
            loop.add_signal_handler(signum, stopping)
        err.print(f"worker {engine.worker_id} on {_safe_url(engine.settings.database_url)}", highlight=False)
        await engine.run(stop)
        err.print("worker stopped", highlight=False)

    try:
        _run(go)
    except KeyboardInterrupt:
        err.print("worker stopped")


@app.command()
def emulator(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = 8765,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    speed: Annotated[float, typer.Option("--speed", help="Multiplies every processing time")] = 1.0,
) -> None:
    """Serve the OpenAI, Anthropic and Gemini Batch APIs locally and print the variables that
    point the SDKs at them."""
    import uvicorn

    from corthex.emulator import EmulatorConfig, create_app

    for key, value in sdk_env(f"http://{host}:{port}").items():
        print(f"export {key}={value}")
    sys.stdout.flush()
    uvicorn.run(create_app(EmulatorConfig(speed=speed)), host=host, port=port, log_level="warning")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on")] = 8000,
) -> None:
    """Serve the REST API (/docs), the WebSocket (/ws) and the dashboard (/), and run the worker
    (poller, dispatcher, chains) and the Telegram bot when TELEGRAM_BOT_TOKEN is set."""
    from corthex.api.server import serve as run_server
    from corthex.providers import check_base_urls

    try:  # a bad setting stops the server here, in one line, not in a traceback from its start-up
        settings = load_settings()
        check_base_urls(os.environ)
    except CorthexError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    err.print(f"CORTHEX Batch on http://{host}:{port}/ (API docs at /docs)", highlight=False)
    run_server(settings, host, port)


@app.command()
def demo(
    requests_per_provider: Annotated[int, typer.Option("--requests", help="Requests per provider")] = 20,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Preferred port; any free one if taken")] = 8000,
    exit_after: Annotated[bool, typer.Option("--exit", help="Exit once the job and the chain are done")] = False,
) -> None:
    """Start the emulator and the server (dashboard, API, worker), run a sample job across the
    three providers and a delegation chain, show them here, then keep serving until Ctrl-C."""
    from corthex.demo import run_demo

    try:
        run_demo(console, requests_per_provider, host=host, port=port, exit_after=exit_after)
    except KeyboardInterrupt:
        err.print("demo stopped")


def sdk_env(base_url: str) -> dict[str, str]:
    """The variables that point the official SDKs at an emulator on `base_url` (dummy keys)."""
    return {
        "OPENAI_BASE_URL": f"{base_url}/openai/v1",
        "OPENAI_API_KEY": "emulator-openai-key",
        "ANTHROPIC_BASE_URL": f"{base_url}/anthropic",
        "ANTHROPIC_API_KEY": "emulator-anthropic-key",
        "GOOGLE_GEMINI_BASE_URL": f"{base_url}/gemini",
        "GEMINI_API_KEY": "emulator-gemini-key",
    }


def _jobs_table(jobs: list[JobSummary], title: str = "jobs") -> Table:
    table = Table(title=title)
    for column in ("job", "status", "source", "requests", "done", "failed", "cut", "cost $", "label"):
        table.add_column(column)
    for job in jobs:
        table.add_row(
            job.id,
            job.status.value,
            job.source,
            str(job.total),
            str(job.finished),
            str(job.failed),
            str(job.cut),
            f"{job.cost_usd:.6f}",
            job.label or "",
        )
    return table


def _batches_table(batches: list[Any]) -> Table:
    table = Table(title="batches")
    for column in ("batch", "provider", "model", "status", "remote", "requests", "polls", "error"):
        table.add_column(column)
    for b in batches:
        table.add_row(
            b.id,
            b.provider.value,
            b.model or "(mixed)",
            b.raw_status or b.status.value,
            b.remote.remote_id if b.remote else "",
            str(b.request_count),
            str(b.poll_count),
            (b.error or "")[:60],
        )
    return table


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

"""The `corthex` command line: a thin, synchronous edge over the async engine."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup, TyperOption

from corthex.domain.jobs import JobStatus, JobSummary
from corthex.domain.results import RETRY_BY_DEFAULT, ResultStatus, retry_statuses
from corthex.domain.templates import RowTemplate, is_table
from corthex.errors import CorthexError, JobFinished, UsageError
from corthex.phases import install_from_env, mark
from corthex.progress import JobProgress, summary_table
from corthex.redaction import install_log_redaction

if TYPE_CHECKING:
    from corthex.config import Settings
    from corthex.engine.engine import BatchRow, DoctorReport, Engine, ProvidersReport

# The engine and the settings (SQLAlchemy, Alembic, pydantic-settings) are imported by the
# commands that use them, not here: `corthex --help` stays light. The SDKs load later still,
# one provider's when its adapter is first built (corthex.providers).

#: Exit codes (README "Exit codes"): what a script can tell apart without reading the output.
EXIT_OK = 0  #: every request succeeded (or the command did what it says)
EXIT_ERROR = 1  #: anything unexpected (a traceback)
EXIT_REFUSED = 2  #: refused before anything was sent: bad input, an unknown id, a bad setting
EXIT_NOT_ALL_SUCCEEDED = 3  #: the job ended with failed, expired or canceled requests
EXIT_RUNNING = 4  #: the job is still running (`results` without --wait): what is written is partial
EXIT_CODES = (
    "Exit codes: 0 every request succeeded; 3 the job ended with failed, expired or canceled requests; "
    "4 the job is still running (results without --wait); 2 refused before anything was sent "
    "(bad input, unknown id, bad setting); 1 any other error."
)


def _flags_without_a_value() -> None:
    """Typer 0.29's rich help shows every flag, --help too, with a `<bool>` value it does not
    take (`TyperOption.display_type_rich` returns the type of any option): a flag shows none."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    setattr(TyperOption, "display_type_rich", display_type_rich)  # noqa: B010 - a method of a class we do not own


_flags_without_a_value()

app = typer.Typer(
    help="CORTHEX Batch: LLM work through the OpenAI, Anthropic and Gemini Batch APIs.",
    epilog=EXIT_CODES,
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
    install_from_env()
    mark("imported")
    app()


#: The cyclic garbage collector's thresholds in a command's process. Python's (700, 10, 10) ran
#: some 800 collections in a 10,000-request `submit --wait` (the SDKs' imports, validation and
#: collection allocate millions of objects, nearly all freed by reference counting): 0.8 s of its
#: 6.8 s of CPU. These run about ten (0.2 s); cycles are still collected, only in larger rounds.
GC_THRESHOLDS = (50_000, 20, 20)

#: seconds a thread still running at exit is waited for before the normal, slow exit is taken
THREAD_GRACE = 1.0


def run() -> NoReturn:
    """The `corthex` command's entry (its console script, `python -m corthex`): `main`, then
    leave the process without the interpreter's teardown (`_leave`). `main` itself ends in a
    SystemExit, for a caller in the same process."""
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        main()
    except SystemExit as exc:
        _leave(exc)
    _leave(SystemExit(0))


def _leave(exc: SystemExit) -> NoReturn:
    """Exit with `exc`'s status, without the interpreter's teardown: freeing every module object
    by object (the SDKs' thousands of classes and schemas) took 1 to 2 s of CPU after the results
    were written (the "exit" phase of bench/peers.py's timeline). What that teardown did that
    matters is done first: the atexit handlers (logging's flush, temporary directories) and the
    standard streams' flush. Threads still finishing (a closed database connection's worker) are
    waited for a moment; one that goes on (never stopped) gets the normal exit, which waits for it."""
    main_thread = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main_thread and not thread.daemon:
            thread.join(timeout=THREAD_GRACE)
            if thread.is_alive():
                raise exc
    code = exc.code
    if code is not None and not isinstance(code, int):  # SystemExit("message"): printed, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)


def _engine() -> type[Engine]:
    from corthex.engine.engine import Engine

    return Engine


def load_settings() -> Settings:
    """The settings from the environment (and a .env file).

    :raises UsageError: a setting is wrong, naming it."""
    from corthex.config import load_settings as load

    return load()


def _run(factory: Callable[[Engine], Awaitable[T]]) -> T:
    """Run one engine operation; user errors become a message and exit code 2."""

    async def go() -> T:
        async with _engine()(load_settings()) as engine:
            result = await factory(engine)
        mark("closed")
        return result

    try:
        result = asyncio.run(go())
        mark("loop closed")
        return result
    except CorthexError as exc:  # InvalidInput, NotFound, a bad setting, over the budget, …
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED) from None


def _exit_for(summary: JobSummary) -> None:
    """Exit 3 when the job ended without an answer for every request, 4 while it runs."""
    if not summary.status.is_final:
        raise typer.Exit(EXIT_RUNNING)
    if not summary.all_succeeded:
        raise typer.Exit(EXIT_NOT_ALL_SUCCEEDED)


FileArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="JSONL file of requests, or a CSV/Parquet table with --prompt"
    ),
]
TABLE_HELP = "Tables (CSV or Parquet: one request per row)"
#: `--deadline-margin`, the same on `submit` and `chain`
DeadlineMargin = Annotated[
    str | None,
    typer.Option(
        "--deadline-margin", help="Time kept before the deadline, e.g. 5m (default: a tenth of the time left)"
    ),
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="The file's encoding when it is not UTF-8 (e.g. cp949, utf-16)")
]


OUT_IMPLIES_WAIT = "--out implies --wait: waiting for every result, then writing them to"


@app.command(epilog="Example: corthex submit reviews.jsonl --wait --out labels.jsonl\n\n" + EXIT_CODES)
def submit(
    file: FileArg,
    wait: Annotated[
        bool, typer.Option("--wait", help="Stay until every request has its result; exit 3 if any did not succeed")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the results (JSONL) here when done: implies --wait")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Submit the valid lines, report the rest")
    ] = False,
    encoding: EncodingOpt = None,
    strict_models: Annotated[
        bool, typer.Option("--strict-models", help="An unknown model name is an error (exit 2), not a warning")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", help="The model for every row", rich_help_panel=TABLE_HELP)
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="The prompt, naming columns: 'Classify: {text}'", rich_help_panel=TABLE_HELP),
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", help="A system prompt (may name columns too)", rich_help_panel=TABLE_HELP)
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="A JSON schema file: answers are checked and get a column per property",
            exists=True,
            dir_okay=False,
            rich_help_panel=TABLE_HELP,
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="The column of each row's custom_id (else row-N)", rich_help_panel=TABLE_HELP),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(
            "--deadline",
            help="When every result is wanted: 90m, 2h, 1d or an ISO time (2026-12-04T09:00+09:00). Requests whose "
            "batch is predicted to end later are answered in realtime instead (at full price)",
        ),
    ] = None,
    deadline_margin: DeadlineMargin = None,
) -> None:
    """Validate FILE, record it as a job and send its batches.

    A table becomes one request per row: corthex submit reviews.csv --model gpt-5-mini
    --prompt "Classify this review: {text}" --schema label.json --wait --out labeled.parquet
    """
    if out is not None and not wait:
        err.print(f"{OUT_IMPLIES_WAIT} {out}", highlight=False)

    by: dict[str, Any] = {"deadline": deadline, "deadline_margin": deadline_margin}

    async def go(engine: Engine) -> JobSummary | None:
        mark("opened")
        template = _row_template(file, model, prompt, system, schema, id_column)
        if template is not None:
            report = await engine.submit_table(
                file, template, skip_invalid=skip_invalid, encoding=encoding, strict_models=strict_models, **by
            )
        else:
            report = await engine.submit_file(
                file, skip_invalid=skip_invalid, encoding=encoding, strict_models=strict_models, **by
            )
        _report_skipped(report.skipped, report.warnings)
        console.print(f"job [bold]{report.job_id}[/bold]: {report.total} requests", highlight=False)
        if not wait and out is None:
            await engine.step()  # create the batches now; any worker or later command collects
            console.print(f"follow it with: corthex status {report.job_id}", highlight=False)
            return None
        source = TableSource(file, template.json_schema, encoding) if template is not None else None
        return await _wait_and_write(engine, report.job_id, out, source)

    summary = _run(go)
    if summary is not None:
        _exit_for(summary)


def _row_template(
    file: Path, model: str | None, prompt: str | None, system: str | None, schema: Path | None, id_column: str | None
) -> RowTemplate | None:
    """The row template for a table FILE; None for a JSONL file (which takes no table option)."""
    given = {"--model": model, "--prompt": prompt, "--system": system, "--schema": schema, "--id-column": id_column}
    if not is_table(file):
        if named := [name for name, value in given.items() if value is not None]:
            raise UsageError(f"{named[0]} is for tables (CSV or Parquet); a JSONL file says it on each line")
        return None
    if model is None or prompt is None:
        raise UsageError(f"{file.name} is a table: give --model and --prompt (e.g. --prompt 'Classify: {{text}}')")
    json_schema = _read_schema(schema) if schema is not None else None
    return RowTemplate(model, prompt, system=system, json_schema=json_schema, id_column=id_column)


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        schema = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path.name} is not JSON ({exc})") from None
    if not isinstance(schema, dict):
        raise UsageError(f"{path.name} must hold a JSON schema object")
    return schema


@dataclass(frozen=True)
class TableSource:
    """The table a job came from: a table output keeps its columns (and the schema's)."""

    path: Path
    json_schema: dict[str, Any] | None
    encoding: str | None


def _emulator_badge(engine: Engine) -> None:
    """Say so when answers came from the emulator, so that they are never taken for real ones."""
    emulated = sorted(name for name, yes in engine.emulated_providers().items() if yes)
    if emulated:
        console.print(f"[reverse] EMULATOR [/reverse] answers from the CORTHEX emulator: {', '.join(emulated)}")


async def _wait_and_write(
    engine: Engine, job_id: str, out: Path | None, source: TableSource | None = None
) -> JobSummary:
    summary = await _wait_with_progress(engine, job_id)
    mark("waited", job_id=job_id)
    console.print(summary_table(summary))
    _emulator_badge(engine)
    if out is not None:
        count = await _write_results(engine, job_id, out, source=source)
        mark("written", rows=count)
        console.print(f"{count} results written to {out}", highlight=False)
    return summary


async def _wait_with_progress(engine: Engine, job_id: str, on: Console | None = None) -> JobSummary:
    with JobProgress(on or console) as progress:
        return await engine.wait(job_id, on_progress=progress.update)


async def _write_results(
    engine: Engine,
    job_id: str,
    out: Path,
    statuses: Sequence[ResultStatus] | None = None,
    *,
    source: TableSource | None = None,
) -> int:
    """JSONL, Parquet or CSV by `out`'s suffix (a table keeps the columns of the job's `source`)."""
    if source is None:
        return await engine.write_results(job_id, out, statuses=statuses)
    return await engine.write_results(
        job_id, out, statuses=statuses, table=source.path, json_schema=source.json_schema, encoding=source.encoding
    )


def _report_skipped(problems: list[Any], warnings: Sequence[str] = ()) -> None:
    for problem in problems:
        err.print(f"skipped {problem}", highlight=False)
    if problems:
        err.print(f"{len(problems)} invalid line(s) skipped", highlight=False)
    for warning in warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")]


@app.command(epilog="Example: corthex status job_3f2a9c1d7e4b --json")
def status(
    job_id: Annotated[str | None, typer.Argument(help="A job id; all recent jobs when omitted")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one job in detail, or the recent jobs. A read: it first polls the batches that are due
    and collects the finished ones (so the counts are fresh without a worker), but never sends the
    queue, creates or retries a batch, or advances a chain; `corthex worker` does those."""

    async def go(engine: Engine) -> None:
        await engine.catch_up()
        if job_id is None:
            jobs = await engine.jobs()
            _print_json([j.to_dict() for j in jobs]) if as_json else console.print(_jobs_table(jobs))
            return
        summary = await engine.status(job_id)
        batches, shares = await engine.batches(job_id), await engine.batch_shares(job_id)
        if as_json:
            _print_json({**summary.to_dict(), "batch_list": [_batch_dict(b, shares) for b in batches]})
            return
        console.print(summary_table(summary))
        if summary.retry_of:
            console.print(f"a retry of job {summary.retry_of}", highlight=False)
        console.print(_batches_table(batches, shares))

    _run(go)


def _print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def _batch_dict(batch: BatchRow, shares: dict[str, tuple[int, int]]) -> dict[str, Any]:
    mine, others = shares.get(batch.id, (batch.request_count, 0))
    return {**batch.to_dict(), "job_requests": mine, "shared_with_jobs": others}


def _statuses_of(names: str | None) -> tuple[ResultStatus, ...] | None:
    if names is None:
        return None
    return tuple(ResultStatus(n) for n in _status_words(names))


def _status_words(names: str) -> list[str]:
    words = [w.strip().lower() for w in names.split(",") if w.strip()]
    known = {s.value for s in ResultStatus}
    if not words or any(w not in known for w in words):
        err.print(f"error: --status takes a comma-separated list of {', '.join(sorted(known))}", highlight=False)
        raise typer.Exit(EXIT_REFUSED)
    return words


StatusFilter = Annotated[
    str | None,
    typer.Option("--status", help="Only results of these statuses, e.g. failed,expired (succeeded, canceled too)"),
]


@app.command(
    epilog="Example: corthex results job_3f2a9c1d7e4b --wait --status failed,expired --out failed.jsonl\n\n"
    + EXIT_CODES
)
def results(
    job_id: str,
    out: Annotated[Path | None, typer.Option("--out", help="Write JSONL here instead of stdout")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Block until the job has ended, then write")] = False,
    status_filter: StatusFilter = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --out: print the summary as JSON")] = False,
) -> None:
    """Write a job's results, one JSON line per request, in input order. On a job still running,
    what is in so far is written, "N/M done (job running)" goes to stderr and the exit code is 4."""
    statuses = _statuses_of(status_filter)

    async def go(engine: Engine) -> JobSummary:
        await engine.step()
        summary = await _wait_with_progress(engine, job_id, err) if wait else await engine.status(job_id)
        if not summary.status.is_final:
            err.print(f"{summary.finished}/{summary.total} done (job {summary.status.value})", highlight=False)
        if out is None:
            async for line in engine.results(job_id, statuses=statuses):
                sys.stdout.buffer.write(orjson.dumps(line) + b"\n")
            return summary
        count = await _write_results(engine, job_id, out, statuses)
        if as_json:
            _print_json({**summary.to_dict(), "written": count, "out": str(out)})
        else:
            err.print(f"{count} of {summary.total} results written to {out}", highlight=False)
        return summary

    _exit_for(_run(go))


@app.command(epilog="Example: corthex wait job_3f2a9c1d7e4b\n\n" + EXIT_CODES)
def wait(job_id: str) -> None:
    """Stay until the job has ended (working in this process, as a worker would), then print its
    summary. The exit code says whether every request succeeded."""

    async def go(engine: Engine) -> JobSummary:
        summary = await _wait_with_progress(engine, job_id)
        console.print(summary_table(summary))
        return summary

    _exit_for(_run(go))


@app.command(epilog="Example: corthex retry job_3f2a9c1d7e4b --status failed,expired --wait\n\n" + EXIT_CODES)
def retry(
    job_id: str,
    status_names: Annotated[
        str, typer.Option("--status", help="Which requests to send again: failed, expired and/or canceled")
    ] = ",".join(RETRY_BY_DEFAULT),
    wait: Annotated[bool, typer.Option("--wait", help="Stay until the new job has ended")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the new job's results here: implies --wait")] = None,
) -> None:
    """Send the job's failed and expired requests (the same bodies, the same custom_ids) again as a
    new job, linked to the first. Refused (exit 2) when it has none."""
    if out is not None and not wait:
        err.print(f"{OUT_IMPLIES_WAIT} {out}", highlight=False)

    async def go(engine: Engine) -> JobSummary | None:
        report = await engine.retry(job_id, retry_statuses(status_names), source="cli")
        console.print(
            f"job [bold]{report.job_id}[/bold]: {report.total} requests resent from job {job_id}", highlight=False
        )
        if not wait and out is None:
            await engine.step()
            console.print(f"follow it with: corthex status {report.job_id}", highlight=False)
            return None
        return await _wait_and_write(engine, report.job_id, out)

    summary = _run(go)
    if summary is not None:
        _exit_for(summary)


@app.command(epilog="Example: corthex cancel job_3f2a9c1d7e4b")
def cancel(job_id: str) -> None:
    """Cancel a job: unsent requests are canceled, its batches stopped; results in are kept."""

    async def go(engine: Engine) -> None:
        try:
            outcome = await engine.cancel(job_id)
        except JobFinished as exc:  # not a failure: the job is as the user wants it, ended
            console.print(str(exc), highlight=False)
            return
        console.print(f"job {job_id}: {outcome.job.status.value} — {outcome.message()}", highlight=False)

    _run(go)


@queue_app.command("add", epilog="Example: corthex queue add reviews.jsonl --skip-invalid")
def queue_add(
    file: FileArg,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Queue the valid lines and report the invalid ones (by line and field)"),
    ] = False,
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


@queue_app.command("list", epilog="Example: corthex queue list")
def queue_list() -> None:
    """List the jobs waiting in the queue."""

    async def go(engine: Engine) -> None:
        queued = await engine.jobs(status=JobStatus.QUEUED, limit=1000)
        queue = await engine.queue_stats()
        console.print(_jobs_table(queued, title=f"queue: {queue.requests} requests"))

    _run(go)


@queue_app.command("clear", epilog="Example: corthex queue clear")
def queue_clear() -> None:
    """Drop the queue: every queued job is canceled (its requests get `canceled` results)."""

    async def go(engine: Engine) -> None:
        canceled, count = await engine.clear_queue()
        console.print(f"{len(canceled)} queued job(s) canceled: {count} requests", highlight=False)

    _run(go)


@app.command(epilog="Example: corthex flush")
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


@chain_app.command(
    "run",
    context_settings={"allow_interspersed_args": True},
    epilog='Example: corthex chain run "삼성전자 주가 분석" --wait  (or, the same: corthex chain "삼성전자 주가 분석")',
)
def chain_run(
    words: Annotated[list[str], typer.Argument(help='The command, e.g. "삼성전자 주가 분석" (words are joined)')],
    broadcast: Annotated[bool, typer.Option("--broadcast", help="Run every department")] = False,
    realtime: Annotated[bool, typer.Option("--realtime", help="Use the realtime APIs (urgent)")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the chain live and print the report")] = False,
    deadline: Annotated[
        str | None,
        typer.Option(
            "--deadline",
            help="When the report is wanted: 90m, 2h, 1d or an ISO time. The time left is shared among the steps; "
            "a step whose batch would end past its share goes on a faster tier (flex or realtime)",
        ),
    ] = None,
    deadline_margin: DeadlineMargin = None,
) -> None:
    """Run a command through the delegation chain (the default: `corthex chain "…"` is the same)."""
    from corthex import chain_cli

    command = " ".join(words)
    by = {"deadline": deadline, "deadline_margin": deadline_margin}
    _run(chain_cli.run_chain(console, command, broadcast=broadcast, realtime=realtime, wait=wait, **by))


@chain_app.command("list", epilog="Example: corthex chain list --json")
def chain_list(as_json: JsonOpt = False) -> None:
    """List the chains: status, step, mode, departments, route, cost and command."""
    from corthex import chain_cli

    _run(chain_cli.list_chains(console, as_json=as_json))


@chain_app.command("show", epilog="Example: corthex chain show ch_5b1e0c2a9d7f")
def chain_show(chain_id: Annotated[str, typer.Argument(help="A chain id (ch_…)")]) -> None:
    """Show one chain: its steps with their batches, results and costs, then the report."""
    from corthex import chain_cli

    _run(chain_cli.show_chain(console, chain_id))


@chain_app.command("cancel", epilog="Example: corthex chain cancel ch_1a2b3c4d5e6f")
def chain_cancel(chain_id: Annotated[str, typer.Argument(help="A chain id (ch_…)")]) -> None:
    """Stop a running chain: its open jobs and their batches are canceled, and the report of what
    it has is delivered, marked canceled."""
    from corthex import chain_cli

    _run(chain_cli.cancel_chain(console, chain_id))


@chain_app.command("rerun", epilog="Example: corthex chain rerun ch_1a2b3c4d5e6f")
def chain_rerun(chain_id: Annotated[str, typer.Argument(help="A chain id (ch_…)")]) -> None:
    """Run a chain's command again as a new chain, linked to the first."""
    from corthex import chain_cli

    _run(chain_cli.rerun_chain(console, chain_id))


@app.command(epilog="Example: CORTHEX_DATABASE_URL=postgresql+asyncpg://localhost/corthex corthex worker")
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


@app.command(epilog="Example: corthex doctor --json")
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Do not call the endpoints")] = False,
) -> None:
    """Check the setup: each provider's key (present or not, never its value), the endpoint its SDK
    will call and whether it answers, the database and its schema, the versions. Exit 0 when every
    configured provider and the database are fine, 1 otherwise."""
    report = _checked(lambda: _engine().doctor(load_settings(), reach=not offline))
    _show(report.to_dict(), as_json, lambda: _print_doctor(report))
    raise typer.Exit(0 if report.ok else 1)


def _checked(check: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """A setup report (`doctor`, `providers`): its own failure is exit 2, in one line."""
    try:
        return asyncio.run(check())
    except CorthexError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _show(data: dict[str, Any], as_json: bool, print_table: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_table()


def _print_doctor(report: DoctorReport) -> None:
    table = Table(title="providers")
    for column in ("provider", "key", "endpoint", "reachable", "status"):
        table.add_column(column)
    configured = report.configured
    for p in report.providers:
        key = f"{p.key_variable} set" if p.key_variable else "not set"
        endpoint = p.endpoint + ("" if p.endpoint_set else " (SDK default)")
        reachable = {True: "yes", False: "no", None: "-"}[p.reachable]
        state = "ok" if p.ok else ("not configured" if p not in configured else "PROBLEM")
        table.add_row(p.provider.value, key, endpoint, reachable, state)
    console.print(table)
    for p in report.providers:
        if p.problem is not None and p in configured:
            console.print(f"{p.provider.value}: {p.problem}", highlight=False, markup=False)
        for note in p.notes:
            console.print(f"{p.provider.value}: note: {note}", highlight=False, markup=False)
    state = "ok" if report.database_ok else "PROBLEM"
    console.print(f"database {report.database_url}: {state}, {report.database_detail}", highlight=False, markup=False)
    console.print(" ".join(f"{k} {v}" for k, v in report.versions.items()), highlight=False, markup=False)
    if not report.configured:
        console.print("no provider configured: set a key, e.g. export OPENAI_API_KEY=…", highlight=False)
    console.print("all set" if report.ok else "not ready: fix the lines above", highlight=False)


@app.command(name="providers", epilog="Example: corthex providers --offline")
def providers_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Do not call the endpoints")] = False,
) -> None:
    """List the providers installed (built in, plugins, OpenAI-compatible servers from
    CORTHEX_PROVIDERS_FILE and the shipped ones), whether each is configured (its key set) and
    reachable, and the model routes. Exit 0 unless a configured provider or a plugin has a problem."""
    report = _checked(lambda: _engine().providers(load_settings(), reach=not offline))
    _show(report.to_dict(), as_json, lambda: _print_providers(report))
    broken = report.problems or [row for row in report.to_dict()["providers"] if row["configured"] and not row["ok"]]
    raise typer.Exit(1 if broken else 0)


def _print_providers(report: ProvidersReport) -> None:
    table = Table(title="providers")
    for column in ("provider", "wire", "source", "models", "discount", "key", "reachable", "status"):
        table.add_column(column)
    for row in report.to_dict()["providers"]:
        key = f"{row['key_variable']} set" if row["configured"] else f"{row['key_variables'][0]} not set"
        reachable = {True: "yes", False: "no", None: "-"}[row["reachable"]]
        status = ("ok" if row["ok"] else "PROBLEM") if row["configured"] else "not configured"
        models = ", ".join(row["models"]) or '(by route or "provider")'
        discount = f"{row['discount']:.0%}"
        table.add_row(row["name"], row["wire"], row["source"], models, discount, key, reachable, status)
    console.print(table)
    for pattern, chain in report.routes:
        console.print(f"route: {pattern} → {' then '.join(chain)}", highlight=False, markup=False)
    for row in report.to_dict()["providers"]:
        if row["configured"] and row["problem"]:
            console.print(f"{row['name']}: {row['problem']}", highlight=False, markup=False)
    for problem in report.problems:
        console.print(problem, highlight=False, markup=False)


@app.command(epilog="Example: corthex emulator --port 8765 --speed 0.1  (its test hooks: docs/emulator.md)")
def emulator(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = 8765,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    speed: Annotated[float, typer.Option("--speed", help="Multiplies every processing time")] = 1.0,
    s3: Annotated[
        bool,
        typer.Option("--s3/--no-s3", help="Start a local S3 (Bedrock) and Cloud Storage (Vertex AI), when installed"),
    ] = True,
) -> None:
    """Serve the OpenAI, Anthropic, Gemini and Bedrock batch APIs locally and print the variables
    that point the SDKs at them (Bedrock's jobs read and write a local S3, started here)."""
    import contextlib

    import uvicorn

    from corthex.emulator import EmulatorConfig, create_app
    from corthex.emulator import storage as local_storage
    from corthex.emulator.server import sdk_env, start_object_stores

    # Vertex AI jobs read and write Cloud Storage, Bedrock's S3: local ones, when their packages are installed
    with contextlib.ExitStack() as stack:
        gcs_url, s3_url = start_object_stores(stack, host) if s3 else (None, None)
        for key, value in sdk_env(f"http://{host}:{port}", gcs_url, s3_url).items():
            print(f"export {key}={value}")
        if gcs_url is None:
            print(f"# Vertex AI needs a local Cloud Storage: {local_storage.HOW_TO_START}")
            print("# export STORAGE_EMULATOR_HOST=http://127.0.0.1:9023")
        if s3 and s3_url is None:
            print("# Bedrock needs a local S3: pip install 'moto[s3]' flask flask-cors (the dev extra), run again")
        sys.stdout.flush()
        config = EmulatorConfig(speed=speed, gcs_url=gcs_url, s3_endpoint=s3_url)
        uvicorn.run(create_app(config), host=host, port=port, log_level="warning")


@app.command(epilog="Example: corthex serve --port 8000  (then open http://127.0.0.1:8000/)")
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
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    err.print(f"CORTHEX Batch on http://{host}:{port}/ (API docs at /docs)", highlight=False)
    run_server(settings, host, port)


@app.command(epilog="Example: corthex demo --requests 5 --exit")
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


def _jobs_table(jobs: list[JobSummary], title: str = "jobs") -> Table:
    table = Table(title=title)
    for column in ("job", "status", "source", "requests", "done", "failed", "canceled", "cut", "cost $", "label"):
        table.add_column(column)
    for job in jobs:
        table.add_row(
            job.id,
            job.status.value,
            job.source,
            str(job.total),
            str(job.finished),
            str(job.failed),
            str(job.canceled),
            str(job.cut),
            f"{job.cost_usd:.6f}",
            job.label or "",
        )
    return table


def _batches_table(batches: list[BatchRow], shares: dict[str, tuple[int, int]]) -> Table:
    table = Table(title="batches")
    for column in ("batch", "provider", "model", "state", "raw status", "remote", "requests", "polls", "error"):
        table.add_column(column)
    for b in batches:
        mine, others = shares.get(b.id, (b.request_count, 0))
        table.add_row(
            b.id,
            b.provider.value,
            b.model or "(mixed)",
            (b.state or b.status).value,
            b.raw_status or "",
            b.remote.remote_id if b.remote else "",
            _batch_requests(b.request_count, mine, others),
            str(b.poll_count),
            (b.error or "")[:60],
        )
    return table


def _batch_requests(total: int, mine: int, others: int) -> str:
    """A batch's request count; for one shared with other jobs, how many of them are this job's."""
    if others == 0:
        return str(total)
    return f"{mine} of {total} (shared with {others} other job{'s' if others > 1 else ''})"


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

"""Terminal rendering of a job: a live progress bar per provider and the closing summary."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from corthex.domain.jobs import JobSummary


class JobProgress:
    """One bar per provider, advanced from job summaries."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> JobProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def update(self, summary: JobSummary) -> None:
        for provider, counts in sorted(summary.by_provider.items()):
            if provider not in self._tasks:
                self._tasks[provider] = self._progress.add_task(provider, total=counts.requests, note="")
            note = f"[red]{counts.failed} failed[/red]" if counts.failed else ""
            self._progress.update(self._tasks[provider], completed=counts.finished, note=note)


def summary_table(summary: JobSummary) -> Table:
    """Per provider: requests, succeeded, failed, tokens, cost and the batch saving."""
    table = Table(title=f"job {summary.id} — {summary.status.value}")
    for column in ("provider", "requests", "succeeded", "failed", "input tok", "output tok", "cost $", "saving $"):
        table.add_column(column, justify="right" if column != "provider" else "left")
    rows = sorted(summary.by_provider.items())
    for provider, c in rows:
        cost = f"{c.cost_usd:.6f}" + (" *" if c.unpriced else "")
        table.add_row(
            provider,
            str(c.requests),
            str(c.succeeded),
            str(c.failed),
            f"{c.input_tokens:,}",
            f"{c.output_tokens:,}",
            cost,
            f"{c.saving_usd:.6f}",
        )
    totals = [c for _, c in rows]
    table.add_row(
        "total",
        str(sum(c.requests for c in totals)),
        str(sum(c.succeeded for c in totals)),
        str(sum(c.failed for c in totals)),
        f"{sum(c.input_tokens for c in totals):,}",
        f"{sum(c.output_tokens for c in totals):,}",
        f"{sum(c.cost_usd for c in totals):.6f}",
        f"{sum(c.saving_usd for c in totals):.6f}",
        style="bold",
    )
    if any(c.unpriced for c in totals):
        table.caption = "* some models have no known price: their cost is left out"
    return table

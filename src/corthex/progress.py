"""Terminal rendering of a job: a live progress bar per provider and the closing summary."""

from __future__ import annotations

from types import TracebackType

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from corthex.domain.describe import clock_time
from corthex.domain.jobs import JobSummary, ProviderCounts


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
            note += f" [dim]{counts.canceled} canceled[/dim]" if counts.canceled else ""
            note += f" [yellow]{counts.cut} cut[/yellow]" if counts.cut else ""
            self._progress.update(self._tasks[provider], completed=counts.finished, note=note)


SUMMARY_COLUMNS = ("provider", "requests", "succeeded", "failed", "canceled", "in tok", "out tok", "cost $", "saving $")


def summary_table(summary: JobSummary) -> Table:
    """Per provider: requests, succeeded, failed, canceled (when some are), tokens, cost and the
    batch saving."""
    # no vertical rules and short headers: the table fits an 80-column terminal or a CI log whole
    title = f"job {summary.id} — {summary.status.value}"
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    rows = sorted(summary.by_provider.items())
    totals = [c for _, c in rows]
    shown = [column for column in SUMMARY_COLUMNS if column != "canceled" or summary.canceled]
    for column in shown:
        table.add_column(column, justify="right" if column != "provider" else "left", no_wrap=True)
    for provider, c in rows:
        table.add_row(*_cells(provider, [c], shown))
    table.add_row(*_cells("total", totals, shown), style="bold")
    notes = []
    if any(c.unpriced for c in totals):
        notes.append("* some models have no known price: their cost is left out")
    if caching := summary.cache_saving_usd:
        notes.append(f"prompt caching {'saved' if caching > 0 else 'cost'} ${abs(caching):.4f} (reads less writes)")
    if cut := sum(c.cut for c in totals):
        per = ", ".join(f"{p} {c.cut}" for p, c in rows if c.cut)
        notes.append(f"{cut} answers cut at max_output_tokens ({per}): raise it for those requests")
    notes.extend(_deadline_notes(summary))
    table.caption = "\n".join(notes) or None
    return table


def _deadline_notes(summary: JobSummary) -> list[str]:
    """The deadline, the cost of each tier that answered, and what the deadline cost over
    answering everything in batches (only for a job with a deadline or a faster tier)."""
    faster = {tier: t for tier, t in summary.tiers.items() if tier != "batch"}
    if summary.deadline is None and not faster:
        return []
    notes = [f"deadline {clock_time(summary.deadline)}"] if summary.deadline is not None else []
    per_tier = ", ".join(f"{tier} {t.results} for ${_usd(t.cost_usd)}" for tier, t in sorted(summary.tiers.items()))
    if per_tier:
        notes.append(f"answered by tier: {per_tier}")
    if faster:
        notes.append(f"the deadline cost ${_usd(summary.deadline_cost_usd)} over all-batch")
    return notes


def _cells(name: str, counts: list[ProviderCounts], shown: list[str]) -> list[str]:
    """One row of the summary: `counts` summed, in the columns shown."""
    unpriced = " *" if len(counts) == 1 and counts[0].unpriced else ""
    cells = {
        "provider": name,
        "requests": str(sum(c.requests for c in counts)),
        "succeeded": str(sum(c.succeeded for c in counts)),
        "failed": str(sum(c.failed for c in counts)),
        "canceled": str(sum(c.canceled for c in counts)),
        "in tok": f"{sum(c.input_tokens for c in counts):,}",
        "out tok": f"{sum(c.output_tokens for c in counts):,}",
        "cost $": _usd(sum(c.cost_usd for c in counts)) + unpriced,
        "saving $": _usd(sum(c.saving_usd for c in counts)),
    }
    return [cells[column] for column in shown]


def _usd(amount: float) -> str:
    """Cents when they matter, six decimals for the small amounts a test job costs."""
    return f"{amount:,.2f}" if amount >= 1 else f"{amount:.6f}"

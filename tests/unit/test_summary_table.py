"""The job summary is read in 80-column terminals and CI logs: every figure must show whole."""

from __future__ import annotations

from rich.console import Console

from corthex.domain.jobs import JobStatus, JobSummary, ProviderCounts, TierCounts
from corthex.progress import summary_table


def _render(requests: int) -> str:
    counts = ProviderCounts(requests, requests - 1, 1, requests * 12, requests * 10, requests * 1e-4, requests * 2e-4)
    by_provider = {p: counts for p in ("anthropic", "gemini", "openai")}
    summary = JobSummary("job_1fd45f5fb081", JobStatus.COMPLETED, "cli", requests * 3, 0.0, 1.0, None, by_provider)
    console = Console(width=80, record=True)
    console.print(summary_table(summary))
    return console.export_text()


def test_small_job_figures_show_whole_in_80_columns() -> None:
    text = _render(20)
    assert "…" not in text
    assert "anthropic" in text and "0.002000" in text and "0.006000" in text  # cost and total cost


def test_large_job_figures_show_whole_in_80_columns() -> None:
    text = _render(33_333)
    rows = [line for line in text.splitlines() if line.startswith(" anthropic")]
    assert rows and "…" not in rows[0]
    assert "399,996" in rows[0] and "33332" in rows[0]


def test_cut_answers_are_counted_under_the_table() -> None:
    cut = ProviderCounts(10, 9, 1, 120, 100, 1e-3, 2e-3, cut=3)
    by_provider = {"openai": cut, "gemini": ProviderCounts(10, 10)}
    summary = JobSummary("job_1", JobStatus.COMPLETED, "cli", 20, 0.0, 1.0, None, by_provider)
    assert summary.cut == 3 and summary.to_dict()["cut"] == 3 and summary.to_dict()["by_provider"]["openai"]["cut"] == 3
    console = Console(width=80, record=True)
    console.print(summary_table(summary))
    assert "3 answers cut at max_output_tokens (openai 3)" in console.export_text()


def test_a_job_with_a_deadline_shows_its_cost_per_tier_and_what_the_deadline_cost() -> None:
    from datetime import UTC, datetime

    deadline = datetime(2025, 6, 1, 9, 0, tzinfo=UTC).timestamp()
    tiers = {"batch": TierCounts(7, 0.0007, 0.0007), "realtime": TierCounts(3, 0.0006, 0.0003)}
    summary = JobSummary(
        "job_1",
        JobStatus.COMPLETED,
        "cli",
        10,
        0.0,
        1.0,
        None,
        {"openai": ProviderCounts(10, 10)},
        deadline=deadline,
        tiers=tiers,
    )
    assert summary.deadline_cost_usd == 0.0003
    assert summary.to_dict()["tiers"]["realtime"] == {"results": 3, "cost_usd": 0.0006, "batch_cost_usd": 0.0003}
    console = Console(width=80, record=True)
    console.print(summary_table(summary))
    text = console.export_text()
    assert "deadline 2025-06-01 09:00 UTC" in text
    assert "answered by tier: batch 7 for $0.000700, realtime 3 for $0.000600" in text
    assert "the deadline cost $0.000300 over all-batch" in text


def test_a_job_without_a_deadline_says_nothing_of_tiers() -> None:
    tiers = {"batch": TierCounts(2, 0.1, 0.1)}
    summary = JobSummary("job_1", JobStatus.COMPLETED, "cli", 2, 0.0, 1.0, None, {}, tiers=tiers)
    console = Console(width=80, record=True)
    console.print(summary_table(summary))
    assert "tier" not in console.export_text() and "deadline" not in console.export_text()

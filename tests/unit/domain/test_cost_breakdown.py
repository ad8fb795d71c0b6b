"""The cost breakdown beside the per-day chart (pure)."""

from __future__ import annotations

from corthex.domain.budget import cost_breakdown


def test_a_cost_breakdown_sums_by_provider_model_and_department_largest_first() -> None:
    shares = cost_breakdown(
        [
            ("openai", "gpt-5-mini", None, 0.001),
            ("anthropic", "claude-sonnet-4-6", "cto", 0.02),
            ("anthropic", "claude-sonnet-4-6", "cso", 0.01),
            ("openai", "gpt-5.2", "cto", 0.005),
        ]
    )
    assert list(shares.by_provider.items()) == [("anthropic", 0.03), ("openai", 0.006)]
    assert list(shares.by_model) == ["claude-sonnet-4-6", "gpt-5.2", "gpt-5-mini"]
    assert shares.by_department == {"cto": 0.025, "cso": 0.01, "jobs": 0.001}  # "jobs": outside chains

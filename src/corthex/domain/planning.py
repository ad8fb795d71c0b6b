"""Batch planning: which requests go out together (pure).

Group by provider, and by model where the provider takes one model per batch; then split each
group so no batch breaks the provider's request-count, byte or embedding-input limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.requests import ProviderName


@dataclass(frozen=True, slots=True)
class PlanItem:
    """What planning needs to know of a request: its id, where it goes, its size."""

    request_id: str
    provider: ProviderName
    model: str
    size: int
    route: str | None = None  #: keeps it from others of its model (a native line's endpoint)
    inputs: int = 1  #: embedding inputs it carries (a list input: its texts), for OpenAI's 50,000


@dataclass(slots=True)
class BatchPlan:
    provider: ProviderName
    model: str | None  #: None when the provider mixes models in one batch
    route: str | None = None
    request_ids: list[str] = field(default_factory=list)
    size: int = 0
    inputs: int = 0


GroupKey = tuple[ProviderName, str | None, str | None]


def group_key(item: PlanItem, limits: Mapping[ProviderName, ProviderLimits]) -> GroupKey:
    """Requests that may share a batch: one provider, one model where it takes one, one route (a
    native OpenAI line names its endpoint, and a file has one)."""
    model = item.model if limits[item.provider].one_model_per_batch else None
    return item.provider, model, item.route


def plan_batches(items: Iterable[PlanItem], limits: Mapping[ProviderName, ProviderLimits] = LIMITS) -> list[BatchPlan]:
    """Every item lands in exactly one plan; no plan breaks its provider's limits."""
    open_plans: dict[GroupKey, BatchPlan] = {}
    done: list[BatchPlan] = []
    for item in items:
        key = group_key(item, limits)
        plan = open_plans.get(key)
        fits = limits[item.provider].fits
        if plan is not None and not fits(len(plan.request_ids) + 1, plan.size + item.size, plan.inputs + item.inputs):
            done.append(plan)
            plan = None
        if plan is None:
            plan = open_plans[key] = BatchPlan(*key)
        plan.request_ids.append(item.request_id)
        plan.size += item.size
        plan.inputs += item.inputs
    return done + list(open_plans.values())

"""Batch planning: which requests go out together (pure).

Group by provider, and by model where the provider takes one model per batch; then split each
group so no batch breaks the provider's request-count, byte or embedding-input limit. Within a
group, requests that share a cacheable prefix (a cache group) are planned next to each other, so
they land in the same batch; `priming` picks the requests that write a cache before the rest go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
    cache_group: str | None = None  #: its cacheable prefix (domain/cache_groups.py)
    primed: bool = False  #: it waited for a priming batch already: it never primes again


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
    for item in by_cache_group(items):
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


def by_cache_group(items: Iterable[PlanItem]) -> list[PlanItem]:
    """The items with each cache group's together (in the order each group first appears; the
    order within a group kept), so a group fills one batch before the next group starts."""
    listed = items if isinstance(items, list) else list(items)
    first: dict[str | None, int] = {}
    for item in listed:
        first.setdefault(item.cache_group, len(first))
    if len(first) <= 1:
        return listed
    return sorted(listed, key=lambda item: first[item.cache_group])


@dataclass(slots=True)
class Priming:
    """Requests that write a cache first (one per cache group), and those held back until the
    batch holding their group's primer has ended (by the primer's id)."""

    primers: list[PlanItem] = field(default_factory=list)
    held: dict[str, list[str]] = field(default_factory=dict)  #: primer id -> the requests waiting for it


def priming(items: Iterable[PlanItem], primes: Callable[[ProviderName], bool], min_requests: int) -> Priming:
    """For each cache group of a provider that `primes`, with at least `min_requests` requests
    none of which waited for a primer before: its first request primes, the others are held."""
    groups: dict[tuple[ProviderName, str], list[PlanItem]] = {}
    for item in items:
        if item.cache_group is not None and primes(item.provider):
            groups.setdefault((item.provider, item.cache_group), []).append(item)
    out = Priming()
    for members in groups.values():
        if len(members) < max(min_requests, 2) or any(item.primed for item in members):
            continue
        primer, *rest = members
        out.primers.append(primer)
        out.held[primer.request_id] = [item.request_id for item in rest]
    return out

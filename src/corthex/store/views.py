"""Read-only views over the store for the server: aggregate counts for /metrics, a job's
requests (who is still working), cost over a time range, and an open batch by its provider id.

Kept apart from SqlStore so that the server's reads do not crowd the engine's verbs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from corthex.domain.batches import BatchStatus
from corthex.store.tables import batches, jobs, requests, results

_POLLED = [BatchStatus.SUBMITTED.value, BatchStatus.ENDED.value]


@dataclass(frozen=True)
class StoreCounts:
    """What /metrics shows as gauges, computed at scrape time."""

    batches: dict[tuple[str, str], int] = field(default_factory=dict)  #: (provider, status) -> count
    requests: dict[tuple[str, str], int] = field(default_factory=dict)  #: (provider, state) -> count
    results: dict[tuple[str, str], int] = field(default_factory=dict)  #: (provider, status) -> count
    cost: dict[str, tuple[float, float]] = field(default_factory=dict)  #: provider -> (cost, realtime cost)
    polls: dict[str, int] = field(default_factory=dict)  #: provider -> status calls made


class StoreViews:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def counts(self) -> StoreCounts:
        async with self.engine.connect() as conn:
            by_batch = select(batches.c.provider, batches.c.status, func.count()).group_by(
                batches.c.provider, batches.c.status
            )
            by_request = select(requests.c.provider, requests.c.state, func.count()).group_by(
                requests.c.provider, requests.c.state
            )
            by_result = select(results.c.provider, results.c.status, func.count()).group_by(
                results.c.provider, results.c.status
            )
            cost = select(
                results.c.provider,
                func.coalesce(func.sum(results.c.cost_usd), 0.0),
                func.coalesce(func.sum(results.c.realtime_cost_usd), 0.0),
            ).group_by(results.c.provider)
            polls = select(batches.c.provider, func.coalesce(func.sum(batches.c.poll_count), 0)).group_by(
                batches.c.provider
            )
            return StoreCounts(
                batches={(p, s): n for p, s, n in (await conn.execute(by_batch)).all()},
                requests={(p, s): n for p, s, n in (await conn.execute(by_request)).all()},
                results={(p, s): n for p, s, n in (await conn.execute(by_result)).all()},
                cost={p: (float(c), float(r)) for p, c, r in (await conn.execute(cost)).all()},
                polls={p: int(n) for p, n in (await conn.execute(polls)).all()},
            )

    async def job_requests(self, job_id: str) -> list[dict[str, Any]]:
        """The job's requests in input order: custom_id, model, provider, state, body (canonical JSON)."""
        query = (
            select(requests.c.custom_id, requests.c.model, requests.c.provider, requests.c.state, requests.c.body)
            .where(requests.c.job_id == job_id)
            .order_by(requests.c.seq)
        )
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in (await conn.execute(query)).all()]

    async def cost_between(self, start: float, end: float) -> tuple[float, float]:
        """(cost, realtime-equivalent cost) of the results recorded in [start, end)."""
        query = select(
            func.coalesce(func.sum(results.c.cost_usd), 0.0), func.coalesce(func.sum(results.c.realtime_cost_usd), 0.0)
        ).where(results.c.created_at >= start, results.c.created_at < end)
        async with self.engine.connect() as conn:
            cost, realtime = (await conn.execute(query)).one()
        return float(cost), float(realtime)

    async def cost_groups(self, start: float, end: float) -> list[tuple[str, str, str | None, float]]:
        """(provider, model, custom_id of a chain request or None, cost) of the results recorded in
        [start, end). Chain custom_ids name the agent (`spec:cto:agent`), so they stay few however
        many chains ran; other jobs are grouped by provider and model only."""
        chain_id = case((jobs.c.source == "chain", results.c.custom_id), else_=None)
        query = (
            select(results.c.provider, results.c.model, chain_id, func.coalesce(func.sum(results.c.cost_usd), 0.0))
            .join(jobs, jobs.c.id == results.c.job_id)
            .where(results.c.created_at >= start, results.c.created_at < end)
            .group_by(results.c.provider, results.c.model, chain_id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [(str(p), str(m or ""), c, float(cost)) for p, m, c, cost in rows]

    async def open_batch_by_remote(self, provider: str, remote_id: str) -> str | None:
        """Our id of the open (still polled) batch that the provider knows as `remote_id`."""
        query = select(batches.c.id, batches.c.remote).where(
            batches.c.provider == provider,
            batches.c.status.in_(_POLLED),
            batches.c.remote.contains(remote_id, autoescape=True),
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        for batch_id, remote in rows:  # the LIKE narrows; the JSON decides
            if remote and orjson.loads(remote).get("remote_id") == remote_id:
                return str(batch_id)
        return None

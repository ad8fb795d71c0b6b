"""The store's chain verbs: chains, their steps (one job each), deliveries, and spend."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, Select, and_, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncEngine

from corthex import clock
from corthex.domain.chain import ChainStatus, JobState, Outcome, Step, StepResults
from corthex.domain.jobs import JobStatus
from corthex.domain.records import ChainRow, ChainState, StepRow
from corthex.errors import ChainFinished, NotFound
from corthex.store import deadlines, leases
from corthex.store.tables import chain_steps, chains, deliveries, jobs, results

__all__ = ["ChainRow", "ChainState", "ChainStore", "StepRow", "chain_from_row"]


def chain_from_row(row: Row[Any]) -> ChainRow:
    """The chain of a row of `chains` (other columns the row holds are left out: a lease, a join's)."""
    m = {f.name: row._mapping[f.name] for f in fields(ChainRow)}
    m["status"], m["step"] = ChainStatus(m["status"]), Step(m["step"])
    m["departments"] = tuple(orjson.loads(m["departments"]))
    return ChainRow(**m)


class ChainStore:
    def __init__(self, engine: AsyncEngine, insert_ignoring: Any) -> None:
        self.engine = engine
        self._insert_ignoring = insert_ignoring  # dialect INSERT … ON CONFLICT DO NOTHING

    async def create(
        self,
        chain_id: str,
        *,
        command: str,
        broadcast: bool,
        realtime: bool,
        step: Step,
        departments: tuple[str, ...],
        route_method: str | None,
        route_detail: str | None,
        origin: str,
        origin_ref: str | None,
        owed_to: Sequence[str] = (),
        rerun_of: str | None = None,
        deadline: tuple[float, float] | None = None,
    ) -> None:
        """Record a new chain, owing its report to the sinks in `owed_to` (`deadline`: Unix time, margin)."""
        now = clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(chains).values(
                    id=chain_id,
                    command=command,
                    broadcast=broadcast,
                    realtime=realtime,
                    status=ChainStatus.RUNNING.value,
                    step=step.value,
                    departments=orjson.dumps(list(departments)).decode(),
                    route_method=route_method,
                    route_detail=route_detail,
                    origin=origin,
                    origin_ref=origin_ref,
                    rerun_of=rerun_of,
                    **deadlines.deadline_columns(deadline),
                    created_at=now,
                    updated_at=now,
                )
            )
            for sink in owed_to:
                await conn.execute(insert(deliveries).values(chain_id=chain_id, sink=sink))

    async def get(self, chain_id: str) -> ChainRow:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(chains).where(chains.c.id == chain_id))).first()
        if row is None:
            raise NotFound("chain", chain_id)
        return chain_from_row(row)

    async def list(self, *, limit: int = 50, status: ChainStatus | None = None) -> list[ChainRow]:
        query = select(chains).order_by(chains.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(chains.c.status == status.value)
        async with self.engine.connect() as conn:
            return [chain_from_row(r) for r in (await conn.execute(query)).all()]

    async def state(self, chain_id: str) -> ChainState:
        """The chain, its current step's row and that step's job state, in one query."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(_with_current_step().where(chains.c.id == chain_id))).first()
        if row is None:
            raise NotFound("chain", chain_id)
        return _chain_state(row)

    async def with_work(self, *, limit: int = 10_000) -> builtins.list[ChainState]:
        """The running chains that have something to do now, newest first, in one query: those to
        deliver, those whose current step is not claimed, has no job, or whose job is missing or
        done, and every one whose step's job goes realtime and is not being sent by a live process
        (an interrupted realtime step is resumed). A chain whose step's job is still running is not
        read at all. (`domain.chain.next_action` as a query: it says WAIT for every chain left out.)"""
        # a realtime step whose calls a live process is sending has nothing for this one to do
        sender_gone = or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < clock.now())
        has_work = or_(
            chains.c.step == Step.DELIVER.value,
            and_(jobs.c.realtime == true(), sender_gone),
            chain_steps.c.chain_id.is_(None),
            chain_steps.c.job_id.is_(None),
            jobs.c.id.is_(None),
            jobs.c.completed_at.is_not(None),
        )
        query = (
            _with_current_step()
            .where(chains.c.status == ChainStatus.RUNNING.value, has_work)
            .order_by(chains.c.created_at.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_chain_state(r) for r in (await conn.execute(query)).all()]

    async def count(self, status: ChainStatus) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).where(chains.c.status == status.value))).scalar_one()

    async def mark_canceled(self, chain_id: str) -> None:
        """Stop the chain where it stands: no worker advances it any more (its report is still to
        be delivered: `finish` does that).

        :raises ChainFinished: it had ended already (nothing changed). :raises NotFound: no such chain."""
        async with self.engine.begin() as conn:
            found = await conn.execute(
                update(chains)
                .where(chains.c.id == chain_id, chains.c.status == ChainStatus.RUNNING.value)
                .values(status=ChainStatus.CANCELED.value, updated_at=clock.now())
            )
            if found.rowcount == 0:
                status = await conn.scalar(select(chains.c.status).where(chains.c.id == chain_id))
                raise NotFound("chain", chain_id) if status is None else ChainFinished(chain_id, status)

    async def open_jobs(self, chain_id: str) -> builtins.list[str]:
        """The jobs of the chain's steps still queued or running."""
        query = (
            select(jobs.c.id)
            .join(chain_steps, chain_steps.c.job_id == jobs.c.id)
            .where(
                chain_steps.c.chain_id == chain_id,
                jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
            )
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def move(self, chain_id: str, *, from_step: Step, to_step: Step, **values: Any) -> bool:
        """Advance the chain from `from_step`; False if someone else already moved it."""
        if "departments" in values:
            values["departments"] = orjson.dumps(list(values["departments"])).decode()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(chains)
                .where(
                    chains.c.id == chain_id,
                    chains.c.step == from_step.value,
                    chains.c.status == ChainStatus.RUNNING.value,
                )
                .values(step=to_step.value, updated_at=clock.now(), **values)
            )
            return result.rowcount == 1

    async def finish(self, chain_id: str, status: ChainStatus, *, report: str | None, error: str | None = None) -> None:
        now = clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chains)
                .where(chains.c.id == chain_id)
                .values(
                    status=status.value,
                    report=report,
                    error=error,
                    updated_at=now,
                    completed_at=now,
                    step=Step.DONE.value if status is ChainStatus.COMPLETED else chains.c.step,
                )
            )

    async def claim(self, chain_id: str, owner: str, now: float, lease: float) -> bool:
        """Take the chain for `lease` seconds unless another worker holds it (one worker at a time
        advances a chain, so no step is entered and no report delivered twice at once)."""
        return await leases.one_row(
            self.engine, leases.take(chains, chains.c.id == chain_id, owner=owner, now=now, lease=lease)
        )

    async def release(self, chain_id: str, owner: str) -> None:
        await leases.one_row(self.engine, leases.let_go(chains, chains.c.id == chain_id, owner=owner))

    async def record_step(self, chain_id: str, step: Step, job_id: str | None) -> bool:
        """Claim the step for submission; False if it was claimed before (idempotent)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                self._insert_ignoring(chain_steps).values(
                    chain_id=chain_id, step=step.value, job_id=job_id, created_at=clock.now()
                )
            )
            return result.rowcount == 1

    async def steps(self, chain_id: str) -> builtins.list[StepRow]:
        query = select(chain_steps).where(chain_steps.c.chain_id == chain_id).order_by(chain_steps.c.created_at)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StepRow(Step(r.step), r.job_id, r.created_at) for r in rows]

    async def job_exists(self, job_id: str) -> bool:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(jobs.c.id).where(jobs.c.id == job_id))).first() is not None

    async def job_done(self, job_id: str) -> bool:
        async with self.engine.connect() as conn:
            done = (await conn.execute(select(jobs.c.completed_at).where(jobs.c.id == job_id))).scalar()
        return done is not None

    async def step_results(self, job_id: str | None) -> StepResults:
        if job_id is None:
            return {}
        query = select(
            results.c.custom_id,
            results.c.status,
            results.c.content,
            results.c.error_type,
            results.c.error_message,
            results.c.model,
            results.c.finish_reason,
        ).where(results.c.job_id == job_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {
            r.custom_id: Outcome(
                r.status == "succeeded",
                r.content,
                f"{r.error_type}: {r.error_message}" if r.error_type else None,
                r.model,
                r.finish_reason,
            )
            for r in rows
        }

    async def cost(self, chain_id: str) -> tuple[float, float]:
        """(cost, realtime-equivalent cost) of every result of the chain's steps."""
        return (await self.costs([chain_id])).get(chain_id, (0.0, 0.0))

    async def costs(self, chain_ids: Sequence[str]) -> dict[str, tuple[float, float]]:
        """`cost` of many chains in one query (chains without a result yet are left out)."""
        query = (
            select(
                chain_steps.c.chain_id,
                func.coalesce(func.sum(results.c.cost_usd), 0.0),
                func.coalesce(func.sum(results.c.realtime_cost_usd), 0.0),
            )
            .join(results, results.c.job_id == chain_steps.c.job_id)
            .where(chain_steps.c.chain_id.in_(list(chain_ids)))
            .group_by(chain_steps.c.chain_id)
        )
        async with self.engine.connect() as conn:
            return {r[0]: (float(r[1]), float(r[2])) for r in (await conn.execute(query)).all()}

    async def spent_since(self, since: float) -> float:
        query = select(func.coalesce(func.sum(results.c.cost_usd), 0.0)).where(results.c.created_at >= since)
        async with self.engine.connect() as conn:
            return float((await conn.execute(query)).scalar_one())

    async def outstanding_estimate(self) -> float:
        """The estimated cost still to come of open jobs submitted under a budget: each job's
        estimate times the share of its requests without a result yet."""
        landed = select(func.count()).where(results.c.job_id == jobs.c.id).scalar_subquery()
        still_to_come = jobs.c.estimate_usd * (jobs.c.total - landed) / jobs.c.total  # float first: no integer division
        query = select(func.coalesce(func.sum(still_to_come), 0.0)).where(
            jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
            jobs.c.estimate_usd.is_not(None),
            jobs.c.total > 0,
        )
        async with self.engine.connect() as conn:
            return max(0.0, float((await conn.execute(query)).scalar_one()))

    async def undelivered(self, chain_id: str, sinks: builtins.list[str]) -> builtins.list[str]:
        async with self.engine.begin() as conn:
            for sink in sinks:
                await conn.execute(self._insert_ignoring(deliveries).values(chain_id=chain_id, sink=sink))
            rows = (
                await conn.execute(
                    select(deliveries.c.sink).where(
                        deliveries.c.chain_id == chain_id, deliveries.c.delivered_at.is_(None)
                    )
                )
            ).all()
        return [r.sink for r in rows if r.sink in sinks]

    async def owed_deliveries(self, sinks: Sequence[str], *, limit: int = 100) -> builtins.list[tuple[str, str]]:
        """(chain id, sink) of finished chains whose report is still owed to one of `sinks`."""
        query = (
            select(deliveries.c.chain_id, deliveries.c.sink)
            .join(chains, chains.c.id == deliveries.c.chain_id)
            .where(
                deliveries.c.sink.in_(sinks),
                deliveries.c.delivered_at.is_(None),
                deliveries.c.error.is_(None),
                chains.c.status != ChainStatus.RUNNING.value,
                chains.c.completed_at.is_not(None),  # a chain being canceled has no report yet
            )
            .order_by(chains.c.completed_at)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [(r.chain_id, r.sink) for r in (await conn.execute(query)).all()]

    async def claim_delivery(self, chain_id: str, sink: str, owner: str, now: float, lease: float) -> bool:
        """Take an owed delivery for `lease` seconds unless it is done or another process holds it."""
        owed = (
            deliveries.c.chain_id == chain_id,
            deliveries.c.sink == sink,
            deliveries.c.delivered_at.is_(None),
            deliveries.c.error.is_(None),
        )
        statement = leases.take(deliveries, *owed, owner=owner, now=now, lease=lease, renew=False)
        return await leases.one_row(self.engine, statement)

    async def mark_delivered(self, chain_id: str, sink: str, error: str | None = None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.chain_id == chain_id, deliveries.c.sink == sink)
                .values(delivered_at=None if error else clock.now(), error=error)
            )

    async def items_of_batch(self, batch_id: str) -> builtins.list[dict[str, Any]]:
        """Chain step results that a batch (or realtime call set) just produced, for live display."""
        query = (
            select(
                jobs.c.label,
                jobs.c.id,
                results.c.custom_id,
                results.c.status,
                results.c.model,
                results.c.cost_usd,
                results.c.error_type,
            )
            .join(jobs, jobs.c.id == results.c.job_id)
            .where(results.c.batch_id == batch_id, jobs.c.source == "chain")
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            {
                "chain_id": r.label,
                "step": r.id.rsplit("_", 1)[-1],
                "custom_id": r.custom_id,
                "agent": r.custom_id.rsplit(":", 1)[-1],
                "status": r.status,
                "model": r.model,
                "cost_usd": r.cost_usd,
                "error": r.error_type,
            }
            for r in rows
        ]

    async def models(self, chain_id: str) -> builtins.list[str]:
        job_ids = select(chain_steps.c.job_id).where(chain_steps.c.chain_id == chain_id)
        query = select(results.c.model).where(results.c.job_id.in_(job_ids)).distinct()
        async with self.engine.connect() as conn:
            return sorted(m for m in (await conn.execute(query)).scalars() if m)


def _with_current_step() -> Select[Any]:
    """Chains joined to their current step's row and that row's job (either may be absent)."""
    current: ColumnElement[bool] = and_(chain_steps.c.chain_id == chains.c.id, chain_steps.c.step == chains.c.step)
    return select(
        chains,
        chain_steps.c.chain_id.label("step_claimed"),
        chain_steps.c.job_id.label("step_job_id"),
        chain_steps.c.created_at.label("step_created_at"),
        jobs.c.id.label("job_found"),
        jobs.c.completed_at.label("job_completed_at"),
        jobs.c.realtime.label("job_realtime"),
    ).select_from(chains.outerjoin(chain_steps, current).outerjoin(jobs, jobs.c.id == chain_steps.c.job_id))


def _chain_state(row: Row[Any]) -> ChainState:
    chain = chain_from_row(row)
    if row.step_claimed is None:
        return ChainState(chain, None, None)
    step = StepRow(chain.step, row.step_job_id, row.step_created_at, realtime=bool(row.job_realtime))
    if row.step_job_id is None:
        return ChainState(chain, step, None)
    if row.job_found is None:
        return ChainState(chain, step, JobState.MISSING)
    return ChainState(chain, step, JobState.DONE if row.job_completed_at is not None else JobState.RUNNING)

"""The chain orchestrator: starts chains, submits each step once, advances a chain as soon as
its step's job is complete, resumes every chain after a restart, and delivers exactly once.

The logic (which requests, what next, the report) is pure, in domain/chain.py.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from corthex import clock
from corthex.crashpoints import crash_point
from corthex.domain import chain as logic
from corthex.domain.chain import ChainPlan, ChainStatus, Step, StepResults
from corthex.domain.jobs import JobStatus
from corthex.domain.org import Org
from corthex.domain.records import ChainRow
from corthex.domain.requests import LLMRequest
from corthex.domain.routing import classify_by_keywords, is_broadcast
from corthex.engine.budget import BudgetCheck, budget_guard, check_budget
from corthex.engine.context import EngineContext
from corthex.engine.events import Event
from corthex.engine.intake import request_row
from corthex.engine.leases import renewed
from corthex.engine.realtime import run_realtime
from corthex.errors import AlreadyExists, UsageError
from corthex.store.base import Chains

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 20_000


class Delivery(Protocol):
    """Where a finished chain's report goes (archive, WebSocket, Telegram, …)."""

    name: str

    async def deliver(self, chain: ChainRow, report: str) -> None: ...


class ChainRunner:
    def __init__(self, ctx: EngineContext, org: Org, deliveries: list[Delivery] | None = None) -> None:
        self.ctx, self.org = ctx, org
        self.deliveries: list[Delivery] = list(deliveries or [])
        # Chains this process is advancing now. The lease keeps other workers off, but a claim by
        # the same worker succeeds (that is how it is renewed): a tick must not step into a chain
        # that a `start` (a REST or Telegram command, a realtime run) in this process still holds.
        self._in_hand: set[str] = set()
        ctx.bus.subscribe(self._on_event)

    @property
    def store(self) -> Chains:
        """The chain verbs of the store."""
        return self.ctx.store.chains

    # -- starting -----------------------------------------------------------------------------

    async def start(
        self,
        command: str,
        *,
        broadcast: bool = False,
        realtime: bool = False,
        origin: str = "cli",
        origin_ref: str | None = None,
    ) -> ChainRow:
        """Route the command (keywords first, else a classify step) and submit the first step."""
        command = _checked(command)
        short = uuid.uuid4().hex[:12]
        chain_id = "ch_" + short
        departments, step, method, detail = self._route(command, broadcast)
        with self._holding(chain_id):  # from before it exists: a tick in between must not take it
            await self.store.create(
                chain_id,
                command=command,
                broadcast=method == "broadcast",
                realtime=realtime,
                step=step,
                departments=departments,
                route_method=method,
                route_detail=detail,
                origin=origin,
                origin_ref=origin_ref,
                owed_to=[d.name for d in self.deliveries],  # whichever process finishes it
            )
            await self.store.claim(chain_id, self.ctx.worker_id, clock.now(), self.ctx.settings.lease_seconds)
            chain = await self.store.get(chain_id)
            await self.ctx.bus.publish(
                "chain.started",
                chain_id=chain_id,
                command=command,
                step=step.value,
                departments=list(departments),
                route=method,
                detail=detail,
                broadcast=chain.broadcast,
                realtime=realtime,
                origin=origin,
                origin_ref=origin_ref,
            )
            try:
                async with self._leased(chain_id):
                    await self._enter(chain, step)
            finally:
                await self.store.release(chain_id, self.ctx.worker_id)
            return await self.store.get(chain_id)

    @contextlib.contextmanager
    def _holding(self, chain_id: str) -> Iterator[None]:
        """Mark the chain as being advanced by this process until the block ends."""
        self._in_hand.add(chain_id)
        try:
            yield
        finally:
            self._in_hand.discard(chain_id)

    def _leased(self, chain_id: str) -> AbstractAsyncContextManager[None]:
        return renewed(self.store.claim, chain_id, self.ctx.worker_id, self.ctx.settings.lease_seconds)

    def _route(self, command: str, broadcast: bool) -> tuple[tuple[str, ...], Step, str | None, str | None]:
        keyword = is_broadcast(self.org, command)
        if broadcast or keyword:
            return tuple(self.org.broadcast_departments), Step.DELEGATE, "broadcast", keyword
        route = classify_by_keywords(self.org, command)
        if route is not None:
            return (route.department_id,), Step.DELEGATE, "keyword", route.keyword
        return (), Step.CLASSIFY, None, None

    # -- advancing ----------------------------------------------------------------------------

    async def tick(self) -> None:
        """Advance every running chain whose step is complete (also resumes after a restart)."""
        for chain in await self.store.list(status=ChainStatus.RUNNING, limit=10_000):
            if chain.id in self._in_hand or not await self._has_work(chain):  # most wait for their step's job
                continue
            owner, lease = self.ctx.worker_id, self.ctx.settings.lease_seconds
            if not await self.store.claim(chain.id, owner, clock.now(), lease):
                continue  # another worker is advancing it: one at a time, so nothing is done twice
            try:
                with self._holding(chain.id):
                    async with self._leased(chain.id):
                        await self.advance(chain.id)
            except Exception:
                log.exception("chain %s could not advance; retrying later", chain.id)
            finally:
                await self.store.release(chain.id, owner)

    async def _has_work(self, chain: ChainRow) -> bool:
        """Whether `advance` would do anything now (deliver, enter or complete a step)."""
        if chain.step is Step.DELIVER:
            return True
        row = next((s for s in await self.store.steps(chain.id) if s.step is chain.step), None)
        if row is None or row.job_id is None or not await self.store.job_exists(row.job_id):
            return True
        return chain.realtime or await self.store.job_done(row.job_id)

    async def advance(self, chain_id: str) -> None:
        chain = await self.store.get(chain_id)
        if chain.status is not ChainStatus.RUNNING:
            return
        if chain.step is Step.DELIVER:
            await self._deliver(chain, ChainStatus.COMPLETED)
            return
        row = next((s for s in await self.store.steps(chain.id) if s.step is chain.step), None)
        if row is None or (row.job_id is not None and not await self.store.job_exists(row.job_id)):
            await self._enter(chain, chain.step)  # a crash came between claiming and recording
            return
        if row.job_id is not None and not await self.store.job_done(row.job_id):
            if chain.realtime:
                await run_realtime(self.ctx, row.job_id)  # resume an interrupted realtime step
            return
        await self._complete(chain, chain.step, await self.store.step_results(row.job_id))

    async def _complete(self, chain: ChainRow, step: Step, results: StepResults) -> None:
        updates: dict[str, Any] = {}
        if step is Step.CLASSIFY:
            department, method = logic.route_after_classify(self.org, results)
            updates = {"departments": (department,), "route_method": method, "route_detail": department}
        following = logic.next_step(step, chain.broadcast)
        if not await self.store.move(chain.id, from_step=step, to_step=following, **updates):
            return  # another worker advanced it
        crash_point("between_steps")
        await self.ctx.bus.publish(
            "chain.step",
            chain_id=chain.id,
            step=step.value,
            status="done",
            next=following.value,
            **({"departments": list(updates["departments"])} if "departments" in updates else {}),
        )
        await self._enter(await self.store.get(chain.id), following)

    async def _enter(self, chain: ChainRow, step: Step) -> None:
        """Submit `step` once: the step row and the job id are both keyed on chain + step."""
        if step is Step.DELIVER:
            await self._deliver(chain, ChainStatus.COMPLETED)
            return
        requests = self._requests(chain, step, await self._done(chain))
        if not requests:
            await self.store.record_step(chain.id, step, None)
            await self._complete(chain, step, {})
            return
        job_id = f"job_{chain.id[3:]}_{step.value}"
        refused = await self._submit_within_budget(chain, step, job_id, requests)
        if refused is not None:
            reason = refused.explain("this step")
            notice = f"Stopped before the {step.value} step: {reason}. What the chain had is kept below."
            await self._deliver(chain, ChainStatus.STOPPED, notice=notice)
            return
        if chain.realtime:
            await run_realtime(self.ctx, job_id)
            await self.advance(chain.id)

    async def _submit_within_budget(
        self, chain: ChainRow, step: Step, job_id: str, requests: list[LLMRequest]
    ) -> BudgetCheck | None:
        """Record and submit the step's job unless it would go over the daily budget (then the
        failed check is returned and nothing is recorded)."""
        async with budget_guard(self.ctx):
            check = await check_budget(self.ctx, requests, realtime=chain.realtime)
            if check is not None and check.exceeded:
                return check
            await self.store.record_step(chain.id, step, job_id)
            crash_point("after_step_claimed")
            await self._submit(chain, step, job_id, requests, estimate=None if check is None else check.needed)
            return None

    def _requests(self, chain: ChainRow, step: Step, done: Mapping[Step, StepResults]) -> list[LLMRequest]:
        if step is Step.CLASSIFY:
            return logic.classify_requests(self.org, chain.command)
        return logic.step_requests(self.org, _plan(chain), step, done)

    async def _submit(
        self, chain: ChainRow, step: Step, job_id: str, requests: list[LLMRequest], *, estimate: float | None
    ) -> None:
        if await self.store.job_exists(job_id):
            return
        prefix = f"{chain.id[3:]}-{step.value[:4]}"
        rows = [request_row(prefix, seq, r) for seq, r in enumerate(requests)]
        try:
            await self.ctx.store.add_job(
                job_id,
                source="chain",
                status=JobStatus.RUNNING,
                label=chain.id,
                total=len(rows),
                chunks=[rows],
                realtime=chain.realtime,
                estimate_usd=estimate,
            )
        except AlreadyExists:
            return  # submitted concurrently by another worker
        agents = [logic.agent_of(r.custom_id) for r in requests]
        await self.ctx.bus.publish(
            "chain.step",
            chain_id=chain.id,
            step=step.value,
            status="submitted",
            job_id=job_id,
            agents=agents,
            models=sorted({r.model for r in requests}),
        )
        self.ctx.wake.set()

    async def _done(self, chain: ChainRow) -> dict[Step, StepResults]:
        return {s.step: await self.store.step_results(s.job_id) for s in await self.store.steps(chain.id)}

    # -- delivery -----------------------------------------------------------------------------

    async def _deliver(self, chain: ChainRow, status: ChainStatus, notice: str | None = None) -> None:
        """Compose the report, hand it to every delivery not yet done, then close the chain."""
        report = logic.compose(self.org, _plan(chain), await self._done(chain))
        if notice:
            report = f"> **{notice}**\n\n{report}"
        cost, realtime_cost = await self.store.cost(chain.id)
        for name in await self.store.undelivered(chain.id, [d.name for d in self.deliveries]):
            await self._deliver_to(next(d for d in self.deliveries if d.name == name), chain, report)
        crash_point("before_finish")
        await self.store.finish(chain.id, status, report=report, error=notice)
        await self.ctx.bus.publish(
            "chain.done",
            chain_id=chain.id,
            status=status.value,
            cost_usd=cost,
            realtime_cost_usd=realtime_cost,
            report=report,
            notice=notice,
            origin=chain.origin,
            origin_ref=chain.origin_ref,
        )

    async def deliver_owed(self) -> None:
        """Deliver reports owed to this process's sinks by chains that another process finished
        (it lacked the sink: a worker has no Telegram bot). A lease keeps two such processes from
        both sending one."""
        mine = {d.name: d for d in self.deliveries}
        for chain_id, sink in await self.store.owed_deliveries(list(mine)):
            owner, lease = self.ctx.worker_id, self.ctx.settings.lease_seconds
            if not await self.store.claim_delivery(chain_id, sink, owner, clock.now(), lease):
                continue
            chain = await self.store.get(chain_id)
            await self._deliver_to(mine[sink], chain, chain.report or "")

    async def _deliver_to(self, delivery: Delivery, chain: ChainRow, report: str) -> None:
        """Hand the report to one sink and record the outcome; a failure is recorded, not raised
        (one failing channel must not block the others)."""
        try:
            await delivery.deliver(chain, report)
            crash_point("after_delivery")
            await self.store.mark_delivered(chain.id, delivery.name)
        except Exception as exc:
            log.exception("delivery of chain %s to %s failed", chain.id, delivery.name)
            await self.store.mark_delivered(chain.id, delivery.name, error=str(exc))

    # -- live items ---------------------------------------------------------------------------

    async def _on_event(self, event: Event) -> None:
        if event.type == "chain.done" and event.origin is not None:
            self.ctx.wake.set()  # finished elsewhere: a report may be owed to a sink of ours
        if event.type != "batch.collected":
            return
        for item in await self.store.items_of_batch(event.data["batch_id"]):
            await self.ctx.bus.publish("chain.item", **item)


def _plan(chain: ChainRow) -> ChainPlan:
    return ChainPlan(chain.command, chain.departments, chain.broadcast)


def _checked(command: str) -> str:
    command = command.strip()
    if not command:
        raise UsageError("the command is empty")
    if len(command) > MAX_COMMAND_CHARS:
        raise UsageError(f"the command is {len(command)} characters long; the limit is {MAX_COMMAND_CHARS}")
    if "\x00" in command:  # PostgreSQL text cannot hold it
        raise UsageError("the command contains a NUL character")
    return command

"""The chain orchestrator: starts chains, submits each step once, advances a chain as soon as
its step's job is complete, resumes every chain after a restart, and delivers exactly once.

The logic (which requests, what next, the report) is pure, in domain/chain.py.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from corthex import clock
from corthex.crashpoints import crash_point
from corthex.domain import chain as logic
from corthex.domain.chain import Action, ChainPlan, ChainStatus, Step, StepResults
from corthex.domain.events import (
    BatchCollected,
    ChainCanceled,
    ChainDone,
    ChainItem,
    ChainRerun,
    ChainStarted,
    ChainStepDone,
    ChainStepSubmitted,
    Event,
)
from corthex.domain.jobs import JobStatus
from corthex.domain.org import Org
from corthex.domain.records import ChainRow, ChainStopped
from corthex.domain.requests import LLMRequest
from corthex.domain.routing import classify_by_keywords, is_broadcast
from corthex.domain.storable import nul_refusal
from corthex.engine.budget import BudgetCheck
from corthex.engine.cancel import cancel_job
from corthex.engine.chain_deadlines import deadline_for_step
from corthex.engine.context import EngineContext
from corthex.engine.intake import request_row
from corthex.engine.leases import renewed
from corthex.engine.realtime import run_realtime
from corthex.engine.submission import NewJob, submit_job
from corthex.errors import JobFinished, UsageError
from corthex.store.base import Chains

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 20_000


class Delivery(Protocol):
    """Where a finished chain's report goes (archive, WebSocket, Telegram, …)."""

    name: str

    async def deliver(self, chain: ChainRow, report: str) -> None: ...


class ChainRunner:
    def __init__(
        self, ctx: EngineContext, load_org: Callable[[], Org], deliveries: list[Delivery] | None = None
    ) -> None:
        self.ctx, self._load_org = ctx, load_org
        self._org: Org | None = None
        self.deliveries: list[Delivery] = list(deliveries or [])
        # Chains this process is advancing now. The lease keeps other workers off, but a claim by
        # the same worker succeeds (that is how it is renewed): a tick must not step into a chain
        # that a `start` (a REST or Telegram command, a realtime run) in this process still holds.
        self._in_hand: set[str] = set()
        ctx.bus.subscribe(self._on_event, types=(ChainDone, BatchCollected))

    @property
    def org(self) -> Org:
        """The organisation, read on first use: a round that only delivers owed reports (every
        worker round) need not parse the org's YAML."""
        if self._org is None:
            self._org = self._load_org()
        return self._org

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
        rerun_of: str | None = None,
        deadline: tuple[float, float] | None = None,
    ) -> ChainRow:
        """Route the command (keywords first, else a classify step) and submit the first step.
        `deadline`: (Unix time, margin in seconds), shared among the steps as each is entered."""
        command = checked_command(command)
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
                rerun_of=rerun_of,
                deadline=deadline,
            )
            await self.store.claim(chain_id, self.ctx.worker_id, clock.now(), self.ctx.settings.lease_seconds)
            chain = await self.store.get(chain_id)
            await self.ctx.bus.publish(
                ChainStarted(
                    chain_id=chain_id,
                    command=command,
                    step=step.value,
                    departments=tuple(departments),
                    route=method,
                    detail=detail,
                    broadcast=chain.broadcast,
                    realtime=realtime,
                    origin=origin,
                    origin_ref=origin_ref,
                )
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
        """Advance every running chain that has work now (also resumes after a restart): one query
        finds them, so the chains waiting for their step's job cost nothing."""
        for state in await self.store.with_work(limit=10_000):
            chain = state.chain
            if chain.id in self._in_hand or logic.next_action(chain, state.step, state.job) is Action.WAIT:
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

    async def advance(self, chain_id: str) -> None:
        """Do what the chain's state calls for now (domain.chain.next_action decides)."""
        state = await self.store.state(chain_id)
        chain, job_id = state.chain, None if state.step is None else state.step.job_id
        action = logic.next_action(chain, state.step, state.job)
        if action is Action.DELIVER:
            await self._deliver(chain, ChainStatus.COMPLETED)
        elif action is Action.ENTER:
            await self._enter(chain, chain.step)  # a crash came between claiming and recording
        elif action is Action.RESUME_REALTIME and job_id is not None:
            await run_realtime(self.ctx, job_id)  # resume an interrupted realtime step
        elif action is Action.COMPLETE:
            await self._complete(chain, chain.step, await self.store.step_results(job_id))

    async def _complete(self, chain: ChainRow, step: Step, results: StepResults) -> None:
        updates: dict[str, Any] = {}
        chosen: tuple[str, ...] | None = None  # the departments, when this step chose them
        if step is Step.CLASSIFY:
            department, method = logic.route_after_classify(self.org, results)
            chosen = (department,)
            updates = {"departments": chosen, "route_method": method, "route_detail": department}
        following = logic.next_step(step, chain.broadcast)
        if not await self.store.move(chain.id, from_step=step, to_step=following, **updates):
            return  # another worker advanced it
        crash_point("between_steps")
        await self.ctx.bus.publish(
            ChainStepDone(chain_id=chain.id, step=step.value, next=following.value, departments=chosen)
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
        realtime = chain.realtime or step.value in self.org.realtime_steps
        deadline = None if realtime else await deadline_for_step(self.ctx, self.org, chain, step, requests)
        refused = await self._submit_within_budget(chain, step, job_id, requests, realtime=realtime, deadline=deadline)
        if refused is not None:
            reason = refused.explain("this step")
            notice = f"Stopped before the {step.value} step: {reason}. What the chain had is kept below."
            await self._deliver(chain, ChainStatus.STOPPED, notice=notice)
            return
        if await self._canceled_meanwhile(chain.id, job_id):
            return
        if realtime:
            await run_realtime(self.ctx, job_id)
            await self.advance(chain.id)

    async def _submit_within_budget(
        self,
        chain: ChainRow,
        step: Step,
        job_id: str,
        requests: list[LLMRequest],
        *,
        realtime: bool,
        deadline: tuple[float, float] | None,
    ) -> BudgetCheck | None:
        """Claim the step and submit its job unless it would go over the daily budget (then the
        failed check is returned and nothing is recorded)."""
        prefix = f"{chain.id[3:]}-{step.value[:4]}"
        job = NewJob(
            job_id,
            source="chain",
            status=JobStatus.RUNNING,
            label=chain.id,
            total=len(requests),
            requests=requests,
            chunks=[[request_row(prefix, seq, r) for seq, r in enumerate(requests)]],
            realtime=realtime,
            once=True,
            deadline=deadline,
        )
        submitted = ChainStepSubmitted(
            chain_id=chain.id,
            step=step.value,
            job_id=job_id,
            agents=tuple(logic.agent_of(r.custom_id) for r in requests),
            models=tuple(sorted({r.model for r in requests})),
        )

        async def claim_step() -> None:
            await self.store.record_step(chain.id, step, job_id)
            crash_point("after_step_claimed")

        return await submit_job(self.ctx, job, submitted, claim=claim_step)

    def _requests(self, chain: ChainRow, step: Step, done: Mapping[Step, StepResults]) -> list[LLMRequest]:
        if step is Step.CLASSIFY:
            return logic.classify_requests(self.org, chain.command)
        return logic.step_requests(self.org, _plan(chain), step, done)

    async def _done(self, chain: ChainRow) -> dict[Step, StepResults]:
        return {s.step: await self.store.step_results(s.job_id) for s in await self.store.steps(chain.id)}

    async def _canceled_meanwhile(self, chain_id: str, job_id: str) -> bool:
        """A cancel of the chain that came while its step was being submitted may have missed the
        step's job: cancel it here (one of the two sees it)."""
        if (await self.store.get(chain_id)).status is not ChainStatus.CANCELED:
            return False
        with contextlib.suppress(JobFinished):
            await cancel_job(self.ctx, job_id)
        return True

    # -- a person's control -------------------------------------------------------------------

    async def cancel(self, chain_id: str) -> ChainStopped:
        """Stop the chain: no step follows, its open jobs are canceled (their batches too), and
        the report of what it has is delivered, marked canceled.

        :raises NotFound: no such chain. :raises ChainFinished: it had ended (nothing changed)."""
        await self.store.mark_canceled(chain_id)
        jobs = canceled = already = 0
        for job_id in await self.store.open_jobs(chain_id):
            with contextlib.suppress(JobFinished):  # it ended meanwhile: kept as it is
                outcome = await cancel_job(self.ctx, job_id)
                jobs, canceled, already = jobs + 1, canceled + outcome.canceled, already + outcome.already_done
        chain = await self.store.get(chain_id)
        await self.ctx.bus.publish(
            ChainCanceled(chain_id=chain_id, step=chain.step.value, jobs=jobs, canceled=canceled, already_done=already)
        )
        stopped = f"{canceled:,} requests canceled, {already:,} already done"
        notice = f"Canceled by request at the {chain.step.value} step ({stopped}). What the chain had is kept below."
        await self._deliver(chain, ChainStatus.CANCELED, notice=notice)
        return ChainStopped(await self.store.get(chain_id), jobs, canceled, already)

    async def rerun(self, chain_id: str, *, origin: str = "cli", origin_ref: str | None = None) -> ChainRow:
        """Start the chain's command again as a new chain, linked to it (`rerun_of`).

        :raises NotFound: no such chain."""
        first = await self.store.get(chain_id)
        again = await self.start(
            first.command,
            broadcast=first.broadcast,
            realtime=first.realtime,
            origin=origin,
            origin_ref=origin_ref,
            rerun_of=first.id,
            deadline=_same_allowance(first, clock.now()),
        )
        await self.ctx.bus.publish(ChainRerun(chain_id=again.id, rerun_of=first.id))
        return again

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
            ChainDone(
                chain_id=chain.id,
                status=status.value,
                cost_usd=cost,
                realtime_cost_usd=realtime_cost,
                report=report,
                notice=notice,
                origin=chain.origin,
                origin_ref=chain.origin_ref,
            )
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
        if isinstance(event, ChainDone) and event.relayed_from is not None:
            self.ctx.wake.set()  # finished elsewhere: a report may be owed to a sink of ours
        if not isinstance(event, BatchCollected):
            return
        for item in await self.store.items_of_batch(event.batch_id):
            await self.ctx.bus.publish(ChainItem(**item))


def _plan(chain: ChainRow) -> ChainPlan:
    return ChainPlan(chain.command, chain.departments, chain.broadcast)


def _same_allowance(chain: ChainRow, now: float) -> tuple[float, float] | None:
    """A rerun's deadline: as long after its start as the first chain's was after its own."""
    if chain.deadline is None:
        return None
    return now + (chain.deadline - chain.created_at), chain.deadline_margin or 0.0


def checked_command(command: str) -> str:
    """The command as a chain keeps it (stripped), or UsageError naming what is wrong."""
    command = command.strip()
    if not command:
        raise UsageError("the command is empty")
    if len(command) > MAX_COMMAND_CHARS:
        raise UsageError(f"the command is {len(command)} characters long; the limit is {MAX_COMMAND_CHARS}")
    if refusal := nul_refusal("the command", command):
        raise UsageError(refusal)
    return command

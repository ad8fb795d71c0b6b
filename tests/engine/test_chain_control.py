"""Stopping and re-running a chain (issue 16, item 8): the chain stops where it stands, its open
jobs and their batches are canceled, and the report of what it had is delivered, marked canceled."""

from __future__ import annotations

import pytest

from corthex.domain.chain import ChainStatus
from corthex.domain.describe import describe
from corthex.domain.events import ChainCanceled, ChainRerun, Event
from corthex.engine.engine import Engine
from corthex.errors import ChainFinished, NotFound
from corthex.testing import FakeProvider

COMMAND = "삼성전자 주가를 분석해 줘"


def never_ending(fakes: dict[str, FakeProvider]) -> None:
    for fake in fakes.values():
        fake.on_create = lambda batch: setattr(batch, "polls", None)  # runs until canceled


async def test_a_canceled_chain_stops_its_batches_and_delivers_what_it_has(
    engine: Engine, fakes: dict[str, FakeProvider]
) -> None:
    never_ending(fakes)
    seen: list[Event] = []
    engine.bus.subscribe(seen.append)
    chain = await engine.start_chain(COMMAND)
    await engine.step()  # its first step's batch is created
    batches = [b for fake in fakes.values() for b in fake.batches.values()]
    assert batches and not any(b.canceled for b in batches)
    stopped = await engine.cancel_chain(chain.id)
    assert stopped.chain.status is ChainStatus.CANCELED and stopped.jobs == 1
    assert stopped.canceled > 0 and stopped.already_done == 0
    assert all(b.canceled for b in batches)  # nothing left running at the provider
    assert stopped.chain.report is not None and "Canceled by request" in stopped.chain.report
    assert stopped.chain.completed_at is not None
    canceled = [e for e in seen if isinstance(e, ChainCanceled)]
    assert len(canceled) == 1 and canceled[0].canceled == stopped.canceled
    assert describe(canceled[0]) == (
        f"⏹ chain {chain.id} canceled at {stopped.chain.step.value}: {stopped.canceled} canceled, 0 already done"
    )
    await engine.step()
    await engine.chains.tick()  # nothing advances it any more
    after = await engine.chain(chain.id)
    assert after.status is ChainStatus.CANCELED and after.step == stopped.chain.step
    assert sum(fake.created for fake in fakes.values()) == len(batches)  # no step after the cancel
    with pytest.raises(ChainFinished, match=f"chain {chain.id} is already canceled"):
        await engine.cancel_chain(chain.id)
    with pytest.raises(NotFound):
        await engine.cancel_chain("ch_nope")


async def test_a_chain_runs_again_as_a_new_chain_linked_to_the_first(
    engine: Engine, fakes: dict[str, FakeProvider]
) -> None:
    never_ending(fakes)
    seen: list[Event] = []
    engine.bus.subscribe(seen.append)
    first = await engine.start_chain(COMMAND, origin="cli")
    await engine.cancel_chain(first.id)
    again = await engine.rerun_chain(first.id)
    assert again.id != first.id and again.rerun_of == first.id
    assert (again.command, again.broadcast, again.realtime) == (first.command, first.broadcast, first.realtime)
    assert again.status is ChainStatus.RUNNING and again.departments == first.departments
    assert [e.rerun_of for e in seen if isinstance(e, ChainRerun)] == [first.id]
    assert (await engine.chain(again.id)).to_dict()["rerun_of"] == first.id
    with pytest.raises(NotFound):
        await engine.rerun_chain("ch_nope")

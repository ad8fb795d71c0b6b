"""Progress coalescing and routing, with a recording send function and a tiny in-memory chain lookup."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from corthex.domain.chain import ChainStatus, Step
from corthex.domain.events import ChainDone, ChainItem, ChainStarted
from corthex.errors import NotFound
from corthex.store.chains import ChainRow
from corthex.telegram.progress import ProgressNotifier, origin_chat

ALLOWED = frozenset({1, 2})


class Chains:
    """Stands in for the store's `get` only (chains from before a restart)."""

    def __init__(self, rows: dict[str, ChainRow]) -> None:
        self.rows, self.lookups = rows, 0

    async def get(self, chain_id: str) -> ChainRow:
        self.lookups += 1
        if chain_id not in self.rows:
            raise NotFound("chain", chain_id)
        return self.rows[chain_id]


def row(chain_id: str, origin: str, ref: str | None) -> ChainRow:
    return ChainRow(
        chain_id,
        "cmd",
        False,
        False,
        ChainStatus.RUNNING,
        Step.SPECIALISTS,
        ("cio",),
        None,
        None,
        origin,
        ref,
        None,
        None,
        0.0,
        0.0,
        None,
    )


def notifier(chains: Chains, window: float = 0.2) -> tuple[ProgressNotifier, list[tuple[int, Sequence[str]]]]:
    sent: list[tuple[int, Sequence[str]]] = []

    async def send(chat: int, parts: Sequence[str]) -> None:
        sent.append((chat, parts))

    return ProgressNotifier(chains.get, ALLOWED, send, window), sent


def started(chain_id: str, origin: str, ref: str | None) -> ChainStarted:
    return ChainStarted(
        chain_id=chain_id,
        command="c",
        step="classify",
        route=None,
        departments=(),
        broadcast=False,
        realtime=False,
        origin=origin,
        origin_ref=ref,
    )


def item(chain_id: str, agent: str) -> ChainItem:
    return ChainItem(
        chain_id=chain_id,
        step="delegate",
        custom_id=f"delegate:{agent}",
        agent=agent,
        model="m",
        status="succeeded",
        cost_usd=0.0,
    )


def test_origin_chat_only_for_allowed_telegram_chats() -> None:
    assert origin_chat("telegram", "1", ALLOWED) == 1
    assert origin_chat("telegram", "3", ALLOWED) is None  # no longer allowed
    assert origin_chat("web", "1", ALLOWED) is None and origin_chat("telegram", "x", ALLOWED) is None


async def test_lines_are_coalesced_per_window_and_sent_to_the_starting_chat_only() -> None:
    progress, sent = notifier(Chains({}))
    progress.on_event(started("ch_a", "telegram", "2"))
    progress.on_event(started("ch_web", "web", None))
    await asyncio.sleep(0.05)
    assert [chat for chat, _ in sent] == [2]  # the start goes at once, as the acknowledgement
    for n in range(20):
        progress.on_event(item("ch_a", f"agent{n}"))
        progress.on_event(item("ch_web", f"agent{n}"))
    await asyncio.sleep(0.4)
    assert len(sent) == 2 and sent[1][0] == 2
    assert all(f"agent{n}" in sent[1][1][0] for n in range(20))
    progress.on_event(item("ch_a", "late"))
    await progress.flush("ch_a")  # the delivery flushes before the report
    assert len(sent) == 3 and "late" in sent[2][1][0]
    progress.on_event(ChainDone(chain_id="ch_a", status="completed", cost_usd=0.0, realtime_cost_usd=0.0))
    await asyncio.sleep(0.05)
    await progress.aclose()
    assert len(sent) == 3


async def test_chains_from_before_a_restart_are_looked_up_once() -> None:
    chains = Chains({"ch_old": row("ch_old", "telegram", "1"), "ch_cli": row("ch_cli", "cli", None)})
    progress, sent = notifier(chains, window=0.05)
    for _ in range(3):
        progress.on_event(item("ch_old", "x"))
        progress.on_event(item("ch_cli", "y"))
        progress.on_event(item("ch_gone", "z"))
        await asyncio.sleep(0.15)
    await progress.aclose()
    assert {chat for chat, _ in sent} == {1} and len(sent) == 3
    assert chains.lookups == 3  # one per chain, then cached

"""Progress coalescing and routing, with a recording send function and a tiny in-memory chain lookup."""

from __future__ import annotations

import asyncio

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


class Chat:
    """Records what the notifier posts and edits: `messages[id] = (chat, text)`, `calls` in order."""

    def __init__(self) -> None:
        self.messages: dict[int, tuple[int, str]] = {}
        self.calls: list[tuple[str, int, int]] = []  # ("post" | "edit", chat, message id)

    async def post(self, chat: int, text: str) -> int:
        message_id = len(self.messages) + 1
        self.messages[message_id] = (chat, text)
        self.calls.append(("post", chat, message_id))
        return message_id

    async def edit(self, chat: int, message_id: int, text: str) -> None:
        assert self.messages[message_id][0] == chat
        self.messages[message_id] = (chat, text)
        self.calls.append(("edit", chat, message_id))


def notifier(chains: Chains, window: float = 0.2) -> tuple[ProgressNotifier, Chat]:
    chat = Chat()
    return ProgressNotifier(chains.get, ALLOWED, chat.post, chat.edit, window), chat


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


async def test_lines_are_coalesced_into_one_message_edited_in_place_in_the_starting_chat_only() -> None:
    progress, chat = notifier(Chains({}))
    progress.on_event(started("ch_a", "telegram", "2"))
    progress.on_event(started("ch_web", "web", None))
    await asyncio.sleep(0.05)
    assert chat.calls == [("post", 2, 1)]  # the start goes at once, as the acknowledgement
    for n in range(20):
        progress.on_event(item("ch_a", f"agent{n}"))
        progress.on_event(item("ch_web", f"agent{n}"))
    await asyncio.sleep(0.4)
    assert chat.calls == [("post", 2, 1), ("edit", 2, 1)]  # twenty lines: one edit of the same message
    text = chat.messages[1][1]
    assert "ch_a" in text and "started" in text and all(f"agent{n}" in text for n in range(20))
    progress.on_event(item("ch_a", "late"))
    await progress.flush("ch_a")  # the delivery flushes before the report
    assert chat.calls[-1] == ("edit", 2, 1) and "late" in chat.messages[1][1]
    progress.on_event(ChainDone(chain_id="ch_a", status="completed", cost_usd=0.0, realtime_cost_usd=0.0))
    await asyncio.sleep(0.05)
    await progress.aclose()
    assert len(chat.calls) == 3 and len(chat.messages) == 1


async def test_chains_from_before_a_restart_are_looked_up_once() -> None:
    chains = Chains({"ch_old": row("ch_old", "telegram", "1"), "ch_cli": row("ch_cli", "cli", None)})
    progress, chat = notifier(chains, window=0.05)
    for _ in range(3):
        progress.on_event(item("ch_old", "x"))
        progress.on_event(item("ch_cli", "y"))
        progress.on_event(item("ch_gone", "z"))
        await asyncio.sleep(0.15)
    await progress.aclose()
    assert {c for _, c, _ in chat.calls} == {1} and [k for k, _, _ in chat.calls] == ["post", "edit", "edit"]
    assert chains.lookups == 3  # one per chain, then cached

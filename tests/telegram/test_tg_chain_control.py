"""/cancel and /report (issue 16, item 8): a chain stopped from Telegram, its report of what it had
sent to the chat, and any chain's report asked for again."""

from __future__ import annotations

from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, CHAT_B, STOCK, reports

from corthex.domain.chain import ChainStatus
from corthex.engine.engine import Engine
from corthex.telegram import TelegramService


async def test_cancel_stops_the_chain_and_its_report_of_what_it_had_follows(
    fake: FakeBotApi, engine: Engine, service: TelegramService
) -> None:
    # no worker: the chain waits at its first step
    chain = await engine.chains.start(STOCK, origin="telegram", origin_ref=str(CHAT_A))
    fake.message(CHAT_B, f"/report {chain.id}")
    await fake.wait_for(lambda: any("no report yet" in t for t in fake.texts(CHAT_B)), what="/report while running")
    assert f"/cancel {chain.id} stops it" in fake.texts(CHAT_B)[0]

    fake.message(CHAT_A, f"/cancel {chain.id}")
    said = await fake.wait_for(lambda: [t for t in fake.texts(CHAT_A) if t.startswith("⏹")], what="/cancel")
    assert said[0].startswith(f"⏹ Chain {chain.id} canceled at step delegate:") and "already done" in said[0]
    report = await fake.wait_for(lambda: reports(fake, CHAT_A), what="the report of a canceled chain")
    assert "Canceled by request" in "".join(report)
    assert (await engine.chain(chain.id)).status is ChainStatus.CANCELED

    fake.message(CHAT_B, f"/report {chain.id}")
    again = await fake.wait_for(lambda: reports(fake, CHAT_B), what="/report of an ended chain")
    assert chain.id in again[0] and "Canceled by request" in "".join(again)

    fake.message(CHAT_A, f"/cancel {chain.id}")
    await fake.wait_for(lambda: any("is already canceled" in t for t in fake.texts(CHAT_A)), what="second /cancel")
    fake.message(CHAT_A, "/cancel ch_000000000000")
    await fake.wait_for(lambda: any("ch_000000000000" in t for t in fake.texts(CHAT_A)), what="unknown chain")
    fake.message(CHAT_A, "/cancel")
    await fake.wait_for(lambda: "Usage: /cancel <chain id>" in fake.texts(CHAT_A), what="the usage line")
    assert not any("Unknown command" in t for t in fake.texts(CHAT_A))

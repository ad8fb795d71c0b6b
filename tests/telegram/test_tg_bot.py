"""The bot as a user sees it: commands in, messages out, through a fake Bot API server."""

from __future__ import annotations

import re
import time

import pytest
from tg_fakebot import FakeBotApi, utf16_len
from tg_support import CHAT_A, CHAT_B, STOCK, STRANGER, delivery_rows, telegram_chains, wait_chain_end, wait_report

from corthex.domain.chain import ChainStatus
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.telegram import TelegramService
from corthex.telegram.messages import money

CHAIN_ID = re.compile(r"\bch_[0-9a-f]{12}\b")


async def test_batch_runs_a_chain_and_the_report_reaches_the_originating_chat_only(
    fake: FakeBotApi, engine: Engine, worker: None
) -> None:
    fake.message(CHAT_A, f"/batch {STOCK}")
    [report] = await wait_report(fake, CHAT_A)
    [chain] = await telegram_chains(engine)
    chain = await wait_chain_end(engine, chain.id)  # the report goes out just before the chain closes
    assert chain.origin_ref == str(CHAT_A) and not chain.realtime and chain.departments == ("cio",)
    assert chain.id in report and "Investment (CIO) report" in report
    cost, realtime_cost = await engine._store.chains.cost(chain.id)
    assert f"cost {money(cost)}" in report and f"saved {money(realtime_cost - cost)} (50%)" in report
    assert fake.texts(CHAT_B) == [] and fake.texts(STRANGER) == []
    assert all(s.parse_mode == "HTML" for s in fake.sent)
    assert "batch" in fake.texts(CHAT_A)[0] and chain.id in fake.texts(CHAT_A)[0]  # the acknowledgement
    deliveries = await delivery_rows(engine, chain.id)
    assert deliveries["telegram"] == (True, None)


LONG_PARAGRAPH = "Risk <high> & reward > cost: **bold** claim with `code` & more text. " * 12  # ~850 chars
LONG_LINE = "x<y&z>w " * 700  # one line of 5,600 characters: must be cut inside the line


def long_reply() -> str:
    paragraphs = [f"## Section {i}\\n{LONG_PARAGRAPH}" for i in range(12)] + [LONG_LINE]
    return "\\n\\n".join(paragraphs)


async def test_a_long_report_is_split_under_the_limit_escaped_and_numbered(
    fake: FakeBotApi, engine: Engine, worker: None
) -> None:
    fake.message(CHAT_A, f"/batch Write the long memo [[emulator:reply={long_reply()}]]")
    parts = await wait_report(fake, CHAT_A)
    count = len(parts)
    assert count >= 4
    for i, part in enumerate(parts, 1):
        assert part.startswith(f"({i}/{count})\n")
    sent = [s for s in fake.to(CHAT_A) if s.visible in parts]
    assert all(len(s.text) <= 4096 and utf16_len(s.text) <= 4096 for s in sent)  # counted after escaping
    assert all("&lt;high&gt; &amp; reward &gt; cost" in s.text for s in sent[:2])
    body = "".join(re.sub(r"^\(\d+/\d+\)\n", "", p) for p in parts)
    expected = long_reply().replace("\\n", "\n").replace("## ", "").replace("**", "").replace("`", "")
    assert squash(expected) in squash(body)  # the parts reassemble to the whole report
    shown = LONG_PARAGRAPH.replace("**", "").replace("`", "").strip()
    assert sum(p.count(f"Section {i}\n{shown}") for p in parts for i in range(12)) == 12  # no paragraph was cut


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def test_status_lists_running_chains_with_full_distinct_ids(
    fake: FakeBotApi, engine: Engine, service: TelegramService
) -> None:
    # no worker: the chains stay at their first step
    first = await engine.chains.start(STOCK, origin="telegram", origin_ref=str(CHAT_A))
    second = await engine.chains.start("Plan the <launch> & the budget", broadcast=True)
    fake.message(CHAT_B, "/status")
    status = await fake.wait_for(lambda: [t for t in fake.texts(CHAT_B) if "Running chains" in t], what="/status")
    text = status[0]
    assert set(CHAIN_ID.findall(text)) == {first.id, second.id} and first.id != second.id
    assert "step delegate" in text and "cio" in text and "cto, cso, clo, cmo, cio, cpo" in text
    assert "batch · broadcast" in text and "Plan the <launch> & the budget" in text
    assert re.search(r"cio · \d+s ·", text)  # elapsed time


async def test_status_with_nothing_running(fake: FakeBotApi, service: TelegramService) -> None:
    fake.message(CHAT_A, "/status")
    await fake.wait_for(lambda: "No chains are running." in fake.texts(CHAT_A), what="/status")


async def test_budget_shows_todays_cost_against_the_budget(
    fake: FakeBotApi, engine: Engine, service: TelegramService, worker: None
) -> None:
    fake.message(CHAT_A, "/budget")
    await fake.wait_for(lambda: any("No daily budget set" in t for t in fake.texts(CHAT_A)), what="no budget")
    assert "Today in Asia/Seoul (since 00:00): spent $0.0000." in fake.texts(CHAT_A)[0]
    fake.message(CHAT_A, f"/batch {STOCK}")
    await wait_report(fake, CHAT_A)
    engine.settings.daily_budget_usd = 5.0
    spent = await engine._store.chains.spent_since(time.time() - 86_400)
    assert spent > 0
    fake.message(CHAT_A, "/budget")
    [line] = await fake.wait_for(lambda: [t for t in fake.texts(CHAT_A) if "daily budget" in t and "of the" in t])
    assert f"spent {money(spent)} of the $5.0000 daily budget" in line and f"{money(5.0 - spent)} left" in line


async def test_messages_from_an_unknown_chat_get_no_reply_and_are_logged(
    fake: FakeBotApi, engine: Engine, service: TelegramService, caplog: pytest.LogCaptureFixture
) -> None:
    fake.message(STRANGER, "/help")
    fake.message(STRANGER, f"/batch {STOCK}")
    fake.message(STRANGER, "배치 " + STOCK)
    fake.message(CHAT_A, "/help")  # updates are handled in order: once this is answered, so were they
    await fake.wait_for(lambda: fake.texts(CHAT_A), what="/help")
    assert "/batch <command>" in fake.texts(CHAT_A)[0]
    assert fake.to(STRANGER) == [] and await engine._store.chains.list() == []
    ignored = [r.getMessage() for r in caplog.records if "not in TELEGRAM_CHAT_IDS" in r.getMessage()]
    assert len(ignored) == 3 and all(f"chat {STRANGER}" in m for m in ignored)


async def test_rt_runs_the_chain_in_realtime(
    fake: FakeBotApi, engine: Engine, emulator: EmulatorServer, worker: None
) -> None:
    fake.message(CHAT_A, f"/rt {STOCK}")
    [report] = await wait_report(fake, CHAT_A)
    [chain] = await telegram_chains(engine)
    chain = await wait_chain_end(engine, chain.id)  # the report goes out just before the chain closes
    assert chain.realtime and chain.status is ChainStatus.COMPLETED
    assert "(realtime)" in report and "no batch saving" in report
    stats = emulator.state.stats()
    assert sum(stats[p]["batches_created"] for p in ("openai", "anthropic", "gemini")) == 0


async def test_broadcast_runs_every_department(fake: FakeBotApi, engine: Engine, worker: None) -> None:
    fake.message(CHAT_B, "/broadcast Prepare the quarterly plan")
    parts = await wait_report(fake, CHAT_B, within=45)
    [chain] = await telegram_chains(engine)
    assert chain.broadcast and chain.departments == ("cto", "cso", "clo", "cmo", "cio", "cpo")
    report = "".join(parts)
    assert "All-department report" in report and "Chief of staff's summary" in report
    assert all(name in report for name in ("Technology (CTO)", "Investment (CIO)", "Publishing (CPO)"))
    assert fake.texts(CHAT_A) == []


async def test_progress_goes_only_to_the_chat_that_started_the_chain(
    fake: FakeBotApi, engine: Engine, worker: None
) -> None:
    fake.message(CHAT_A, f"/batch {STOCK}")
    fake.message(CHAT_B, "/batch 신규 서비스 마케팅 전략 세워줘")
    web = await engine.chains.start("특허 출원 전략 검토해줘", origin="web")  # started elsewhere
    await wait_report(fake, CHAT_A)
    await wait_report(fake, CHAT_B)
    await fake.wait_for(
        lambda: all(any(web.id in t for t in fake.texts(c)) for c in (CHAT_A, CHAT_B)), what="web report"
    )
    by_chat = {c.origin_ref: c.id for c in await telegram_chains(engine)}
    own_a, own_b = by_chat[str(CHAT_A)], by_chat[str(CHAT_B)]
    for chat, own, other in ((CHAT_A, own_a, own_b), (CHAT_B, own_b, own_a)):
        texts = fake.texts(chat)
        progress = [t for t in texts if "Report of chain" not in t]
        assert progress and all(own in t for t in progress)  # each names its chain
        assert not any(other in t for t in texts)  # nothing of the other chat's chain
        assert not any(web.id in t for t in progress)  # no progress for a web chain, only its report
        assert any("started (batch)" in t for t in progress) and any("✔" in t for t in progress)
        # coalesced: 13 events (start, 3 × submitted/done, 6 items) in at most one message per burst
        # (start, delegate sent, delegate done, up to 3 provider batches of specialists, synthesis)
        assert len(progress) <= 8, progress


async def test_bad_input_gets_a_clear_reply_and_the_bot_keeps_going(
    fake: FakeBotApi, engine: Engine, service: TelegramService
) -> None:
    fake.message(CHAT_A, "/batch")
    fake.message(CHAT_A, "/batch    ")
    fake.message(CHAT_A, "/rt " + "가" * 20_001)
    fake.message(CHAT_A, "배치")
    fake.message(CHAT_A, "/frobnicate now")
    fake.message(CHAT_A, "hello there")  # plain text starts a batch chain (issue 16 item 10)
    fake.message(CHAT_A, "/배치 " + STOCK)  # not a command to Telegram; read as text
    await fake.wait_for(lambda: len(fake.texts(CHAT_A)) >= 7, what="seven replies")
    # chain starts are answered from their own task (the engine refuses the oversized one): any order
    texts = fake.texts(CHAT_A)[:7]
    started = [t for t in texts if "started (batch)" in t]
    assert len(started) == 2
    assert sorted(t for t in texts if t not in started) == sorted(
        [
            "Usage: /batch <command>",
            "Usage: /batch <command>",
            "❌ The chain was not started: the command is 20001 characters long; the limit is 20000",
            "Usage: 배치 <command>",
            "Unknown command. Send /help for the commands.",
        ]
    )
    chains = await engine._store.chains.list()
    assert sorted(c.command for c in chains) == sorted([STOCK, "hello there"])
    assert all(c.origin == "telegram" and not c.realtime for c in chains)


async def test_an_engine_error_is_replied_and_the_bot_keeps_answering(
    fake: FakeBotApi, engine: Engine, service: TelegramService
) -> None:
    engine.settings.org_path = engine.settings.data_dir / "missing.yaml"  # the org loads on first use
    fake.message(CHAT_A, f"/batch {STOCK}")
    [reply] = await fake.wait_for(lambda: fake.texts(CHAT_A), what="the error")
    assert reply.startswith("❌ The chain was not started:") and "missing.yaml" in reply
    fake.message(CHAT_A, "/status")
    await fake.wait_for(lambda: "No chains are running." in fake.texts(CHAT_A), what="/status after the error")


async def test_a_failed_send_raises_and_the_error_is_recorded(fake: FakeBotApi, engine: Engine, worker: None) -> None:
    fake.fail_chats = {CHAT_A}
    chain = await engine.chains.start(STOCK, origin="cli")  # goes to every allowed chat
    await wait_report(fake, CHAT_B)
    await wait_chain_end(engine, chain.id)
    delivered, error = (await delivery_rows(engine, chain.id))["telegram"]
    assert not delivered and error == f"report not sent to chat {CHAT_A}: BadRequest: Chat not found"
    assert fake.to(CHAT_A) == []

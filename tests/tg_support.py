"""Shared constants and waits for the Telegram tests (and the Telegram door of tests/reliability)."""

from __future__ import annotations

import re

from tg_fakebot import FakeBotApi

from corthex.domain.chain import ChainStatus
from corthex.engine.engine import Engine
from corthex.store.chains import ChainRow
from corthex.testing import wait_until

TOKEN = "987654321:AAHfake-Token_for-tests-0123456789abcdef"
CHAT_A, CHAT_B, STRANGER = 111, -222, 999  # a group id is negative
WINDOW = 0.3  # progress coalescing window for tests
STOCK = "삼성전자 주식 다음 분기 전망 분석해줘"  # keyword → CIO, a single department


def reports(fake: FakeBotApi, chat: int) -> list[str]:
    return [t for t in fake.texts(chat) if "Report of chain" in t or re.match(r"\(\d+/\d+\)\n", t)]


async def wait_report(fake: FakeBotApi, chat: int, within: float = 30) -> list[str]:
    """Every part of the first report sent to `chat`, once its last part arrived."""

    def complete() -> list[str] | None:
        parts = reports(fake, chat)
        return parts if parts and "💰 cost" in parts[-1] else None

    return await fake.wait_for(complete, within, f"a report in chat {chat}")


async def wait_chain_end(engine: Engine, chain_id: str, within: float = 30) -> ChainRow:
    async def ended() -> ChainRow | None:
        chain = await engine._store.chains.get(chain_id)
        return chain if chain.status is not ChainStatus.RUNNING else None

    return await wait_until(ended, within=within, what=f"chain {chain_id} to end")


async def telegram_chains(engine: Engine) -> list[ChainRow]:
    return [c for c in await engine._store.chains.list() if c.origin == "telegram"]


async def delivery_rows(engine: Engine, chain_id: str) -> dict[str, tuple[bool, str | None]]:
    """sink → (delivered, error) for the chain."""
    from sqlalchemy import select

    from corthex.store.tables import deliveries

    async with engine._store.engine.connect() as conn:
        rows = (await conn.execute(select(deliveries).where(deliveries.c.chain_id == chain_id))).all()
    return {r.sink: (r.delivered_at is not None, r.error) for r in rows}

"""`corthex serve` is one process: with TELEGRAM_BOT_TOKEN set, the bot runs beside the REST API,
the WebSocket and the worker, against a local fake Bot API server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, STOCK, STRANGER, TOKEN, wait_report

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess


async def test_serve_runs_the_bot_and_a_telegram_chain_shows_in_the_api(
    fake: FakeBotApi, emulator: EmulatorServer, tmp_path: Path
) -> None:
    server = ServeProcess(
        tmp_path / "serve",
        emulator.env(),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_CHAT_IDS=str(CHAT_A),
        TELEGRAM_BASE_URL=fake.base_url,
        CORTHEX_LANGUAGE="en",  # the time zone (Asia/Seoul) would make it Korean
    )
    await asyncio.to_thread(server.start)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            health = (await client.get("/healthz")).json()
            assert {k: health[k] for k in ("status", "worker", "telegram")} == {
                "status": "ok",
                "worker": True,
                "telegram": True,
            }
            fake.message(STRANGER, f"/batch {STOCK}")  # not allowed: ignored, logged
            fake.message(CHAT_A, f"/batch {STOCK}")
            parts = await wait_report(fake, CHAT_A, within=60)

            # the report goes out before the chain is marked done: give the finish a moment
            chains = await _telegram_chains(client)
            for _ in range(100):
                if chains[0]["status"] != "running":
                    break
                await asyncio.sleep(0.1)  # noqa: ASYNC110 - another process: no event to wait on here
                chains = await _telegram_chains(client)
            assert len(chains) == 1 and chains[0]["status"] == "completed"
            assert chains[0]["id"] in parts[0]

            fake.message(CHAT_A, "/budget")
            await fake.wait_for(lambda: any("today" in t.lower() for t in fake.texts(CHAT_A)), 30, "/budget")
        assert fake.texts(STRANGER) == []
        assert "not in TELEGRAM_CHAT_IDS" in server.log()
        assert TOKEN not in server.log()
    finally:
        await asyncio.to_thread(server.stop)


async def _telegram_chains(client: httpx.AsyncClient) -> list[dict]:
    return [c for c in (await client.get("/chains")).json() if c["origin"] == "telegram"]

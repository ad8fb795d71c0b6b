"""A job with a deadline in the dashboard (issue 17): its detail shows the deadline, what meeting
it cost over all-batch, and which tier answered how many requests at what cost."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from playwright.async_api import expect

from corthex.testing import ServeProcess

REQUESTS = [
    {"custom_id": "d0", "model": "gpt-5-mini", "prompt": "마감 전에 요약해 주세요"},
    {"custom_id": "d1", "model": "claude-haiku-4-5", "prompt": "마감 전에 번역해 주세요"},
]


async def _finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    ends = time.monotonic() + 60
    while (job := (await client.get(f"/jobs/{job_id}")).json())["status"] != "completed":
        assert time.monotonic() < ends, job
        await asyncio.sleep(0.3)
    return job


async def test_a_job_met_on_faster_tiers_shows_its_deadline_and_cost_per_tier(page: Any, server: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        created = await client.post("/jobs", json={"requests": REQUESTS, "deadline": "2m", "deadline_margin": 10})
        assert created.status_code == 201, created.text
        job = await _finished(client, created.json()["job_id"])
    await page.goto(f"{server.url}/#/jobs/{job['id']}")
    await expect(page.locator("[data-figure=deadline]")).to_contain_text(time.strftime("%Y-", time.localtime()))
    await expect(page.locator("[data-figure=deadline_cost]")).to_contain_text("$")
    tiers = page.locator("#job-tiers tbody tr")
    await expect(tiers).to_have_count(2)  # gpt-5-mini by flex, Claude realtime: no batch could end in time
    await expect(page.locator("#job-tiers tr[data-tier=flex] td").nth(1)).to_have_text("1")
    await expect(page.locator("#job-tiers tr[data-tier=realtime] td").nth(1)).to_have_text("1")
    assert page.errors == []

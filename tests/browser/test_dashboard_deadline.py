"""A job with a deadline in the dashboard (issue 17): its detail shows the deadline, what meeting
it cost over all-batch, and which tier answered how many requests at what cost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
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


async def test_a_file_submitted_with_a_deadline_from_the_jobs_tab_keeps_it(
    page: Any, server: ServeProcess, tmp_path: Path
) -> None:
    path = tmp_path / "마감.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in REQUESTS))
    await page.goto(server.url)
    await page.click(".tabs button[data-tab=jobs]")
    await page.set_input_files("#job-file", str(path))
    await page.fill("#job-deadline", "3h")
    await page.click("#job-submit")
    await expect(page.locator(".toast").last).to_contain_text("2")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        [job] = [j for j in (await client.get("/jobs")).json() if j["label"] == path.name]
        assert 3 * 3600 - 60 < job["deadline"] - job["created_at"] < 3 * 3600 + 60, job
        await page.fill("#job-deadline", "어제")  # not a duration or a time: refused, nothing stored
        await page.set_input_files("#job-file", str(path))
        await page.click("#job-submit")
        await expect(page.locator(".toast").last).to_contain_text("어제")
        assert len([j for j in (await client.get("/jobs")).json() if j["label"] == path.name]) == 1
    assert page.errors == []
